"""DOCX and PPTX readers (python-docx, python-pptx), and what they share with the ODT reader:
each archive is checked (``ingest.office_archive``) before its library opens it."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from ingest.office_archive import Budget, check_archive
from ingest.reader_base import DEFAULT_OPTIONS, ReaderOptions, markdown_sections, paged_text
from kb.core.errors import DocumentError
from kb.core.models import ParsedDocument

# -- DOCX ------------------------------------------------------------------------------------

_DOCX_HEADING = re.compile(r"^(heading|titre)\s*(\d)$", re.IGNORECASE)


def read_docx(data: bytes, options: ReaderOptions = DEFAULT_OPTIONS) -> ParsedDocument:
    import docx

    if not data.strip():
        raise DocumentError("fichier vide")
    check_archive(data, "DOCX", options)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError("DOCX illisible ou corrompu") from exc
    except Exception as exc:  # python-docx raises its own PackageNotFoundError and lxml errors
        raise DocumentError("DOCX illisible ou corrompu") from exc
    body = "\n\n".join(_docx_blocks(document, Budget(options)))
    if not body.strip():
        raise DocumentError("document sans texte")
    sections, first_h1 = markdown_sections(body)
    title = (document.core_properties.title or "").strip() or first_h1
    return ParsedDocument(body, sections, {}, title)


def _docx_blocks(document, budget: Budget) -> list[str]:
    """Paragraphs and tables in reading order; headings become Markdown headings."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    style_name = _docx_style_names(document)
    blocks: list[str] = []
    for item in document.iter_inner_content():
        budget.read()
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style = style_name(item).strip()
            match = _DOCX_HEADING.match(style)
            if style.lower() in ("title", "titre"):
                blocks.append(budget.keep(f"# {text}"))
            elif match:
                # "Title" is the level-1 heading, so Heading N sits one level below it.
                blocks.append(budget.keep(f"{'#' * min(int(match.group(2)) + 1, 6)} {text}"))
            else:
                blocks.append(budget.keep(text))
        elif isinstance(item, Table):
            for cells in _docx_rows(item, budget):
                if any(cells):
                    blocks.append(budget.keep(" | ".join(cells)))
    return blocks


def _docx_style_names(document) -> Callable[[Any], str]:
    """``paragraph.style.name`` from one pass over the styles: python-docx searches styles.xml
    again for every paragraph (0.3 ms each: minutes for a long document). A style id it does
    not find, or of another type, gives the default paragraph style, as in python-docx."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.styles.style import StyleFactory

    styles = document.styles
    default = styles.default(WD_STYLE_TYPE.PARAGRAPH)
    default_name = (default.name if default is not None else "") or ""
    first: dict[str, Any] = {}
    for element in styles.element.style_lst:
        first.setdefault(element.styleId, element)
    names: dict[str | None, str] = {}

    def name(paragraph) -> str:
        style_id = paragraph._p.style
        if style_id not in names:
            element = first.get(style_id) if style_id else None
            if element is not None and element.type == WD_STYLE_TYPE.PARAGRAPH:
                names[style_id] = StyleFactory(element).name or ""
            else:
                names[style_id] = default_name
        return names[style_id]

    return name


def _docx_rows(table, budget: Budget) -> Iterator[list[str]]:
    """Each row's cell texts as ``row.cells`` gives them (a cell spanning n grid columns n
    times, a cell merged with the one above with the text of the merge's first cell), in one
    pass: python-docx finds a merged cell's first one by climbing the rows, each time from its
    row's first cell (minutes for a few hundred rows), and repeats a cell as many times as its
    span says, a billion if so."""
    from docx.table import _Cell

    above: dict[int, tuple[str, int]] = {}  # grid offset -> text and span of the row above's cell
    for tr in table._tbl.tr_lst:
        budget.read()
        here: dict[int, tuple[str, int]] = {}
        cells: list[str] = []
        offset = tr.grid_before
        for tc in tr.tc_lst:
            if tc.vMerge == "continue":
                text, span = above.get(offset, ("", tc.grid_span))
            else:
                paragraphs = _Cell(tc, table).paragraphs
                budget.read(len(paragraphs))
                text, span = "\n".join(paragraph.text for paragraph in paragraphs).strip(), tc.grid_span
            budget.read(max(span, 1))
            here[offset] = (text, span)
            cells.extend([text] * span)
            offset += tc.grid_span
        above = here
        yield cells


# -- PPTX ------------------------------------------------------------------------------------

# Titles that presentation software writes by itself: not a real title.
_PLACEHOLDER_TITLES = {
    "powerpoint presentation",
    "présentation powerpoint",
    "presentation",
    "présentation",
    "untitled",
    "sans titre",
    "diapositive 1",
    "slide 1",
}


def read_pptx(data: bytes, options: ReaderOptions = DEFAULT_OPTIONS) -> ParsedDocument:
    """One section per slide (the slide's title as heading, its number as page): text boxes,
    tables and the speaker's notes."""
    import pptx

    if not data.strip():
        raise DocumentError("fichier vide")
    check_archive(data, "PPTX", options)
    budget = Budget(options)
    try:
        deck = pptx.Presentation(io.BytesIO(data))
        slides = [_pptx_slide(slide, budget) for slide in deck.slides]
        properties = deck.core_properties
        raw = properties_metadata(properties.author, properties.keywords, properties.modified or properties.created)
        title = real_title(properties.title)
    except DocumentError:
        raise
    except Exception as exc:  # python-pptx raises its own PackageNotFoundError, lxml and zip errors
        raise DocumentError("PPTX illisible ou corrompu") from exc
    text, sections = paged_text(
        [
            (number, (heading or f"Diapositive {number}",), body)
            for number, (heading, body) in enumerate(slides, start=1)
        ]
    )
    if not text.strip():
        raise DocumentError("présentation sans texte")
    first_heading = next((heading for heading, body in slides if heading and body.strip()), None)
    return ParsedDocument(text, sections, raw, title or first_heading)


def _pptx_slide(slide, budget: Budget) -> tuple[str | None, str]:
    """(title, text): the title first, then the other shapes top to bottom, then the notes."""
    budget.read()
    title_shape = slide.shapes.title
    title = one_line(title_shape.text_frame.text) if title_shape is not None else ""
    lines = [title] if title else []
    others = []
    for shape in slide.shapes:
        budget.read()
        if title_shape is None or shape.shape_id != title_shape.shape_id:
            others.append(shape)
    for shape in sorted(others, key=lambda shape: (shape.top or 0, shape.left or 0)):
        lines.extend(_pptx_shape_lines(shape, budget))
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        frame = slide.notes_slide.notes_text_frame
        budget.read(len(frame.paragraphs))
        notes = frame.text.strip()
        if notes:
            lines.append(f"\nNotes de l'intervenant : {notes}")
    text = "\n".join(lines)
    budget.keep(text.strip())
    return title or None, text


def _pptx_shape_lines(shape, budget: Budget) -> list[str]:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
        lines: list[str] = []
        for inner in shape.shapes:
            budget.read()
            lines.extend(_pptx_shape_lines(inner, budget))
        return lines
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = []
        for row in shape.table.rows:
            cells = row.cells
            budget.read(len(cells))
            rows.append([cell.text.strip() for cell in cells])
        return [" | ".join(cells) for cells in rows if any(cells)]
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        paragraphs = shape.text_frame.paragraphs
        budget.read(len(paragraphs))
        return ["  " * paragraph.level + one_line(paragraph.text) for paragraph in paragraphs if paragraph.text.strip()]
    return []


def one_line(text: str) -> str:
    return " ".join(text.split())


def real_title(value: str | None) -> str | None:
    title = one_line(value or "")
    return title if title and title.lower() not in _PLACEHOLDER_TITLES else None


def properties_metadata(author: str | None, keywords: str | None, date: Any) -> dict[str, Any]:
    """Raw metadata from a document's properties: its date, author (kept in ``extra``: a person,
    not the porteur structure) and keywords (as themes)."""
    raw: dict[str, Any] = {}
    if isinstance(date, dt.datetime):
        raw["date"] = date.date().isoformat()
    elif isinstance(date, dt.date):
        raw["date"] = date.isoformat()
    if author and author.strip():
        raw["author"] = one_line(author)
    themes = [word.strip() for word in re.split(r"[,;]", keywords or "") if word.strip()]
    if themes:
        raw["themes"] = themes
    return raw
