"""Metrics on hand-computed tables."""

from __future__ import annotations

import math

import pytest

from evaluation.answers import (
    calibrate_threshold,
    citation_validity,
    fragments,
    key_fact_coverage,
    strip_accents,
    tolerant_key_fact_coverage,
)
from evaluation.metrics import ndcg_at, recall_at, reciprocal_rank, summarise


@pytest.mark.parametrize(
    "ranked, relevant, k, expected",
    [
        (["a", "b", "c"], {"a"}, 1, 1.0),
        (["b", "a", "c"], {"a"}, 1, 0.0),
        (["b", "a", "c"], {"a"}, 5, 1.0),
        (["b", "a", "c"], {"a", "c", "z"}, 5, 2 / 3),
        (["b"], set(), 5, 0.0),
    ],
)
def test_recall(ranked, relevant, k, expected):
    assert recall_at(ranked, relevant, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    "ranked, relevant, expected",
    [
        (["a"], {"a"}, 1.0),
        (["x", "y", "a"], {"a"}, 1 / 3),
        (["x"] * 10 + ["a"], {"a"}, 0.0),
        (["x", "a", "b"], {"a", "b"}, 0.5),
    ],
)
def test_reciprocal_rank(ranked, relevant, expected):
    assert reciprocal_rank(ranked, relevant, 10) == pytest.approx(expected)


@pytest.mark.parametrize(
    "ranked, relevant, expected",
    [
        (["a", "b"], {"a"}, 1.0),
        (["x", "a"], {"a"}, 1 / math.log2(3)),
        (["x", "a", "b"], {"a", "b"}, (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))),
        (["x"], {"a"}, 0.0),
    ],
)
def test_ndcg(ranked, relevant, expected):
    assert ndcg_at(ranked, relevant, 10) == pytest.approx(expected)


def test_summary_ignores_questions_without_gold():
    figures = summarise([(["a", "b"], {"b"}), (["c"], {"c"}), (["z"], set())])
    assert figures["n"] == 2
    assert figures["recall@1"] == pytest.approx(0.5)
    assert figures["mrr@10"] == pytest.approx(0.75)


def test_key_facts_ignore_case_accents_and_markdown():
    answer = "Le service compte **12 chauffeurs bénévoles** [1] et coûte 0,40 €/km [2]."
    assert key_fact_coverage(answer, ["12 chauffeurs benevoles", "0,40 €/km", "CAPE"]) == pytest.approx(2 / 3)


def test_tolerant_key_facts_count_a_fact_when_half_its_content_words_are_there():
    answer = "Le transport est assuré par douze chauffeurs bénévoles, indemnisés 0,40 € du kilomètre."
    # "12 chauffeurs benevoles": 2 of 3 words; "0,40 € par kilomètre": 3 of 3 (0, 40, kilometre);
    # "garantie auto-mission": 0 of 3
    facts = ["12 chauffeurs benevoles", "0,40 € par kilomètre", "garantie auto-mission"]
    assert tolerant_key_fact_coverage(answer, facts) == pytest.approx(2 / 3)
    assert key_fact_coverage(answer, facts) == 0.0


def test_citation_validity_checks_sentences_and_markers_against_quotes():
    result = {
        "answer": "Une expérience répond.\n\nLe bus passe le mardi. [1] Une phrase inventée. [2] Hors liste. [3]",
        "citations": [{"n": 1, "quote": "Intro. Le bus passe\nle mardi.\nSuite."}, {"n": 2, "quote": "Autre texte."}],
        "sources": [
            {
                "sentences": [{"text": "Le bus passe le mardi.", "n": 1}, {"text": "Une phrase inventée.", "n": 2}],
                "figures": [{"text": "Hors liste.", "n": 3}],
            }
        ],
    }
    # sentences: 1 valid of 3 (a wrapped line still matches); markers: [1] and [2] exist, [3] does not
    assert citation_validity(result) == (3, 6)


def test_fragments_are_cited_sentences_without_their_end():
    result = {
        "sources": [
            {
                "sentences": [{"text": "Une phrase entière.", "n": 1}, {"text": "avec la CC Cœur de", "n": 1}],
                "figures": [{"text": "CIAS : 36 000 €", "n": 2}],
            }
        ]
    }
    assert fragments(result) == 1


def test_unaccented_variant_drops_accents_hyphens_and_ligatures():
    assert (
        strip_accents("Créer une micro-crèche en zone rurale, c’est cœur")
        == "Creer une micro creche en zone rurale, c'est coeur"
    )


def test_threshold_answers_most_while_abstaining_enough():
    answerable, unanswerable = [0.9, 0.88, 0.86, 0.80], [0.87, 0.79, 0.78, 0.77, 0.70]
    threshold, answered = calibrate_threshold(answerable, unanswerable, abstention=0.8)
    assert threshold == pytest.approx(0.795) and answered == 1.0  # 0.87 passes: 4 of 5 abstain
    threshold, answered = calibrate_threshold(answerable, unanswerable, abstention=1.0)
    assert threshold == pytest.approx(0.875) and answered == pytest.approx(2 / 4)
