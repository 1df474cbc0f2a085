"""Metrics on hand-computed tables."""

from __future__ import annotations

import math

import pytest

from evaluation.answers import calibrate_threshold, citation_validity, key_fact_coverage
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
    [(["a"], {"a"}, 1.0), (["x", "y", "a"], {"a"}, 1 / 3), (["x"] * 10 + ["a"], {"a"}, 0.0), (["x", "a", "b"], {"a", "b"}, 0.5)],
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


def test_citation_validity_checks_each_marker_against_its_quote():
    citations = [{"n": 1, "quote": "Intro. Le bus passe le mardi.\nSuite."}, {"n": 2, "quote": "Autre texte."}]
    answer = "Le bus passe le mardi. [1] Une phrase inventée. [2] Hors liste. [3]"
    assert citation_validity(answer, citations) == (1, 3)


def test_threshold_maximises_balanced_accuracy():
    threshold, balanced = calibrate_threshold([0.9, 0.88, 0.86, 0.80], [0.82, 0.79, 0.78])
    assert balanced == pytest.approx((3 / 4 + 1) / 2)
    assert 0.82 < threshold <= 0.86
