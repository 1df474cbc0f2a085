"""Readers: one source file in, a ``ParsedDocument`` out (text, structure, raw metadata).

Every failure is a ``DocumentError`` whose message names the problem in French; the caller
adds the file name. Readers take the file's bytes and a ``ReaderOptions`` (built from the
settings by the pipeline: readers never read the environment).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.odt_reader import read_odt
from ingest.office_archive import check_member_count
from ingest.office_readers import read_docx, read_pptx
from ingest.reader_base import DEFAULT_OPTIONS, ReaderOptions, markdown_sections, paged_text
from ingest.yaml_metadata import load_metadata_yaml
from kb.core.errors import DocumentError
from kb.core.models import ParsedDocument, Section

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


_ODF_MIMETYPES = {
    "application/vnd.oasis.opendocument.text": "ODT",
    "application/vnd.oasis.opendocument.presentation": "ODP",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS",
}


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
