"""What every reader shares: the options it may be told, and a text's sections (from its
Markdown headings, or one per page or slide)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kb.core.models import Section
from kb.core.settings import Settings

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class ReaderOptions:
    """What readers may be told: OCR switches and bounds, the bounds of office files (DOCX, PPTX,
    ODT) and of the text read (defaults: those of ``Settings``), and a progress callback for the
    pages being OCRed, ``on_ocr_page(done, total)``."""

    ocr_enabled: bool = _default("ocr_enabled")
    ocr_language: str = _default("ocr_language")
    ocr_max_pages: int = _default("ocr_max_pages")
    ocr_page_timeout_s: float = _default("ocr_page_timeout_s")
    ocr_dpi: int = _default("ocr_dpi")
    ocr_max_page_megapixels: float = _default("ocr_max_page_megapixels")
    ocr_max_document_megapixels: float = _default("ocr_max_document_megapixels")
    max_document_chars: int = _default("max_document_chars")
    office_max_uncompressed_mb: float = _default("office_max_uncompressed_mb")
    office_max_entries: int = _default("office_max_entries")
    office_max_ratio: float = _default("office_max_ratio")
    office_max_xml_nodes: int = _default("office_max_xml_nodes")
    office_max_blocks: int = _default("office_max_blocks")
    on_ocr_page: Callable[[int, int], None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ReaderOptions:
        return cls(
            ocr_enabled=settings.ocr_enabled,
            ocr_language=settings.ocr_language,
            ocr_max_pages=settings.ocr_max_pages,
            ocr_page_timeout_s=settings.ocr_page_timeout_s,
            ocr_dpi=settings.ocr_dpi,
            ocr_max_page_megapixels=settings.ocr_max_page_megapixels,
            ocr_max_document_megapixels=settings.ocr_max_document_megapixels,
            max_document_chars=settings.max_document_chars,
            office_max_uncompressed_mb=settings.office_max_uncompressed_mb,
            office_max_entries=settings.office_max_entries,
            office_max_ratio=settings.office_max_ratio,
            office_max_xml_nodes=settings.office_max_xml_nodes,
            office_max_blocks=settings.office_max_blocks,
        )


DEFAULT_OPTIONS = ReaderOptions()


def markdown_sections(body: str) -> tuple[tuple[Section, ...], str | None]:
    """Sections delimited by ATX headings (outside code fences), with their heading path."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    first_h1: str | None = None
    start = 0
    current: tuple[str, ...] = ()
    offset = 0
    in_fence = False
    for line in body.splitlines(keepends=True):
        stripped = line.rstrip("\n")
        if _FENCE.match(stripped.lstrip()):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(stripped)
        if match:
            if body[start:offset].strip():
                sections.append(Section(start, offset, current))
            level, title = len(match.group(1)), match.group(2).strip()
            if level == 1 and first_h1 is None:
                first_h1 = title
            path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, title)]
            current = tuple(t for _, t in path)
            start = offset
        offset += len(line)
    if body[start:].strip():
        sections.append(Section(start, len(body), current))
    return tuple(sections), first_h1


def paged_text(parts: list[tuple[int, tuple[str, ...], str]]) -> tuple[str, tuple[Section, ...]]:
    """One section per page (or slide): ``(number, heading path, text)``, empty ones left out."""
    text_parts: list[str] = []
    sections: list[Section] = []
    offset = 0
    for number, path, page_text in parts:
        page_text = page_text.strip()
        if not page_text:
            continue
        if text_parts:
            text_parts.append("\n\n")
            offset += 2
        sections.append(Section(offset, offset + len(page_text), path, number))
        text_parts.append(page_text)
        offset += len(page_text)
    return "".join(text_parts), tuple(sections)
