"""Extractive answers: the best passages' own sentences, each followed by its citation marker.

Nothing is generated: every sentence of an answer is copied from a cited passage, so every
``[n]`` can be checked against ``citations[n-1].quote``. Below the evidence threshold the
answer says plainly that the base holds nothing on the question and lists the nearest documents.
"""

from __future__ import annotations

from dataclasses import dataclass

from kb import directory
from kb.filters import Filters
from kb.models import DocumentMetadata, Passage, page_url
from kb.retrieval import DocumentHit, Retriever
from kb.settings import Settings
from kb.snippets import split_sentences
from kb.text import fold
from kb.vocabulary import ANNUAIRE, LOCAL_DEVELOPMENT, OTHER_SECTOR, SOCIAL_ACTION, content_doc_types

_TERMINAL = (".", "!", "…", "»", ")", ";")


@dataclass(frozen=True)
class AnswerParams:
    # Evidence = best document score + coverage_weight x the IDF-weighted share of the
    # question's terms found in the top documents. Both are calibrated on the unanswerable
    # questions of evaluation/questions.jsonl; their home is ``Settings`` (see README).
    min_score: float
    coverage_weight: float
    # contacts from the annuaire and other-sector documents must score within this of the top
    related_margin: float = 0.06
    documents: int = 3
    # chosen by measurement on the key facts of evaluation/questions.jsonl (see README)
    sentences: int = 5
    sentences_per_document: int = 3
    rank_prior: float = 0.2  # weight of the document's rank in a sentence's score
    figure_bonus: float = 0.2  # practitioners look for concrete figures

    @classmethod
    def from_settings(cls, settings: Settings) -> AnswerParams:
        return cls(min_score=settings.answer_min_score, coverage_weight=settings.answer_coverage_weight)


@dataclass
class _Candidate:
    sentence: str
    score: float
    passage: Passage
    terms: frozenset[str]


def document_summary(meta: DocumentMetadata, score: float | None = None, base_url: str = "") -> dict:
    """A document as listed in responses: ``url`` is its page on this site, ``source_url`` the
    page on the original site (when known)."""
    summary = {
        "doc_id": meta.doc_id,
        "title": meta.title,
        "doc_type": meta.doc_type,
        "sector": meta.sector,
        "url": page_url(base_url, meta.doc_id),
        "source_url": meta.source_url,
        "source": meta.source_name,
    }
    if score is not None:
        summary["score"] = round(score, 4)
    return summary


class Answerer:
    def __init__(self, retriever: Retriever, params: AnswerParams) -> None:
        self.retriever = retriever
        self.index = retriever.index
        self.params = params
        self.base_url = self.index.settings.public_url

    def answer(self, question: str, filters: Filters | None = None) -> dict:
        params = self.params
        content_filters = _without_annuaire(filters)
        hits = self.retriever.search(question, k=params.documents + 2, filters=content_filters)
        terms = self.retriever.query_terms(question)
        if self._evidence(hits, terms) < params.min_score:
            return self._nothing_found(hits)
        chosen = self._choose_sentences(hits[: params.documents], terms)
        if not chosen:
            return self._nothing_found(hits)
        citations: list[dict] = []
        number_of: dict[tuple[str, int], int] = {}
        parts: list[str] = []
        for candidate in chosen:
            key = (candidate.passage.chunk.doc_id, candidate.passage.chunk.index)
            if key not in number_of:
                number_of[key] = len(citations) + 1
                citations.append(_citation(number_of[key], candidate.passage, self.base_url))
            parts.append(f"{candidate.sentence} [{number_of[key]}]")
        cited = _unique_metadata(c.passage.metadata for c in chosen)
        return {
            "found": True,
            "answer": " ".join(parts),
            "citations": citations,
            "contacts": self._contacts(question, cited, filters, floor=hits[0].score - params.related_margin),
            "other_sector": self._other_sector(question, cited, floor=hits[0].score - params.related_margin),
        }

    def evidence(self, question: str, filters: Filters | None = None) -> float:
        """The figure compared with the threshold (exposed for calibration)."""
        hits = self.retriever.search(question, k=self.params.documents + 2, filters=_without_annuaire(filters))
        return self._evidence(hits, self.retriever.query_terms(question))

    # -- pieces --------------------------------------------------------------------------

    def _evidence(self, hits: list[DocumentHit], terms: set[str]) -> float:
        if not hits:
            return 0.0
        weights = self.index.idf(sorted(terms))
        total = sum(weights.values()) or 1.0
        coverage = 0.0
        for hit in hits[: self.params.documents]:
            present = set(self.index.terms(self.index.document_text(hit.metadata.doc_id) or ""))
            coverage = max(coverage, sum(w for t, w in weights.items() if t in present) / total)
        return hits[0].score + self.params.coverage_weight * coverage

    def _choose_sentences(self, hits: list[DocumentHit], terms: set[str]) -> list[_Candidate]:
        """Sentences ranked by the IDF-weighted share of the question's terms they contain,
        plus a prior for the rank of their document and a bonus for concrete figures."""
        weights = self.index.idf(sorted(terms))
        total = sum(weights.values()) or 1.0
        candidates: list[_Candidate] = []
        for rank, hit in enumerate(hits):
            prior = 1.0 / (rank + 1)
            for passage in hit.passages[:2]:
                if reference_section(passage.chunk.section):
                    continue
                sentences = split_sentences(passage.chunk.text)
                if sentences and not sentences[-1].endswith(_TERMINAL):
                    sentences.pop()  # the passage window cut it
                for sentence in sentences:
                    if not _answer_like(sentence):
                        continue
                    sentence_terms = frozenset(self.index.terms(sentence))
                    matched = sentence_terms & terms
                    if not matched:
                        continue
                    coverage = sum(weights.get(t, 0.0) for t in matched) / total
                    figures = self.params.figure_bonus if any(ch.isdigit() for ch in sentence) else 0.0
                    candidates.append(
                        _Candidate(sentence, coverage + self.params.rank_prior * prior + figures, passage, sentence_terms)
                    )
        candidates.sort(key=lambda c: c.score, reverse=True)
        chosen: list[_Candidate] = []
        per_document: dict[str, int] = {}
        for candidate in candidates:
            doc_id = candidate.passage.chunk.doc_id
            if per_document.get(doc_id, 0) >= self.params.sentences_per_document:
                continue
            if any(_near_duplicate(candidate.terms, other.terms) for other in chosen):
                continue
            chosen.append(candidate)
            per_document[doc_id] = per_document.get(doc_id, 0) + 1
            if len(chosen) >= self.params.sentences:
                break
        return chosen

    def _nothing_found(self, hits: list[DocumentHit]) -> dict:
        nearest = [document_summary(h.metadata, h.score, self.base_url) for h in hits[:3]]
        titles = ", ".join(f"« {h.metadata.title} »" for h in hits[:3])
        answer = "La base ne contient pas de document qui réponde à cette question."
        if titles:
            answer += f" Documents les plus proches, à vérifier : {titles}."
        return {
            "found": False,
            "answer": answer,
            "citations": [],
            "contacts": [],
            "other_sector": [],
            "nearest": nearest,
        }

    def _contacts(
        self, question: str, cited: list[DocumentMetadata], filters, floor: float
    ) -> list[dict]:
        """The porteurs of the cited documents and the matching annuaire entries."""
        contacts: dict[str, dict] = {}
        for meta in cited:
            if not meta.porteur:
                continue
            entry = directory.porteur_entry(self.index, meta)
            if entry is not None:
                contacts[entry.doc_id] = directory.contact(self.index, entry, f"porteur de « {meta.title} »")
            else:
                contacts[f"porteur:{fold(meta.porteur)}"] = {
                    "name": meta.porteur,
                    "doc_id": None,
                    "territory": meta.territory,
                    "contact": None,
                    "reason": f"porteur de « {meta.title} »",
                }
        annuaire_filter = Filters(doc_type=(ANNUAIRE,), territory=filters.territory if filters else None)
        for hit in self.retriever.search(question, k=3, filters=annuaire_filter):
            if hit.score >= floor and hit.metadata.doc_id not in contacts:
                contacts[hit.metadata.doc_id] = directory.contact(
                    self.index, hit.metadata, "structure qui intervient sur ce sujet"
                )
        return list(contacts.values())[:5]

    def _other_sector(self, question: str, cited: list[DocumentMetadata], floor: float) -> list[dict]:
        """The other side of the top source: social action for a local-development answer and
        the reverse; for a cross-sector top source, the side least present among the sources."""
        primary = cited[0].sector if cited else None
        if primary in OTHER_SECTOR:
            wanted = [OTHER_SECTOR[primary]]
        else:
            counts = {s: sum(m.sector == s for m in cited) for s in (SOCIAL_ACTION, LOCAL_DEVELOPMENT)}
            fewest = min(counts.values())
            wanted = [s for s, n in counts.items() if n == fewest]
        hits = self.retriever.search(
            question,
            k=3,
            filters=Filters(doc_type=content_doc_types(), sector=tuple(wanted)),
        )
        cited_ids = {m.doc_id for m in cited}
        return [
            document_summary(h.metadata, h.score, self.base_url)
            for h in hits
            if h.metadata.doc_id not in cited_ids and h.score >= floor
        ]


def _without_annuaire(filters: Filters | None) -> Filters:
    """Answers quote fiches; the annuaire feeds the contacts, unless it is asked for."""
    if filters and filters.doc_type:
        return filters
    return (filters or Filters()).with_types(content_doc_types())


_REFERENCE_SECTIONS = (
    "pour aller plus loin", "voir aussi", "contact", "source", "ressources", "lien", "la question",
)


def reference_section(path: tuple[str, ...]) -> bool:
    """Pointers to other documents and contact lines are not answers (contacts are listed apart)."""
    return bool(path) and fold(path[-1]).startswith(_REFERENCE_SECTIONS)


def _answer_like(sentence: str) -> bool:
    """Headings, labels, questions and fragments (a window cut mid-sentence) make poor answers."""
    if len(sentence) < 40 or len(sentence) > 450 or sentence.rstrip(" »\"')").endswith("?"):
        return False
    if not (sentence[0].isupper() or sentence[0].isdigit() or sentence[0] in "«\"("):
        return False
    return sentence[-1] in ".!…»)" or len(sentence) >= 80


def _near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    """Mostly the same words, or one sentence contained in the other."""
    if not a or not b:
        return a == b
    return len(a & b) / min(len(a), len(b)) > 0.75


def _citation(number: int, passage: Passage, base_url: str) -> dict:
    meta = passage.metadata
    return {
        "n": number,
        "doc_id": meta.doc_id,
        "title": meta.title,
        "url": page_url(base_url, meta.doc_id, passage.chunk.index),
        "source_url": meta.source_url,
        "source": meta.source_name,
        "section": passage.chunk.section_label,
        "page": passage.chunk.page,
        "quote": passage.chunk.text,
    }


def _unique_metadata(items) -> list[DocumentMetadata]:
    seen: dict[str, DocumentMetadata] = {}
    for meta in items:
        seen.setdefault(meta.doc_id, meta)
    return list(seen.values())
