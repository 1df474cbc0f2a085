"""Duplicate warnings: the existing documents most similar to one being added.

Each warning says why in one French sentence, shows the figure its decision used, and is
``strong`` when it is the calibrated duplicate decision (what the review flow blocks
publishing on; ``strength`` says it in French: "réécriture probable", else "proche"). Strong
reasons:
- the same text (share of 5-word shingles in common);
- the same experience rewritten: most of the meaning in common (mean best cosine of the new
  passages) *and* most of the two documents' figures in common. Rewrites by another hand
  share almost no sentences and often spell the porteur otherwise, so neither text nor porteur
  can decide; the figures tell a rewrite from a method or a Q&A that retells the same story;
- the same title.
Weaker warnings are information: a close title, the same porteur (fuzzy) and territory, or
meaning in common just below the threshold. Thresholds: ``Settings`` (calibrated with
``evaluation/calibrate_duplicates.py`` on ``evaluation/duplicates/``, see docs/coordination.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from kb.core.bounded_cache import BoundedCache
from kb.core.models import DocumentMetadata
from kb.core.settings import Settings
from kb.core.text import fold
from kb.duplicates.candidates import NamedDocuments, jaccard, name_match, title_words
from kb.index.embeddings import Vectors
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.calibration import Calibration
from kb.search.snippets import clean_markdown

# the new passages compared (a long document's first ones say what it is about)
MAX_PASSAGES = 16
NEIGHBOURS_PER_PASSAGE = 10
# existing documents whose shingles and figures are kept in memory
FEATURES_KEPT = 512
# a figure written with thousands separators ("1 260", "1.260") or a decimal comma
_FIGURE = re.compile(r"\d{1,3}(?:[ \u00a0\u202f.]\d{3})+(?:,\d+)?|\d+(?:,\d+)?")
_YEAR = re.compile(r"(19|20)\d\d")
# a warning's strength as the coordinator reads it: the calibrated decision, or information
STRONG, CLOSE = "réécriture probable", "proche"


@dataclass(frozen=True)
class DuplicateParams:
    """Thresholds of the reasons (their home and calibration: ``Settings``)."""

    text_jaccard: float
    title_jaccard: float
    # the meaning threshold, calibrated for the index's model; None (no calibration for it):
    # the meaning rule is skipped, the text and title rules stay
    semantic: float | None
    semantic_margin: float
    shared_figures: float
    min_figures: int
    porteur_match: float
    limit: int = 5

    @classmethod
    def from_settings(cls, settings: Settings, calibration: Calibration | None = None) -> DuplicateParams:
        """The meaning threshold from ``calibration`` (kb/search/calibration.py); without one,
        the setting's as it stands (the evaluation scripts measure it)."""
        return cls(
            text_jaccard=settings.duplicate_text_jaccard,
            title_jaccard=settings.duplicate_title_jaccard,
            semantic=settings.duplicate_semantic if calibration is None else calibration.get("duplicate_semantic"),
            semantic_margin=settings.duplicate_semantic_margin,
            shared_figures=settings.duplicate_shared_figures,
            min_figures=settings.duplicate_min_figures,
            porteur_match=settings.duplicate_porteur_match,
        )

    @property
    def semantic_floor(self) -> float:
        """The meaning threshold compared with (never reached without a calibration)."""
        return math.inf if self.semantic is None else self.semantic


def shingles(text: str, size: int = 5) -> set[str]:
    words = re.findall(r"\w+", fold(clean_markdown(text)))
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def figures(text: str) -> set[str]:
    """The figures of a text (counts, amounts, percentages), written without separators.
    Years and single digits are left out: distinct documents of one period share them."""
    found = set()
    for match in _FIGURE.finditer(text):
        value = re.sub(r"[ \u00a0\u202f.]", "", match.group())
        if len(value) > 1 and not _YEAR.fullmatch(value):
            found.add(value)
    return found


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@dataclass
class NewDocument:
    """The document being added and what every comparison reads of it, computed once."""

    metadata: DocumentMetadata
    text: str
    vectors: Vectors

    @cached_property
    def passages(self) -> np.ndarray:
        return _normalised(np.asarray(self.vectors[:MAX_PASSAGES], dtype=np.float32))

    @cached_property
    def shingles(self) -> set[str]:
        return shingles(self.text)

    @cached_property
    def figures(self) -> set[str]:
        return figures(self.text)

    @cached_property
    def title_words(self) -> set[str]:
        return title_words(self.metadata.title)


@dataclass
class Signals:
    """What the finder measured between the new document and one existing document."""

    doc_id: str
    title: str
    doc_type: str = ""  # the existing document's
    semantic: float = 0.0  # mean over the new passages of their best cosine in the document
    centre: float = 0.0  # cosine of the two documents' mean passage vectors
    nearest_share: float = 0.0  # share of new passages whose nearest document this is
    text: float = 0.0  # Jaccard of 5-word shingles
    title_similarity: float = 0.0  # Jaccard of title words
    same_title: bool = False
    porteur: float = 0.0  # name_match of the porteurs
    territory: float = 0.0  # name_match of the territories
    same_type: bool = False
    existing_figures: int = 0
    new_figures: int = 0
    common_figures: int = 0

    @property
    def shared_figures(self) -> float:
        """Share of the two documents' figures they have in common (Jaccard). Symmetric: a
        fiche holds every figure of its structure's short directory entry, which is no rewrite."""
        union = self.existing_figures + self.new_figures - self.common_figures
        return self.common_figures / union if union else 0.0


class DuplicateFinder:
    def __init__(self, index: KnowledgeIndex, params: DuplicateParams) -> None:
        self.index = index
        self.params = params
        self._features: BoundedCache[tuple[str, str], tuple[set[str], set[str]]] = BoundedCache(FEATURES_KEPT)
        self._named = NamedDocuments()

    def prepare(self) -> None:
        """Read the titles and porteurs of every document now rather than on the first write."""
        with self._named.up_to_date(self.index.registry):
            pass

    def find(self, metadata: DocumentMetadata, text: str, vectors: Vectors, exclude: str | None = None) -> list[dict]:
        """The warnings for a document being added, strong ones first (at most ``limit``)."""
        new = NewDocument(metadata, text, vectors)
        warnings = [w for s in self.signals(new, exclude) if (w := self.warning(s)) is not None]
        warnings.sort(key=lambda w: (w["strong"], w["similarity"]), reverse=True)
        return warnings[: self.params.limit]

    def signals(self, new: NewDocument, exclude: str | None = None) -> list[Signals]:
        """The signals of every candidate: a document near one of the new passages, or with a
        close title or the same porteur (from the registry, no model call)."""
        nearest = self._nearest_documents(new, exclude)
        candidates = {doc_id for near in nearest for doc_id in near}
        with self._named.up_to_date(self.index.registry):
            named = self._named.matching(
                new.metadata.title, new.metadata.porteur, self.params.title_jaccard, self.params.porteur_match
            )
        candidates |= named - {exclude}
        nearest_of_passages = [max(near, key=near.__getitem__) for near in nearest if near]
        vectors = self.index.documents_vectors(sorted(candidates))  # one vector-store call for all
        found = []
        for doc_id in sorted(candidates):
            signals = self.compare(new, doc_id, vectors.get(doc_id))
            if signals is not None:
                signals.nearest_share = nearest_of_passages.count(doc_id) / max(1, len(new.passages))
                found.append(signals)
        return found

    def compare(self, new: NewDocument, doc_id: str, vectors: Vectors | None = None) -> Signals | None:
        """Every signal between the new document and one existing document (``vectors``: its
        stored vectors, when the caller has them already)."""
        stored = self.index.find(doc_id)
        if stored is None:
            return None
        other = stored.metadata
        signals = Signals(doc_id=doc_id, title=other.title, doc_type=other.doc_type)
        existing = np.asarray(self.index.document_vectors(doc_id) if vectors is None else vectors, dtype=np.float32)
        if len(existing) and len(new.passages):
            existing = _normalised(existing)
            cosines = new.passages @ existing.T
            signals.semantic = float(cosines.max(axis=1).mean())
            centres = _normalised(np.stack([new.passages.mean(axis=0), existing.mean(axis=0)]))
            signals.centre = float(centres[0] @ centres[1])
        other_shingles, other_figures = self._text_features(doc_id, stored.version)
        signals.text = jaccard(new.shingles, other_shingles)
        signals.title_similarity = jaccard(new.title_words, title_words(other.title))
        signals.same_title = fold(other.title) == fold(new.metadata.title)
        signals.porteur = name_match(new.metadata.porteur, other.porteur)
        signals.territory = name_match(new.metadata.territory, other.territory)
        signals.same_type = new.metadata.doc_type == other.doc_type
        signals.existing_figures = len(other_figures)
        signals.new_figures = len(new.figures)
        signals.common_figures = len(new.figures & other_figures)
        return signals

    def _text_features(self, doc_id: str, version: str) -> tuple[set[str], set[str]]:
        """An existing document's shingles and figures, kept per version: folding a whole
        text is most of a comparison's time, and the same neighbours come back upload after
        upload."""
        key = (doc_id, version)
        found = self._features.get(key)
        if found is None:
            text = self.index.document_text(doc_id) or ""
            found = (shingles(text), figures(text))
            self._features.put(key, found)
        return found

    def _nearest_documents(self, new: NewDocument, exclude: str | None) -> list[dict[str, float]]:
        """Per new passage: the best cosine of each document among its nearest passages."""
        found = []
        for vector in new.passages:
            near = self.index.similar_documents(vector, NEIGHBOURS_PER_PASSAGE)
            if exclude is not None:
                near.pop(exclude, None)
            found.append(near)
        return found

    def warning(self, s: Signals) -> dict | None:
        """The warning of one candidate, or None when nothing is worth saying."""
        p = self.params
        rewritten = (
            s.semantic >= p.semantic_floor
            and s.shared_figures >= p.shared_figures
            and s.common_figures >= p.min_figures
        )
        same_project = s.porteur >= p.porteur_match and s.territory >= p.porteur_match
        strong = True
        if s.text >= p.text_jaccard:
            similarity = s.text
            explanation = f"Texte quasi identique ({percent(s.text)} de passages communs)."
        elif rewritten:
            similarity = s.semantic
            explanation = (
                f"{rewritten_kind(s.doc_type)} : {percent(s.semantic)} de sens commun "
                f"et {percent(s.shared_figures)} de chiffres communs."
            )
        elif s.same_title:
            similarity = 1.0
            explanation = "Même titre."
        else:
            strong = False
            if s.title_similarity >= p.title_jaccard:
                similarity = s.title_similarity
                explanation = f"Titre très proche ({percent(s.title_similarity)} de mots communs)."
            elif s.semantic >= p.semantic_floor - p.semantic_margin:
                similarity = s.semantic
                explanation = (
                    f"Contenu proche ({percent(s.semantic)} de sens commun, "
                    f"{percent(s.shared_figures)} de chiffres communs), sans être une réécriture."
                )
            elif same_project:
                similarity = min(s.porteur, s.territory)
                explanation = "Même porteur et même territoire, contenu différent."
            else:
                return None
        return {
            "doc_id": s.doc_id,
            "title": s.title,
            "similarity": round(similarity, 3),
            "semantic_similarity": round(s.semantic, 3),
            "title_similarity": round(s.title_similarity, 3),
            "text_similarity": round(s.text, 3),
            "shared_figures": round(s.shared_figures, 3),
            "reasons": self.reasons(s),
            "strong": strong,
            "strength": STRONG if strong else CLOSE,
            "explanation": explanation,
        }

    def reasons(self, s: Signals) -> list[str]:
        """Every reason that holds, short and in French (the explanation gives the main one)."""
        p = self.params
        reasons = []
        if s.same_title:
            reasons.append("même titre")
        elif s.title_similarity >= p.title_jaccard:
            reasons.append(f"titre très proche ({percent(s.title_similarity)} de mots communs)")
        if s.text >= p.text_jaccard:
            reasons.append(f"texte quasi identique ({percent(s.text)} de passages communs)")
        if s.semantic >= p.semantic_floor - p.semantic_margin:
            reasons.append(f"sens très proche ({percent(s.semantic)})")
        if s.shared_figures >= p.shared_figures and s.common_figures >= p.min_figures:
            reasons.append(f"mêmes chiffres ({percent(s.shared_figures)} en commun)")
        if s.porteur >= p.porteur_match:
            reasons.append("même porteur")
        if s.territory >= p.porteur_match:
            reasons.append("même territoire")
        return reasons


def rewritten_kind(doc_type: str) -> str:
    """How the strong rewrite sentence names what was rewritten."""
    if doc_type == "fiche expérience":
        return "Même expérience, réécrite"
    return "Même document, réécrit"


def percent(value: float) -> str:
    """A share as French writes it: 0.97 -> "97 %" (a floor, so 96.8 % never shows as 97 %)."""
    return f"{int(value * 100 + 1e-9)}\u00a0%"
