"""Whether the base answers a query: one figure, shared by ``/search`` (its floor) and ``/ask``
(its threshold and grey zone, ``kb/answer/answerer.py``).

Evidence = the best document's score + ``coverage_weight`` x the IDF-weighted share of the
query's terms found in the top documents + ``gap_weight`` x how far the best document stands
out from the ``gap_rank``-th (a question nothing answers scores alike on many documents) -
``unknown_weight`` x the IDF-weighted share of the query's words no document writes. A base
of fewer than ``gap_rank`` documents has no such document: the reference is then the score
the 10th document of a full base typically gets (``gap_background``), so that its first files already
answer their own subjects. The weights and thresholds are calibrated on the unanswerable
questions (docs/answers.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.core.settings import Settings
from kb.search.calibration import Calibration
from kb.search.filters import Filters
from kb.search.hits import DocumentHit
from kb.search.query import Query
from kb.search.retrieval import Retriever


@dataclass(frozen=True)
class EvidenceParams:
    coverage_weight: float
    gap_weight: float = 2.0
    gap_rank: int = 10
    unknown_weight: float = 0.0
    gap_background: float = 0.8582  # the gap_rank-th score of a base too small to have one
    documents: int = 3  # the top documents whose terms count in the coverage
    depth: int = 20  # documents ranked to judge a query on the whole base
    # the floor of /search (KB_SEARCH_MIN_EVIDENCE as calibrated for the index's model); None:
    # no calibration for this model, the lists have no floor (kb/search/calibration.py)
    search_floor: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings, calibration: Calibration | None = None) -> EvidenceParams:
        """The model-dependent values from ``calibration`` (kb/search/calibration.py); without
        one, the settings' values as they stand (the evaluation scripts measure them)."""
        if calibration is None:
            return cls(
                coverage_weight=settings.answer_coverage_weight,
                gap_weight=settings.answer_gap_weight,
                gap_rank=settings.answer_gap_rank,
                gap_background=settings.answer_gap_background,
                unknown_weight=settings.answer_unknown_weight,
                search_floor=settings.search_min_evidence,
            )
        # a weight without calibration keeps the setting's value: with no threshold to
        # compare the evidence with, it changes no decision
        unknown = calibration.get("answer_unknown_weight")
        background = calibration.get("answer_gap_background")
        return cls(
            coverage_weight=settings.answer_coverage_weight,
            gap_weight=settings.answer_gap_weight,
            gap_rank=settings.answer_gap_rank,
            gap_background=settings.answer_gap_background if background is None else background,
            unknown_weight=settings.answer_unknown_weight if unknown is None else unknown,
            search_floor=calibration.get("search_min_evidence"),
        )


@dataclass(frozen=True)
class EvidenceParts:
    best: float  # the best document's score
    coverage: float  # the IDF-weighted share of the query's terms in the top documents
    gap: float  # the best score's lead over the reference (``Evidence.reference``)
    unknown: float  # the IDF-weighted share of the query's words no document writes

    def combined(self, params: EvidenceParams) -> float:
        return (
            self.best
            + params.coverage_weight * self.coverage
            + params.gap_weight * self.gap
            - params.unknown_weight * self.unknown
        )


class Evidence:
    def __init__(self, retriever: Retriever, params: EvidenceParams) -> None:
        self.retriever = retriever
        self.index = retriever.index
        self.params = params

    def of(self, query: Query, filters: Filters | None = None, hits: list[DocumentHit] | None = None) -> float:
        """The figure compared with the thresholds; ``hits``: the query's ranking with
        ``filters``, when the caller has it. A ``Query``, never a text: its callers have
        built it for their own search (``Retriever.query``), and building it again costs a
        spelling correction."""
        return self.score(self.judged_hits(query, filters, hits), query)

    def judged_hits(self, query: Query, filters: Filters | None, hits: list[DocumentHit] | None) -> list[DocumentHit]:
        """Whether the base answers is judged on the whole base, the annuaire included (a "who"
        question is answered by a structure): a filter narrows what is shown, not the evidence."""
        if hits is not None and (filters is None or filters.is_empty()):
            return hits
        return self.retriever.search(query, k=self.params.depth)

    def score(self, hits: list[DocumentHit], query: Query) -> float:
        """The evidence of a ranking already judged on the whole base."""
        parts = self.parts(hits, query)
        return parts.combined(self.params) if parts is not None else 0.0

    def parts(self, hits: list[DocumentHit], query: Query) -> EvidenceParts | None:
        """What the evidence adds up (None for an empty ranking): calibration refits the weights
        from them (evaluation/answers.py)."""
        if not hits:
            return None
        weights = self.index.lexical.idf(sorted(query.terms))
        total = sum(weights.values()) or 1.0
        coverage = 0.0
        for hit in hits[: self.params.documents]:
            present = self.index.document_terms(hit.metadata.doc_id)
            coverage = max(coverage, sum(w for t, w in weights.items() if t in present) / total)
        return EvidenceParts(hits[0].score, coverage, hits[0].score - self.reference(hits), self.unknown_share(query))

    def unknown_share(self, query: Query) -> float:
        """The IDF-weighted share of the query's words (as searched) that no document writes."""
        weights = self.index.lexical.idf(sorted(query.exact_terms))
        total = sum(weights.values())
        if not total:
            return 0.0
        unknown = self.index.lexical.unknown(weights)
        return sum(w for t, w in weights.items() if t in unknown) / total

    def reference(self, hits: list[DocumentHit]) -> float:
        """The score the best document's lead is measured from: the ``gap_rank``-th document's,
        or in a smaller base, the background score (or its last document's, when higher: a base
        of a few documents on one subject). A few documents on unrelated subjects score lower
        than a full base's 10th: measured from them, any question would stand out."""
        if len(hits) >= self.params.gap_rank:
            return hits[self.params.gap_rank - 1].score
        last = hits[-1].score if len(hits) > 1 else 0.0
        return max(last, self.params.gap_background)

    def names_every_term(self, query: Query, hits: list[DocumentHit]) -> bool:
        """Whether the best document holds every term of the query as typed (a rare word or a
        name the dense model does not know: "glanage", a place): an exact match is listed even
        when the evidence is low."""
        if not query.exact_terms or not hits:
            return False
        return query.exact_terms <= self.index.document_terms(hits[0].metadata.doc_id)

    def listed(
        self,
        query: Query,
        filters: Filters | None,
        hits: list[DocumentHit],
        evidence: float | None = None,
    ) -> bool:
        """Whether the base answers a query surely enough for a search to list its documents as
        answers (``confident``; otherwise the nearest documents are listed, to check,
        kb/search/listing.py): the evidence reaches the floor ``KB_SEARCH_MIN_EVIDENCE`` (lower
        than the answer's threshold), or the best document holds every word of the query.
        Without a floor calibrated for the index's model, every query one of whose words the
        base writes. ``evidence``: the query's, when the caller has computed it already."""
        if not hits:
            return False
        floor = self.params.search_floor
        if floor is None:
            return self.index.lexical.knows_any(query.terms)
        if evidence is None:
            evidence = self.of(query, filters, hits=hits)
        if evidence >= floor:
            return True
        return self.names_every_term(query, hits)
