"""The audit log on PostgreSQL (``kb_audit``): the contract of ``kb/storage/embedded/audit.py``, one row an entry.

Entries keep their JSON as written (the ``json`` type keeps the keys' order), in the order of
their ids: the order the servers recorded them.
"""

from __future__ import annotations

import json

from kb.records.audit import audit_entry
from kb.storage.copy import StoreDump
from kb.storage.postgres.store import Connect, PgStore

_DDL = """
CREATE TABLE IF NOT EXISTS kb_audit (
    id BIGSERIAL PRIMARY KEY,
    at TEXT COLLATE "C" NOT NULL,
    doc_id TEXT NOT NULL,
    entry JSON NOT NULL
);
CREATE INDEX IF NOT EXISTS kb_audit_doc_id ON kb_audit(doc_id, id);
"""


class PgAuditLog(PgStore):
    _COPIED = {"audit": ("at, doc_id, entry", "id")}

    def __init__(self, connect: Connect) -> None:
        super().__init__(connect, _DDL)
        self._last: tuple[tuple, dict[str, dict]] | None = None

    def record(self, actor: str, action: str, doc_id: str, **details) -> None:
        entry = audit_entry(actor, action, doc_id, **details)
        self._db.execute(
            "INSERT INTO kb_audit(at, doc_id, entry) VALUES (%s, %s, %s::json)",
            (entry["at"], doc_id, json.dumps(entry, ensure_ascii=False)),
        )

    def entries(self, doc_id: str | None = None) -> list[dict]:
        if doc_id is None:
            rows = self._db.execute("SELECT entry FROM kb_audit ORDER BY id")
        else:
            rows = self._db.execute("SELECT entry FROM kb_audit WHERE doc_id = %s ORDER BY id", (doc_id,))
        return [row[0] for row in rows]

    def last_entries(self) -> dict[str, dict]:
        """Each document's latest entry, read again only when the log has changed."""
        stamp = tuple(self._db.execute("SELECT count(*), max(id) FROM kb_audit")[0])
        if self._last is not None and self._last[0] == stamp:
            return self._last[1]
        rows = self._db.execute("SELECT DISTINCT ON (doc_id) doc_id, entry FROM kb_audit ORDER BY doc_id, id DESC")
        last = {doc_id: entry for doc_id, entry in rows}
        self._last = (stamp, last)
        return last

    def dump(self) -> StoreDump:
        """Every entry in order (for ``kb migrate`` only, see kb/storage/copy.py)."""
        return {"audit": self.entries()}

    def restore(self, dump: StoreDump) -> None:
        """Write the dumped entries in their order into an empty log, in one transaction."""
        rows = [
            {
                "at": entry.get("at", ""),
                "doc_id": entry.get("doc_id", ""),
                "entry": json.dumps(entry, ensure_ascii=False),
            }
            for entry in dump.get("audit", [])
        ]
        super().restore({"audit": rows})
