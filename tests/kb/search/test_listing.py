"""Where a list of results is cut (``ResultCut``): where the scores fall away from the best one,
bounded; the nearest documents, fewer, when nothing answers surely."""

from __future__ import annotations

from kb.core.models import DocumentMetadata
from kb.search.hits import DocumentHit
from kb.search.listing import ResultCut


def ranking(*scores: float) -> list[DocumentHit]:
    return [DocumentHit(DocumentMetadata(f"doc-{n}", f"Document {n}"), score) for n, score in enumerate(scores)]


def listed(hits: list[DocumentHit]) -> list[float]:
    return [hit.score for hit in hits]


CUT = ResultCut(share=0.6, reference_rank=5, least=2, most_unsure=3)


def test_a_query_one_document_answers_lists_few():
    # spread 0.90 - 0.80 = 0.10: the floor is 0.90 - 0.06 = 0.84
    assert listed(CUT.apply(ranking(0.90, 0.86, 0.85, 0.81, 0.80, 0.80), most=10)) == [0.90, 0.86, 0.85]


def test_a_flat_ranking_lists_what_is_asked_for_at_most():
    flat = ranking(*[0.85] * 30)
    assert len(CUT.apply(flat, most=10)) == 10
    assert len(CUT.apply(flat, most=6)) == 6


def test_at_least_two_documents_when_the_best_stands_alone():
    assert listed(CUT.apply(ranking(0.95, 0.80, 0.79, 0.79, 0.78), most=10)) == [0.95, 0.80]


def test_the_nearest_documents_are_fewer():
    flat = ranking(*[0.85] * 30)
    assert len(CUT.apply(flat, most=10, confident=False)) == 3
    assert len(CUT.apply(flat, most=2, confident=False)) == 2


def test_a_short_ranking_measures_its_spread_to_its_last_document():
    assert listed(CUT.apply(ranking(0.90, 0.89, 0.70), most=10)) == [0.90, 0.89]
    assert CUT.apply([], most=10) == []
    assert len(CUT.apply(ranking(0.9), most=10)) == 1
