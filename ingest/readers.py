"""Readers: one source file in, a ``ParsedDocument`` out (text, structure, raw metadata).

Every failure is a ``DocumentError`` whose message names the problem in French; the caller
adds the file name.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Callable

from ingest.yaml_metadata import load_metadata_yaml
from kb.errors import DocumentError
from kb.models import ParsedDocument, Section

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


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


def read_text(data: bytes) -> ParsedDocument:
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


def read_markdown(data: bytes) -> ParsedDocument:
    text = decode_text(data)
    front_matter, body = split_front_matter(text)
    if not body.strip():
        raise DocumentError("document sans contenu après le front matter")
    sections, first_h1 = markdown_sections(body)
    return ParsedDocument(body, sections, front_matter, first_h1)


# -- PDF -------------------------------------------------------------------------------------


def read_pdf(data: bytes) -> ParsedDocument:
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
    text_parts: list[str] = []
    sections: list[Section] = []
    offset = 0
    for number, page_text in enumerate(pages, start=1):
        page_text = page_text.strip()
        if not page_text:
            continue
        if text_parts:
            text_parts.append("\n\n")
            offset += 2
        sections.append(Section(offset, offset + len(page_text), (), number))
        text_parts.append(page_text)
        offset += len(page_text)
    text = "".join(text_parts)
    if not text.strip():
        raise DocumentError("pas de texte extractible (PDF scanné sans couche texte ?)")
    title = None
    if info is not None and info.title and str(info.title).strip():
        title = str(info.title).strip()
    return ParsedDocument(text, tuple(sections), {}, title)


# -- DOCX ------------------------------------------------------------------------------------

_DOCX_HEADING = re.compile(r"^(heading|titre)\s*(\d)$", re.IGNORECASE)


def read_docx(data: bytes) -> ParsedDocument:
    import zipfile

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


# -- HTML ------------------------------------------------------------------------------------


def read_html(data: bytes) -> ParsedDocument:
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


READERS: dict[str, Callable[[bytes], ParsedDocument]] = {
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".txt": read_text,
    ".text": read_text,
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".html": read_html,
    ".htm": read_html,
}


def sniff_mismatch(suffix: str, data: bytes) -> str | None:
    """A French reason when the content plainly contradicts the extension, else None."""
    head = data[:8]
    if suffix == ".pdf" and not data.lstrip()[:5].startswith(b"%PDF"):
        return "le contenu n'est pas un PDF (signature %PDF absente)"
    if suffix == ".docx" and not head.startswith(b"PK"):
        return "le contenu n'est pas un DOCX (archive ZIP attendue)"
    return None


def parse_bytes(path: Path, data: bytes) -> ParsedDocument:
    suffix = path.suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        raise DocumentError(f"format non pris en charge : « {suffix or 'sans extension'} »")
    mismatch = sniff_mismatch(suffix, data) if data.strip() else None
    if mismatch:
        raise DocumentError(mismatch)
    return reader(data)
