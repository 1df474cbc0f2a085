"""Duplicate warnings (kb/duplicates/finder.py): the sentences, the fuzzy porteur, strong or not.

The signals are set by hand for the sentences; a tiny base with the toy (vowel) embedder checks
the whole finder: a rewrite under another porteur spelling is strong, the same porteur's other
project is only information.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.core.models import DocumentMetadata
from kb.duplicates.finder import DuplicateFinder, DuplicateParams, Signals, figures, name_match, percent
from services.runtime import ingest, open_index

PARAMS = DuplicateParams(
    text_jaccard=0.3,
    title_jaccard=0.75,
    semantic=0.9,
    semantic_margin=0.02,
    shared_figures=0.65,
    min_figures=5,
    porteur_match=0.9,
)
NBSP = "\u00a0"


def warn(**signals) -> dict | None:
    return DuplicateFinder(None, PARAMS).warning(Signals(doc_id="x", title="X", **signals))


def test_a_porteur_spelt_otherwise_is_the_same_porteur():
    assert name_match("Le Panier des Sucs", "Épicerie solidaire Le Panier des Sucs") == 1.0
    assert name_match("Roulensemble", "Roul'Ensemble Vercors-Roubion") >= PARAMS.porteur_match
    assert name_match("CIAS Haut Vernay", "CIAS du Haut-Vernay") >= PARAMS.porteur_match
    assert name_match("Le Panier des Sucs", "Garage solidaire Roue Libre Brévenne") < PARAMS.porteur_match
    assert name_match("CCAS de Montregard", "Mairie de Montregard-les-Sucs") < PARAMS.porteur_match
    assert name_match(None, "Le Panier des Sucs") == 0.0


def test_figures_are_read_whatever_their_separators_and_years_are_left_out():
    text = "En 2025, 1 260 trajets pour 61 personnes (93,5 % d'occupation), 1.150 000 € et 3 bus."
    assert figures(text) == {"1260", "61", "93,5", "1150000"}


def test_a_share_is_floored_so_a_figure_below_a_threshold_never_shows_it():
    assert percent(0.968) == f"96{NBSP}%" and percent(0.97) == f"97{NBSP}%" and percent(1.0) == f"100{NBSP}%"


def test_a_rewrite_is_strong_and_says_so_with_the_figures_it_used():
    w = warn(
        semantic=0.975, existing_figures=10, new_figures=9, common_figures=9, text=0.05, doc_type="fiche expérience"
    )
    assert w["strong"] and w["similarity"] == 0.975
    assert w["explanation"] == f"Même expérience, réécrite : 97{NBSP}% de sens commun et 90{NBSP}% de chiffres communs."
    assert w["semantic_similarity"] == 0.975 and w["text_similarity"] == 0.05 and w["shared_figures"] == 0.9
    assert f"mêmes chiffres (90{NBSP}% en commun)" in w["reasons"]
    method = warn(semantic=0.95, existing_figures=10, new_figures=10, common_figures=10, doc_type="fiche méthode")
    assert method["explanation"].startswith(f"Même document, réécrit : 95{NBSP}% de sens commun")


def test_copied_text_and_the_same_title_are_strong():
    w = warn(text=0.69, semantic=0.99)
    assert w["strong"] and w["similarity"] == 0.69
    assert w["explanation"] == f"Texte quasi identique (69{NBSP}% de passages communs)."
    w = warn(same_title=True, title_similarity=1.0)
    assert w["strong"] and w["explanation"] == "Même titre."


def test_weaker_signs_are_information_not_strong():
    same_project = warn(porteur=1.0, territory=0.95, semantic=0.5)
    assert not same_project["strong"]
    assert same_project["explanation"] == "Même porteur et même territoire, contenu différent."
    close = warn(semantic=0.89, existing_figures=10, new_figures=10, common_figures=1)
    assert not close["strong"] and close["similarity"] == 0.89
    assert close["explanation"].startswith(f"Contenu proche (89{NBSP}% de sens commun")
    # the same meaning without the same figures: a fiche holds every figure of its
    # structure's directory entry, and a method retells a few of an experience's
    assert not warn(semantic=0.95, existing_figures=10, new_figures=30, common_figures=10)["strong"]
    assert not warn(semantic=0.95, existing_figures=10, new_figures=10, common_figures=3)["strong"]
    # two short entries sharing their few figures: too few to decide
    assert not warn(semantic=0.95, existing_figures=2, new_figures=2, common_figures=2)["strong"]
    title = warn(title_similarity=0.8)
    assert not title["strong"] and title["explanation"] == f"Titre très proche (80{NBSP}% de mots communs)."
    assert warn(porteur=1.0, territory=0.2, semantic=0.5) is None
    assert warn(semantic=0.5, existing_figures=4, common_figures=4) is None


def fiche(doc_id: str, title: str, porteur: str, body: str) -> str:
    return (
        f'---\nid: {doc_id}\ntitle: "{title}"\ndoc_type: fiche expérience\n'
        f'territory: Pays des Sucs\nporteur: "{porteur}"\n---\n\n{body}\n'
    )


ORIGINAL = (
    "La camionnette passa par la place. Sa balade va par la campagne : 190 paniers par an, 85 % "
    "à Montregard, 48 000 habitants, 30 km, 12 arrêts, 15 bénévoles."
)
REWRITE = (
    "Par la campagne, la camionnette va sur la place. Chaque an : 190 paniers, 48 000 habitants, "
    "85 % à Montregard, 12 arrêts sans plus de 30 km, avec 15 bénévoles."
)
OTHER = "Un point info jeunesse ouvert où on trouve du soutien pour un projet : 12 jeunes suivis, 7 bourses, tout un jour sur deux."


@pytest.fixture
def finder(tmp_path: Path, settings, toy_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "panier.md").write_text(
        fiche("panier", "Le camion du Panier", "Épicerie solidaire Le Panier des Sucs", ORIGINAL)
    )
    (corpus / "jeunes.md").write_text(
        fiche("jeunes", "Un point info jeunesse", "Épicerie solidaire Le Panier des Sucs", OTHER)
    )
    ingest(settings, [corpus], embedder=toy_embedder)
    index = open_index(settings, toy_embedder)
    yield DuplicateFinder(index, PARAMS), toy_embedder
    index.close()


def test_a_rewrite_under_another_porteur_spelling_is_strong_and_comes_first(finder):
    finder, embedder = finder
    metadata = DocumentMetadata(
        doc_id="panier-bis",
        title="Une épicerie qui roule",
        doc_type="fiche expérience",
        territory="Pays des Sucs",
        porteur="Le Panier des Sucs",
    )
    warnings = finder.find(metadata, REWRITE, embedder.embed_passages([REWRITE]))
    assert [w["doc_id"] for w in warnings] == ["panier", "jeunes"]
    assert warnings[0]["strong"] and warnings[0]["explanation"].startswith("Même expérience, réécrite")
    assert not warnings[1]["strong"]
    assert warnings[1]["explanation"] == "Même porteur et même territoire, contenu différent."
    # the document being replaced is never its own duplicate
    assert [
        w["doc_id"] for w in finder.find(metadata, REWRITE, embedder.embed_passages([REWRITE]), exclude="panier")
    ] == ["jeunes"]
