"""A stored Markdown document's text as the coordinator edits it, and the document rebuilt from it.

A document made from the capitalisation template (``ingest/fiche.py``: its title line, « En
bref », then only the template's ``##`` sections) is edited section by section; any other
Markdown document (hand-written, a directory entry with its own headings) as its whole body,
in one field. Either way the front matter stays as it was (a sidecar is folded into it, as a
metadata edit does), so that a text edit never touches the metadata. Other formats (PDF,
DOCX…) have no text to edit here: their file is replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ingest.fiche import SECTION_TITLES
from ingest.loading import parse_sidecar
from ingest.metadata import merge_metadata
from ingest.metadata_edit import MARKDOWN_SUFFIXES
from ingest.readers import decode_text, split_front_matter
from ingest.writer import Submission
from kb.core.errors import InvalidRequest, Problem
from kb.core.models import StoredFile

TEMPLATE = "modèle"  # edited section by section
MARKDOWN = "markdown"  # edited as one body
SUMMARY_TITLE = "En bref"
SUMMARY_MIN_CHARS, SUMMARY_MAX_CHARS = 40, 3000
SECTION_MAX_CHARS = 20_000
BODY_MAX_CHARS = 200_000
_HEADING = re.compile(r"^## +(.+?)[ \t#]*$", re.MULTILINE)
_KEY_OF_TITLE = {title: key for key, title in SECTION_TITLES.items()}


@dataclass(frozen=True)
class EditableText:
    """What the page edits: ``form`` says which of ``summary`` and ``sections`` (template) or
    ``body`` (any other Markdown) it shows; ``preamble`` (the title line) is kept as it is."""

    form: str
    summary: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    body: str = ""
    preamble: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "summary": self.summary if self.form == TEMPLATE else None,
            "sections": [
                {"key": key, "label": label, "text": self.sections.get(key, "")}
                for key, label in SECTION_TITLES.items()
            ]
            if self.form == TEMPLATE
            else [],
            "body": self.body if self.form == MARKDOWN else None,
        }


def is_editable(original: StoredFile) -> bool:
    return original.suffix in MARKDOWN_SUFFIXES


NOT_EDITABLE = "Le texte de ce document ne se modifie pas dans la page."


def not_editable_reason(original: StoredFile) -> str | None:
    """Why the page cannot edit this document's text (a PDF, a DOCX…), or None when it can."""
    if is_editable(original):
        return None
    return (
        f"c'est un fichier {original.suffix.lstrip('.').upper()} : téléchargez-le, modifiez-le, "
        "puis remplacez le fichier"
    )


def editable_text(original: StoredFile) -> EditableText:
    """The stored document's text, in sections when it follows the template."""
    reason = not_editable_reason(original)
    if reason is not None:
        raise InvalidRequest(NOT_EDITABLE, [Problem(None, reason)])
    _, body = split_front_matter(decode_text(original.data))
    return _split(body)


def _split(body: str) -> EditableText:
    headings = list(_HEADING.finditer(body))
    preamble = body[: headings[0].start()] if headings else body
    titles = [match.group(1).strip() for match in headings]
    template = (
        bool(headings)
        and titles[0] == SUMMARY_TITLE
        and all(title in _KEY_OF_TITLE for title in titles[1:])
        and len(set(titles)) == len(titles)
        and _is_title_line(preamble)
    )
    if not template:
        return EditableText(MARKDOWN, body=body.strip("\n"))
    texts = {}
    for position, match in enumerate(headings):
        end = headings[position + 1].start() if position + 1 < len(headings) else len(body)
        texts[match.group(1).strip()] = body[match.end() : end].strip()
    sections = {_KEY_OF_TITLE[title]: text for title, text in texts.items() if title != SUMMARY_TITLE}
    return EditableText(TEMPLATE, summary=texts[SUMMARY_TITLE], sections=sections, preamble=preamble.strip())


def _is_title_line(preamble: str) -> bool:
    lines = [line for line in preamble.splitlines() if line.strip()]
    return not lines or (len(lines) == 1 and lines[0].startswith("# "))


def checked_text(current: EditableText, changes: dict[str, Any]) -> EditableText:
    """``current`` with the text sent (``summary`` and ``sections`` of a template document,
    ``body`` of another); every problem at once, field by field (422)."""
    problems: list[Problem] = []
    if current.form == MARKDOWN:
        body = changes.get("body")
        if not isinstance(body, str) or not body.strip():
            raise InvalidRequest("Texte invalide.", [Problem("body", "le texte du document est vide")])
        if len(body) > BODY_MAX_CHARS:
            raise InvalidRequest("Texte invalide.", [Problem("body", "200 000 caractères au plus")])
        return EditableText(MARKDOWN, body=_lines(body).strip("\n"))
    summary = changes.get("summary")
    summary = _lines(summary).strip() if isinstance(summary, str) else ""
    if len(summary) < SUMMARY_MIN_CHARS:
        problems.append(Problem("summary", f"le résumé est obligatoire ({SUMMARY_MIN_CHARS} caractères au moins)"))
    elif len(summary) > SUMMARY_MAX_CHARS:
        problems.append(Problem("summary", "le résumé doit faire 3 000 caractères au plus"))
    sections: dict[str, str] = {}
    raw = changes.get("sections") or {}
    if not isinstance(raw, dict):
        raise InvalidRequest("Texte invalide.", [Problem("sections", "un objet { section : texte } est attendu")])
    for key, text in raw.items():
        if key not in SECTION_TITLES:
            problems.append(
                Problem(f"sections.{key}", f"section inconnue (sections possibles : {', '.join(SECTION_TITLES)})")
            )
        elif not isinstance(text, str):
            problems.append(Problem(f"sections.{key}", "un texte est attendu"))
        elif len(text) > SECTION_MAX_CHARS:
            problems.append(Problem(f"sections.{key}", "20 000 caractères au plus par section"))
        elif _HEADING.search(_lines(text)):
            # a "## " line would start a new section of the stored file
            problems.append(
                Problem(f"sections.{key}", "pas de titre de niveau « ## » dans une section : utilisez « ### »")
            )
        elif text.strip():
            sections[key] = _lines(text).strip()
    if problems:
        raise InvalidRequest("Texte invalide.", problems)
    return EditableText(TEMPLATE, summary=summary, sections=sections, preamble=current.preamble)


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def body_of(text: EditableText) -> str:
    """The Markdown body (without front matter) the text makes."""
    if text.form == MARKDOWN:
        return text.body + "\n"
    parts = [text.preamble, ""] if text.preamble else []
    parts += [f"## {SUMMARY_TITLE}", "", text.summary, ""]
    for key, title in SECTION_TITLES.items():
        if key in text.sections:
            parts += [f"## {title}", "", text.sections[key], ""]
    return "\n".join(parts)


def changed_parts(before: EditableText, after: EditableText) -> list[str]:
    """Which parts the edit changed: ``summary``, section keys, or ``body``."""
    if after.form == MARKDOWN:
        return ["body"] if before.body.strip() != after.body.strip() else []
    changed = ["summary"] if before.summary != after.summary else []
    return changed + [
        key for key in SECTION_TITLES if before.sections.get(key, "").strip() != after.sections.get(key, "").strip()
    ]


def text_submission(original: StoredFile, text: EditableText) -> Submission:
    """The stored document with its new text; its front matter (and a sidecar, folded into it) kept."""
    front, _ = split_front_matter(decode_text(original.data))
    metadata = merge_metadata(front, parse_sidecar(original.sidecar, original.name))
    if "doc_id" in metadata:
        metadata["id"] = metadata.pop("doc_id")
    metadata = {key: value for key, value in metadata.items() if value not in (None, "", [], ())}
    header = yaml.safe_dump(metadata, allow_unicode=True, sort_keys=False)
    return Submission(f"---\n{header}---\n{body_of(text)}".encode(), original.suffix, {})
