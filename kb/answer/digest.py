"""The extractive answer's blocks: for one document, the sentences that best answer a question.

A block holds 1 to 3 whole sentences of the document (never a heading, a list label, an agenda
line, a question or a fragment; a sentence that opens with a pronoun brings the sentence it
refers to), its key figures when the question asks about money, people or time, and the
passages (chunks) that hold them, so that each sentence is cited with its source.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from kb.core.bounded_cache import BoundedCache
from kb.core.models import Chunk
from kb.core.sentences import Sentence, document_sentences
from kb.core.text import fold
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.hits import DocumentHit
from kb.search.views import skipped_section

# sections that point elsewhere or describe the meeting rather than the experience
_SUMMARY_SECTIONS = ("en bref", "resume", "synthese", "la reponse", "reponse", "en resume")
_ANAPHORA = re.compile(
    r"^(?:elle|elles|il|ils|cette|cet|ces|ce|celle|celles|celui|ceux|cela|ca|leur|leurs|"
    r"en revanche|de plus|par ailleurs|toutefois|mais|pourtant|ainsi|enfin|la encore|lui|eux)\b"
)
_AGENDA = re.compile(r"^\d{1,2}\s?h(?:\s?\d{2})?\b|^\d{1,2}[:.]\d{2}\b")
_TERMINAL = tuple(".!…»)")

# what a question asks about, and where a document keeps the matching figures
_ASKS = {
    "argent": re.compile(
        r"\b(?:cout\w*|coute\w*|budget\w*|financ\w*|euros?|prix|tarif\w*|subvention\w*|pay(?:e|es|er|ent|ez|ee|ees)\b|"
        r"paie\w*|montant\w*|argent|cher|depense\w*|recette\w*|indemni\w*|remuner\w*)\b|€"
    ),
    "personnes": re.compile(
        r"\b(?:etp|salarie\w*|benevole\w*|postes?|recrut\w*|personnes|equipe\w*|animat\w*|"
        r"emplois?|combien de (?:familles|jeunes|enfants|habitants|participants|usagers|menages))\b"
    ),
    "temps": re.compile(r"\b(?:quand|duree|combien de temps|delai\w*|calendrier|dates?|depuis|etapes?|mois|annees?)\b"),
    "nombre": re.compile(r"\b(?:combien|quelle quantite|quel nombre|nombre de|chiffres?|resultats?|bilan)\b"),
}
_FIGURE_SECTIONS = {
    "argent": ("budget", "financ", "cout", "moyens"),
    "personnes": ("moyens humains", "equipe", "moyens", "gouvernance"),
    "temps": ("etapes", "calendrier", "chronologie", "historique"),
    "nombre": ("resultats", "bilan", "chiffres", "en chiffres"),
}
_FIGURE_TEXT = {
    "argent": re.compile(r"€|\beuros?\b", re.IGNORECASE),
    "personnes": re.compile(r"\bETP\b|salari|bénévole|poste", re.IGNORECASE),
    "temps": re.compile(r"\b(?:19|20)\d{2}\b|\bmois\b|\bans?\b|semaines?", re.IGNORECASE),
    "nombre": re.compile(r"\d"),
}


@dataclass(frozen=True)
class Quoted:
    """A sentence of a document with the passage that holds it."""

    text: str
    chunk: Chunk
    start: int
    end: int


@dataclass
class Block:
    hit: DocumentHit
    sentences: list[Quoted]
    figures: list[Quoted] = field(default_factory=list)
    match: float = 0.0  # the IDF-weighted share of the question's terms in its best sentence


def asked_figures(question: str) -> tuple[str, ...]:
    """What kind of figures the question asks for: ``argent``, ``personnes``, ``temps``, or
    ``nombre`` (counts, results)."""
    folded = fold(question)
    kinds = tuple(kind for kind, pattern in _ASKS.items() if pattern.search(folded))
    # "combien" alone asks for counts; with money, people or time it asks for those
    return tuple(k for k in kinds if k != "nombre") or kinds


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a sentence and the one its pronoun refers to) with its passage."""

    text: str
    start: int
    end: int
    item: bool
    chunk: Chunk


def _units(text: str, chunks: tuple[Chunk, ...]) -> tuple[_Unit, ...]:
    """The document's candidate sentences, mapped to their passages."""
    sentences = document_sentences(text)
    units: list[_Unit] = []
    previous: Sentence | None = None
    for sentence in sentences:
        chunk = _chunk_of(chunks, sentence)
        if chunk is None:
            previous = sentence
            continue
        body = sentence.text
        start = sentence.start
        if _ANAPHORA.match(fold(body)):
            if previous is None or previous.item != sentence.item or not _fits_before(previous, sentence, text):
                previous = sentence
                continue
            body = f"{previous.text} {body}"
            start = previous.start
            chunk = _chunk_of(chunks, Sentence(body, start, sentence.end, sentence.item)) or chunk
        units.append(_Unit(body, start, sentence.end, sentence.item, chunk))
        previous = sentence
    return tuple(units)


def _fits_before(previous: Sentence, sentence: Sentence, text: str) -> bool:
    """The previous sentence is in the same paragraph (no blank line or heading between)."""
    gap = text[previous.end : sentence.start]
    return "\n\n" not in gap and "#" not in gap and len(previous.text) + len(sentence.text) <= 450


def _chunk_of(chunks: tuple[Chunk, ...], sentence: Sentence) -> Chunk | None:
    holding = [c for c in chunks if c.start <= sentence.start and sentence.end <= c.end]
    if holding:
        return holding[0]
    return next((c for c in chunks if c.start <= sentence.start < c.end), None)


def _heading_like(unit: _Unit) -> bool:
    folded = fold(unit.text).rstrip(" .:")
    return any(folded == fold(part) for part in unit.chunk.section)


def answer_like(text: str) -> bool:
    """A whole declarative sentence of a reasonable length."""
    if len(text) < 40 or len(text) > 450 or text.rstrip(" »\"')").endswith("?"):
        return False
    if not (text[0].isupper() or text[0].isdigit() or text[0] in '«"('):
        return False
    if _AGENDA.match(text) or text.endswith(":"):
        return False
    return text.endswith(_TERMINAL)


class Digester:
    """Chooses, in one document, what answers a question."""

    def __init__(self, index: KnowledgeIndex, sentences: int = 3, figures: int = 3) -> None:
        self.index = index
        self.max_sentences = sentences
        self.max_figures = figures
        self.keep_ratio = 0.4  # a sentence scoring under this share of the best is not quoted
        # a document is cut into sentences once per version (keyed by doc_id and version)
        self._units: BoundedCache[tuple[str, str], tuple[_Unit, ...]] = BoundedCache(512)

    def block(
        self,
        hit: DocumentHit,
        terms: AbstractSet[str],
        weights: dict[str, float],
        asks: tuple[str, ...],
        matched_only: bool = False,
    ) -> Block | None:
        """``matched_only``: only sentences that share terms with the question (for the sources
        after the first, which must earn their place by what they say)."""
        units = self._document_units(hit)
        if not units:
            return None
        total = sum(weights.values()) or 1.0
        passage_rank = {p.chunk.index: rank for rank, p in enumerate(hit.passages)}
        match = 0.0
        scored: list[tuple[float, _Unit, frozenset[str]]] = []
        for position, unit in enumerate(units):
            if unit.item and len(unit.text) < 60 or not answer_like(unit.text):
                continue
            if skipped_section(unit.chunk.section) or _heading_like(unit):
                continue
            unit_terms = frozenset(self.index.lexical.analyzer.tokens(unit.text))
            coverage = sum(weights.get(t, 0.0) for t in unit_terms & terms) / total
            rank = passage_rank.get(unit.chunk.index)
            prior = 0.15 / (rank + 1) if rank is not None else 0.0
            if unit.chunk.section and fold(unit.chunk.section[-1]).startswith(_SUMMARY_SECTIONS):
                prior += 0.05
            if asks and any(ch.isdigit() for ch in unit.text):
                prior += 0.1
            if coverage == 0 and (rank is None or matched_only):
                continue
            match = max(match, coverage)
            scored.append((coverage + prior - 0.0005 * position, unit, unit_terms))
        if not scored:
            return None
        scored.sort(key=lambda entry: entry[0], reverse=True)
        best = scored[0][0]
        chosen: list[tuple[_Unit, frozenset[str]]] = []
        for score, unit, unit_terms in scored:
            if len(chosen) >= self.max_sentences or score < self.keep_ratio * best:
                break
            if any(_overlaps(unit, other) or _near_duplicate(unit_terms, other_terms) for other, other_terms in chosen):
                continue
            chosen.append((unit, unit_terms))
        chosen.sort(key=lambda entry: entry[0].start)
        sentences = [Quoted(u.text, u.chunk, u.start, u.end) for u, _ in chosen]
        figures = self._figures(units, asks, {u.start for u, _ in chosen}) if asks else []
        return Block(hit, sentences, figures, match)

    def _figures(self, units: tuple[_Unit, ...], asks: tuple[str, ...], taken: set[int]) -> list[Quoted]:
        """Items and sentences with figures from the sections that keep them (budget, means,
        steps), else from anywhere in the document when they name the kind of figure asked."""
        found: list[tuple[int, _Unit]] = []
        for unit in units:
            if unit.start in taken or not any(ch.isdigit() for ch in unit.text) or len(unit.text) > 300:
                continue
            if skipped_section(unit.chunk.section) or _AGENDA.match(unit.text):
                continue
            section = fold(unit.chunk.section[-1]) if unit.chunk.section else ""
            for kind in asks:
                if section.startswith(_FIGURE_SECTIONS[kind]):
                    found.append((0, unit))
                    break
                if _FIGURE_TEXT[kind].search(unit.text):
                    found.append((1, unit))
                    break
        found.sort(key=lambda entry: (entry[0], entry[1].start))
        chosen = sorted((unit for _, unit in found[: self.max_figures]), key=lambda u: u.start)
        return [Quoted(u.text, u.chunk, u.start, u.end) for u in chosen]

    def _document_units(self, hit: DocumentHit) -> tuple[_Unit, ...]:
        doc_id = hit.metadata.doc_id
        key = (doc_id, self.index.get(doc_id).version)
        return self._units.get_or_compute(
            key, lambda: _units(self.index.document_text(doc_id) or "", tuple(self.index.document_chunks(doc_id)))
        )


def _overlaps(a: _Unit, b: _Unit) -> bool:
    return a.start < b.end and b.start < a.end


def _near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) / min(len(a), len(b)) > 0.75


def quote_of(text: str, quoted: Quoted) -> str:
    """The passage cited for a sentence: its chunk, extended to the sentence's end when the
    sentence runs past the chunk's window."""
    return text[quoted.chunk.start : max(quoted.chunk.end, quoted.end)]
