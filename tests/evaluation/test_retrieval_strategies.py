"""The strategies of evaluation/tune_retrieval.py on signals small enough to score by hand."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.retrieval_signals import QuestionSignals, Signals
from evaluation.retrieval_strategies import Documents, MissingSignal, Question, searched_sentences, shipped


def _signals(with_sentences: bool = True) -> Signals:
    # passages: alpha (row 0, vector leaning to axis 1; its second sentence is on axis 0), beta (row 1)
    passages = np.array([[0.3, 0.954], [0.6, 0.8]], dtype=np.float32)
    query = np.array([[1.0, 0.0]], dtype=np.float32)
    sentences = np.array([[0.0, 1.0], [1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
    question = QuestionSignals(
        "q1",
        "paraphrase",
        "held_out",
        frozenset({"alpha"}),
        dense=[(1, 0.6), (0, 0.3)],
        lexical=[(0, 2.0), (1, 1.0)],
    )
    return Signals(
        doc_ids=["alpha", "beta"],
        passage_vectors=passages,
        query_vectors=query,
        query_passage_vectors=None,
        sentence_owner=np.array([0, 0, 1]) if with_sentences else None,
        sentence_vectors=sentences if with_sentences else None,
        sparse_passages=None,
        sparse_queries=None,
        questions=[question],
    )


def _order(strategy, signals: Signals) -> list[str]:
    docs = Documents(signals.doc_ids)
    scores = strategy(Question(signals, docs, 0))
    return [docs.ids[d] for d in np.argsort(-scores)]


def test_the_previous_fusion_adds_the_weighted_normalised_bm25_to_the_best_cosine():
    signals = _signals()
    assert _order(shipped(50, 0.03), signals) == ["beta", "alpha"]  # 0.6 + 0.015 > 0.3 + 0.03
    assert _order(shipped(50, 1.0), signals) == ["alpha", "beta"]  # 0.3 + 1.0 > 0.6 + 0.5


def test_a_sentence_share_lifts_the_document_whose_best_sentence_matches():
    signals = _signals()
    assert _order(searched_sentences(50, 3, 0.0, 0.0), signals) == ["beta", "alpha"]
    assert _order(searched_sentences(50, 3, 0.6, 0.0), signals) == ["alpha", "beta"]  # 0.72 > 0.6


def test_a_strategy_reading_an_uncomputed_signal_says_so():
    signals = _signals(with_sentences=False)
    with pytest.raises(MissingSignal):
        _order(searched_sentences(50, 3, 0.5, 0.0), signals)
