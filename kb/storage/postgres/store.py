"""What the side stores on PostgreSQL share (keys, partners, proposals, question log, audit):
a handle on the process's pool, opened on first use, and their tables created once.

The side tables live in the default schema (``kb_keys``, ``kb_partners``…), not in the index's
per-generation ``kb_gen_*`` schemas: they outlive every rebuild of the index. Text that is
compared or sorted (times, document ids) is declared ``COLLATE "C"``: byte order, as SQLite and
the files sort it, whatever the database's locale.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import ClassVar

from kb.storage.copy import StoreDump, check_empty, field_names
from kb.storage.postgres.database import Database

Connect = Callable[[], Database]


class PgStore:
    """``connect`` gives a :class:`Database` handle the store owns (``close`` gives it back);
    ``ddl`` creates the store's tables if missing. ``lazy``: connect on first use rather than
    now, for a store built while the database may still be down (the partner sites, read by
    every request's CORS check, are built with the app)."""

    def __init__(self, connect: Connect, ddl: str, lazy: bool = False) -> None:
        self._connect = connect
        self._ddl = ddl
        self._database: Database | None = None
        self._open_lock = threading.Lock()
        if not lazy:
            self._db  # noqa: B018 - open now: a database that is down fails the opening, in French

    @property
    def _db(self) -> Database:
        database = self._database
        if database is not None:
            return database
        with self._open_lock:
            if self._database is None:
                database = self._connect()
                try:
                    database.run_script(self._ddl)
                except BaseException:
                    database.close()
                    raise
                self._database = database
            return self._database

    def close(self) -> None:
        with self._open_lock:
            if self._database is not None:
                self._database.close()
                self._database = None

    # -- the migration's copy (kb/storage/copy.py) -------------------------------------------

    # table name (read as ``kb_<name>``) → (its columns, the order they were written in)
    _COPIED: ClassVar[dict[str, tuple[str, str]]] = {}

    def dump(self) -> StoreDump:
        """Every row of the store's tables, as stored (for ``kb migrate`` only)."""
        dump: StoreDump = {}
        for name, (fields, order) in self._COPIED.items():
            rows = self._db.execute(f"SELECT {fields} FROM kb_{name} ORDER BY {order}")
            dump[name] = [dict(zip(field_names(fields), row, strict=True)) for row in rows]
        return dump

    def restore(self, dump: StoreDump) -> None:
        """Write ``dump`` as it is, in one transaction, into empty tables only (``KBError``
        otherwise, and nothing written)."""
        with self._db.transaction() as conn:
            for name, (fields, _order) in self._COPIED.items():
                conn.execute(f"LOCK TABLE kb_{name} IN EXCLUSIVE MODE")
                check_empty(name, conn.execute(f"SELECT count(*) FROM kb_{name}").fetchone()[0])
                columns = field_names(fields)
                marks = ", ".join(["%s"] * len(columns))
                with conn.cursor() as cursor:
                    cursor.executemany(
                        f"INSERT INTO kb_{name}({fields}) VALUES ({marks})",
                        [tuple(row[column] for column in columns) for row in dump.get(name, [])],
                    )

    def undo_restore(self) -> None:
        """Empty the tables that ``restore`` filled (a migration failing after it)."""
        with self._db.transaction() as conn:
            for name in self._COPIED:
                conn.execute(f"DELETE FROM kb_{name}")
