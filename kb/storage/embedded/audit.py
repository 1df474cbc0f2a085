"""Append-only audit log of writes: who added, changed or removed what, and when."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from kb.core.files import atomic_write, write_errors
from kb.records.audit import (
    audit_entry,
    entry_line,
)
from kb.storage.copy import StoreDump, check_empty


class AuditLog:
    """The log in ``data_dir/audit.jsonl``, one JSON object a line (``kb/storage/postgres/audit.py``: on PostgreSQL)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._last: tuple[tuple[int, int], dict[str, dict]] | None = None

    def record(self, actor: str, action: str, doc_id: str, **details) -> None:
        line = entry_line(audit_entry(actor, action, doc_id, **details))
        with self._lock, write_errors():  # a full or read-only disk: the French 507 or 503
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with open(self._path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())

    def entries(self, doc_id: str | None = None) -> list[dict]:
        if not self._path.exists():
            return []
        rows = [json.loads(line) for line in self._path.read_text(encoding="utf-8").splitlines() if line]
        return [row for row in rows if doc_id is None or row["doc_id"] == doc_id]

    def last_entries(self) -> dict[str, dict]:
        """Each document's latest entry, read in one pass and kept until the log grows."""
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return {}
        stamp = (stat.st_size, stat.st_mtime_ns)
        if self._last is not None and self._last[0] == stamp:
            return self._last[1]
        last: dict[str, dict] = {}
        for line in self._path.read_text(encoding="utf-8").splitlines():
            if line:
                entry = json.loads(line)
                last[entry["doc_id"]] = entry
        self._last = (stamp, last)
        return last

    def dump(self) -> StoreDump:
        """Every entry in order (for ``kb migrate`` only, see kb/storage/copy.py)."""
        return {"audit": self.entries()}

    def restore(self, dump: StoreDump) -> None:
        """Write the dumped entries in their order into an empty log (one atomic file write)."""
        with self._lock:
            check_empty("audit", len(self.entries()))
            entries = dump.get("audit", [])
            atomic_write(self._path, "".join(entry_line(entry) for entry in entries).encode("utf-8"))

    def undo_restore(self) -> None:
        with self._lock:
            self._path.unlink(missing_ok=True)

    def close(self) -> None:
        """Nothing to release (the PostgreSQL log gives back its connections)."""
