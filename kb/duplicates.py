"""Duplicate warnings: the existing documents most similar to one being added.

Three independent reasons, each explainable to a coordinator:
- the same or a near-identical title;
- near-identical text: the share of 5-word shingles the two texts have in common (Jaccard);
- the same porteur, territory and document type (the same project written up twice).
Candidates come from the vector store (nearest passages of the new text) and from the titles
and porteurs of the registry. Thresholds are calibrated on the corpus (see README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.embeddings import Vectors
from kb.index import KnowledgeIndex
from kb.models import DocumentMetadata
from kb.settings import Settings
from kb.snippets import clean_markdown
from kb.text import fold


@dataclass(frozen=True)
class DuplicateParams:
    """Thresholds of the three reasons (their home and calibration: ``Settings``)."""

    text_jaccard: float
    title_jaccard: float
    semantic: float
    limit: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> DuplicateParams:
        return cls(
            text_jaccard=settings.duplicate_text_jaccard,
            title_jaccard=settings.duplicate_title_jaccard,
            semantic=settings.duplicate_semantic,
        )


def shingles(text: str, size: int = 5) -> set[str]:
    words = re.findall(r"\w+", fold(clean_markdown(text)))
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _title_words(title: str) -> set[str]:
    return {w for w in re.findall(r"\w+", fold(title)) if len(w) > 2}


class DuplicateFinder:
    def __init__(self, index: KnowledgeIndex, params: DuplicateParams) -> None:
        self.index = index
        self.params = params

    def find(
        self, metadata: DocumentMetadata, text: str, vectors: Vectors, exclude: str | None = None
    ) -> list[dict]:
        params = self.params
        semantic = self._semantic_candidates(vectors)
        new_shingles = shingles(text)
        new_title = _title_words(metadata.title)
        warnings = []
        for stored in self.index.documents():
            other = stored.metadata
            if other.doc_id == exclude:
                continue
            reasons: list[str] = []
            title_similarity = jaccard(new_title, _title_words(other.title))
            if fold(other.title) == fold(metadata.title):
                reasons.append("même titre")
            elif title_similarity >= params.title_jaccard:
                reasons.append(f"titre très proche ({title_similarity:.0%} de mots communs)")
            cosine = semantic.get(other.doc_id, 0.0)
            text_similarity = 0.0
            if reasons or cosine >= params.semantic - 0.1 or self._same_project(metadata, other):
                text_similarity = jaccard(new_shingles, shingles(self.index.document_text(other.doc_id) or ""))
            if text_similarity >= params.text_jaccard:
                reasons.append(f"texte quasi identique ({text_similarity:.0%} de passages communs)")
            elif cosine >= params.semantic:
                reasons.append(f"contenu très proche (similarité {cosine:.2f})")
            if self._same_project(metadata, other):
                reasons.append("même porteur, même territoire et même type de document")
            if reasons:
                warnings.append(
                    {
                        "doc_id": other.doc_id,
                        "title": other.title,
                        "similarity": round(text_similarity, 3),
                        "title_similarity": round(title_similarity, 3),
                        "semantic_similarity": round(cosine, 3),
                        "reasons": reasons,
                    }
                )
        warnings.sort(
            key=lambda w: (w["similarity"], w["title_similarity"], w["semantic_similarity"]), reverse=True
        )
        return warnings[: params.limit]

    def _semantic_candidates(self, vectors: Vectors) -> dict[str, float]:
        """Per existing document: mean over the new passages of their best cosine in it."""
        if len(vectors) == 0:
            return {}
        best: dict[str, list[float]] = {}
        for vector in vectors[:12]:
            for doc_id, score in self.index.similar_documents(vector, 10).items():
                best.setdefault(doc_id, []).append(score)
        used = min(len(vectors), 12)
        # a document absent from a passage's neighbours counts as 0 for that passage
        return {doc_id: sum(scores) / used for doc_id, scores in best.items()}

    @staticmethod
    def _same_project(a: DocumentMetadata, b: DocumentMetadata) -> bool:
        return bool(
            a.porteur
            and b.porteur
            and fold(a.porteur) == fold(b.porteur)
            and a.territory
            and b.territory
            and fold(a.territory) == fold(b.territory)
            and a.doc_type == b.doc_type
        )
