"""What the other sector did on a question: ``other_sector`` of ``/ask`` ("Dans l'autre secteur").

Told the asker's sector, the question itself is searched in the other sector's documents and
structures (a scoped retrieval), and each of its first candidates is judged as the main answer
judges the base (``kb/search/evidence.py``): its evidence as if it were the best document of
that ranking (its score, its coverage of the question's terms, its lead over the ranking's 10th
document, less the question's unknown words), raised for a structure of the annuaire (whom to
call is what a practitioner of the other side most often lacks) and by how much better its best
sentence answers the question than the first candidate's (sentence vectors); a candidate is
listed when that strength reaches ``floor`` and its best sentence carries ``match`` of the
question's weight. The other side is judged on its own: a question the asker's sector does not
answer may still list what the other did. The parameters are fitted on the calibration half of
``evaluation/cross_sector.jsonl`` (``python -m evaluation.other_sector --fit``, docs/answers.md).

Not told, the other side of the answer's first source is shown: its documents near the first
source whose best sentence matches the question nearly as well as the first block's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kb.answer.digest import Block, Digester
from kb.core.vocabulary import ANNUAIRE, LOCAL_DEVELOPMENT, OTHER_SECTOR, SOCIAL_ACTION, content_doc_types
from kb.search.evidence import Evidence, EvidenceParts
from kb.search.filters import Filters
from kb.search.hits import DocumentHit
from kb.search.query import Query
from kb.search.retrieval import Retriever
from kb.search.views import document_summary


@dataclass(frozen=True)
class OtherSectorParams:
    # told the asker's sector (fitted on the calibration half, docs/answers.md)
    candidates: int = 4  # the other sector's first documents judged
    floor: float = 0.9575  # the strength a listed document reaches
    match: float = 0.1  # the share of the question's weight its best sentence carries
    structure_bonus: float = 0.06  # added for an annuaire entry
    sentence_weight: float = 2.0  # x its best sentence's cosine lead over the first candidate's
    listed: int = 3
    # not told: the other side of the first source
    related_margin: float = 0.06
    match_ratio: float = 0.6
    guessed_listed: int = 3


@dataclass(frozen=True)
class Candidate:
    """A document of the other sector, as the rule reads it."""

    hit: DocumentHit
    evidence: float  # its evidence as the best document of the other sector's ranking
    match: float  # the IDF-weighted share of the question's terms in its best sentence
    sentence_lead: float  # its best sentence's cosine to the question minus the first candidate's
    structure: bool  # an entry of the annuaire

    def strength(self, params: OtherSectorParams) -> float:
        return self.evidence + params.structure_bonus * self.structure + params.sentence_weight * self.sentence_lead


def choose(candidates: Sequence[Candidate], params: OtherSectorParams) -> list[Candidate]:
    """The candidates listed, in the ranking's order."""
    kept = [
        c for c in candidates[: params.candidates] if c.match >= params.match and c.strength(params) >= params.floor
    ]
    return kept[: params.listed]


class OtherSector:
    def __init__(self, retriever: Retriever, digester: Digester, evidence: Evidence, params: OtherSectorParams) -> None:
        self.retriever = retriever
        self.index = retriever.index
        self.digester = digester
        self.evidence = evidence
        self.params = params

    # -- told the asker's sector ---------------------------------------------------------------

    def told(self, query: Query, from_sector: str) -> list[dict]:
        """What the sector other than ``from_sector`` did on the question."""
        if from_sector not in OTHER_SECTOR:
            return []
        chosen = choose(self.candidates(query, OTHER_SECTOR[from_sector]), self.params)
        base_url = self.index.settings.public_url
        return [document_summary(c.hit.metadata, c.hit.score, base_url) for c in chosen]

    def candidates(self, query: Query, sector: str, limit: int | None = None) -> list[Candidate]:
        """The first documents of ``sector`` for the question, each with what the rule reads
        (``limit``: how many, the rule's own by default; the fit reads more)."""
        hits = self.retriever.search(
            query,
            k=self.evidence.params.depth,  # the ranking's 10th document is the evidence's reference
            filters=Filters(sector=(sector,)),
            near_top_only=True,  # a listed document scores near the top: its search stays cheap at scale
        )
        if not hits:
            return []
        reference = self.evidence.reference(hits)
        hits = hits[: limit or self.params.candidates]
        terms = query.terms
        weights = self.index.lexical.idf(sorted(terms))
        total = sum(weights.values()) or 1.0
        unknown = self.evidence.unknown_share(query)
        cosines = self._sentence_cosines(query, hits)
        found = []
        for hit in hits:
            block = self.digester.block(hit, terms, weights, (), matched_only=True)
            present = self.index.document_terms(hit.metadata.doc_id)
            coverage = sum(w for t, w in weights.items() if t in present) / total
            parts = EvidenceParts(hit.score, coverage, hit.score - reference, unknown)
            found.append(
                Candidate(
                    hit=hit,
                    evidence=parts.combined(self.evidence.params),
                    match=block.match if block is not None else 0.0,
                    sentence_lead=cosines.get(hit.metadata.doc_id, 0.0) - cosines.get(hits[0].metadata.doc_id, 0.0),
                    structure=hit.metadata.doc_type == ANNUAIRE,
                )
            )
        return found

    def _sentence_cosines(self, query: Query, hits: list[DocumentHit]) -> dict[str, float]:
        """Each document's best sentence cosine to the question (none without sentence vectors)."""
        vectors = self.index.documents_sentence_vectors([hit.metadata.doc_id for hit in hits])
        if not vectors:
            return {}
        question = np.asarray(self.index.query_vector(query.spelled), dtype=np.float32)
        return {doc_id: float(np.max(v @ question)) for doc_id, v in vectors.items() if len(v)}

    # -- not told ----------------------------------------------------------------------------------

    def guessed(self, query: Query, blocks: list[Block], content: list[DocumentHit]) -> list[dict]:
        """The other side of the top source (for a cross-sector one, the side least present among
        the sources), its documents within ``related_margin`` of the first source and matching
        the question ``match_ratio`` times as well as the first block."""
        cited = [block.hit.metadata for block in blocks]
        primary = cited[0].sector if cited else None
        if primary in OTHER_SECTOR:
            wanted = [OTHER_SECTOR[primary]]
        else:
            counts = {s: sum(m.sector == s for m in cited) for s in (SOCIAL_ACTION, LOCAL_DEVELOPMENT)}
            fewest = min(counts.values())
            wanted = [s for s, n in counts.items() if n == fewest]
        floor = content[0].score - self.params.related_margin
        needed = self.params.match_ratio * (blocks[0].match if blocks else 0.0)
        hits = self.retriever.search(
            query,
            k=self.params.guessed_listed,
            filters=Filters(doc_type=content_doc_types(), sector=tuple(wanted)),
            near_top_only=True,
        )
        terms = query.terms
        weights = self.index.lexical.idf(sorted(terms))
        cited_ids = {meta.doc_id for meta in cited}
        base_url = self.index.settings.public_url
        listed = []
        for hit in hits:
            if hit.metadata.doc_id in cited_ids:
                continue
            block = self.digester.block(hit, terms, weights, (), matched_only=True)
            if block is not None and hit.score >= floor and block.match >= needed:
                listed.append(document_summary(hit.metadata, hit.score, base_url))
        return listed[: self.params.guessed_listed]
