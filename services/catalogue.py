"""The coordinator's catalogue: edit a document's metadata, download its file, read its history."""

from __future__ import annotations

from typing import Any

from ingest.fiche import check_metadata
from ingest.metadata_edit import edited_submission
from ingest.writer import AuditEntry
from kb.core.errors import InvalidRequest, NotFoundError, Problem
from kb.core.models import DocumentMetadata
from kb.core.publics import PUBLIC_LABELS, public_label
from services.history_labels import describe
from services.knowledge_base import KnowledgeBase
from services.site import Site

EDITABLE_FIELDS = (
    "title",
    "doc_type",
    "sector",
    "themes",
    "territory",
    "porteur",
    "partners",
    "date",
    "source_url",
    "summary",
    "publics",
)
_AUDIT_KEYS = ("at", "actor", "action", "doc_id")
_SHORT_VALUE_CHARS = 200  # longer values (a summary) are named in the audit log, not copied


class Catalogue:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def edit(self, doc_id: str, changes: dict[str, Any], actor: str, note: dict[str, Any] | None = None) -> dict:
        """Re-store a document with new metadata and its same content, through the write path
        (a failure puts the former files back); audited as ``modification`` (with ``note``: why,
        when the edit is part of a larger change such as a merge of themes)."""
        stored = self.kb.index.get(doc_id)
        if not changes:
            raise InvalidRequest(
                "Aucune modification demandée.", [Problem(None, "indiquez au moins un champ à modifier")]
            )
        problems: list[Problem] = []
        checked = [name for name in EDITABLE_FIELDS if name in changes and name != "publics"]
        values = check_metadata(changes, checked, problems)
        if "publics" in changes:
            values["publics"] = _checked_publics(changes["publics"], problems)
        if problems:
            raise InvalidRequest("Métadonnées invalides.", problems)
        values = {name: list(value) if isinstance(value, tuple) else value for name, value in values.items()}
        original = self.kb.writer.files.original(doc_id, stored.metadata.source_path)
        if original is None:
            raise NotFoundError(f"Le fichier de « {doc_id} » n'est plus disponible : remplacez-le.")
        submission = edited_submission(original, values)
        before = _current_values(stored.metadata)
        # a value ingestion inferred becomes a given one, even unchanged (the coordinator confirmed it)
        changed = [
            name
            for name, value in values.items()
            if name == "summary" or before.get(name) != value or stored.metadata.inferred(name)
        ]
        details = {
            "fields": changed,
            "changes": {
                name: {"from": before.get(name), "to": values[name]}
                for name in changed
                if len(str(before.get(name))) <= _SHORT_VALUE_CHARS and len(str(values[name])) <= _SHORT_VALUE_CHARS
            },
            **(note or {}),
        }
        return self.kb.writer.submit(
            submission, actor, filename_hint=doc_id, replace=doc_id, audit=AuditEntry("modification", details)
        ) | {"fields": changed}

    def original_file(self, doc_id: str) -> tuple[bytes, str, str]:
        """(file, content type, download name ``<doc_id><suffix>``) of a document's stored file."""
        return Site(self.kb).original(doc_id)

    def history(self, doc_id: str) -> dict:
        """The audit-log entries of a document, newest first; 404 when the id is unknown to both
        the log and the index."""
        entries = self.kb.writer.audit.entries(doc_id)
        if not entries and self.kb.index.find(doc_id) is None:
            raise NotFoundError(f"Aucun document « {doc_id} » dans l'index ni dans le journal.")
        return {
            "doc_id": doc_id,
            "entries": [
                {
                    "at": entry["at"],
                    "actor": entry["actor"],
                    "action": entry["action"],
                    "details": {k: v for k, v in entry.items() if k not in _AUDIT_KEYS},
                    "summary": describe(entry),
                }
                for entry in reversed(entries)
            ],
        }


def _current_values(metadata: DocumentMetadata) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(metadata, name) for name in EDITABLE_FIELDS if hasattr(metadata, name)}
    values["themes"] = list(metadata.themes)
    values["partners"] = list(metadata.extra.get("partners") or [])
    values["publics"] = list(metadata.publics)
    return values


def _checked_publics(value: Any, problems: list[Problem]) -> list[str] | None:
    """The labels of the publics sent (kb/core/publics.py: a label or one of its variants);
    ``None`` or an empty list removes the written publics."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(Problem("publics", "une liste de publics est attendue"))
        return None
    labels: list[str] = []
    for item in value:
        label = public_label(item)
        if label is None:
            problems.append(
                Problem("publics", f"public inconnu « {item[:80]} » (valeurs possibles : {', '.join(PUBLIC_LABELS)})")
            )
        elif label not in labels:
            labels.append(label)
    return labels or None
