"""Partner sites on PostgreSQL (``kb_partners``): the contract of ``kb/storage/embedded/partners.py``.

``origins()`` is read by every cross-origin request and every page's CSP: rather than a query
each time, a server keeps the list for ``KB_PARTNERS_REFRESH_S`` seconds (its own changes are
seen at once). While the database is down the last list read stays in force, so the pages keep
being served; before any read it allows no partner, like a damaged file.
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections.abc import Callable

from kb.core.errors import KBError
from kb.records.partners import Partner, already_partner, new_partner, no_partner, wanted_origin
from kb.storage.copy import StoreDump
from kb.storage.postgres.store import Connect, PgStore

logger = logging.getLogger("passerelles.partners")

_DDL = """
CREATE TABLE IF NOT EXISTS kb_partners (
    id BIGSERIAL PRIMARY KEY,
    origin TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    added_at TEXT NOT NULL,
    added_by TEXT NOT NULL
);
"""
_FIELDS = "origin, name, added_at, added_by"


class PgPartnerStore(PgStore):
    _COPIED = {"partners": (_FIELDS, "id")}

    def __init__(
        self, connect: Connect, refresh_seconds: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(connect, _DDL, lazy=True)
        self._refresh = refresh_seconds
        self._clock = clock
        self._cached: tuple[float, frozenset[str]] | None = None
        self._changes = 0  # this server's writes, so that a read racing one is not kept
        self._cache_lock = threading.Lock()

    def list(self) -> list[Partner]:
        return [Partner(*row) for row in self._db.execute(f"SELECT {_FIELDS} FROM kb_partners ORDER BY id")]

    def add(self, origin: str, name: str, actor: str) -> Partner:
        partner = new_partner(origin, name, actor)
        rows = self._db.execute(
            f"INSERT INTO kb_partners({_FIELDS}) VALUES (%s, %s, %s, %s) ON CONFLICT (origin) DO NOTHING RETURNING id",
            (partner.origin, partner.name, partner.added_at, partner.added_by),
        )
        if not rows:
            raise already_partner(partner.origin)
        self._forget()
        return partner

    def remove(self, origin: str) -> Partner:
        wanted = wanted_origin(origin)
        rows = self._db.execute(f"DELETE FROM kb_partners WHERE origin = %s RETURNING {_FIELDS}", (wanted,))
        if not rows:
            raise no_partner(wanted)
        self._forget()
        return Partner(*rows[0])

    def replace_all(self, partners: builtins.list[Partner]) -> None:
        """Write the whole list at once (an import of an archive): others see the old list or
        the new one, never a mix."""
        with self._db.transaction() as conn:
            conn.execute("LOCK TABLE kb_partners IN EXCLUSIVE MODE")
            conn.execute("DELETE FROM kb_partners")
            with conn.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO kb_partners({_FIELDS}) VALUES (%s, %s, %s, %s)",
                    [(p.origin, p.name, p.added_at, p.added_by) for p in partners],
                )
        self._forget()

    def restore(self, dump: StoreDump) -> None:
        super().restore(dump)
        self._forget()

    def undo_restore(self) -> None:
        super().undo_restore()
        self._forget()

    def origins(self) -> frozenset[str]:
        """The stored origins, read again once the refresh time has passed (by one thread: the
        others keep the list they have rather than wait on the database)."""
        now = self._clock()
        cached = self._cached
        known = cached[1] if cached is not None else frozenset()
        if cached is not None and now - cached[0] < self._refresh:
            return known
        if not self._cache_lock.acquire(blocking=cached is None):
            return known
        try:
            changes = self._changes
            try:
                known = frozenset(row[0] for row in self._db.execute("SELECT origin FROM kb_partners"))
            except KBError as exc:  # the last list read stays, and the database is asked again later
                logger.warning("sites partenaires non relus : %s", exc)
            if changes == self._changes:  # else this server changed the list meanwhile: read again next time
                self._cached = (now, known)
        finally:
            self._cache_lock.release()
        return known

    def _forget(self) -> None:
        self._changes += 1
        self._cached = None
