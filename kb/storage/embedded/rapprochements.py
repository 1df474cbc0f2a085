"""The coordinator's marks on rapprochements (SQLite, ``data_dir/rapprochements.sqlite``): one
row per pair of documents (``kb/storage/postgres/rapprochements.py``: on PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from kb.records.rapprochements import FIELDS, PairMark, ordered
from kb.storage.embedded.sqlite import SqliteStore, storage_errors

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rapprochements (
    doc_a TEXT NOT NULL,
    doc_b TEXT NOT NULL,
    status TEXT NOT NULL,
    version_a TEXT NOT NULL,
    version_b TEXT NOT NULL,
    marked_by TEXT NOT NULL,
    marked_at TEXT NOT NULL,
    PRIMARY KEY (doc_a, doc_b)
);
"""


class RapprochementStore(SqliteStore):
    _COPIED = {"rapprochements": (FIELDS, "marked_at, doc_a, doc_b")}

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA, what="le registre des rapprochements")

    def get(self, a: str, b: str) -> PairMark | None:
        with storage_errors(self._path, self._what):
            row = self._db.execute(
                f"SELECT {FIELDS} FROM rapprochements WHERE doc_a = ? AND doc_b = ?", ordered(a, b)
            ).fetchone()
        return PairMark(*row) if row else None

    def list(self) -> list[PairMark]:
        """Every mark, oldest first."""
        with storage_errors(self._path, self._what):
            rows = self._db.execute(f"SELECT {FIELDS} FROM rapprochements ORDER BY marked_at, doc_a, doc_b").fetchall()
        return [PairMark(*row) for row in rows]

    def put(self, mark: PairMark) -> None:
        """Set the pair's mark, replacing the one it had."""
        with storage_errors(self._path, self._what), self._db:
            self._db.execute(
                f"INSERT OR REPLACE INTO rapprochements({FIELDS}) VALUES (?, ?, ?, ?, ?, ?, ?)", mark.row()
            )

    def remove(self, a: str, b: str) -> bool:
        """Forget the pair's mark (the pair is open again); whether it had one."""
        with storage_errors(self._path, self._what), self._db:
            removed = self._db.execute(
                "DELETE FROM rapprochements WHERE doc_a = ? AND doc_b = ?", ordered(a, b)
            ).rowcount
        return bool(removed)
