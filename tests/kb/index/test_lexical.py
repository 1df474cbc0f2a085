from __future__ import annotations

import pytest

from kb.index.lexical import FrenchAnalyzer, correctable, query_words, typo_like


@pytest.fixture(scope="module")
def analyzer():
    return FrenchAnalyzer()


@pytest.mark.parametrize(
    "a, b",
    [
        ("L'épicerie", "epiceries"),
        ("d'Œuvre", "oeuvre"),
        ("Mobilité", "mobilites"),
        ("qu'intercommunalité", "intercommunalite"),
        ("bénévoles", "BENEVOLE"),
    ],
)
def test_variants_meet_on_one_term(analyzer, a, b):
    assert analyzer.tokens(a) == analyzer.tokens(b)
    assert analyzer.tokens(a)


def test_stop_words_and_elided_articles_are_dropped(analyzer):
    assert analyzer.tokens("Comment d'autres ont-ils monté une épicerie ?") == analyzer.tokens("autres monté épicerie")
    assert "l" not in analyzer.tokens("l'atelier")


def test_numbers_are_kept(analyzer):
    assert "2023" in analyzer.tokens("en 2023, 1 450 trajets")


def test_words_typed_without_accents_are_spelled_as_the_base_writes_them():
    from kb.index.lexical import _Spellings, restore_accents

    spellings = _Spellings()
    spellings.add("Une micro-crèche ouvre. Créer une crèche demande du temps : la crèche et la micro-crèche.")
    spellings.add("Des paniers à prix solidaire a été livré à la ferme ; il a vu la ferme à midi, à la gare.")
    accents = spellings.accented()
    assert accents["creche"] == "crèche" and accents["micro creche"] == "micro-crèche"
    assert accents["creer"] == "créer"
    assert "a" not in accents and "ferme" not in accents  # too short; already plain

    assert restore_accents("Creer une micro creche", accents) == "Créer une micro-crèche"
    assert restore_accents("une micro-crèche, une creche", accents) == "une micro-crèche, une crèche"


@pytest.mark.parametrize(
    "typed, word",
    [
        ("tranport", "transport"),  # a letter missing
        ("covoitturage", "covoiturage"),  # a letter doubled
        ("chaufeurs", "chauffeurs"),
        ("benevolles", "benevoles"),
        ("sauvagant", "sauvagnat"),  # two letters swapped
        ("acceuil", "accueil"),
        ("analise", "analyse"),  # vowels
        ("convension", "convention"),  # letters that sound alike
        ("lison", "lizon"),
    ],
)
def test_typos_read_as_typos(typed, word):
    assert typo_like(typed, word)


@pytest.mark.parametrize(
    "typed, word",
    [
        ("fibre", "libre"),  # the first letter
        ("hivers", "hiver"),  # an inflection at the end
        ("reconnus", "reconnu"),
        ("prefere", "preferez"),
        ("recourt", "recours"),
        ("soucis", "soumis"),  # consonants that do not sound alike
        ("troupe", "trouve"),
        ("sentiers", "seniors"),  # two edits
    ],
)
def test_other_words_are_not_typos(typed, word):
    assert not typo_like(typed, word)


@pytest.mark.parametrize(
    "text, word, correctable_word",
    [
        ("tranport solidaire", "tranport", True),
        ("Tranport solidaire", "Tranport", True),  # a capital at the start of the sentence
        ("Des chauffeurs. Benevolles ?", "Benevolles", True),
        ("« Benevolles »", "Benevolles", True),
        ("le plateau du Lizonn", "Lizonn", False),  # a name
        ("la CTG", "CTG", False),  # an acronym
        ("budget 2024", "2024", False),  # a number
        ("covid19", "covid19", False),
        ("aide", "aide", False),  # a short word
    ],
)
def test_which_query_words_may_be_corrected(text, word, correctable_word):
    match = next(m for m in query_words(text) if m.group() == word)
    assert correctable(text, match) is correctable_word
