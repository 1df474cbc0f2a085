"""The coordinator's marks on rapprochements on PostgreSQL (``kb_rapprochements``): the contract
of ``kb/storage/embedded/rapprochements.py``, seen by every server."""

from __future__ import annotations

from kb.records.rapprochements import FIELDS, PairMark, ordered
from kb.storage.postgres.store import Connect, PgStore

_DDL = """
CREATE TABLE IF NOT EXISTS kb_rapprochements (
    doc_a TEXT COLLATE "C" NOT NULL,
    doc_b TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,
    version_a TEXT NOT NULL,
    version_b TEXT NOT NULL,
    marked_by TEXT NOT NULL,
    marked_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (doc_a, doc_b)
);
"""
_UPSERT = (
    f"INSERT INTO kb_rapprochements({FIELDS}) VALUES (%s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (doc_a, doc_b) DO UPDATE SET status = EXCLUDED.status, version_a = EXCLUDED.version_a, "
    "version_b = EXCLUDED.version_b, marked_by = EXCLUDED.marked_by, marked_at = EXCLUDED.marked_at"
)


class PgRapprochementStore(PgStore):
    _COPIED = {"rapprochements": (FIELDS, "marked_at, doc_a, doc_b")}

    def __init__(self, connect: Connect) -> None:
        super().__init__(connect, _DDL)

    def get(self, a: str, b: str) -> PairMark | None:
        rows = self._db.execute(
            f"SELECT {FIELDS} FROM kb_rapprochements WHERE doc_a = %s AND doc_b = %s", ordered(a, b)
        )
        return PairMark(*rows[0]) if rows else None

    def list(self) -> list[PairMark]:
        """Every mark, oldest first."""
        rows = self._db.execute(f"SELECT {FIELDS} FROM kb_rapprochements ORDER BY marked_at, doc_a, doc_b")
        return [PairMark(*row) for row in rows]

    def put(self, mark: PairMark) -> None:
        """Set the pair's mark, replacing the one it had."""
        self._db.execute(_UPSERT, mark.row())

    def remove(self, a: str, b: str) -> bool:
        """Forget the pair's mark (the pair is open again); whether it had one."""
        rows = self._db.execute(
            "DELETE FROM kb_rapprochements WHERE doc_a = %s AND doc_b = %s RETURNING doc_a", ordered(a, b)
        )
        return bool(rows)
