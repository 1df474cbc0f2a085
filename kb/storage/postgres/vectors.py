"""The vectors on PostgreSQL (pgvector): the same contract as ``ChromaVectorStore``.

One table per generation schema, beside the registry's, with an HNSW index (cosine). Scoped
queries filter inside the index scan (pgvector 0.8's iterative scans), so a narrow scope still
gets its ``n_results`` nearest passages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from kb.core.errors import StorageReadOnly
from kb.core.models import Scope
from kb.storage.postgres.database import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {s}.{info} (key TEXT PRIMARY KEY, value JSONB NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.{t} (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    version TEXT NOT NULL,
    doc_type TEXT,
    sector TEXT,
    embedding vector({dimension}) NOT NULL
);
CREATE INDEX IF NOT EXISTS {t}_doc ON {s}.{t}(doc_id, version);
CREATE INDEX IF NOT EXISTS {t}_hnsw ON {s}.{t} USING hnsw (embedding vector_cosine_ops);
"""
# The HNSW candidate list: at least this wide, and at least the number of results asked.
EF_SEARCH = 100
_BATCH = 1000


class PgVectorStore:
    """Vectors and per-chunk metadata. Each vector carries its document's ``doc_id``/``version``."""

    def __init__(self, database: Database, schema: str, description: dict[str, Any], table: str = "vectors") -> None:
        """``table``: the passages' vectors ("vectors") or another set of the same shape, such
        as the sentences' (kb/index/sentence_vectors.py), each with its own description table."""
        self._database = database
        self.schema = schema
        self.table = f"{schema}.{table}"
        self._info = f"{schema}.{'vector_info' if table == 'vectors' else table + '_info'}"
        self._names = {"s": schema, "t": table, "info": self._info.split(".", 1)[1]}
        self.name = schema if table == "vectors" else f"{schema}.{table}"
        try:
            recorded = self._create(description)
        except StorageReadOnly:  # a read-only base made earlier: reads go on
            if not database.has_table(self.table):
                raise
            recorded = dict(database.execute(f"SELECT key, value FROM {self._info}"))
        self._description = recorded

    def _create(self, description: dict[str, Any]) -> dict[str, Any]:
        """The schema's tables, made once; the description they were made with."""
        dimension = int(description.get("dimension") or 0)
        with self._database.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.table,))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self._info} (key TEXT PRIMARY KEY, value JSONB NOT NULL)")
            recorded = dict(conn.execute(f"SELECT key, value FROM {self._info}").fetchall())
            if not recorded:
                if dimension <= 0:
                    raise ValueError("the vector store needs the embedding dimension")
                with conn.cursor() as cursor:
                    cursor.executemany(
                        f"INSERT INTO {self._info}(key, value) VALUES (%s, %s)",
                        [(key, Jsonb(value)) for key, value in description.items()],
                    )
                recorded = dict(description)
            # The table keeps the dimension it was made with; a mismatch is reported by the
            # index from the description (IndexMismatchError), not by a failing insert.
            made_with = int(recorded.get("dimension") or dimension)
            conn.execute(_SCHEMA.format(**self._names, dimension=made_with))
        return recorded

    @property
    def description(self) -> dict[str, Any]:
        return dict(self._description)

    def close(self) -> None:
        """The pool belongs to the index, which closes it."""

    def add(
        self,
        ids: Sequence[str],
        embeddings: np.ndarray,
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        """Upsert; the passage texts live in the registry, not here."""
        vectors = np.asarray(embeddings, dtype=np.float32)
        rows = [
            (chunk, meta.get("doc_id"), meta.get("version"), meta.get("doc_type"), meta.get("sector"), vectors[i])
            for i, (chunk, meta) in enumerate(zip(ids, metadatas, strict=True))
        ]
        with self._database.transaction() as conn, conn.cursor() as cursor:
            for start in range(0, len(rows), _BATCH):
                cursor.executemany(
                    f"INSERT INTO {self.table}(chunk_id, doc_id, version, doc_type, sector, embedding) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (chunk_id) DO UPDATE SET doc_id = EXCLUDED.doc_id, "
                    "version = EXCLUDED.version, doc_type = EXCLUDED.doc_type, sector = EXCLUDED.sector, "
                    "embedding = EXCLUDED.embedding",
                    rows[start : start + _BATCH],
                )

    def delete_document(self, doc_id: str, keep_version: str | None = None) -> None:
        if keep_version is None:
            self._database.execute(f"DELETE FROM {self.table} WHERE doc_id = %s", (doc_id,))
        else:
            self._database.execute(
                f"DELETE FROM {self.table} WHERE doc_id = %s AND version <> %s", (doc_id, keep_version)
            )

    def query(self, embedding: np.ndarray, n_results: int, scope: Scope | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first; ``scope`` restricts inside the search."""
        if n_results <= 0 or (scope is not None and scope.is_empty()):
            return []
        conditions, params = _where(scope)
        vector = np.asarray(embedding, dtype=np.float32)
        sql = (
            f"SELECT chunk_id, 1 - (embedding <=> %s) FROM {self.table} {conditions} ORDER BY embedding <=> %s LIMIT %s"
        )
        with self._database.transaction() as conn:
            conn.execute(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH, min(int(n_results), 1000))}")
            conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            rows = conn.execute(sql, (vector, *params, vector, int(n_results))).fetchall()
        # relaxed_order may return near-ties slightly out of order
        return sorted(((chunk, float(score)) for chunk, score in rows), key=lambda hit: hit[1], reverse=True)

    def versions_by_chunk(self) -> dict[str, tuple[str, str]]:
        """Every stored chunk id with its (doc_id, version): used to sweep orphans."""
        rows = self._database.execute(f"SELECT chunk_id, doc_id, version FROM {self.table}")
        return {chunk: (doc_id, version) for chunk, doc_id, version in rows}

    def versions_by_chunk_of(self, doc_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """The stored chunk ids of some documents with their (doc_id, version)."""
        rows = self._database.execute(
            f"SELECT chunk_id, doc_id, version FROM {self.table} WHERE doc_id = ANY(%s)", (sorted(doc_ids),)
        )
        return {chunk: (doc_id, version) for chunk, doc_id, version in rows}

    def embeddings(self, doc_id: str, version: str) -> np.ndarray:
        """The stored vectors of one document version, in chunk order."""
        rows = self._database.execute(
            f'SELECT embedding FROM {self.table} WHERE doc_id = %s AND version = %s ORDER BY chunk_id COLLATE "C"',
            (doc_id, version),
        )
        if not rows:
            return np.zeros((0, int(self._description.get("dimension") or 0)), dtype=np.float32)
        return np.vstack([_array(row[0]) for row in rows])

    def vectors_by_id(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The stored vectors of some ids (those stored, in no set order)."""
        rows = self._database.execute(
            f"SELECT chunk_id, embedding FROM {self.table} WHERE chunk_id = ANY(%s)", (list(ids),)
        )
        dimension = int(self._description.get("dimension") or 0)
        if not rows:
            return [], np.zeros((0, dimension), dtype=np.float32)
        return [row[0] for row in rows], np.vstack([_array(row[1]) for row in rows])

    def embeddings_of(self, versions: dict[str, str]) -> dict[str, np.ndarray]:
        """The stored vectors of several documents (doc_id → version), in chunk order each."""
        rows = self._database.execute(
            f"SELECT doc_id, version, embedding FROM {self.table} WHERE doc_id = ANY(%s) "
            'ORDER BY doc_id, chunk_id COLLATE "C"',
            (list(versions),),
        )
        found: dict[str, list[np.ndarray]] = {doc_id: [] for doc_id in versions}
        for doc_id, version, embedding in rows:
            if versions.get(doc_id) == version:
                found[doc_id].append(_array(embedding))
        dimension = int(self._description.get("dimension") or 0)
        return {
            doc_id: np.vstack(vectors) if vectors else np.zeros((0, dimension), dtype=np.float32)
            for doc_id, vectors in found.items()
        }

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Many vectors about to be added to an empty table (``kb migrate``): the HNSW index is
        built once at the end, several times faster than kept up to date row by row."""
        if self.count():
            yield
            return
        self._database.execute(f"DROP INDEX IF EXISTS {self.table}_hnsw")
        try:
            yield
        finally:
            with self._database.transaction() as conn:
                conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
                conn.execute(
                    f"CREATE INDEX IF NOT EXISTS {self._names['t']}_hnsw ON {self.table} USING hnsw (embedding vector_cosine_ops)"
                )

    def delete_ids(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            self._database.execute(
                f"DELETE FROM {self.table} WHERE chunk_id = ANY(%s)", (list(ids[start : start + _BATCH]),)
            )

    def count(self) -> int:
        return int(self._database.execute(f"SELECT COUNT(*) FROM {self.table}")[0][0])

    def drop(self) -> None:
        self._database.execute(f"DROP TABLE IF EXISTS {self.table}, {self._info}")


def _array(value) -> np.ndarray:
    """pgvector gives a ``Vector`` (0.4 and later) or an array, depending on its version."""
    return np.asarray(value.to_numpy() if hasattr(value, "to_numpy") else value, dtype=np.float32)


def _where(scope: Scope | None) -> tuple[str, tuple]:
    if scope is None:
        return "", ()
    clauses, params = [], []
    for column, values in (("doc_type", scope.doc_types), ("sector", scope.sectors), ("doc_id", scope.doc_ids)):
        if values:
            clauses.append(f"{column} = ANY(%s)")
            params.append(list(values))
    return ("WHERE " + " AND ".join(clauses), tuple(params)) if clauses else ("", ())
