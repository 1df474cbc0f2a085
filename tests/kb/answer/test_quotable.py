"""Each filter of what an answer may quote, on sentences of the sample corpus (corpus/)."""

from __future__ import annotations

import pytest

from kb.answer.quotable import (
    cross_reference,
    garbled,
    is_label,
    is_question,
    meeting_meta,
    quote_balance,
    row_text,
    speaker_notes,
    straight_quotes_odd,
    unquotable,
)

MINUTES = "compte rendu"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Comment financer ce poste dans la durée ? »", True),  # the end of qr-financer-…'s question
        ("Quelle place pour les bénéficiaires eux-mêmes dans la conception des services ?", True),
        (
            "La question « un jardin d'insertion peut-il fournir les cantines sans concurrencer les maraîchers ? », "
            "posée lors d'une séance du groupe régional « Jardins ruraux » accueillie au jardin en 2022, devient le "
            "point de départ du projet.",
            False,  # a statement that names a question
        ),
        (
            "2024 : « tournées de l'emploi » avec des employeurs du territoire ; opération de repérage « Vos droits, "
            "on en parle ? » avec un réseau de sentinelles.",
            False,
        ),
    ],
)
def test_questions(text, expected):
    assert is_question(text) is expected
    assert (unquotable(text) == "question") is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Notes de l'intervenant : Commencer par un tour de table : chacune raconte la dernière démarche pour "
            "laquelle un habitant lui a demandé de l'aide.",
            True,
        ),
        ("Notes : Chiffres tirés des cahiers de suivi des neuf mairies pilotes.", True),
        ("Note pour l'animatrice : prévoir un paperboard.", True),
        ("Les notes de frais sont remboursées sur justificatif au réel des dépenses engagées.", False),
    ],
)
def test_speaker_notes(text, expected):
    assert speaker_notes(text) is expected


@pytest.mark.parametrize(
    "text, doc_type, expected",
    [
        ("Groupe de travail régional « Action sociale et développement local », séance 3.", MINUTES, True),
        (
            "Groupe : « Action sociale et développement local », groupe de travail régional de Ressources Rurales "
            "AURA, séance 1 sur 5 prévues pour le premier cycle (avril 2022 – juin 2023).",
            MINUTES,
            True,
        ),
        (
            "Séance du jeudi 20 juin 2024, de 14hà17h, salle du conseil du PETR à Montregard- les-Sucs.",
            MINUTES,
            True,
        ),
        (
            "Jeudi 8 décembre 2022, 9 h 30 – 16 h, salle du conseil du PETR à Montregard-les-Sucs.",
            MINUTES,
            True,
        ),
        ("Compte rendu rédigé par la chargée de mission Emplois et métiers.", MINUTES, True),
        ("Fait à Montregard-les-Sucs, le 20 juin 2024.", MINUTES, True),
        ("Le président du comité de programmation.", MINUTES, True),
        ("Animation : Ressources Rurales AURA.", MINUTES, True),  # a minute's label
        ("Animation : deux ateliers cuisine par mois avec les familles du quartier.", "fiche expérience", False),
        (
            "Décembre 2022 : présentation de l'expérience au groupe régional « Action sociale et développement "
            "local » (séance 3).",
            "fiche expérience",
            False,
        ),
        (
            "Depuis 2023, le GAL a programmé 612 000 euros de FEADER, soit 34 % de son enveloppe de 1,8 million "
            "d'euros.",
            MINUTES,
            False,
        ),
    ],
)
def test_meta_lines_of_a_minute(text, doc_type, expected):
    assert meeting_meta(text, doc_type) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Exemples issus de l'appel à projets 2025 :", True),
        ("Appel à projets « Ruralités solidaires » 2025, deux volets :", True),
        ("Démarche | Durée moyenne | Si c'est bloqué", True),  # a table's header row
        ("Aide maximale | 3 000 euros", False),  # a row with its figure
        ("Jusqu'à 80 % du coût total de l'action, avec un plafond de 60 000 € par action.", False),
    ],
)
def test_labels(text, expected):
    assert is_label(text) is expected


def test_a_table_row_reads_as_a_line():
    assert row_text("Aide maximale | 3 000 euros") == "Aide maximale : 3 000 euros"
    assert row_text("Carte grise et permis (ANTS) | 40 minutes | bus France services") == (
        "Carte grise et permis (ANTS) : 40 minutes, bus France services"
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Fiche expérience « La Fabrique des Combes : un tiers-lieu coopératif qui accueille aussi les "
            "permanences sociales » : budget 2024 détaillé (168 000 €, dont 71 000 € de recettes propres) et "
            "gestion de la fin du financement Fabrique de territoire.",
            True,
        ),
        (
            "Compte rendu de la séance 5 du groupe « Action sociale et développement local » : témoignage du "
            "coordinateur de La Fabrique des Combes sur les financeurs économiques et sociaux.",
            True,
        ),
        ("Voir aussi la fiche financement « Fondation Terres Solidaires : appel à projets »", True),
        ("Voir la fiche méthode « Conduire un diagnostic partagé de territoire en milieu rural ».", True),
        (
            "Le parcours inverse existe aussi : voir la fiche du tiers-lieu La Fabrique des Combes, qui a ouvert "
            "ses portes aux permanences sociales.",
            True,
        ),
        ("Annuaire : Centre social rural La Passerelle du Vernay, pour comprendre l'agrément vu de l'intérieur.", True),
        (
            "Voir la CTG comme un simple guichet de transfert des anciens crédits CEJ.",
            False,
        ),  # a pitfall, not a pointer
        (
            "Le dispositif de boutique à l'essai de Saint-Aubin (voir la fiche « Ma Boutique à l'Essai ») en est le "
            "volet commerce.",
            False,  # a sentence that says something, with a pointer in passing
        ),
    ],
)
def test_cross_references(text, expected):
    assert cross_reference(text) is expected


def test_garbled_lines():
    assert garbled("Le président du comité de programmation. .")
    assert not garbled("Le double quorum est atteint.")


def test_quotation_marks():
    opening = (
        "« Notre association gère depuis deux ans un tiers-lieu dans un village de 1 200 habitants : un "
        "café-épicerie, un atelier de réparation, une salle de réunion et quelques bureaux."
    )
    assert quote_balance(opening) == 1
    assert quote_balance("Comment financer ce poste dans la durée ? »") == -1
    assert quote_balance("la peur de « mal faire » en matière d'assurance.") == 0
    assert straight_quotes_odd("On nous dit qu'il faudrait \"associer la CAF, mais nous ne savons ni qui contacter.")
    assert not straight_quotes_odd('On nous dit qu\'il faudrait "associer la CAF", mais nous ne savons pas.')
