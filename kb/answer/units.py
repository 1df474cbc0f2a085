"""A document cut into what an answer may quote: sentences mapped to their passages, and the
steps of its method.

A unit is a sentence (or a sentence and the one its pronoun refers to, or a sentence and the
ones that close the quotation it opens) with the passage (chunk) that holds it. Never a unit:
a heading, a sentence under a section that points elsewhere (contact, "Pour aller plus loin", the
question of a Q&A fiche…), a minute's header and meeting sections, speaker notes, a question,
a label, a cross-reference (``kb/answer/quotable.py``), a sentence inside a quotation it does not
open, or one opening a quotation that its paragraph does not close.

Steps are the list items under a heading such as "Étapes", "Méthode", "Mode d'emploi",
"Comment faire", "Démarche" or "Déroulé", each cut to its first sentence, in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.answer.quotable import (
    MEETING_SECTIONS,
    quote_balance,
    row_text,
    speaker_notes,
    straight_quotes_odd,
    table_row,
    unquotable,
)
from kb.core.models import Chunk
from kb.core.sentences import Sentence, document_sentences
from kb.core.text import fold
from kb.core.vocabulary import MINUTES
from kb.search.views import skipped_section

ANAPHORA = re.compile(
    r"^(?:elle|elles|il|ils|cette|cet|ces|ce|celle|celles|celui|ceux|cela|ca|leur|leurs|"
    r"en revanche|de plus|par ailleurs|toutefois|mais|pourtant|ainsi|enfin|la encore|lui|eux)\b"
)
STEP_SECTIONS = (
    "etapes",
    "les etapes",
    "methode",
    "la methode",
    "mode d'emploi",
    "comment faire",
    "comment proceder",
    "demarche",
    "la demarche",
    "deroule",
    "le deroule",
    "deroulement",
    "pas a pas",
    "marche a suivre",
    "mise en oeuvre",
)
MAX_LENGTH = 450
_MAX_STEP = 350


@dataclass(frozen=True)
class Unit:
    """A sentence (or a sentence and the one its pronoun refers to, or a sentence and those up to
    the closing mark of the quotation it opens) with its passage."""

    text: str
    start: int
    end: int
    item: bool
    chunk: Chunk
    heading: str = ""  # the heading over it in the text (for PDFs and text files, whose chunks have none)


@dataclass(frozen=True)
class Parsed:
    units: tuple[Unit, ...]
    steps: tuple[tuple[Unit, ...], ...]  # each steps section's items, in order


def parse(text: str, chunks: tuple[Chunk, ...], doc_type: str = "") -> Parsed:
    """The document's candidate sentences and its lists of steps, mapped to their passages."""
    sentences = document_sentences(text)
    units: list[Unit] = []
    previous: Sentence | None = None  # the last sentence quoted as is (a pronoun may refer to it)
    paragraph, open_marks, open_straight, consumed = -1, 0, False, -1
    notes = -1  # the paragraph of speaker notes
    title = _title(text, sentences)
    for position, sentence in enumerate(sentences):
        if sentence.paragraph != paragraph:
            paragraph, open_marks, open_straight = sentence.paragraph, 0, False
            if speaker_notes(sentence.text):
                notes = paragraph
        inside = open_marks > 0 or open_straight
        open_marks = max(0, open_marks + quote_balance(sentence.text))
        open_straight ^= straight_quotes_odd(sentence.text)
        if position <= consumed:
            continue
        chunk = _chunk_of(chunks, sentence)
        if chunk is None or inside or paragraph == notes or _excluded(sentence, chunk, doc_type, title):
            previous = None
            continue
        body, start, end = sentence.text, sentence.start, sentence.end
        if quote_balance(body) > 0 or straight_quotes_odd(body):
            last = _closing(sentences, position)
            consumed = position if last is None else last
            if last is None:
                previous = None
                continue
            body = " ".join(s.text for s in sentences[position : last + 1])
            end = sentences[last].end
        if table_row(body):
            if body.count("|") > 3:  # rows run together (a slide's table): no row to quote
                previous = None
                continue
            body = row_text(body)
        if ANAPHORA.match(fold(body)):
            if previous is None or previous.item != sentence.item or not _fits_before(previous, sentence, text):
                previous = None
                continue
            body = f"{previous.text} {body}"
            start = previous.start
            chunk = _chunk_of(chunks, Sentence(body, start, end, sentence.item)) or chunk
        units.append(Unit(body, start, end, sentence.item, chunk, sentence.heading))
        previous = sentence if end == sentence.end else None
    return Parsed(tuple(units), _steps(sentences, chunks, doc_type))


def _excluded(sentence: Sentence, chunk: Chunk, doc_type: str, title: str) -> bool:
    if sentence.is_heading or skipped_section(chunk.section) or skipped_section((sentence.heading,)):
        return True
    if doc_type == MINUTES:
        if sentence.heading in ("", title):
            return True  # a minute's header: its group, session, date and place, under its title
        if any(fold(part).startswith(MEETING_SECTIONS) for part in (*chunk.section[-1:], sentence.heading) if part):
            return True  # its meeting sections ("Groupe, animation et partenaires", "Date, lieu…")
    return unquotable(sentence.text, doc_type) is not None


def _title(text: str, sentences: list[Sentence]) -> str:
    """The document's title when its text opens with one (a "# " heading, or a heading line)."""
    first = text.lstrip().split("\n", 1)[0]
    if re.match(r"^#\s", first):
        return re.sub(r"\*\*|__|`", "", first.strip().lstrip("#")).strip()  # as kb/core/sentences.py reads it
    if sentences and sentences[0].is_heading and sentences[0].paragraph == 0:
        return sentences[0].text
    return "\0"  # no title: nothing is under it


def _closing(sentences: list[Sentence], position: int) -> int | None:
    """The sentence of the same paragraph that closes the quotation ``position`` opens, when the
    whole stays a quotable length and holds no question or other unquotable sentence."""
    first = sentences[position]
    marks, straight, length = quote_balance(first.text), straight_quotes_odd(first.text), len(first.text)
    for later in range(position + 1, len(sentences)):
        sentence = sentences[later]
        length += len(sentence.text) + 1
        if sentence.paragraph != first.paragraph or length > MAX_LENGTH or unquotable(sentence.text):
            return None
        marks += quote_balance(sentence.text)
        straight ^= straight_quotes_odd(sentence.text)
        if marks <= 0 and not straight:
            return later
    return None


def _steps(sentences: list[Sentence], chunks: tuple[Chunk, ...], doc_type: str) -> tuple[tuple[Unit, ...], ...]:
    """The items of the steps sections, each cut to its first sentence."""
    sections: dict[str, list[Unit]] = {}
    seen: set[int] = set()
    for sentence in sentences:
        if not sentence.item or sentence.paragraph in seen:
            continue
        seen.add(sentence.paragraph)  # an item's first sentence only
        chunk = _chunk_of(chunks, sentence)
        if chunk is None:
            continue
        heading = sentence.heading or (chunk.section[-1] if chunk.section else "")
        if not fold(heading).startswith(STEP_SECTIONS) or len(sentence.text) > _MAX_STEP:
            continue
        if quote_balance(sentence.text) or straight_quotes_odd(sentence.text) or len(sentence.text) < 12:
            continue
        if unquotable(sentence.text, doc_type) is not None:
            continue
        sections.setdefault(heading, []).append(
            Unit(sentence.text, sentence.start, sentence.end, True, chunk, sentence.heading)
        )
    return tuple(tuple(items) for items in sections.values() if len(items) >= 2)


def _fits_before(previous: Sentence, sentence: Sentence, text: str) -> bool:
    """The previous sentence is in the same paragraph (no blank line or heading between)."""
    gap = text[previous.end : sentence.start]
    return "\n\n" not in gap and "#" not in gap and len(previous.text) + len(sentence.text) <= MAX_LENGTH


def _chunk_of(chunks: tuple[Chunk, ...], sentence: Sentence) -> Chunk | None:
    holding = [c for c in chunks if c.start <= sentence.start and sentence.end <= c.end]
    if holding:
        return holding[0]
    return next((c for c in chunks if c.start <= sentence.start < c.end), None)
