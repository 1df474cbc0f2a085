from __future__ import annotations

import pytest

from kb.lexical import FrenchAnalyzer


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
    assert analyzer.tokens("Comment d'autres ont-ils monté une épicerie ?") == analyzer.tokens(
        "autres monté épicerie"
    )
    assert "l" not in analyzer.tokens("l'atelier")


def test_numbers_are_kept(analyzer):
    assert "2023" in analyzer.tokens("en 2023, 1 450 trajets")
