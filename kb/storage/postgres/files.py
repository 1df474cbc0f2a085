"""The documents' original files on PostgreSQL: one row per document in ``kb_files``.

Shared by every generation of the index (``kb reindex`` reads its sources here) and by every
server on the base. A row is written or deleted *inside* the registry's switch transaction
(``KnowledgeIndex.upsert(..., alongside=...)``), so the stored file and the indexed version
always change together: a crash or a failed write leaves both old or both new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

from kb.core.clock import timestamp
from kb.core.models import StoredFile
from kb.storage.postgres.database import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kb_files (
    doc_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source_path TEXT NOT NULL,
    data BYTEA NOT NULL,
    sidecar BYTEA NOT NULL,
    version TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""
# Rows are read in batches by a rebuild: a base of thousands of PDFs never sits in memory whole.
_BATCH_ROWS = 32


class PgFiles:
    def __init__(self, database: Database) -> None:
        self._database = database
        database.run_script(_SCHEMA)

    # -- writes, inside another transaction ------------------------------------------------

    @staticmethod
    def put_in(stored: StoredFile) -> Callable[[Any], None]:
        """The write of ``stored``, to run on the connection of the registry's transaction."""

        def put(conn) -> None:
            conn.execute(
                "INSERT INTO kb_files(doc_id, name, source_path, data, sidecar, version, sha256, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (doc_id) DO UPDATE SET "
                "name = EXCLUDED.name, source_path = EXCLUDED.source_path, data = EXCLUDED.data, "
                "sidecar = EXCLUDED.sidecar, version = EXCLUDED.version, sha256 = EXCLUDED.sha256, "
                "updated_at = EXCLUDED.updated_at",
                (
                    stored.doc_id,
                    stored.name,
                    stored.source_path,
                    stored.data,
                    stored.sidecar,
                    stored.version,
                    hashlib.sha256(stored.data).hexdigest(),
                    timestamp(),
                ),
            )

        return put

    @staticmethod
    def delete_in(doc_id: str) -> Callable[[Any], None]:
        """The deletion of ``doc_id``'s file, to run in the registry's transaction."""
        return lambda conn: conn.execute("DELETE FROM kb_files WHERE doc_id = %s", (doc_id,))

    # -- reads -------------------------------------------------------------------------------

    def get(self, doc_id: str) -> StoredFile | None:
        rows = self._database.execute(
            "SELECT doc_id, name, source_path, data, sidecar, version FROM kb_files WHERE doc_id = %s", (doc_id,)
        )
        return _stored(rows[0]) if rows else None

    def has(self, doc_id: str) -> bool:
        return bool(self._database.execute("SELECT 1 FROM kb_files WHERE doc_id = %s", (doc_id,)))

    def has_source(self, source_path: str) -> bool:
        return bool(self._database.execute("SELECT 1 FROM kb_files WHERE source_path = %s", (source_path,)))

    def versions(self) -> dict[str, str]:
        """doc_id → version of every stored file (no bytes read)."""
        return dict(self._database.execute("SELECT doc_id, version FROM kb_files"))

    def source_paths(self) -> set[str]:
        """The source path recorded for every stored file."""
        return {row[0] for row in self._database.execute("SELECT source_path FROM kb_files")}

    def files(self, doc_ids: list[str]) -> Iterator[StoredFile]:
        """The stored files of ``doc_ids`` in doc_id order, fetched a batch at a time."""
        wanted = sorted(doc_ids)
        for start in range(0, len(wanted), _BATCH_ROWS):
            rows = self._database.execute(
                "SELECT doc_id, name, source_path, data, sidecar, version FROM kb_files "
                'WHERE doc_id = ANY(%s) ORDER BY doc_id COLLATE "C"',
                (wanted[start : start + _BATCH_ROWS],),
            )
            yield from (_stored(row) for row in rows)


def _stored(row: tuple) -> StoredFile:
    doc_id, name, source_path, data, sidecar, version = row
    return StoredFile(doc_id, name, source_path, bytes(data), bytes(sidecar), version)
