"""Plain-text snippets with highlighted terms, and sentence splitting for extractive answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from kb.core.bounded_cache import BoundedCache

# The analysed term of a word ('' for a stop word): how the lexical index sees it.
TermOf = Callable[[str], str]

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_MARKDOWN = [
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE), ""),  # heading marks
    (re.compile(r"\*\*|__|`"), ""),  # emphasis
    (re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE), ""),  # list bullets
    (re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*$", re.MULTILINE), ""),  # table rules
    (re.compile(r"^\s*(?:={3,}|-{3,})\s*$", re.MULTILINE), ""),  # setext underlines
]
# A sentence ends with . ! ? … followed by a space and an upper-case letter, a digit or a quote,
# or at a line break (list items and headings are sentences of their own).
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+(?=[«\"(A-ZÀ-ÖØ-Þ0-9])|\n+")


def clean_markdown(text: str) -> str:
    for pattern, replacement in _MARKDOWN:
        text = pattern.sub(replacement, text)
    return text


def split_sentences(text: str) -> list[str]:
    parts = (part.strip(" \t|") for part in _SENTENCE_BREAK.split(clean_markdown(text)))
    return [re.sub(r"\s+", " ", part) for part in parts if part]


@dataclass(frozen=True)
class AnalysedPassage:
    """What a passage's snippets read whatever the query: its flattened text and where each
    analysed term is in it."""

    flat: str
    spans: Mapping[str, tuple[tuple[int, int], ...]]  # term -> (start, end) in ``flat``, in order

    def spans_of(self, terms: AbstractSet[str]) -> list[tuple[int, int]]:
        found = [span for term in terms & self.spans.keys() for span in self.spans[term]]
        return sorted(found)


def analyse_passage(text: str, term_of: TermOf) -> AnalysedPassage:
    flat = re.sub(r"\s+", " ", clean_markdown(text)).strip()
    spans: dict[str, list[tuple[int, int]]] = {}
    for match in _WORD.finditer(flat):
        if term := term_of(match.group().lower()):
            spans.setdefault(term, []).append((match.start(), match.end()))
    return AnalysedPassage(flat, {term: tuple(found) for term, found in spans.items()})


def make_snippet(text: str, terms: AbstractSet[str], term_of: TermOf, width: int = 260) -> tuple[str, list[list[int]]]:
    """The window of ``width`` characters with the most matched terms, and their offsets."""
    return snippet_of(analyse_passage(text, term_of), terms, width)


def snippet_of(passage: AnalysedPassage, terms: AbstractSet[str], width: int = 260) -> tuple[str, list[list[int]]]:
    flat = passage.flat
    spans = passage.spans_of(terms)
    if len(flat) <= width:
        start, end = 0, len(flat)
    else:
        best_start, best_count = 0, -1
        for span_start, _ in spans or [(0, 0)]:
            candidate = max(0, min(span_start - width // 4, len(flat) - width))
            count = sum(1 for s, e in spans if candidate <= s and e <= candidate + width)
            if count > best_count:
                best_start, best_count = candidate, count
        start, end = best_start, best_start + width
        # widen to word boundaries
        while start > 0 and flat[start - 1] != " ":
            start -= 1
        while end < len(flat) and flat[end] != " ":
            end += 1
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(flat) else ""
    snippet = prefix + flat[start:end].strip() + suffix
    shift = len(prefix) - start - (len(flat[start:end]) - len(flat[start:end].lstrip()))
    highlights = [[s + shift, e + shift] for s, e in spans if start <= s and e <= end]
    return snippet, highlights


class Snippets:
    """Snippets of passages, each passage analysed once (per text, so per document version:
    a new version's passages are new keys, the old ones age out) rather than at every request
    that shows it: a search shows some thirty passages, mostly the same from one question to
    the next. An analysis takes some 15 KB: 1,024 of them, about 15 MB."""

    def __init__(self, term_of: TermOf, size: int = 1024) -> None:
        self._term_of = term_of
        self._analysed: BoundedCache[str, AnalysedPassage] = BoundedCache(size)

    def make(self, text: str, terms: AbstractSet[str], width: int = 260) -> tuple[str, list[list[int]]]:
        analysed = self._analysed.get_or_compute(text, lambda: analyse_passage(text, self._term_of))
        return snippet_of(analysed, terms, width)
