"""What the side stores on PostgreSQL share (keys, partners, proposals, question log, audit):
a handle on the process's pool, opened on first use, and their tables created once.

The side tables live in the default schema (``kb_keys``, ``kb_partners``…), not in the index's
per-generation ``kb_gen_*`` schemas: they outlive every rebuild of the index. Text that is
compared or sorted (times, document ids) is declared ``COLLATE "C"``: byte order, as SQLite and
the files sort it, whatever the database's locale.
"""

from __future__ import annotations

import threading
from typing import Callable

from kb.postgres import Database

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
