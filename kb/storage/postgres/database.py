"""The PostgreSQL door (``KB_DATABASE_URL``): one connection pool per process, failures as 503s
in French, and the generation pointer of the index.

psycopg types stay in ``kb/storage/postgres/``; callers see plain Python values. Every store
on PostgreSQL (registry, vectors, keys, logs, files) takes a :class:`Database`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from kb.core.errors import BackendUnavailable, IndexReplaced, InsufficientStorage, KBError, StorageReadOnly

# The tables every generation of the index shares (one row each).
_GLOBAL_SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TABLE IF NOT EXISTS kb_generation (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    current TEXT NOT NULL
);
"""
_CREATED_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS\s+([\w.]+)", re.IGNORECASE)
# Advisory lock keys (pg_advisory_lock): one writer at a time on a base, like the data
# directory's .write.lock; the schema is created once even by servers starting together.
WRITER_LOCK_KEY = 0x70617373  # "pass"
SCHEMA_LOCK_KEY = 0x70617374


READ_ONLY = "la base PostgreSQL est en lecture seule : les écritures sont impossibles."
DISK_FULL = (
    "Espace disque insuffisant sur le serveur PostgreSQL : rien n'a été enregistré. "
    "Libérez de la place sur le serveur de la base, puis réessayez."
)


def describe_url(url: str) -> str:
    """The database's address without its password, for messages and /status."""
    parsed = urlparse(url)
    host = parsed.hostname or "socket local"
    port = f":{parsed.port}" if parsed.port else ""
    return f"postgresql://{host}{port}{parsed.path or ''}"


def _unavailable(exc: Exception) -> bool:
    """Whether a failure is the database's (down, restarting, read-only, out of connections),
    not a bug of the statement: only those are 503s."""
    import psycopg

    return isinstance(
        exc, (psycopg.OperationalError, psycopg.InterfaceError, psycopg.errors.ReadOnlySqlTransaction)
    ) or _is_pool_timeout(exc)


def _translate(exc: Exception, url: str) -> KBError:
    import psycopg

    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return StorageReadOnly(READ_ONLY)
    if isinstance(exc, psycopg.errors.DiskFull):  # SQLSTATE 53100: the write was rolled back whole
        return InsufficientStorage(DISK_FULL)
    return BackendUnavailable(
        f"la base PostgreSQL ({describe_url(url)}) ne répond pas ; réessayez dans quelques "
        "instants ou vérifiez KB_DATABASE_URL."
    )


def _generation_dropped(exc: Exception) -> bool:
    """A statement on a generation's schema that another process's `kb reindex` has just
    dropped: not a bug, the index moved (the server follows it on the next request)."""
    import psycopg

    undefined = (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName)
    return isinstance(exc, undefined) and "kb_gen_" in str(exc)


def _is_pool_timeout(exc: Exception) -> bool:
    try:
        from psycopg_pool import PoolTimeout
    except ImportError:  # pragma: no cover - psycopg-pool is a dependency
        return False
    return isinstance(exc, PoolTimeout)


class Database:
    """A pool of connections to one PostgreSQL database. ``transaction()`` gives a connection
    inside one transaction (committed on exit, rolled back on error); ``connection()`` one in
    autocommit for single statements."""

    def __init__(self, url: str, pool_size: int = 8, connect_timeout: float = 5.0) -> None:
        import psycopg
        from pgvector.psycopg import register_vector
        from psycopg_pool import ConnectionPool

        self.url = url
        self._psycopg = psycopg

        def configure(connection) -> None:
            connection.autocommit = True
            register_vector(connection)

        self._configure = configure
        try:
            self._bootstrap(connect_timeout)
            self._pool = ConnectionPool(
                url,
                min_size=1,
                max_size=max(1, pool_size),
                kwargs={"connect_timeout": max(1, int(connect_timeout))},
                configure=configure,
                check=ConnectionPool.check_connection,
                timeout=connect_timeout * 2,
                open=True,
                name="passerelles",
            )
        except KBError:
            raise
        except Exception as exc:
            if _unavailable(exc):
                raise _translate(exc, url) from exc
            raise
        self._closed = False
        self._users = 0  # open_database's handles still open

    def _bootstrap(self, connect_timeout: float) -> None:
        """The extensions first (``register_vector`` needs the type), then the shared tables."""
        with self._psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(connect_timeout))) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
            try:
                conn.execute(_GLOBAL_SCHEMA)
            except self._psycopg.errors.ReadOnlySqlTransaction:
                # a read-only base made earlier still serves reads (writes answer 503)
                missing = conn.execute("SELECT to_regclass('kb_generation') IS NULL").fetchone()
                if missing is None or missing[0]:
                    raise
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A pooled connection in autocommit; any failure of the database is a 503."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except KBError:
            raise
        except Exception as exc:
            if _unavailable(exc):
                raise _translate(exc, self.url) from exc
            if _generation_dropped(exc):
                raise IndexReplaced("l'index vient d'être reconstruit (kb reindex) : réessayez.") from exc
            raise

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A pooled connection inside one transaction."""
        with self.connection() as conn, conn.transaction():
            yield conn

    def execute(self, sql: str, params: Any = None) -> list[tuple]:
        """One statement in autocommit; its rows (empty for a statement without result)."""
        with self.connection() as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def has_table(self, name: str) -> bool:
        """Whether a table (``schema.table``) exists: on a read-only base, a store whose
        tables exist opens for reads without its ``CREATE … IF NOT EXISTS``."""
        return bool(self.execute("SELECT to_regclass(%s) IS NOT NULL", (name,))[0][0])

    def run_script(self, sql: str) -> None:
        """DDL run once per database even by processes starting together. On a read-only
        database where every table of the script exists already, nothing to do: reads go on."""
        try:
            with self.transaction() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
                conn.execute(sql)
        except StorageReadOnly:
            tables = _CREATED_TABLE.findall(sql)
            if not tables or not all(self.has_table(table) for table in tables):
                raise

    @contextmanager
    def writer_lock(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """One writer at a time on the base across every server and CLI (a session-level
        advisory lock, released by PostgreSQL itself if the holder dies); ``on_wait`` is called
        once when another writer holds it, before waiting."""
        with self.connection() as conn:
            taken = conn.execute("SELECT pg_try_advisory_lock(%s)", (WRITER_LOCK_KEY,)).fetchone()
            if not (taken and taken[0]):
                if on_wait is not None:
                    on_wait()
                conn.execute("SELECT pg_advisory_lock(%s)", (WRITER_LOCK_KEY,))
            try:
                yield
            finally:
                try:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (WRITER_LOCK_KEY,))
                except self._psycopg.Error:
                    pass  # the connection is gone, and the lock with it

    # -- the index's generations -----------------------------------------------------------

    def current_generation(self) -> str | None:
        rows = self.execute("SELECT current FROM kb_generation")
        return rows[0][0] if rows else None

    def switch_generation(self, generation: str) -> None:
        self.execute(
            "INSERT INTO kb_generation(singleton, current) VALUES (TRUE, %s) "
            "ON CONFLICT (singleton) DO UPDATE SET current = EXCLUDED.current",
            (generation,),
        )

    def drop_generation(self, generation: str) -> None:
        self.execute(f"DROP SCHEMA IF EXISTS {generation_schema(generation)} CASCADE")

    def ping(self) -> bool:
        try:
            self.execute("SELECT 1")
            return True
        except KBError:
            return False

    def writable(self) -> bool:
        try:
            rows = self.execute("SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only')")
        except KBError:
            return False
        return bool(rows) and not rows[0][0] and rows[0][1] == "off"

    def require_writable(self) -> None:
        """``StorageReadOnly`` before a batch of writes (``kb ingest``) rather than one
        failure per file."""
        if not self.writable():
            raise StorageReadOnly(READ_ONLY)

    def close(self) -> None:
        """Give back a handle of ``open_database``; the pool closes with the last one."""
        with _shared_lock:
            self._users -= 1
            if self._users > 0 or self._closed:
                return
            self._closed = True
            if _shared.get(self.url) is self:
                del _shared[self.url]
        self._pool.close()


def generation_schema(generation: str) -> str:
    """The schema of a generation (``gen-0002`` → ``kb_gen_0002``): a validated identifier."""
    number = generation.rsplit("-", 1)[-1]
    if not number.isdigit():
        raise ValueError(f"invalid generation name {generation!r}")
    return f"kb_gen_{int(number):04d}"


_shared: dict[str, Database] = {}
_shared_lock = threading.Lock()


def open_database(url: str, pool_size: int = 8, connect_timeout: float = 5.0) -> Database:
    """The process's pool for ``url`` (one per URL, shared by every store of the process)."""
    with _shared_lock:
        database = _shared.get(url)
        if database is None or database._closed:
            database = Database(url, pool_size=pool_size, connect_timeout=connect_timeout)
            _shared[url] = database
        database._users += 1
        return database
