"""The extractive answer's blocks: for one document, the sentences that best answer a question.

A block holds 1 to 3 whole sentences of the document (never a heading, a list label, an agenda
line, a question, speaker notes, a minute's meta lines, a cross-reference or a fragment; a
sentence that opens with a pronoun brings the sentence it refers to, one that opens a quotation
brings the sentences up to its closing mark: ``kb/answer/units.py``), its key figures when the
question asks about money, people or time, the steps of its method when the question asks how
("comment…", "quelles étapes…", "par où commencer"), and the passages (chunks) that hold them,
so that each sentence is cited with its source.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from kb.answer.units import Parsed, Unit, parse
from kb.core.bounded_cache import BoundedCache
from kb.core.models import Chunk
from kb.core.text import fold
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.hits import DocumentHit

# sections that point elsewhere or describe the meeting rather than the experience
_SUMMARY_SECTIONS = ("en bref", "resume", "synthese", "la reponse", "reponse", "en resume")
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
    # not figures: how to do it, answered by the steps of a method
    "etapes": re.compile(
        r"^(?:et |alors |mais )?comment\b|\bcomment (?:faire|monter|mettre|creer|lancer|organiser|proceder|"
        r"demarrer|construire|conduire|animer|preparer|deposer|obtenir|realiser|ouvrir|s'y prendre|on fait)\b|"
        r"\b(?:quelles?|les) (?:sont les )?(?:grandes )?etapes\b|\bpar ou (?:commencer|demarrer)\b|"
        r"\bmarche a suivre\b|\bmode d'emploi\b|\bpas a pas\b|\bquelle demarche\b"
    ),
}
HOW = "etapes"
MAX_STEPS = 8
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
    steps: list[Quoted] = field(default_factory=list)  # the method's steps, when the question asks how
    lead: Quoted | None = None  # its best sentence: the context quoted before its steps


def asked_figures(question: str) -> tuple[str, ...]:
    """What kind of figures the question asks for: ``argent``, ``personnes``, ``temps``, or
    ``nombre`` (counts, results); and ``etapes`` when it asks how to do something (the steps of
    a method, not figures)."""
    folded = fold(question).strip()
    kinds = tuple(kind for kind, pattern in _ASKS.items() if pattern.search(folded))
    # "combien" alone asks for counts; with money, people or time it asks for those
    figures = tuple(k for k in kinds if k not in ("nombre", HOW)) or tuple(k for k in kinds if k != HOW)
    return figures + ((HOW,) if HOW in kinds else ())


def steps_once(blocks: list[Block]) -> None:
    """Steps on the first block that has some, after one sentence of context (its best); the
    other blocks keep their sentences and quote no steps."""
    first = next((block for block in blocks if block.steps), None)
    for block in blocks:
        if block is not first:
            block.steps = []
        elif block.lead is not None:
            block.sentences = [block.lead]


def _units(text: str, chunks: tuple[Chunk, ...], doc_type: str = "") -> tuple[Unit, ...]:
    """The document's candidate sentences, mapped to their passages (``kb/answer/units.py``)."""
    return parse(text, chunks, doc_type).units


def _heading_like(unit: Unit) -> bool:
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


@dataclass(frozen=True)
class Candidate:
    """A sentence that may be quoted, with what its scoring reads whatever the question."""

    position: int  # among the document's units
    unit: Unit
    terms: tuple[str, ...]  # its analysed terms, each once (a tuple: a tenth of a frozenset's memory)
    summary: bool  # in a summary section ("En bref", "Résumé"…)
    digits: bool


@dataclass(frozen=True)
class Document:
    """A document version as the digester reads it: its units and the candidates among them."""

    parsed: Parsed
    candidates: tuple[Candidate, ...]


def candidates(parsed: Parsed, tokens) -> tuple[Candidate, ...]:
    """The units that may be quoted (whole declarative sentences, not headings nor short list
    labels), each analysed once."""
    found = []
    for position, unit in enumerate(parsed.units):
        if unit.item and len(unit.text) < 60 or not answer_like(unit.text) or _heading_like(unit):
            continue
        section = fold(unit.chunk.section[-1] if unit.chunk.section else unit.heading)
        found.append(
            Candidate(
                position,
                unit,
                tuple(dict.fromkeys(tokens(unit.text))),
                section.startswith(_SUMMARY_SECTIONS),
                any(ch.isdigit() for ch in unit.text),
            )
        )
    return tuple(found)


class Digester:
    """Chooses, in one document, what answers a question."""

    def __init__(self, index: KnowledgeIndex, sentences: int = 3, figures: int = 3) -> None:
        self.index = index
        self.max_sentences = sentences
        self.max_figures = figures
        self.keep_ratio = 0.4  # a sentence scoring under this share of the best is not quoted
        # a document is cut into sentences and they are analysed once per version (keyed by
        # doc_id and version), not at every question that quotes it
        self._documents: BoundedCache[tuple[str, str], Document] = BoundedCache(512)

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
        document = self._document(hit)
        parsed = document.parsed
        units = parsed.units
        if not units:
            return None
        figure_asks = tuple(kind for kind in asks if kind in _FIGURE_SECTIONS)
        total = sum(weights.values()) or 1.0
        passage_rank = {p.chunk.index: rank for rank, p in enumerate(hit.passages)}
        match = 0.0
        scored: list[tuple[float, Unit, tuple[str, ...]]] = []
        for candidate in document.candidates:
            unit = candidate.unit
            coverage = sum(weights.get(t, 0.0) for t in candidate.terms if t in terms) / total
            rank = passage_rank.get(unit.chunk.index)
            prior = 0.15 / (rank + 1) if rank is not None else 0.0
            if candidate.summary:
                prior += 0.05
            if figure_asks and candidate.digits:
                prior += 0.1
            if coverage == 0 and (rank is None or matched_only):
                continue
            match = max(match, coverage)
            scored.append((coverage + prior - 0.0005 * candidate.position, unit, candidate.terms))
        if not scored:
            return None
        chosen = choose(scored, self.max_sentences, self.keep_ratio)
        lead = _quoted(chosen[0][0])
        chosen.sort(key=lambda entry: entry[0].start)
        sentences = [_quoted(u) for u, _ in chosen]
        steps = [_quoted(u) for u in parsed.steps[0][:MAX_STEPS]] if HOW in asks and parsed.steps else []
        taken = {u.start for u, _ in chosen} | {q.start for q in steps}
        figures = self._figures(units, figure_asks, taken) if figure_asks else []
        return Block(hit, sentences, figures, match, steps, lead)

    @staticmethod
    def steps_once(blocks: list[Block]) -> None:
        steps_once(blocks)

    def _figures(self, units: tuple[Unit, ...], asks: tuple[str, ...], taken: set[int]) -> list[Quoted]:
        """Items and sentences with figures from the sections that keep them (budget, means,
        steps), else from anywhere in the document when they name the kind of figure asked."""
        found: list[tuple[int, Unit]] = []
        for unit in units:
            if unit.start in taken or not any(ch.isdigit() for ch in unit.text) or len(unit.text) > 300:
                continue
            if _AGENDA.match(unit.text):
                continue
            section = fold(unit.chunk.section[-1] if unit.chunk.section else unit.heading)
            rank = _figure_rank(unit.text, section, asks)
            if rank is not None:
                found.append((rank, unit))
        found.sort(key=lambda entry: (entry[0], entry[1].start))
        chosen = sorted((unit for _, unit in found[: self.max_figures]), key=lambda u: u.start)
        return [_quoted(u) for u in chosen]

    def _document(self, hit: DocumentHit) -> Document:
        meta = hit.metadata
        key = (meta.doc_id, self.index.get(meta.doc_id).version)
        return self._documents.get_or_compute(key, lambda: self._read(meta.doc_id, meta.doc_type))

    def _read(self, doc_id: str, doc_type: str) -> Document:
        parsed = parse(self.index.document_text(doc_id) or "", tuple(self.index.document_chunks(doc_id)), doc_type)
        return Document(parsed, candidates(parsed, self.index.lexical.analyzer.tokens))


def _figure_rank(text: str, section: str, asks: tuple[str, ...]) -> int | None:
    """0: in a section that keeps a kind asked and naming it ("Budget" and "€", where "Moyens
    humains" and "ETP" would not do for money); 1: naming it anywhere; 2: in such a section
    only; None: not a figure asked for."""
    ranks = []
    for kind in asks:
        in_section, named = section.startswith(_FIGURE_SECTIONS[kind]), bool(_FIGURE_TEXT[kind].search(text))
        if in_section or named:
            ranks.append(0 if in_section and named else 1 if named else 2)
    return min(ranks, default=None)


def _quoted(unit: Unit) -> Quoted:
    return Quoted(unit.text, unit.chunk, unit.start, unit.end)


def choose(
    scored: list[tuple[float, Unit, tuple[str, ...]]], most: int, keep_ratio: float
) -> list[tuple[Unit, frozenset[str]]]:
    """The sentences to quote, best first: at most ``most``, none scoring under ``keep_ratio`` of
    the best (measured from the best down, so that it holds when the position penalty of a long
    document's late sentences takes every score below zero), no two overlapping or saying nearly
    the same. The best is always chosen (``scored``: not empty)."""
    scored = sorted(scored, key=lambda entry: entry[0], reverse=True)
    best = scored[0][0]
    floor = best - (1.0 - keep_ratio) * abs(best)
    chosen: list[tuple[Unit, frozenset[str]]] = []
    for score, unit, terms_of_unit in scored:
        if len(chosen) >= most or score < floor:
            break
        unit_terms = frozenset(terms_of_unit)  # only the sentences that may be chosen are compared
        if any(_overlaps(unit, other) or _near_duplicate(unit_terms, other_terms) for other, other_terms in chosen):
            continue
        chosen.append((unit, unit_terms))
    return chosen


def _overlaps(a: Unit, b: Unit) -> bool:
    return a.start < b.end and b.start < a.end


def _near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) / min(len(a), len(b)) > 0.75


def quote_of(text: str, quoted: Quoted) -> str:
    """The passage cited for a sentence: its chunk, extended to the sentence's end when the
    sentence runs past the chunk's window."""
    return text[quoted.chunk.start : max(quoted.chunk.end, quoted.end)]
