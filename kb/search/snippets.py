"""Plain-text snippets with highlighted terms, and sentence splitting for extractive answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet

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


def highlight_spans(text: str, terms: AbstractSet[str], term_of: TermOf) -> list[tuple[int, int]]:
    spans = []
    for match in _WORD.finditer(text):
        if term_of(match.group().lower()) in terms:
            spans.append((match.start(), match.end()))
    return spans


def make_snippet(text: str, terms: AbstractSet[str], term_of: TermOf, width: int = 260) -> tuple[str, list[list[int]]]:
    """The window of ``width`` characters with the most matched terms, and their offsets."""
    flat = re.sub(r"\s+", " ", clean_markdown(text)).strip()
    spans = highlight_spans(flat, terms, term_of)
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
