"""The audit records: types, rules and row conversions shared by both backends (no I/O)."""

from __future__ import annotations

import json

from kb.core.clock import timestamp


def audit_entry(actor: str, action: str, doc_id: str, **details) -> dict:
    """One entry as both logs store it: time, actor, action, document, then the details."""
    return {"at": timestamp(), "actor": actor, "action": action, "doc_id": doc_id, **details}


def entry_line(entry: dict) -> str:
    return json.dumps(entry, ensure_ascii=False) + "\n"
