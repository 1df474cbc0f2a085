"""The words of an answer: its lead, what a question asks for, which sentences may be quoted."""

from __future__ import annotations

import pytest

from kb.answer.answerer import lead_sentence
from kb.answer.digest import answer_like, asked_figures


@pytest.mark.parametrize(
    "types, expected",
    [
        (["fiche expérience"], "Une expérience répond à votre question."),
        (
            ["fiche expérience", "fiche expérience", "fiche méthode", "fiche expérience"],
            "Trois expériences et une fiche méthode répondent à votre question.",
        ),
        (
            ["compte rendu", "veille", "compte rendu"],
            "Deux comptes rendus et une note de veille répondent à votre question.",
        ),
        (
            ["fiche financement", "questions-réponses", "document"],
            "Une fiche financement, une fiche questions-réponses et un document répondent à votre question.",
        ),
    ],
)
def test_lead_says_what_was_found(types, expected):
    assert lead_sentence(types) == expected


@pytest.mark.parametrize(
    "question, kinds",
    [
        ("Combien coûte un garage solidaire ?", ("argent",)),
        ("Quel budget pour une épicerie itinérante et combien de salariés ?", ("argent", "personnes")),
        ("En combien de temps monter une micro-crèche ?", ("temps",)),
        ("Comment associer les habitants au diagnostic ?", ("etapes",)),  # how: a method's steps
        ("comment monter un dossier LEADER", ("etapes",)),
        ("Quelles étapes pour élaborer une convention territoriale globale ?", ("temps", "etapes")),
        ("Par où commencer pour ouvrir une boutique à l'essai ?", ("etapes",)),
        ("Combien coûte un dossier LEADER ?", ("argent",)),
        ("Qui porte le transport solidaire sur le Lizon ?", ()),
    ],
)
def test_questions_about_money_people_time_or_how(question, kinds):
    assert asked_figures(question) == kinds


@pytest.mark.parametrize(
    "text, quotable",
    [
        ("Le camion passe tous les quinze jours dans huit communes du plateau.", True),
        ("Groupe, animation et partenaires", False),  # a heading
        ("Comment les chauffeurs bénévoles sont-ils assurés pour leurs trajets ?", False),  # a question
        ("9 h 30 – Accueil des participants et tour de table des structures présentes.", False),  # agenda
        ("Les étapes de la démarche sont les suivantes, dans l'ordre du calendrier :", False),  # a label
        ("avec la CC Cœur de Brévenne un service de transport à la demande qui", False),  # a fragment
    ],
)
def test_only_whole_declarative_sentences_are_quoted(text, quotable):
    assert answer_like(text) is quotable


def test_a_sentence_opening_with_a_pronoun_brings_the_sentence_it_refers_to():
    from kb.answer.digest import _units
    from kb.core.models import Chunk

    text = (
        "## Résultats\n\nL'épicerie itinérante a ouvert en septembre 2021 sur le plateau des Sucs. "
        "Elle dessert huit communes tous les quinze jours.\n\n"
        "Cette tournée a demandé deux ans de préparation avec les mairies du secteur."
    )
    chunks = (Chunk("doc", 0, text, 0, len(text), ("Titre", "Résultats")),)
    units = [unit.text for unit in _units(text, chunks)]
    assert (
        "L'épicerie itinérante a ouvert en septembre 2021 sur le plateau des Sucs. "
        "Elle dessert huit communes tous les quinze jours." in units
    )
    # alone at the head of its paragraph, "Cette tournée" has nothing to refer to: skipped
    assert not any(unit.startswith("Cette tournée") for unit in units)
    assert not any(unit.startswith("Elle dessert") for unit in units)
