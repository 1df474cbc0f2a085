"""Partner sites: the origins, beyond the configured base list, allowed to call the API from a
browser (the widget embedded in their pages).

They are stored with the data (``data_dir/partners.json``, written atomically like the keys) so
that a coordinator manages them without a restart: ``origins()`` re-reads the file only when its
modification time or size changed, which keeps the check of every cross-origin request cheap.
"""

from __future__ import annotations

import builtins
import json
import threading
from dataclasses import asdict
from pathlib import Path

from kb.core.files import atomic_write
from kb.records.partners import (
    Partner,
    already_partner,
    new_partner,
    no_partner,
    wanted_origin,
)
from kb.storage.copy import JsonListCopy


class PartnerStore(JsonListCopy):
    """The partner sites in ``data_dir/partners.json`` (``kb/storage/postgres/partners.py``: on PostgreSQL)."""

    _TABLE = "partners"
    _ROW = Partner

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._cached: tuple[tuple[int, int, int] | None, frozenset[str]] = (None, frozenset())

    @property
    def path(self) -> Path:
        return self._path

    def _load(self) -> list[Partner]:
        if not self._path.exists():
            return []
        return [Partner(**row) for row in json.loads(self._path.read_text(encoding="utf-8"))]

    def _save(self, partners: list[Partner]) -> None:
        atomic_write(
            self._path, json.dumps([asdict(p) for p in partners], ensure_ascii=False, indent=1).encode("utf-8")
        )

    def list(self) -> list[Partner]:
        return self._load()

    def add(self, origin: str, name: str, actor: str) -> Partner:
        partner = new_partner(origin, name, actor)
        with self._lock:
            partners = self._load()
            if any(p.origin == partner.origin for p in partners):
                raise already_partner(partner.origin)
            self._save([*partners, partner])
        return partner

    def remove(self, origin: str) -> Partner:
        wanted = wanted_origin(origin)
        with self._lock:
            partners = self._load()
            removed = next((p for p in partners if p.origin == wanted), None)
            if removed is None:
                raise no_partner(wanted)
            self._save([p for p in partners if p.origin != wanted])
        return removed

    def replace_all(self, partners: builtins.list[Partner]) -> None:
        """Write the whole list at once (an import of an archive)."""
        with self._lock:
            self._save(partners)

    def origins(self) -> frozenset[str]:
        """The stored origins, re-read only when the file changed (called on every CORS check)."""
        try:
            stat = self._path.stat()
            # every save is a new file (os.replace): its inode changes even within one clock tick
            stamp: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self._cached[0]:
            return self._cached[1]
        try:
            origins = frozenset(p.origin for p in self._load()) if stamp else frozenset()
        except (OSError, ValueError, TypeError):
            origins = frozenset()  # a damaged file allows no partner rather than failing requests
        self._cached = (stamp, origins)
        return origins

    def close(self) -> None:
        """Nothing to release (the PostgreSQL store gives back its connections)."""
