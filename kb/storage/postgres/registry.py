"""The document registry on PostgreSQL: the same contract as ``kb/storage/embedded/registry.py`` (SQLite).

Each generation of the index is one schema (``kb_gen_0001``…) holding the registry and the
vectors (``kb/storage/postgres/vectors.py``). A document switches version in one transaction, after its new
vectors are stored; every server reads the revision from the database on each request, so a
write acknowledged by one server is what the next search on any other sees.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from psycopg.types.json import Jsonb

from kb.core.clock import timestamp
from kb.core.errors import StorageReadOnly
from kb.core.models import Chunk, DocumentMetadata, StoredDocument, chunk_id
from kb.storage.postgres.database import Database
from kb.storage.protocols import EVERY_DOCUMENT
from kb.storage.registry_snapshots import RegistrySnapshots, stored_document

_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.index_info (key TEXT PRIMARY KEY, value JSONB NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.documents (
    doc_id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    source_path TEXT,
    metadata JSONB NOT NULL,
    text TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    indexed_at TEXT NOT NULL,
    revision BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES {s}.documents(doc_id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    section JSONB NOT NULL,
    page INTEGER,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON {s}.chunks(doc_id);
CREATE INDEX IF NOT EXISTS documents_source ON {s}.documents(source_path);
CREATE INDEX IF NOT EXISTS documents_revision ON {s}.documents(revision);
CREATE TABLE IF NOT EXISTS {s}.deletions (doc_id TEXT PRIMARY KEY, revision BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.unsettled (doc_id TEXT PRIMARY KEY);
"""
# Keys of index_info that are bookkeeping, not the index's description (the calibration is
# refitted for the same index: kb/search/calibration.py).
_BOOKKEEPING = ("revision", "base_id", "calibration")


class PgRegistry(RegistrySnapshots):
    def __init__(self, database: Database, schema: str) -> None:
        self._database = database
        self.schema = schema
        self._journal = True  # the table of unsettled documents exists
        try:
            with database.transaction() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (schema,))
                journal = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.unsettled",)).fetchone()[0]
                conn.execute(_SCHEMA.format(s=schema))
                conn.execute(
                    f"INSERT INTO {schema}.index_info(key, value) VALUES ('revision', '0'), ('base_id', %s) "
                    "ON CONFLICT (key) DO NOTHING",
                    (Jsonb(uuid.uuid4().hex),),
                )
                if not journal:  # a registry older than the journal: any vector may be an orphan
                    conn.execute(f"INSERT INTO {schema}.unsettled(doc_id) VALUES (%s)", (EVERY_DOCUMENT,))
        except StorageReadOnly:
            if not database.has_table(f"{schema}.deletions"):
                raise
            self._journal = database.has_table(f"{schema}.unsettled")

    def close(self) -> None:
        """The pool belongs to the index (``kb/storage/postgres/database.py``), which closes it."""

    def _rows(self, sql: str, params: Any = None) -> list[tuple]:
        return self._database.execute(sql.format(s=self.schema), params)

    # -- index description ---------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        rows = self._rows("SELECT key, value FROM {s}.index_info WHERE NOT (key = ANY(%s))", (list(_BOOKKEEPING),))
        return dict(rows)

    def set_info(self, values: dict[str, Any]) -> None:
        with self._database.transaction() as conn:
            for key, value in values.items():
                conn.execute(
                    f"INSERT INTO {self.schema}.index_info(key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (key, Jsonb(value)),
                )

    def calibration(self) -> Any:
        """The thresholds `kb calibrate` stored (None before it ran)."""
        rows = self._rows("SELECT value FROM {s}.index_info WHERE key = 'calibration'")
        return rows[0][0] if rows else None

    def set_calibration(self, value: Any) -> None:
        self.set_info({"calibration": value})

    def base_id(self) -> str:
        """A random name of this base, drawn when its schema was made: local caches (the
        lexical index) are kept per base, never confused with another database's."""
        return str(self._rows("SELECT value FROM {s}.index_info WHERE key = 'base_id'")[0][0])

    # -- documents -----------------------------------------------------------------------

    def replace_document(
        self,
        metadata: DocumentMetadata,
        version: str,
        text: str,
        chunks: list[Chunk],
        alongside: Callable[[Any], None] | None = None,
    ) -> None:
        """``alongside(connection)``: another write committed in the same transaction (the
        document's stored file, ``kb/storage/postgres/files.py``), so that the two switch together."""
        s = self.schema
        with self._database.transaction() as conn:
            revision = _bump_revision(conn, s)
            if alongside is not None:
                alongside(conn)
            conn.execute(f"DELETE FROM {s}.chunks WHERE doc_id = %s", (metadata.doc_id,))
            conn.execute(f"DELETE FROM {s}.deletions WHERE doc_id = %s", (metadata.doc_id,))
            conn.execute(
                f"INSERT INTO {s}.documents(doc_id, version, source_path, metadata, text, chunk_count, "
                "indexed_at, revision) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (doc_id) DO UPDATE SET version = EXCLUDED.version, source_path = "
                "EXCLUDED.source_path, metadata = EXCLUDED.metadata, text = EXCLUDED.text, chunk_count = "
                "EXCLUDED.chunk_count, indexed_at = EXCLUDED.indexed_at, revision = EXCLUDED.revision",
                (
                    metadata.doc_id,
                    version,
                    metadata.source_path,
                    Jsonb(metadata.to_dict()),
                    _clean_text(text),
                    len(chunks),
                    timestamp(),
                    revision,
                ),
            )
            with conn.cursor() as cursor:
                cursor.executemany(
                    f'INSERT INTO {s}.chunks(chunk_id, doc_id, idx, start, "end", section, page, text) '
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            chunk_id(c.doc_id, version, c.index),
                            c.doc_id,
                            c.index,
                            c.start,
                            c.end,
                            Jsonb(list(c.section)),
                            c.page,
                            _clean_text(c.text),
                        )
                        for c in chunks
                    ],
                )

    def delete_document(self, doc_id: str, alongside: Callable[[Any], None] | None = None) -> bool:
        s = self.schema
        with self._database.transaction() as conn:
            revision = _bump_revision(conn, s)
            if alongside is not None:
                alongside(conn)
            deleted = conn.execute(f"DELETE FROM {s}.documents WHERE doc_id = %s", (doc_id,)).rowcount > 0
            if deleted:
                conn.execute(
                    f"INSERT INTO {s}.deletions(doc_id, revision) VALUES (%s, %s) "
                    "ON CONFLICT (doc_id) DO UPDATE SET revision = EXCLUDED.revision",
                    (doc_id, revision),
                )
        return deleted

    def changed_since(self, revision: int) -> tuple[set[str], int] | None:
        written = self._rows("SELECT doc_id, chunk_count FROM {s}.documents WHERE revision > %s", (revision,))
        deleted = self._rows("SELECT doc_id FROM {s}.deletions WHERE revision > %s", (revision,))
        return {row[0] for row in written} | {row[0] for row in deleted}, sum(row[1] for row in written)

    def revision(self) -> int:
        rows = self._rows("SELECT value FROM {s}.index_info WHERE key = 'revision'")
        return int(rows[0][0]) if rows else 0

    # -- the journal of unsettled documents (see KnowledgeIndex.sweep_orphans) ---------------

    def unsettled(self) -> set[str]:
        if not self._journal:  # a read-only base older than the journal
            return {EVERY_DOCUMENT}
        return {row[0] for row in self._rows("SELECT doc_id FROM {s}.unsettled")}

    def mark_unsettled(self, doc_ids: Iterable[str]) -> None:
        self._rows(
            "INSERT INTO {s}.unsettled(doc_id) SELECT unnest(%s::text[]) ON CONFLICT (doc_id) DO NOTHING",
            (list(doc_ids),),
        )

    def mark_settled(self, doc_ids: Iterable[str]) -> None:
        if self._journal:
            self._rows("DELETE FROM {s}.unsettled WHERE doc_id = ANY(%s)", (list(doc_ids),))

    def lexical_rows(self, doc_ids: Iterable[str] | None = None) -> Iterator[tuple[str, str, str, str, str, str]]:
        """(chunk id, title, section path, text, doc_type, sector) of every current chunk, or of
        those of ``doc_ids``, in chunk id order (byte order, as SQLite sorts)."""
        query = (
            "SELECT c.chunk_id, d.metadata->>'title', c.section, c.text, d.metadata->>'doc_type', "
            "d.metadata->>'sector' FROM {s}.chunks c JOIN {s}.documents d ON d.doc_id = c.doc_id"
        )
        if doc_ids is None:
            rows = self._rows(query + ' ORDER BY c.chunk_id COLLATE "C"')
        else:
            rows = self._rows(query + ' WHERE c.doc_id = ANY(%s) ORDER BY c.chunk_id COLLATE "C"', (sorted(doc_ids),))
        for chunk, title, section, text, doc_type, sector in rows:
            yield chunk, title or "", " > ".join(section), text, doc_type or "", sector or ""

    def get_document(self, doc_id: str) -> StoredDocument | None:
        rows = self._rows(
            "SELECT metadata, version, chunk_count, indexed_at FROM {s}.documents WHERE doc_id = %s", (doc_id,)
        )
        return stored_document(rows[0]) if rows else None

    def document_text(self, doc_id: str) -> str | None:
        rows = self._rows("SELECT text FROM {s}.documents WHERE doc_id = %s", (doc_id,))
        return rows[0][0] if rows else None

    def _document_rows(self, doc_ids: Iterable[str] | None = None) -> list[tuple]:
        columns = "SELECT doc_id, metadata, version, chunk_count, indexed_at FROM {s}.documents"
        if doc_ids is None:
            return self._rows(columns + ' ORDER BY doc_id COLLATE "C"')
        return self._rows(columns + " WHERE doc_id = ANY(%s)", (sorted(doc_ids),))

    def doc_ids_for_source(self, source_path: str) -> list[str]:
        return [row[0] for row in self._rows("SELECT doc_id FROM {s}.documents WHERE source_path = %s", (source_path,))]

    def counts(self) -> tuple[int, int]:
        rows = self._rows("SELECT (SELECT COUNT(*) FROM {s}.documents), (SELECT COUNT(*) FROM {s}.chunks)")
        return int(rows[0][0]), int(rows[0][1])

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        ids = list(chunk_ids)
        if not ids:
            return {}
        rows = self._rows(
            'SELECT chunk_id, doc_id, idx, start, "end", section, page, text FROM {s}.chunks WHERE chunk_id = ANY(%s)',
            (ids,),
        )
        return {
            row[0]: Chunk(
                doc_id=row[1], index=row[2], start=row[3], end=row[4], section=tuple(row[5]), page=row[6], text=row[7]
            )
            for row in rows
        }


def _bump_revision(conn, schema: str) -> int:
    """First in each write transaction: the row lock on the counter orders the writers, and
    the document written is stamped with the new value (``changed_since``)."""
    row = conn.execute(
        f"UPDATE {schema}.index_info SET value = to_jsonb((value #>> '{{}}')::bigint + 1) "
        "WHERE key = 'revision' RETURNING value"
    ).fetchone()
    return int(row[0])


def _clean_text(text: str) -> str:
    """PostgreSQL text cannot hold NUL characters (a PDF may yield some)."""
    return text.replace("\x00", "") if "\x00" in text else text
