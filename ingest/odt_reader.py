"""ODT reader (odfdo): headings, paragraphs, lists and tables in reading order, like DOCX."""

from __future__ import annotations

import io
import zipfile

from ingest.office_archive import Budget, check_archive
from ingest.office_readers import one_line, properties_metadata, real_title
from ingest.reader_base import DEFAULT_OPTIONS, ReaderOptions, markdown_sections
from kb.core.errors import DocumentError
from kb.core.models import ParsedDocument

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
    budget = Budget(options)
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
        raw = properties_metadata(
            meta.get_initial_creator() or meta.get_creator(),
            meta.get_keywords(),
            meta.get_modification_date() or meta.get_creation_date(),
        )
        title = real_title(meta.get_title())
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

    def __init__(self, document, budget: Budget) -> None:
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
            text = one_line(child.text_recursive)
            level = int(child.get_attribute("text:outline-level") or 1)
            if text:
                blocks.append(budget.keep(f"{'#' * min(level + 1, 6)} {text}"))
        elif tag == "text:p":
            text = one_line(child.text_recursive)
            if text:
                blocks.append(budget.keep(f"# {text}" if reading.is_title(child.style) else text))
        elif tag == "text:list":
            blocks.extend(_odt_list(reading, child, depth))
        elif tag == "table:table":
            for row in child.get_elements("descendant::table:table-row"):
                row_cells = row.get_elements("table:table-cell")
                budget.read(1 + len(row_cells))
                cells = [one_line(cell.text_recursive) for cell in row_cells]
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
            elif text := one_line(child.text_recursive):
                lines.append(reading.budget.keep(f"{'  ' * depth}- {text}"))
    return ["\n".join(lines)] if lines and depth == 0 else lines
