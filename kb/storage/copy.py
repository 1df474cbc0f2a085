"""What `kb migrate` needs from every side store, on either backend: ``dump()``, ``restore()``
and ``undo_restore()``. Nothing else calls them.

A dump maps a table name (the SQLite/file name; PostgreSQL prefixes it with ``kb_``) to its
rows as plain dicts, in the order they were written; values are kept as stored (times as
text, JSON columns as their text, a proposal's submission as bytes), so a restore writes the
rows exactly as they were. ``restore`` writes a whole dump at once (one transaction, or one
atomic file write) into an empty store only: a store that already holds rows is refused and
left as it is. ``undo_restore`` empties a store its own ``restore`` filled, for a migration
that fails further on.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

from kb.core.errors import KBError

StoreDump = dict[str, list[dict[str, Any]]]

# each table as the migration reports it, in French, in the order the stores are copied
LABELS = {
    "keys": "clés",
    "partners": "sites partenaires",
    "proposals": "propositions",
    "questions": "questions",
    "feedback": "avis",
    "audit": "entrées du journal",
    "rapprochements": "rapprochements marqués",
}


def field_names(fields: str) -> list[str]:
    """``"a, b, c"`` (a column list as the stores write it) as ``["a", "b", "c"]``."""
    return [name.strip() for name in fields.split(",")]


def check_empty(table: str, count: int) -> None:
    """``KBError`` in French when the target's ``table`` already has ``count`` rows."""
    if count:
        raise KBError(
            f"La destination contient déjà des {LABELS[table]} ({count}) : la copie se fait vers une "
            "base vide ; rien n'est gardé de cette copie."
        )


class JsonListCopy:
    """``dump``/``restore``/``undo_restore`` of a store kept as one JSON list of dataclasses
    (the keys, the partner sites): it has ``_path``, ``_lock``, ``_load()`` and ``_save(rows)``."""

    _TABLE: ClassVar[str]
    _ROW: ClassVar[type]
    _path: Path
    _lock: threading.Lock

    def _load(self) -> list[Any]:
        raise NotImplementedError  # the host store reads its file

    def _save(self, rows: list[Any]) -> None:
        raise NotImplementedError  # the host store writes its file atomically

    def dump(self) -> StoreDump:
        """Every row as stored, a key's digest included (for ``kb migrate`` only)."""
        return {self._TABLE: [asdict(row) for row in self._load()]}

    def restore(self, dump: StoreDump) -> None:
        """Write the dumped rows as they are into an empty store (one atomic file write)."""
        with self._lock:
            check_empty(self._TABLE, len(self._load()))
            self._save([self._ROW(**row) for row in dump.get(self._TABLE, [])])

    def undo_restore(self) -> None:
        with self._lock:
            self._path.unlink(missing_ok=True)
