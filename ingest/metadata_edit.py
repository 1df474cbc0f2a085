"""A stored document with new metadata and the same content, ready for the normal write path.

Markdown keeps its metadata in its front matter, which is rewritten (a sidecar it had is folded
into it, since a sidecar wins over front matter); other formats keep theirs in the
``.meta.yaml`` sidecar, which is rewritten and the file's bytes left as they are.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ingest.loading import parse_sidecar
from ingest.metadata import merge_metadata
from ingest.readers import decode_text, split_front_matter
from ingest.writer import Submission
from kb.core.errors import InvalidRequest, Problem
from kb.core.models import StoredFile

MARKDOWN_SUFFIXES = (".md", ".markdown")
_SUMMARY_SECTION = re.compile(r"^## En bref[ \t]*\n(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)


def edited_submission(original: StoredFile, changes: dict[str, Any]) -> Submission:
    """The stored ``original`` with ``changes`` (canonical field names; None removes a field)
    applied to its metadata; ``summary`` rewrites the « En bref » section of a fiche."""
    changes = dict(changes)
    summary = changes.pop("summary", None)
    data = original.data
    sidecar = parse_sidecar(original.sidecar, original.name)
    suffix = original.suffix
    if suffix not in MARKDOWN_SUFFIXES:
        if summary is not None:
            raise _no_summary()
        return Submission(data, suffix, _applied(sidecar, changes))
    front, body = split_front_matter(decode_text(data))
    if summary is not None:
        body = _with_summary(body, summary)
    metadata = _applied(merge_metadata(front, sidecar), changes)
    header = yaml.safe_dump(metadata, allow_unicode=True, sort_keys=False)
    return Submission(f"---\n{header}---\n{body}".encode(), suffix, {})


def _applied(metadata: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = merge_metadata(metadata, changes)
    if "doc_id" in merged:
        merged["id"] = merged.pop("doc_id")
    return {key: value for key, value in merged.items() if value not in (None, "", [], ())}


def _with_summary(body: str, summary: str) -> str:
    section = _SUMMARY_SECTION.search(body)
    if section is None:
        raise _no_summary()
    return body[: section.start(1)] + f"\n{summary.strip()}\n\n" + body[section.end(1) :]


def _no_summary() -> InvalidRequest:
    return InvalidRequest(
        "Métadonnées invalides.",
        [Problem("summary", "ce document n'a pas de résumé modifiable (section « En bref » d'une fiche)")],
    )
