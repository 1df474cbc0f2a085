"""Whole sentences of a document's text, with their offsets, for extractive answers.

Document texts come from Markdown (one paragraph a line, ``#`` headings, ``-`` items) and from
PDF, DOCX or slides (lines wrapped at the page width, hyphenated words, bullets such as ``•``).
Lines are joined back into paragraphs (a wrapped line continues its paragraph; a short line
without final punctuation followed by a capital is a heading), emphasis marks are dropped, and
paragraphs are cut into sentences at final punctuation, not after an abbreviation or an initial.
Every sentence keeps the offsets of its first and last characters in the document's text, so it
can be cited with the passage (chunk) that holds it, and says where it stands: the heading it is
under (a ``#`` heading, or in a text without any, a short line standing alone such as a PDF's
"Contact" or a text file's "LA QUESTION"), whether it is that heading itself, its paragraph and
the bullet or number of its list item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_RULE = re.compile(r"^\s*(?:\|?(?:\s*:?-{3,}:?\s*\|)+\s*|={3,}|-{3,}|\*{3,})\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•▪◦‣–—]|\d{1,2}[.)])\s+")
_MARKS = re.compile(r"\*\*|__|`")
_TERMINAL = ".!?…"
# a line ending so can end a paragraph; anything else continues on the next line when wrapped
_CLOSING = _TERMINAL + ":;»)\"'"
_SENTENCE_END = re.compile(r"[.!?…]+[»\"')]*\s+(?=[«\"(\[A-ZÀ-ÖØ-Þ0-9])")
# words after which a period does not end a sentence (compared lower-case, without the period)
_ABBREVIATIONS = frozenset(
    [
        "m",
        "mm",
        "mme",
        "mmes",
        "mlle",
        "dr",
        "pr",
        "me",
        "st",
        "ste",
        "cf",
        "p",
        "pp",
        "art",
        "al",
        "av",
        "apr",
        "env",
        "hab",
        "tel",
        "tél",
        "n",
        "no",
        "vol",
        "ex",
        "éd",
        "ed",
        "coord",
        "dir",
        "resp",
        "min",
        "max",
        "chap",
        "fig",
        "réf",
        "ref",
        "sq",
    ]
)


@dataclass(frozen=True)
class Sentence:
    text: str  # one line, emphasis marks removed, wrapped lines and hyphenations joined
    start: int  # offsets of the sentence in the document's text
    end: int
    item: bool  # a list item (a fact in a list) rather than running text
    heading: str = ""  # the heading the sentence is under ("" before the first one)
    is_heading: bool = False  # the sentence is a heading line itself (a text without "#" headings)
    paragraph: int = 0  # the number of its paragraph (or list item) in the document
    marker: str = ""  # a list item's bullet or number ("-", "•", "3.")


class _Paragraph:
    """Characters of a paragraph with the offset in the document of each one."""

    def __init__(self, item: bool, heading: str = "", marker: str = "") -> None:
        self.item = item
        self.heading = heading
        self.marker = marker
        self.is_heading = False
        self.lines = 0
        self.chars: list[str] = []
        self.offsets: list[int] = []
        self.last_line = ""

    def add(self, line: str, offset: int, joiner: str = " ") -> None:
        line = line.rstrip()
        if self.chars and joiner:
            self.chars.append(joiner)
            self.offsets.append(offset)
        position = 0
        for mark in _MARKS.finditer(line):
            self._extend(line[position : mark.start()], offset + position)
            position = mark.end()
        self._extend(line[position:], offset + position)
        self.last_line = line
        self.lines += 1

    def drop_last(self) -> None:
        """Removes a final hyphen (a word cut at the line's end)."""
        self.chars.pop()
        self.offsets.pop()

    def _extend(self, text: str, offset: int) -> None:
        for i, char in enumerate(text):
            if char.isspace():
                if not self.chars or self.chars[-1] == " ":
                    continue
                char = " "
            self.chars.append(char)
            self.offsets.append(offset + i)

    @property
    def text(self) -> str:
        return "".join(self.chars).rstrip()

    def sentences(self, number: int = 0) -> list[Sentence]:
        text = self.text
        found: list[Sentence] = []
        start = 0
        for boundary in _SENTENCE_END.finditer(text):
            if _after_abbreviation(text, boundary.start()):
                continue
            found.append(self._sentence(text, start, boundary.end()))
            start = boundary.end()
        if start < len(text):
            found.append(self._sentence(text, start, len(text)))
        return [
            Sentence(s.text, s.start, s.end, s.item, self.heading, self.is_heading, number, self.marker)
            for s in found
            if s.text
        ]

    def _sentence(self, text: str, start: int, end: int) -> Sentence:
        piece = text[start:end].strip()
        first = start + (len(text[start:end]) - len(text[start:end].lstrip()))
        last = first + len(piece) - 1
        if not piece:
            return Sentence("", 0, 0, self.item)
        return Sentence(piece, self.offsets[first], self.offsets[last] + 1, self.item)


def _after_abbreviation(text: str, period: int) -> bool:
    if text[period] != ".":
        return False
    word = re.search(r"([^\s(«\"']+)$", text[:period])
    if word is None:
        return False
    token = word.group(1)
    bare = token.lower().rstrip(".")
    if bare in _ABBREVIATIONS:
        return True
    # an initial (J. Martin) or a dotted abbreviation (J.-C.), but not a figure ("en 2023.")
    return bool(re.fullmatch(r"(?:[A-ZÀ-Þ]\.?-?)+", token)) and len(bare.replace(".", "").replace("-", "")) <= 2


def document_sentences(text: str) -> list[Sentence]:
    """The sentences and list items of a document's text, in order."""
    lines = _lines(text)
    wrap = _wrap_width([line for line, _ in lines])
    markdown = any(_HEADING.match(line) for line, _ in lines)
    paragraphs: list[_Paragraph] = []
    current: _Paragraph | None = None
    heading = ""
    for line, offset in lines:
        stripped = line.strip()
        if _HEADING.match(line):
            heading = _MARKS.sub("", line.strip().lstrip("#")).strip()
        if _RULE.match(line) and current is not None and current.lines == 1 and not markdown:
            current.is_heading = True  # a title underlined with "=====" (setext)
        if not stripped or _HEADING.match(line) or _RULE.match(line):
            current = None
            continue
        bullet = _BULLET.match(line)
        if bullet:
            current = _Paragraph(item=True, heading=heading, marker=bullet.group(0).strip())
            paragraphs.append(current)
            current.add(line[bullet.end() :], offset + bullet.end(), joiner="")
            continue
        lead = len(line) - len(line.lstrip())
        body = line[lead:]
        if current is not None and _continues(current.last_line, body, wrap):
            if re.search(r"[^\W\d_]-$", current.last_line.rstrip()) and body[:1].islower():
                if not _keeps_hyphen(current.last_line.rstrip(), body, text):
                    current.drop_last()
                current.add(body, offset + lead, joiner="")
            else:
                current.add(body, offset + lead)
            continue
        current = _Paragraph(item=False, heading=heading)
        paragraphs.append(current)
        current.add(body, offset + lead, joiner="")
    if not markdown:
        _plain_headings(paragraphs)
    return [sentence for number, paragraph in enumerate(paragraphs) for sentence in paragraph.sentences(number)]


def _plain_headings(paragraphs: list[_Paragraph]) -> None:
    """In a text without "#" headings (PDF, DOCX, slides, plain text), a paragraph of one short
    line without final punctuation, contact or table cell ("Contact", "LA QUESTION", "Calendrier")
    is a heading: it and what follows it, up to the next one, are under it."""
    heading = ""
    for paragraph in paragraphs:
        text = paragraph.text
        if paragraph.is_heading or (not paragraph.item and paragraph.lines == 1 and _heading_line(text)):
            paragraph.is_heading = True
            heading = text
        paragraph.heading = heading


def _heading_line(text: str) -> bool:
    if not (0 < len(text) <= 90 and (text[0].isupper() or text[0].isdigit()) and text[-1] not in _CLOSING):
        return False
    if re.search(r"[|@]|https?://|www\.", text):
        return False  # a table row, an address
    if text.upper() == text:
        return True  # "LA QUESTION", "UN EXEMPLE DE PLAN DE FINANCEMENT D'UN POSTE À 38 000 €"
    # a label and its figure ("Investissement (2019-2020) : 286 000 €") is not a heading
    return not re.search(r"[€%]|:\s*[\d(]", text)


def _lines(text: str) -> list[tuple[str, int]]:
    lines, offset = [], 0
    for line in text.splitlines(keepends=True):
        lines.append((line.rstrip("\r\n"), offset))
        offset += len(line)
    return lines


def _wrap_width(lines: list[str]) -> int:
    """The width at which a wrapped text breaks its lines (0 when lines are paragraphs)."""
    open_lines = sorted(len(line) for line in lines if len(line.strip()) > 30 and line.rstrip()[-1:] not in _CLOSING)
    if len(open_lines) < 3:
        return 0
    return open_lines[len(open_lines) * 3 // 4]


def _continues(previous: str, line: str, wrap: int) -> bool:
    """Whether ``line`` goes on the paragraph that ``previous`` ended (a wrapped line)."""
    tail = previous.rstrip()
    if not tail or tail[-1] in _TERMINAL:
        return False
    if line[:1].islower() or line[:1] in ",;)»":
        return True  # even after a ";" or a ":": an enumeration that goes on
    if tail[-1] in _CLOSING:
        return False
    # a capital after a line that filled the width is a wrap (a name, a place); after a short
    # line it starts a new paragraph: the short line was a heading or a label
    return wrap > 0 and len(tail) >= 0.8 * wrap


def _keeps_hyphen(previous: str, following: str, text: str) -> bool:
    """A compound word (vice-présidente) keeps its hyphen when the text writes it so elsewhere."""
    head = re.search(r"([^\W\d_]+)-$", previous)
    tail = re.match(r"[^\W\d_]+", following)
    if head is None or tail is None:
        return True
    return f"{head.group(1)}-{tail.group(0)}" in text
