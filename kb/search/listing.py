"""What a search lists (``GET /search``, the site's page, the widget): the documents that answer
a query, cut where their scores fall away from the best one; when nothing answers surely, the
nearest documents, flagged as such; nothing only when no word of the query is in the base.

The cut (``ResultCut``) is measured on evaluation/questions.jsonl by ``evaluation/result_cut.py``
(docs/search.md#how-many-documents-a-search-lists).
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.search.evidence import Evidence
from kb.search.filters import Filters
from kb.search.hits import DocumentHit
from kb.search.query import Query


@dataclass(frozen=True)
class ResultCut:
    """A ranking is listed down to the documents scoring within ``share`` of the spread between
    the best score and the ``reference_rank``-th (the background of the query: documents that
    merely share its subject): a query one document answers lists few, a broad one more. At
    least ``least`` documents, at most the ``most`` asked for, and at most ``most_unsure`` when
    nothing answers surely (the nearest documents, to check)."""

    share: float = 0.6
    reference_rank: int = 20
    least: int = 2
    most_unsure: int = 5

    def apply(self, hits: list[DocumentHit], most: int, confident: bool = True) -> list[DocumentHit]:
        if not hits:
            return []
        best = hits[0].score
        reference = hits[min(self.reference_rank, len(hits)) - 1].score
        floor = best - self.share * (best - reference)
        within = sum(1 for hit in hits if hit.score >= floor)
        bound = most if confident else min(most, self.most_unsure)
        return hits[: min(bound, max(self.least, within))]


CUT = ResultCut()


@dataclass(frozen=True)
class Listing:
    """A query's list: ``hits`` as listed, ``ranked`` the ranking they were cut from (what an
    answer starts from), ``confident`` whether the base answers the query (the evidence
    reaches ``KB_SEARCH_MIN_EVIDENCE`` or the best document holds every word of the query),
    ``evidence`` the figure compared with the floor."""

    query: Query
    ranked: list[DocumentHit]
    hits: list[DocumentHit]
    confident: bool
    evidence: float


def list_documents(
    evidence: Evidence,
    query: Query,
    most: int,
    filters: Filters | None = None,
    cut: ResultCut = CUT,
    judged: float | None = None,
) -> Listing:
    """The documents a search lists for ``query``, at most ``most`` of them: the confident
    ones cut by ``cut``; below the evidence floor the nearest ones (``confident`` false);
    none when no analysed term of the (corrected) query is in the base ("xqzw").
    ``judged``: the query's evidence on the whole base (``Evidence.of(query)``), when the
    caller lists it with several filters: a filtered listing is judged on the whole base."""
    retriever = evidence.retriever
    depth = max(most, cut.reference_rank, evidence.params.gap_rank)
    ranked = retriever.search(query, k=depth, filters=filters)
    if not ranked:
        score = 0.0
    elif judged is not None:
        score = judged
    else:
        score = evidence.of(query, filters, hits=ranked)
    confident = evidence.listed(query, filters, ranked, score)
    if not confident and not retriever.index.lexical.knows_any(query.terms):
        return Listing(query, ranked, [], False, score)
    return Listing(query, ranked, cut.apply(ranked, most, confident), confident, score)
