"""Document retrieval: dense, lexical (BM25) or hybrid, with metadata filters and glossary.

Results are documents (a document scores as its best passage), each with its best passages:
practitioners open fiches, not fragments. Filters are turned into the set of allowed
documents before searching, so a filter never empties a page that has matches further down.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from kb.core.models import Passage, Scope
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.filters import Filters
from kb.search.glossary import Glossary
from kb.search.hits import DocumentHit
from kb.search.query import Query
from kb.search.snippets import Snippets
from kb.search.versions import one_per_family, versions_of
from kb.search.word_neighbours import neighbours_of

if TYPE_CHECKING:
    from kb.search.reranking import Reranking

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")


@dataclass(frozen=True)
class FusionParams:
    """Hybrid scoring, chosen by measurement (docs/search.md): a weighted sum of the dense cosine
    (passage and sentence) and the BM25 score normalised by the query's best BM25 score.
    Home: ``Settings``."""

    lexical_weight: float
    candidates: int
    sentence_share: float = 0.0
    sentence_candidates: int = 200

    @classmethod
    def from_settings(cls, settings: Settings) -> FusionParams:
        return cls(
            settings.fusion_lexical_weight,
            settings.retrieval_candidates,
            settings.fusion_sentence_share,
            settings.sentence_candidates,
        )


class Retriever:
    def __init__(
        self,
        index: KnowledgeIndex,
        glossary: Glossary | None = None,
        fusion: FusionParams | None = None,
        reranker: Reranking | None = None,
    ) -> None:
        self.index = index
        self.glossary = glossary or Glossary({})
        self.fusion = fusion or FusionParams.from_settings(index.settings)
        # reorders the top of every hybrid ranking (kb/search/reranking.py); None: the fusion's order
        self.reranker = reranker
        self.snippets = Snippets(lambda word: self.index.lexical.analyzer.term(word))

    def scope(self, filters: Filters | None) -> Scope | None:
        """Type and sector become conditions of both searches; theme, territory and dates
        (not in the vector metadata) become an explicit list of allowed documents."""
        if filters is None or filters.is_empty():
            return None
        doc_ids = None
        if filters.needs_document_list():
            doc_ids = tuple(
                stored.metadata.doc_id for stored in self.index.documents() if filters.accepts(stored.metadata)
            )
        return Scope(filters.doc_type, filters.sector, doc_ids)

    def query(self, text: str, spelling: bool = True) -> Query:
        """``text`` corrected, expanded, spelled and analysed once, for every step of its
        search. Its words the base never writes are replaced by the base's nearest ones
        (``LexicalIndex.correct``; acronyms and the glossary's forms kept) before both the
        dense and the lexical sides read it; ``spelling=False`` searches the text as typed.
        The words still unwritten after the correction add the base's nearest written word to
        the lexical side only (``KB_WORD_NEIGHBOURS``, kb/search/word_neighbours.py)."""
        lexical = self.index.lexical
        corrected = lexical.correct(text, keep=self.glossary.knows) if spelling else text
        expanded = self.glossary.expand(corrected)
        # the dense model reads "creche" as a different word from "crèche"; the lexical side folds
        spelled = lexical.restore_accents(expanded)
        neighbours: tuple[str, ...] = ()
        if spelling and self.index.settings.word_neighbours:
            neighbours = tuple(neighbours_of(lexical).expansion(corrected, keep=self.glossary.knows))
        return Query(text, expanded, spelled, lexical, corrected if corrected != text else None, neighbours=neighbours)

    def query_terms(self, query: str | Query) -> frozenset[str]:
        """The analysed terms of a query and of its glossary expansions (misspelt words
        matched to the base's nearest words) and its word neighbours: what snippets mark."""
        return self._query(query).highlighted_terms

    def _query(self, query: str | Query) -> Query:
        return query if isinstance(query, Query) else self.query(query)

    def search(
        self,
        query: str | Query,
        k: int = 10,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        passages_per_document: int = 3,
        near_top_only: bool = False,
    ) -> list[DocumentHit]:
        """The ``k`` best documents, each with its best passages; the versions of one document
        (front matter ``replaces``) come as one hit, its most recent version (kb/search/versions.py).
        ``near_top_only``: the filters' best matches matter only if they score near the query's
        best (see ``Scope.near_top_only``)."""
        query = self._query(query)
        scope = self.scope(filters)
        if scope is not None and near_top_only:
            scope = replace(scope, near_top_only=True)
        if scope is not None and scope.is_empty():
            return []
        versions = versions_of(self.index)
        reranker = self.reranker if mode == "hybrid" else None
        # the reranked top is the same whatever k: every search of a question sees one order
        depth = max(k, reranker.top_n) if reranker else k
        # collapsing a family of versions takes its other members out: rank that many more
        hits = self._ranked(query, depth, scope, mode, passages_per_document, spare=versions.redundant)
        if reranker:
            hits = reranker.apply(query, hits)
        return one_per_family(
            hits, versions, k, lambda doc_id: self._document_hit(query, doc_id, scope, mode, passages_per_document)
        )

    def _document_hit(
        self, query: Query, doc_id: str, scope: Scope | None, mode: Mode, passages_per_document: int
    ) -> DocumentHit | None:
        """One document's hit for a query, inside a search's scope (None when the scope leaves
        it out): a family's most recent version when only an older one ranked."""
        if scope is not None and scope.doc_ids is not None and doc_id not in scope.doc_ids:
            return None
        narrowed = Scope(scope.doc_types, scope.sectors, (doc_id,)) if scope else Scope(doc_ids=(doc_id,))
        found = self._ranked(query, 1, narrowed, mode, passages_per_document)
        return found[0] if found else None

    def _ranked(
        self, query: Query, k: int, scope: Scope | None, mode: Mode, passages_per_document: int, spare: int = 0
    ) -> list[DocumentHit]:
        """The ranking itself: the ``k + spare`` best documents (candidates sized on ``k``)."""
        candidates = max(self.fusion.candidates, k * 5)
        if mode == "dense":
            found = self.index.dense_hits(query.spelled, candidates, scope)
        elif mode == "bm25":
            found = self.index.lexical_hits(query.lexical_text, candidates, scope)
        else:
            return self._hybrid(query, candidates, scope, k + spare, passages_per_document)
        return _group([(p, p.score) for p in self.index.read_passages(found)], k + spare, passages_per_document)

    def _hybrid(
        self, query: Query, candidates: int, scope: Scope | None, k: int, per_document: int
    ) -> list[DocumentHit]:
        """Document-level fusion: a document's cosine, (1 - share) x its best passage cosine +
        share x its best sentence cosine, plus a weighted share of its best BM25 score
        (normalised by the query's best). A document one search did not find takes that
        search's lowest score. Measured better than passage-level fusion and RRF (docs/decisions/0001-document-level-fusion.md)."""
        dense = self.index.dense_hits(query.spelled, candidates, scope)
        lexical = self.index.lexical_hits(query.lexical_text, candidates, scope)
        share = self.fusion.sentence_share if self.index.sentences is not None else 0.0
        sentences = self.index.sentence_hits(query.spelled, self.fusion.sentence_candidates, scope) if share else []
        best_lexical = max((h.score for h in lexical), default=0.0) or 1.0
        dense_floor = min((h.score for h in dense), default=0.0)
        sentence_floor = min((h.score for h in sentences), default=dense_floor)
        # per passage: [hit, dense cosine, best sentence cosine, normalised BM25]
        passages: dict[tuple[str, int], list] = {}
        for signal, signal_hits, scale in ((1, dense, 1.0), (2, sentences, 1.0), (3, lexical, best_lexical)):
            for hit in signal_hits:
                entry = passages.get((hit.doc_id, hit.index))
                if entry is None:
                    entry = passages[(hit.doc_id, hit.index)] = [hit, dense_floor, sentence_floor, 0.0]
                entry[signal] = hit.score / scale
        weight = self.fusion.lexical_weight

        def fused(d: float, s: float, lex: float) -> float:
            return (1 - share) * d + share * s + weight * lex

        by_document: dict[str, list] = {}
        for values in passages.values():
            by_document.setdefault(values[0].doc_id, []).append(values)
        scored = [
            (fused(*(max(e[i] for e in entries) for i in (1, 2, 3))), entries) for entries in by_document.values()
        ]
        scored.sort(key=lambda item: item[0], reverse=True)  # stable: ties keep their order
        kept = [
            (score, sorted(entries, key=lambda e: fused(e[1], e[2], e[3]), reverse=True)[:per_document])
            for score, entries in scored[:k]
        ]
        # only the kept passages are read from the registry
        read = {
            (p.chunk.doc_id, p.chunk.index): p
            for p in self.index.read_passages([entry[0] for _, ranked in kept for entry in ranked])
        }
        hits = []
        for score, ranked in kept:
            found = [(read[(e[0].doc_id, e[0].index)], e) for e in ranked if (e[0].doc_id, e[0].index) in read]
            if found:
                hits.append(
                    DocumentHit(
                        found[0][0].metadata,
                        score,
                        [Passage(p.chunk, fused(d, sent, lex), p.metadata) for p, (_, d, sent, lex) in found],
                    )
                )
        return hits


def _group(scored: list[tuple[Passage, float]], k: int, per_document: int) -> list[DocumentHit]:
    scored = sorted(scored, key=lambda item: item[1], reverse=True)
    hits: dict[str, DocumentHit] = {}
    for passage, score in scored:
        doc_id = passage.chunk.doc_id
        hit = hits.get(doc_id)
        if hit is None:
            if len(hits) >= k:
                continue
            hit = hits[doc_id] = DocumentHit(passage.metadata, score)
        if len(hit.passages) < per_document:
            hit.passages.append(Passage(passage.chunk, score, passage.metadata))
    return list(hits.values())
