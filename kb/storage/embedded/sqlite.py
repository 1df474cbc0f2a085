"""What the SQLite stores share: one connection per thread, and failures as 503s (507 for a
full disk) in French."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from kb.core.errors import InsufficientStorage, ServiceUnavailable, StorageReadOnly
from kb.core.files import READ_ONLY, is_disk_full, write_errors
from kb.storage.copy import StoreDump, check_empty, field_names


@contextmanager
def storage_errors(path: Path | None = None, what: str = "la base des documents"):
    """SQLite failures are the service's unavailability (503), with the reason in French;
    ``what``: the store, as the message names it."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or is_disk_full(exc):
            raise InsufficientStorage() from exc
        unwritable = path is not None and not os.access(path.parent, os.W_OK)
        if unwritable or "readonly" in str(exc) or "read-only" in str(exc):
            raise StorageReadOnly(READ_ONLY) from exc
        raise ServiceUnavailable(f"{what} (SQLite) est inaccessible.") from exc


class ThreadConnections:
    """One connection per thread (the API serves requests from a thread pool), all closed at once."""

    def __init__(self, path: Path, foreign_keys: bool = False, timeout: float = 30) -> None:
        self._path = path
        self._foreign_keys = foreign_keys
        self._timeout = timeout
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(str(self._path), timeout=self._timeout, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a killed process (what we guard against) without an fsync
            # per commit; only a power loss may drop the last commits.
            connection.execute("PRAGMA synchronous=NORMAL")
            if self._foreign_keys:
                connection.execute("PRAGMA foreign_keys=ON")
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    def close(self) -> None:
        with self._lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()
        self._local = threading.local()


class SqliteStore:
    """A store in one SQLite file: its schema created on opening, a connection per thread."""

    def __init__(
        self,
        path: Path,
        schema: str,
        foreign_keys: bool = False,
        timeout: float = 30,
        what: str = "la base des documents",
    ) -> None:
        with write_errors():
            path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._what = what
        self._connections = ThreadConnections(path, foreign_keys=foreign_keys, timeout=timeout)
        with storage_errors(path, what):
            self._db.executescript(schema)
            self._db.commit()

    @property
    def _db(self) -> sqlite3.Connection:
        return self._connections.get()

    def close(self) -> None:
        self._connections.close()

    # -- the migration's copy (kb/storage/copy.py) -------------------------------------------

    # table name → (its columns, the order they were written in)
    _COPIED: ClassVar[dict[str, tuple[str, str]]] = {}

    def dump(self) -> StoreDump:
        """Every row of the store's tables, as stored (for ``kb migrate`` only)."""
        dump: StoreDump = {}
        with storage_errors(self._path, self._what):
            for name, (fields, order) in self._COPIED.items():
                rows = self._db.execute(f"SELECT {fields} FROM {name} ORDER BY {order}").fetchall()
                dump[name] = [dict(zip(field_names(fields), row, strict=True)) for row in rows]
        return dump

    def restore(self, dump: StoreDump) -> None:
        """Write ``dump`` as it is, in one transaction, into empty tables only (``KBError``
        otherwise, and nothing written)."""
        with storage_errors(self._path, self._what), self._db:
            self._db.execute("BEGIN IMMEDIATE")  # no other writer between the check and the copy
            for name, (fields, _order) in self._COPIED.items():
                check_empty(name, self._db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0])
                columns = field_names(fields)
                self._db.executemany(
                    f"INSERT INTO {name}({fields}) VALUES ({', '.join('?' * len(columns))})",
                    [tuple(row[column] for column in columns) for row in dump.get(name, [])],
                )

    def undo_restore(self) -> None:
        """Empty the tables that ``restore`` filled (a migration failing after it)."""
        with storage_errors(self._path, self._what), self._db:
            for name in self._COPIED:
                self._db.execute(f"DELETE FROM {name}")
