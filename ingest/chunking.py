"""Structure-aware chunking with exact character offsets.

Sections (headings, PDF pages) are the first cut; short neighbouring sections are merged so
that a two-line "Contact" section does not become a chunk of its own, and long sections are
cut into overlapping windows that end on a paragraph, sentence or word boundary. Offsets are
computed, never searched for, so ``text[start:end] == chunk.text`` always holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.core.models import Chunk, ParsedDocument, Section

_SENTENCE_END = re.compile(r"[.!?…:;][»\"')\]]*\s+")


@dataclass(frozen=True)
class ChunkingParams:
    max_chars: int = 1000
    overlap_chars: int = 150
    min_chars: int = 250

    def as_record(self) -> dict[str, int | str]:
        return {
            "chunker": "sections-v1",
            "max_chars": self.max_chars,
            "overlap_chars": self.overlap_chars,
            "min_chars": self.min_chars,
        }


def chunk_document(doc_id: str, parsed: ParsedDocument, params: ChunkingParams) -> list[Chunk]:
    text = parsed.text
    groups = _merge_small_sections(text, _trimmed(text, parsed.sections), params)
    chunks: list[Chunk] = []
    for group in groups:
        for start, end in _windows(text, group.start, group.end, params):
            chunks.append(
                Chunk(
                    doc_id=doc_id,
                    index=len(chunks),
                    text=text[start:end],
                    start=start,
                    end=end,
                    section=group.path,
                    page=group.page,
                )
            )
    return chunks


def embedding_text(title: str, chunk: Chunk) -> str:
    """What the model sees: the document title and section path give a passage its context."""
    header = title if not chunk.section else f"{title}\n{chunk.section_label}"
    return f"{header}\n\n{chunk.text}"


def _trimmed(text: str, sections: tuple[Section, ...]) -> list[Section]:
    result = []
    for section in sections:
        start, end = section.start, section.end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            result.append(Section(start, end, section.path, section.page))
    return result


def _merge_small_sections(text: str, sections: list[Section], params: ChunkingParams) -> list[Section]:
    merged: list[Section] = []
    for section in sections:
        if merged:
            last = merged[-1]
            fits = section.end - last.start <= params.max_chars
            if fits and last.page == section.page and (last.end - last.start) < params.min_chars:
                merged[-1] = Section(last.start, section.end, last.path, last.page)
                continue
        merged.append(section)
    return merged


def _windows(text: str, start: int, end: int, params: ChunkingParams) -> list[tuple[int, int]]:
    if end - start <= params.max_chars:
        return [(start, end)]
    windows: list[tuple[int, int]] = []
    position = start
    while position < end:
        limit = position + params.max_chars
        if limit >= end:
            windows.append((position, end))
            break
        cut = _best_cut(text, position + params.max_chars // 2, limit)
        windows.append((position, cut))
        next_position = _next_start(text, max(cut - params.overlap_chars, position + 1), cut)
        position = next_position
        while position < end and text[position].isspace():
            position += 1
    return [(s, _rstrip(text, s, e)) for s, e in windows if text[s:e].strip()]


def _best_cut(text: str, low: int, high: int) -> int:
    """The last paragraph break in [low, high], else sentence end, else space, else high."""
    window = text[low:high]
    paragraph = window.rfind("\n\n")
    if paragraph != -1:
        return low + paragraph
    sentence_ends = list(_SENTENCE_END.finditer(window))
    if sentence_ends:
        return low + sentence_ends[-1].end()
    newline = window.rfind("\n")
    if newline != -1:
        return low + newline
    space = window.rfind(" ")
    if space != -1:
        return low + space
    return high


def _next_start(text: str, low: int, cut: int) -> int:
    """Where the overlapping window begins: a sentence start in [low, cut], else a word start."""
    window = text[low:cut]
    match = _SENTENCE_END.search(window)
    if match and low + match.end() < cut:
        return low + match.end()
    space = window.find(" ")
    if space != -1 and low + space + 1 < cut:
        return low + space + 1
    return cut


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end
