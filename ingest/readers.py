"""Readers: one source file in, a ``ParsedDocument`` out (text, structure, raw metadata).

Every failure is a ``DocumentError`` whose message names the problem in French; the caller
adds the file name. Readers take the file's bytes and a ``ReaderOptions`` (built from the
settings by the pipeline: readers never read the environment).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.yaml_metadata import load_metadata_yaml
from kb.core.errors import DocumentError
from kb.core.models import ParsedDocument, Section
from kb.core.settings import Settings

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class ReaderOptions:
    """What readers may be told: OCR switches and bounds (defaults: those of ``Settings``) and
    a progress callback for the pages being OCRed, ``on_ocr_page(done, total)``."""

    ocr_enabled: bool = _default("ocr_enabled")
    ocr_language: str = _default("ocr_language")
    ocr_max_pages: int = _default("ocr_max_pages")
    ocr_page_timeout_s: float = _default("ocr_page_timeout_s")
    ocr_dpi: int = _default("ocr_dpi")
    ocr_max_page_megapixels: float = _default("ocr_max_page_megapixels")
    ocr_max_document_megapixels: float = _default("ocr_max_document_megapixels")
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


# -- DOCX ------------------------------------------------------------------------------------

_DOCX_HEADING = re.compile(r"^(heading|titre)\s*(\d)$", re.IGNORECASE)


def read_docx(data: bytes, options: ReaderOptions = DEFAULT_OPTIONS) -> ParsedDocument:
    import docx

    if not data.strip():
        raise DocumentError("fichier vide")
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError("DOCX illisible ou corrompu") from exc
    except Exception as exc:  # python-docx raises its own PackageNotFoundError and lxml errors
        raise DocumentError("DOCX illisible ou corrompu") from exc
    body = "\n\n".join(_docx_blocks(document))
    if not body.strip():
        raise DocumentError("document sans texte")
    sections, first_h1 = markdown_sections(body)
    title = (document.core_properties.title or "").strip() or first_h1
    return ParsedDocument(body, sections, {}, title)


def _docx_blocks(document) -> list[str]:
    """Paragraphs and tables in reading order; headings become Markdown headings."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            match = _DOCX_HEADING.match(style.strip())
            if style.strip().lower() in ("title", "titre"):
                blocks.append(f"# {text}")
            elif match:
                # "Title" is the level-1 heading, so Heading N sits one level below it.
                blocks.append(f"{'#' * min(int(match.group(2)) + 1, 6)} {text}")
            else:
                blocks.append(text)
        elif isinstance(item, Table):
            for row in item.rows:
                cells = [cell.text.strip() for cell in row.cells]
                if any(cells):
                    blocks.append(" | ".join(cells))
    return blocks


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
    try:
        deck = pptx.Presentation(io.BytesIO(data))
        slides = [_pptx_slide(slide) for slide in deck.slides]
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


def _pptx_slide(slide) -> tuple[str | None, str]:
    """(title, text): the title first, then the other shapes top to bottom, then the notes."""
    title_shape = slide.shapes.title
    title = _one_line(title_shape.text_frame.text) if title_shape is not None else ""
    lines = [title] if title else []
    others = [shape for shape in slide.shapes if title_shape is None or shape.shape_id != title_shape.shape_id]
    for shape in sorted(others, key=lambda shape: (shape.top or 0, shape.left or 0)):
        lines.extend(_pptx_shape_lines(shape))
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        notes = slide.notes_slide.notes_text_frame.text.strip()
        if notes:
            lines.append(f"\nNotes de l'intervenant : {notes}")
    return title or None, "\n".join(lines)


def _pptx_shape_lines(shape) -> list[str]:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
        return [line for inner in shape.shapes for line in _pptx_shape_lines(inner)]
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = [[cell.text.strip() for cell in row.cells] for row in shape.table.rows]
        return [" | ".join(cells) for cells in rows if any(cells)]
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        return [
            "  " * paragraph.level + _one_line(paragraph.text)
            for paragraph in shape.text_frame.paragraphs
            if paragraph.text.strip()
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
    if _odf_encrypted(data):
        raise DocumentError("ODT chiffré : protégé par un mot de passe")
    try:
        document = odfdo.Document(io.BytesIO(data))
        if document.get_type() != "text":
            raise DocumentError("le contenu n'est pas un document texte ODT")
        body = document.body
        for comment in body.get_elements("descendant::office:annotation"):
            comment.delete()  # comments are remarks on the text, not the text
        blocks = _odt_blocks(document, body, 0)
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


def _odt_blocks(document, element, depth: int) -> list[str]:
    """Blocks of an ODT container; headings become Markdown headings (the "Title" paragraph
    style is the level-1 heading, so "Heading N" sits one level below it, as in DOCX)."""
    blocks: list[str] = []
    for child in element.children:
        tag = child.tag
        if tag in _ODT_SKIPPED:
            continue
        if tag == "text:h":
            text = _one_line(child.text_recursive)
            level = int(child.get_attribute("text:outline-level") or 1)
            if text:
                blocks.append(f"{'#' * min(level + 1, 6)} {text}")
        elif tag == "text:p":
            text = _one_line(child.text_recursive)
            if text:
                blocks.append(f"# {text}" if _odt_is_title(document, child.style) else text)
        elif tag == "text:list":
            blocks.extend(_odt_list(document, child, depth))
        elif tag == "table:table":
            for row in child.get_elements("descendant::table:table-row"):
                cells = [_one_line(cell.text_recursive) for cell in row.get_elements("table:table-cell")]
                while cells and not cells[-1]:
                    cells.pop()
                if any(cells):
                    blocks.append(" | ".join(cells))
        else:  # text:section and other containers
            blocks.extend(_odt_blocks(document, child, depth))
    return blocks


def _odt_list(document, element, depth: int) -> list[str]:
    lines: list[str] = []
    for item in element.get_elements("text:list-item") + element.get_elements("text:list-header"):
        for child in item.children:
            if child.tag == "text:list":
                lines.extend(_odt_list(document, child, depth + 1))
            elif text := _one_line(child.text_recursive):
                lines.append(f"{'  ' * depth}- {text}")
    return ["\n".join(lines)] if lines and depth == 0 else lines


def _odt_is_title(document, style_name: str | None) -> bool:
    """True for the "Title" paragraph style, directly or through an automatic style."""
    for _ in range(5):
        if not style_name:
            return False
        if style_name.replace("_20_", " ").lower() in ("title", "titre"):
            return True
        style = document.get_style("paragraph", style_name)
        style_name = style.parent_style if style is not None else None
    return False


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
    mismatch = sniff_mismatch(suffix, data) if data.strip() else None
    if mismatch:
        raise DocumentError(mismatch)
    return reader(data, options)
