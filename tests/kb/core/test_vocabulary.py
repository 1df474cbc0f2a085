"""The domain vocabulary: types, sectors and themes as contributors write them."""

from __future__ import annotations

import pytest

from kb.core.vocabulary import (
    CHOSEN_DOC_TYPES,
    known_doc_type,
    normalise_doc_type,
    normalise_sector,
    normalise_themes,
    slugify,
    vocabulary_payload,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("fiche expérience", "fiche expérience"),
        ("Fiche experience", "fiche expérience"),
        ("retour d'expérience", "fiche expérience"),
        ("fiche outil", "fiche méthode"),
        ("Compte-rendu", "compte rendu"),
        ("FAQ", "questions-réponses"),
        ("brève de veille", "veille"),
        ("qui fait quoi", "annuaire"),
        ("poème", "document"),
        (None, "document"),
    ],
)
def test_doc_types(raw, expected):
    assert normalise_doc_type(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Action sociale", "action sociale"),
        ("social", "action sociale"),
        ("Développement local", "développement local"),
        ("developpement-local", "développement local"),
        ("transversal", "transversal"),
        ("", None),
    ],
)
def test_sectors(raw, expected):
    assert normalise_sector(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        (["Alimentation", "précarité", "alimentation"], ("alimentation", "précarité")),
        ("mobilité, transport solidaire", ("mobilité", "transport solidaire")),
        ("#culture; ESS", ("culture", "ess")),
        (None, ()),
    ],
)
def test_themes(raw, expected):
    assert normalise_themes(raw) == expected


def test_slugs_are_stable_and_ascii():
    assert slugify("Épicerie Solidaire — Œuvre 2") == "epicerie-solidaire-oeuvre-2"


def test_known_doc_type_refuses_unknown_values_but_not_the_catch_all():
    assert known_doc_type("Fiche experience") == "fiche expérience"
    assert known_doc_type("document") == "document"
    assert known_doc_type("roman") is None


def test_payload_lists_what_a_coordinator_may_choose():
    payload = vocabulary_payload()
    assert payload["doc_types"] == list(CHOSEN_DOC_TYPES) and "document" not in payload["doc_types"]
    assert payload["sectors"] == ["action sociale", "développement local", "transversal"]
    assert payload["other_sector"]["action sociale"] == "développement local"
