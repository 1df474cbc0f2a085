"""Partner sites: the origins, beyond the configured base list, allowed to call the API from a
browser (the widget embedded in their pages).

They are stored with the data (``data_dir/partners.json``, written atomically like the keys) so
that a coordinator manages them without a restart: ``origins()`` re-reads the file only when its
modification time or size changed, which keeps the check of every cross-origin request cheap.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from kb.clock import timestamp
from kb.errors import ConflictError, InvalidRequest, NotFoundError, Problem
from kb.files import atomic_write
from kb.store_copy import JsonListCopy

MAX_NAME_CHARS = 200
MAX_ORIGIN_CHARS = 300

# https://host[:port], or http://localhost / 127.0.0.1 [:port] for a site being tried locally;
# no path, no query, no wildcard, no user information
_HOST = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
_PORT = r"(?::(?:[1-9][0-9]{0,4}))?"
_ORIGIN = re.compile(rf"^(?:https://{_HOST}{_PORT}|http://(?:localhost|127\.0\.0\.1){_PORT})$")


@dataclass(frozen=True)
class Partner:
    origin: str
    name: str
    added_at: str
    added_by: str


def normalise_origin(value: str) -> str:
    """The origin as browsers send it (lower case, no trailing slash), or ``InvalidRequest``
    with a French reason."""
    origin = (value or "").strip().rstrip("/").lower()
    if not origin:
        raise _invalid("l'adresse du site est obligatoire")
    if len(origin) > MAX_ORIGIN_CHARS:
        raise _invalid(f"adresse trop longue (au plus {MAX_ORIGIN_CHARS} caractères)")
    if "*" in origin:
        raise _invalid("pas de joker « * » : donnez l'adresse exacte du site")
    if not _ORIGIN.match(origin):
        raise _invalid(
            "adresse attendue sous la forme https://site.exemple.org (avec un port éventuel, sans "
            "chemin ni « / » final) ; http:// seulement pour localhost"
        )
    port = origin.rsplit(":", 1)[1] if origin.count(":") == 2 else None
    if port is not None and int(port) > 65535:
        raise _invalid("numéro de port invalide (au plus 65535)")
    return origin


def _invalid(message: str) -> InvalidRequest:
    return InvalidRequest("Site partenaire invalide.", [Problem("origin", message)])


def wanted_origin(value: str) -> str:
    """An origin as a removal names it (not validated: any stored origin can be removed)."""
    return (value or "").strip().rstrip("/").lower()


def new_partner(origin: str, name: str, actor: str) -> Partner:
    """A partner to add, checked (``InvalidRequest`` in French), stamped now."""
    origin = normalise_origin(origin)
    name = (name or "").strip()
    if not name:
        raise InvalidRequest("Site partenaire invalide.", [Problem("name", "le nom du site est obligatoire")])
    if len(name) > MAX_NAME_CHARS:
        raise InvalidRequest(
            "Site partenaire invalide.", [Problem("name", f"trop long (au plus {MAX_NAME_CHARS} caractères)")]
        )
    return Partner(origin=origin, name=name, added_at=timestamp(), added_by=actor)


def already_partner(origin: str) -> ConflictError:
    return ConflictError(f"Le site « {origin} » est déjà un site partenaire.")


def no_partner(origin: str) -> NotFoundError:
    return NotFoundError(f"Aucun site partenaire « {origin} ».")


class PartnerStore(JsonListCopy):
    """The partner sites in ``data_dir/partners.json`` (``kb/pg_partners.py``: on PostgreSQL)."""

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
        atomic_write(self._path, json.dumps([asdict(p) for p in partners], ensure_ascii=False, indent=1).encode("utf-8"))

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

    def replace_all(self, partners: list[Partner]) -> None:
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
