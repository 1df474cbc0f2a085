"""The partners records: types, rules and row conversions shared by both backends (no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.core.clock import timestamp
from kb.core.errors import ConflictError, InvalidRequest, NotFoundError, Problem

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
