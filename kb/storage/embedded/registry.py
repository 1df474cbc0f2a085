"""The document registry (SQLite): which version of each document is current.

The registry is the index's source of truth. A document switches version in one SQLite
transaction, after its new chunks are already in the vector store; vectors of any other
version are invisible to searches and swept away later. So a crash at any point leaves either
the old version or the new one searchable, never a mix and never nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from kb.core.clock import timestamp
from kb.core.models import Chunk, DocumentMetadata, StoredDocument, chunk_id
from kb.storage.embedded.sqlite import SqliteStore, storage_errors
from kb.storage.protocols import EVERY_DOCUMENT
from kb.storage.registry_snapshots import RegistrySnapshots, stored_document

_SCHEMA = """
CREATE TABLE IF NOT EXISTS index_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    source_path TEXT,
    metadata TEXT NOT NULL,
    text TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    indexed_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    section TEXT NOT NULL,
    page INTEGER,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source_path);
CREATE TABLE IF NOT EXISTS deletions (doc_id TEXT PRIMARY KEY, revision INTEGER NOT NULL);
"""
# Keys of index_info that are bookkeeping, not the index's description (the calibration is
# refitted for the same index: kb/search/calibration.py).
_BOOKKEEPING = ("revision", "tracked_since", "calibration")


class Registry(RegistrySnapshots, SqliteStore):
    """One SQLite connection per thread (``kb/storage/embedded/sqlite.py``)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA, foreign_keys=True)
        self._journal = True  # the table of unsettled documents exists
        with storage_errors(path):
            self._migrate()

    def _migrate(self) -> None:
        """Registries made before per-document revisions get the column; changes made before
        it are not tracked, so ``changed_since`` an older revision answers None."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
        with self._db:
            if "revision" not in columns:
                self._db.execute("ALTER TABLE documents ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")
                self._db.execute(
                    "INSERT OR REPLACE INTO index_info(key, value) VALUES ('tracked_since', ?)",
                    (str(self.revision()),),
                )
            self._db.execute("CREATE INDEX IF NOT EXISTS documents_revision ON documents(revision)")
        journal = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'unsettled'")
        if journal.fetchone() is None:
            try:
                with self._db:
                    self._db.execute("CREATE TABLE unsettled (doc_id TEXT PRIMARY KEY)")
                    self._db.execute("INSERT INTO unsettled VALUES (?)", (EVERY_DOCUMENT,))
            except sqlite3.OperationalError:  # a read-only disk: served as it is, swept whole
                self._journal = False

    # -- index description ---------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        rows = self._db.execute(f"SELECT key, value FROM index_info WHERE key NOT IN {_BOOKKEEPING}").fetchall()
        return {key: json.loads(value) for key, value in rows}

    def set_info(self, values: dict[str, Any]) -> None:
        with storage_errors(), self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO index_info(key, value) VALUES (?, ?)",
                [(key, json.dumps(value)) for key, value in values.items()],
            )

    def calibration(self) -> Any:
        """The thresholds `kb calibrate` stored (None before it ran)."""
        row = self._db.execute("SELECT value FROM index_info WHERE key = 'calibration'").fetchone()
        return json.loads(row[0]) if row else None

    def set_calibration(self, value: Any) -> None:
        with storage_errors(), self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO index_info(key, value) VALUES ('calibration', ?)", (json.dumps(value),)
            )

    # -- documents -----------------------------------------------------------------------

    def replace_document(
        self,
        metadata: DocumentMetadata,
        version: str,
        text: str,
        chunks: list[Chunk],
        alongside: Callable[[Any], None] | None = None,
    ) -> None:
        """``alongside(connection)``: another write committed in the same transaction."""
        now = timestamp()
        with storage_errors(), self._db:
            revision = self._bump_revision()
            if alongside is not None:
                alongside(self._db)
            self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (metadata.doc_id,))
            self._db.execute("DELETE FROM deletions WHERE doc_id = ?", (metadata.doc_id,))
            self._db.execute(
                "INSERT OR REPLACE INTO documents(doc_id, version, source_path, metadata, text, "
                "chunk_count, indexed_at, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    metadata.doc_id,
                    version,
                    metadata.source_path,
                    json.dumps(metadata.to_dict(), ensure_ascii=False),
                    text,
                    len(chunks),
                    now,
                    revision,
                ),
            )
            self._db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        chunk_id(c.doc_id, version, c.index),
                        c.doc_id,
                        c.index,
                        c.start,
                        c.end,
                        json.dumps(list(c.section), ensure_ascii=False),
                        c.page,
                        c.text,
                    )
                    for c in chunks
                ],
            )

    def delete_document(self, doc_id: str, alongside: Callable[[Any], None] | None = None) -> bool:
        with storage_errors(), self._db:
            revision = self._bump_revision()
            if alongside is not None:
                alongside(self._db)
            cursor = self._db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            if cursor.rowcount > 0:
                self._db.execute("INSERT OR REPLACE INTO deletions VALUES (?, ?)", (doc_id, revision))
        return cursor.rowcount > 0

    def _bump_revision(self) -> int:
        """Called first in each write transaction: derived indexes compare it to their stamp,
        and the document written is stamped with it (``changed_since``)."""
        self._db.execute(
            "INSERT INTO index_info(key, value) VALUES ('revision', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )
        return self.revision()

    def changed_since(self, revision: int) -> tuple[set[str], int] | None:
        """The documents written or deleted after ``revision`` and how many chunks they have
        now; None when the registry cannot tell (it tracks changes since its migration)."""
        tracked = self._db.execute("SELECT value FROM index_info WHERE key = 'tracked_since'").fetchone()
        if tracked is not None and revision < int(tracked[0]):
            return None
        written = self._db.execute(
            "SELECT doc_id, chunk_count FROM documents WHERE revision > ?", (revision,)
        ).fetchall()
        deleted = self._db.execute("SELECT doc_id FROM deletions WHERE revision > ?", (revision,)).fetchall()
        return {row[0] for row in written} | {row[0] for row in deleted}, sum(row[1] for row in written)

    def revision(self) -> int:
        row = self._db.execute("SELECT value FROM index_info WHERE key = 'revision'").fetchone()
        return int(row[0]) if row else 0

    # -- the journal of unsettled documents (see KnowledgeIndex.sweep_orphans) ---------------

    def unsettled(self) -> set[str]:
        if not self._journal:  # a read-only registry older than the journal
            return {EVERY_DOCUMENT}
        return {row[0] for row in self._db.execute("SELECT doc_id FROM unsettled")}

    def mark_unsettled(self, doc_ids: Iterable[str]) -> None:
        with storage_errors(), self._db:
            self._db.executemany("INSERT OR IGNORE INTO unsettled VALUES (?)", [(doc_id,) for doc_id in doc_ids])

    def mark_settled(self, doc_ids: Iterable[str]) -> None:
        if not self._journal:
            return
        with storage_errors(), self._db:
            self._db.executemany("DELETE FROM unsettled WHERE doc_id = ?", [(doc_id,) for doc_id in doc_ids])

    def lexical_rows(self, doc_ids: Iterable[str] | None = None) -> Iterator[tuple[str, str, str, str, str, str]]:
        """(chunk id, title, section path, text, doc_type, sector) of every current chunk, or of
        those of ``doc_ids``, in chunk id order."""
        query = (
            "SELECT c.chunk_id, json_extract(d.metadata, '$.title'), c.section, c.text, "
            "json_extract(d.metadata, '$.doc_type'), json_extract(d.metadata, '$.sector') "
            "FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"
        )
        if doc_ids is None:
            rows = self._db.execute(query + " ORDER BY c.chunk_id")
        else:
            wanted = json.dumps(sorted(doc_ids))
            rows = self._db.execute(
                query + " WHERE c.doc_id IN (SELECT value FROM json_each(?)) ORDER BY c.chunk_id", (wanted,)
            )
        for chunk, title, section, text, doc_type, sector in rows:
            yield chunk, title or "", " > ".join(json.loads(section)), text, doc_type or "", sector or ""

    def get_document(self, doc_id: str) -> StoredDocument | None:
        row = self._db.execute(
            "SELECT metadata, version, chunk_count, indexed_at FROM documents WHERE doc_id = ?",
            (doc_id,),
        ).fetchone()
        return stored_document(row) if row else None

    def document_text(self, doc_id: str) -> str | None:
        row = self._db.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def _document_rows(self, doc_ids: Iterable[str] | None = None) -> list[tuple]:
        """(doc_id, metadata, version, chunk_count, indexed_at) of every document or of ``doc_ids``."""
        columns = "SELECT doc_id, metadata, version, chunk_count, indexed_at FROM documents"
        if doc_ids is None:
            return self._db.execute(columns + " ORDER BY doc_id").fetchall()
        return self._db.execute(
            columns + " WHERE doc_id IN (SELECT value FROM json_each(?))", (json.dumps(sorted(doc_ids)),)
        ).fetchall()

    def doc_ids_for_source(self, source_path: str) -> list[str]:
        rows = self._db.execute("SELECT doc_id FROM documents WHERE source_path = ?", (source_path,)).fetchall()
        return [row[0] for row in rows]

    def counts(self) -> tuple[int, int]:
        documents = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return documents, chunks

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        ids = list(chunk_ids)
        found: dict[str, Chunk] = {}
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f'SELECT chunk_id, doc_id, idx, start, "end", section, page, text '
                f"FROM chunks WHERE chunk_id IN ({marks})",
                batch,
            ).fetchall()
            for row in rows:
                found[row[0]] = Chunk(
                    doc_id=row[1],
                    index=row[2],
                    start=row[3],
                    end=row[4],
                    section=tuple(json.loads(row[5])),
                    page=row[6],
                    text=row[7],
                )
        return found
