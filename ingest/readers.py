"""Readers: one source file in, a ``ParsedDocument`` out (text, structure, raw metadata).

Every failure is a ``DocumentError`` whose message names the problem in French; the caller
adds the file name. Readers take the file's bytes and a ``ReaderOptions`` (built from the
settings by the pipeline: readers never read the environment).
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.yaml_metadata import load_metadata_yaml
from kb.core.errors import DocumentError, DocumentTooLarge
from kb.core.models import ParsedDocument, Section
from kb.core.settings import Settings

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


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


# -- plain text ------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else CP1252, else Latin-1; refuses binary data."""
    if not data.strip():
        raise DocumentError("fichier vide")
    if b"\x00" in data[:8192]:
        raise DocumentError("contenu binaire : ce fichier n'est pas un texte")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    sample = text[:8192]
    if len(_CONTROL.findall(sample)) > max(8, len(sample) // 50):
        raise DocumentError("contenu binaire : ce fichier n'est pas un texte")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DocumentError("fichier vide")
    return text


def read_text(data: bytes, options: ReaderOptions = DEFAULT_OPTIONS) -> ParsedDocument:
    text = decode_text(data)
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), None)
    return ParsedDocument(
        text=text,
        sections=(Section(0, len(text)),),
        raw_metadata={},
        detected_title=first_line if first_line and len(first_line) <= 150 else None,
    )


# -- Markdown --------------------------------------------------------------------------------


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Return the YAML front matter (``---`` fenced, at the very top) and the body."""
    if not text.startswith("---"):
        return {}, text
    match = re.match(r"^---[ \t]*\n(.*?\n)?---[ \t]*(\n|$)", text, re.DOTALL)
    if not match:
        raise DocumentError("front matter YAML non refermé (ligne « --- » manquante)")
    # YAML counts lines from the opening "---", the file from its first line
    data = load_metadata_yaml("\n" + (match.group(1) or ""))
    return data, text[match.end() :]


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


def read_markdown(data: bytes, options: ReaderOptions = DEFAULT_OPTIONS) -> ParsedDocument:
    text = decode_text(data)
    front_matter, body = split_front_matter(text)
    if not body.strip():
        raise DocumentError("document sans contenu après le front matter")
    sections, first_h1 = markdown_sections(body)
    return ParsedDocument(body, sections, front_matter, first_h1)


# -- PDF -------------------------------------------------------------------------------------

# A page whose text layer holds fewer letters and digits than this is read as a scan (a scan
# often carries a stamped page number or a scanner's footer as its only text).
_MIN_TEXT_LAYER = 20


def read_pdf(data: bytes, options: ReaderOptions = DEFAULT_OPTIONS) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.strip():
        raise DocumentError("fichier vide")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty user password and open anyway.
            try:
                opened = reader.decrypt("")
            except Exception as exc:
                raise DocumentError("PDF chiffré : protégé par un mot de passe") from exc
            if not opened:
                raise DocumentError("PDF chiffré : protégé par un mot de passe")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError) as exc:
        raise DocumentError("PDF illisible ou corrompu") from exc
    scanned = [number for number, text in enumerate(pages, start=1) if _alnum(text) < _MIN_TEXT_LAYER]
    raw: dict[str, Any] = {}
    if scanned and options.ocr_enabled:
        raw = _ocr_scanned_pages(data, pages, scanned, options)
    text, sections = paged_text([(number, (), page_text) for number, page_text in enumerate(pages, start=1)])
    if not text.strip():
        if not scanned:
            raise DocumentError("pas de texte extractible")
        if not options.ocr_enabled:
            raise DocumentError(
                "pas de texte extractible (PDF scanné sans couche texte ; la reconnaissance de texte "
                "est désactivée par KB_OCR_ENABLED=false)"
            )
        raise DocumentError(
            f"pas de texte extractible : aucun texte reconnu par l'OCR sur {_pages_label(scanned)} "
            "(scan vierge ou illisible ?)"
        )
    title = None
    if info is not None and info.title and str(info.title).strip():
        title = str(info.title).strip()
    return ParsedDocument(text, sections, raw, title)


def _alnum(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


def _pages_label(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10]) + (" …" if len(numbers) > 10 else "")
    return f"la page {shown}" if len(numbers) == 1 else f"les pages {shown}"


def _ocr_scanned_pages(data: bytes, pages: list[str], scanned: list[int], options: ReaderOptions) -> dict[str, Any]:
    """Replace the text of the scanned pages by what OCR reads there; the ``ocr`` raw metadata."""
    from ingest import ocr

    if len(scanned) > options.ocr_max_pages:
        raise DocumentError(
            f"trop de pages sans couche texte à reconnaître ({len(scanned)} ; limite "
            f"{options.ocr_max_pages}, réglable par KB_OCR_MAX_PAGES)"
        )
    read = [page for page in ocr.read_pages(data, scanned, options) if page.characters > _alnum(pages[page.number - 1])]
    if not read:
        return {}
    for page in read:
        pages[page.number - 1] = page.text
    characters = sum(page.characters for page in read)
    confidence = sum(page.confidence * page.characters for page in read) / characters
    return {
        "ocr": {
            "pages": [page.number for page in read],
            "confidence": round(confidence, 3),
            "language": options.ocr_language,
        }
    }


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


# -- ZIP containers: DOCX, PPTX, ODT ---------------------------------------------------------

_MB = 1 << 20
_CENTRAL_RECORD = b"PK\x01\x02"  # how each member's record in the central directory starts
_RATIO_GRACE = _MB  # a member, or an archive, that inflates to less is not held to the ratio
_INFLATE_CHUNK = _MB
_BEFORE_XML = b"\xef\xbb\xbf\xfe\xff\x00 \t\r\n"  # byte-order marks, UTF-16/32 zeros, blanks
_EBCDIC_XML = b"\x4c\x6f\xa7\x94"  # "<?xm" in EBCDIC, which libxml2 reads: its "<" is no 0x3C


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def _decimal(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _size(size: int) -> str:
    """A size in French: ``300,8 Mo``, ``2,0 Go``."""
    if size >= 1 << 30:
        return f"{size / (1 << 30):.1f} Go".replace(".", ",")
    return f"{size / _MB:.1f} Mo".replace(".", ",")


def check_member_count(data: bytes, options: ReaderOptions) -> None:
    """Refuse an archive of too many members before zipfile reads its directory (200,000 empty
    members fit in 17 MB and take zipfile 110 MB): each member zipfile can list has a record
    starting with the central directory's signature, so counting the signature bounds them."""
    members = data.count(_CENTRAL_RECORD)
    if members > options.office_max_entries:
        raise DocumentError(
            f"archive refusée : {_number(members)} fichiers (au plus {_number(options.office_max_entries)}, "
            "réglable par KB_OFFICE_MAX_ENTRIES)"
        )


def check_archive(data: bytes, kind: str, options: ReaderOptions) -> None:
    """Refuse a DOCX, PPTX or ODT archive (``kind``) past the bounds before its library reads it.

    First from the central directory, nothing inflated: the number of members, their compression
    (stored or deflated only: zipfile inflates bzip2 and LZMA without bound in one call), the
    size they declare in all, and the compression ratio of each member and of the whole. Then
    every member is inflated here by chunks of 1 MiB, counting: the declared sizes can lie, and
    the libraries read a member at one go (``ZipFile.read``: zlib inflates the whole stream
    before zipfile cuts it to the declared size), so a member is read up to one byte past its
    declared size and refused if that byte comes: what the library inflates afterwards is then
    at most what was counted, memory here one chunk. The elements and attributes of the XML
    members are counted on the way (their ``<`` and ``=``): reading takes about 230 bytes for
    each, however well they compress."""
    check_member_count(data, options)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise DocumentError(f"{kind} illisible ou corrompu") from exc
    with archive:
        members = archive.infolist()
        _check_directory(members, kind, options)
        try:
            _check_inflation(archive, members, options)
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            EOFError,
            ValueError,
            RuntimeError,
            NotImplementedError,
        ) as exc:
            raise DocumentError(f"{kind} illisible ou corrompu") from exc


def _check_directory(members: list[zipfile.ZipInfo], kind: str, options: ReaderOptions) -> None:
    for member in members:
        if member.flag_bits & 0x1:
            raise DocumentError(f"{kind} chiffré : protégé par un mot de passe")
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise DocumentError(
                f"{kind} illisible : « {member.filename} » est compressé d'une façon qu'aucun "
                f"logiciel de bureautique n'emploie (méthode {member.compress_type})"
            )
    inflated = sum(member.file_size for member in members)
    if inflated > options.office_max_uncompressed_mb * _MB:
        raise DocumentError(
            f"archive refusée : {_size(inflated)} une fois décompressée (au plus "
            f"{_decimal(options.office_max_uncompressed_mb)} Mo, réglable par KB_OFFICE_MAX_UNCOMPRESSED_MB)"
        )
    bound = f"au plus {_decimal(options.office_max_ratio)} fois, réglable par KB_OFFICE_MAX_RATIO"
    for member in members:
        if member.file_size > _RATIO_GRACE and member.file_size > options.office_max_ratio * member.compress_size:
            ratio = member.file_size / max(member.compress_size, 1)
            raise DocumentError(
                f"archive refusée : « {member.filename} » se décompresse en {_number(ratio)} fois sa taille ({bound})"
            )
    compressed = sum(member.compress_size for member in members)
    if inflated > _RATIO_GRACE and inflated > options.office_max_ratio * compressed:
        ratio = inflated / max(compressed, 1)
        raise DocumentError(f"archive refusée : elle se décompresse en {_number(ratio)} fois sa taille ({bound})")


def _check_inflation(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], options: ReaderOptions) -> None:
    nodes = 0
    for member in members:
        probe = copy.copy(member)
        probe.file_size = member.file_size + 1  # zipfile stops where the size says: one byte past
        inflated = 0
        xml: bool | None = None  # decided by the first byte that is no blank or byte-order mark
        with archive.open(probe) as stream:
            while chunk := stream.read(_INFLATE_CHUNK):
                inflated += len(chunk)
                if inflated > member.file_size:
                    raise DocumentError(
                        f"archive refusée : « {member.filename} » se décompresse au-delà de la taille qu'elle déclare"
                    )
                if xml is None and (start := chunk.lstrip(_BEFORE_XML)):
                    if start.startswith(_EBCDIC_XML):
                        raise DocumentError(f"archive refusée : « {member.filename} » est du XML en EBCDIC")
                    xml = start.startswith(b"<")
                if xml:
                    nodes += chunk.count(b"<") + chunk.count(b"=")
                    if nodes > options.office_max_xml_nodes:
                        raise DocumentError(
                            f"archive refusée : plus de {_number(options.office_max_xml_nodes)} éléments et "
                            "attributs XML (réglable par KB_OFFICE_MAX_XML_NODES)"
                        )


class _Budget:
    """The reading of an office file, bounded as it goes (python-docx, python-pptx and odfdo
    take 15 to 50 µs a paragraph, cell or shape): the blocks read and the characters kept."""

    def __init__(self, options: ReaderOptions) -> None:
        self.options = options
        self.blocks_left = options.office_max_blocks
        self.characters_left = options.max_document_chars

    def read(self, blocks: int = 1) -> None:
        self.blocks_left -= blocks
        if self.blocks_left < 0:
            raise DocumentTooLarge(
                f"document trop long : plus de {_number(self.options.office_max_blocks)} paragraphes, "
                "cellules ou formes (réglable par KB_OFFICE_MAX_BLOCKS)"
            )

    def keep(self, text: str) -> str:
        self.characters_left -= len(text)
        if self.characters_left < 0:
            raise DocumentTooLarge(
                f"texte trop long une fois extrait (plus de {_number(self.options.max_document_chars)} "
                "caractères ; réglable par KB_MAX_DOCUMENT_CHARS)"
            )
        return text


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
    body = "\n\n".join(_docx_blocks(document, _Budget(options)))
    if not body.strip():
        raise DocumentError("document sans texte")
    sections, first_h1 = markdown_sections(body)
    title = (document.core_properties.title or "").strip() or first_h1
    return ParsedDocument(body, sections, {}, title)


def _docx_blocks(document, budget: _Budget) -> list[str]:
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


def _docx_rows(table, budget: _Budget) -> Iterator[list[str]]:
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
    budget = _Budget(options)
    try:
        deck = pptx.Presentation(io.BytesIO(data))
        slides = [_pptx_slide(slide, budget) for slide in deck.slides]
        properties = deck.core_properties
        raw = _properties_metadata(properties.author, properties.keywords, properties.modified or properties.created)
        title = _real_title(properties.title)
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


def _pptx_slide(slide, budget: _Budget) -> tuple[str | None, str]:
    """(title, text): the title first, then the other shapes top to bottom, then the notes."""
    budget.read()
    title_shape = slide.shapes.title
    title = _one_line(title_shape.text_frame.text) if title_shape is not None else ""
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


def _pptx_shape_lines(shape, budget: _Budget) -> list[str]:
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
        return [
            "  " * paragraph.level + _one_line(paragraph.text) for paragraph in paragraphs if paragraph.text.strip()
        ]
    return []


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _real_title(value: str | None) -> str | None:
    title = _one_line(value or "")
    return title if title and title.lower() not in _PLACEHOLDER_TITLES else None


def _properties_metadata(author: str | None, keywords: str | None, date: Any) -> dict[str, Any]:
    """Raw metadata from a document's properties: its date, author (kept in ``extra``: a person,
    not the porteur structure) and keywords (as themes)."""
    raw: dict[str, Any] = {}
    if isinstance(date, dt.datetime):
        raw["date"] = date.date().isoformat()
    elif isinstance(date, dt.date):
        raw["date"] = date.isoformat()
    if author and author.strip():
        raw["author"] = _one_line(author)
    themes = [word.strip() for word in re.split(r"[,;]", keywords or "") if word.strip()]
    if themes:
        raw["themes"] = themes
    return raw


# -- ODT -------------------------------------------------------------------------------------

_ODF_MIMETYPES = {
    "application/vnd.oasis.opendocument.text": "ODT",
    "application/vnd.oasis.opendocument.presentation": "ODP",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS",
}
# Parts of an ODT body that hold no reading text of their own (or text found elsewhere).
_ODT_SKIPPED = {
    "text:sequence-decls",
    "text:variable-decls",
    "text:user-field-decls",
    "text:tracked-changes",
    "office:forms",
    "text:table-of-content",
    "text:alphabetical-index",
    "text:illustration-index",
    "text:table-index",
    "text:object-index",
    "text:user-index",
    "text:bibliography",
}


def read_odt(data: bytes, options: ReaderOptions = DEFAULT_OPTIONS) -> ParsedDocument:
    """Headings, paragraphs, lists and tables in reading order, like DOCX."""
    import odfdo

    if not data.strip():
        raise DocumentError("fichier vide")
    check_archive(data, "ODT", options)
    if _odf_encrypted(data):
        raise DocumentError("ODT chiffré : protégé par un mot de passe")
    budget = _Budget(options)
    try:
        document = odfdo.Document(io.BytesIO(data))
        if document.get_type() != "text":
            raise DocumentError("le contenu n'est pas un document texte ODT")
        body = document.body
        comments = body.get_elements("descendant::office:annotation")
        budget.read(len(comments))
        for comment in comments:
            comment.delete()  # comments are remarks on the text, not the text
        blocks = _odt_blocks(_OdtReading(document, budget), body, 0)
        meta = document.meta
        raw = _properties_metadata(
            meta.get_initial_creator() or meta.get_creator(),
            meta.get_keywords(),
            meta.get_modification_date() or meta.get_creation_date(),
        )
        title = _real_title(meta.get_title())
    except DocumentError:
        raise
    except Exception as exc:  # odfdo lets zip, lxml and its own errors through
        raise DocumentError("ODT illisible ou corrompu") from exc
    text = "\n\n".join(blocks)
    if not text.strip():
        raise DocumentError("document sans texte")
    sections, first_h1 = markdown_sections(text)
    return ParsedDocument(text, sections, raw, title or first_h1)


def _odf_encrypted(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("META-INF/manifest.xml") as manifest:
            return b"encryption-data" in manifest.read(1_000_000)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError):
        return False


class _OdtReading:
    """An ODT being read: its reading's budget and its paragraph styles' parents, in one pass
    (odfdo's ``get_style`` searches the whole content.xml for its styles at each call: hours for
    a hundred thousand paragraphs of their own styles), the first of each name as it finds it."""

    def __init__(self, document, budget: _Budget) -> None:
        self.budget = budget
        styles = document.get_styles("paragraph")
        budget.read(len(styles))
        self.parents: dict[str, str | None] = {}
        for style in styles:
            if style.name:
                self.parents.setdefault(style.name, style.parent_style)
        self.titles: dict[str | None, bool] = {}

    def is_title(self, style_name: str | None) -> bool:
        """True for the "Title" paragraph style, directly or through an automatic style."""
        if style_name not in self.titles:
            name, title = style_name, False
            for _ in range(5):
                if not name:
                    break
                if name.replace("_20_", " ").lower() in ("title", "titre"):
                    title = True
                    break
                name = self.parents.get(name)
            self.titles[style_name] = title
        return self.titles[style_name]


def _odt_blocks(reading: _OdtReading, element, depth: int) -> list[str]:
    """Blocks of an ODT container; headings become Markdown headings (the "Title" paragraph
    style is the level-1 heading, so "Heading N" sits one level below it, as in DOCX)."""
    budget = reading.budget
    blocks: list[str] = []
    for child in element.children:
        budget.read()
        tag = child.tag
        if tag in _ODT_SKIPPED:
            continue
        if tag == "text:h":
            text = _one_line(child.text_recursive)
            level = int(child.get_attribute("text:outline-level") or 1)
            if text:
                blocks.append(budget.keep(f"{'#' * min(level + 1, 6)} {text}"))
        elif tag == "text:p":
            text = _one_line(child.text_recursive)
            if text:
                blocks.append(budget.keep(f"# {text}" if reading.is_title(child.style) else text))
        elif tag == "text:list":
            blocks.extend(_odt_list(reading, child, depth))
        elif tag == "table:table":
            for row in child.get_elements("descendant::table:table-row"):
                row_cells = row.get_elements("table:table-cell")
                budget.read(1 + len(row_cells))
                cells = [_one_line(cell.text_recursive) for cell in row_cells]
                while cells and not cells[-1]:
                    cells.pop()
                if any(cells):
                    blocks.append(budget.keep(" | ".join(cells)))
        else:  # text:section and other containers
            blocks.extend(_odt_blocks(reading, child, depth))
    return blocks


def _odt_list(reading: _OdtReading, element, depth: int) -> list[str]:
    lines: list[str] = []
    for item in element.get_elements("text:list-item") + element.get_elements("text:list-header"):
        for child in item.children:
            reading.budget.read()
            if child.tag == "text:list":
                lines.extend(_odt_list(reading, child, depth + 1))
            elif text := _one_line(child.text_recursive):
                lines.append(reading.budget.keep(f"{'  ' * depth}- {text}"))
    return ["\n".join(lines)] if lines and depth == 0 else lines


# -- HTML ------------------------------------------------------------------------------------


def read_html(data: bytes, options: ReaderOptions = DEFAULT_OPTIONS) -> ParsedDocument:
    import trafilatura

    html = decode_text(data)
    extracted = trafilatura.extract(
        html,
        output_format="markdown",
        include_tables=True,
        include_formatting=True,
        include_links=False,
        include_comments=False,
        favor_recall=True,
    )
    if not extracted or not extracted.strip():
        raise DocumentError("aucun contenu principal trouvé dans la page HTML")
    body = extracted.replace("**", "")
    sections, first_h1 = markdown_sections(body)
    meta = trafilatura.extract_metadata(html)
    raw: dict[str, Any] = {}
    title = first_h1
    if meta is not None:
        title = first_h1 or meta.title
        if meta.tags:
            raw["themes"] = list(meta.tags)
        if meta.url and re.match(r"^https?://", meta.url, re.IGNORECASE):
            raw["source_url"] = meta.url
        # trafilatura's date is a guess (often a copyright year): front matter or sidecar only.
    return ParsedDocument(body, sections, raw, title)


READERS: dict[str, Callable[[bytes, ReaderOptions], ParsedDocument]] = {
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".txt": read_text,
    ".text": read_text,
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".pptx": read_pptx,
    ".odt": read_odt,
    ".html": read_html,
    ".htm": read_html,
}

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File: old Office formats, encrypted OOXML
_ZIP_FORMATS = {".docx": "DOCX", ".pptx": "PPTX", ".odt": "ODT"}
_OOXML_PARTS = {"word/document.xml": "DOCX", "ppt/presentation.xml": "PPTX", "xl/workbook.xml": "XLSX"}


def sniff_mismatch(suffix: str, data: bytes) -> str | None:
    """A French reason when the content plainly contradicts the extension (or is an Office file
    locked by a password, which is no ZIP archive at all), else None."""
    if suffix == ".pdf" and not data.lstrip()[:5].startswith(b"%PDF"):
        return "le contenu n'est pas un PDF (signature %PDF absente)"
    expected = _ZIP_FORMATS.get(suffix)
    if expected is None:
        return None
    if data.startswith(_OLE):
        if "EncryptedPackage".encode("utf-16-le") in data:
            return f"{expected} chiffré : protégé par un mot de passe"
        return (
            f"le contenu n'est pas un {expected} : c'est un ancien format Office (.doc, .ppt, .xls) ; "
            f"enregistrez-le au format {expected}"
        )
    if not data.startswith(b"PK"):
        return f"le contenu n'est pas un {expected} (archive ZIP attendue)"
    found = _zip_format(data)
    if found is not None and found != expected:
        return f"le contenu est un {found}, pas un {expected}"
    return None


def _zip_format(data: bytes) -> str | None:
    """DOCX, PPTX, XLSX, ODT, ODP or ODS from a ZIP archive's members; None when unknown."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            for part, kind in _OOXML_PARTS.items():
                if part in names:
                    return kind
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    return _ODF_MIMETYPES.get(member.read(100).decode("ascii", "replace").strip())
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, NotImplementedError):
        return None  # the reader reports the archive as corrupt
    return None


def parse_bytes(path: Path, data: bytes, options: ReaderOptions = DEFAULT_OPTIONS) -> ParsedDocument:
    suffix = path.suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        raise DocumentError(f"format non pris en charge : « {suffix or 'sans extension'} »")
    if suffix in _ZIP_FORMATS and data.startswith(b"PK"):
        check_member_count(data, options)  # before sniff_mismatch has zipfile read the directory
    mismatch = sniff_mismatch(suffix, data) if data.strip() else None
    if mismatch:
        raise DocumentError(mismatch)
    return reader(data, options)
