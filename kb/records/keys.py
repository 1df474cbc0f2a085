"""The keys records: types, rules and row conversions shared by both backends (no I/O)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from kb.core.errors import KBError

PREFIX = "psl_"

# A contributor (a practitioner of the network) proposes documents; coordination publishes,
# reviews, edits and deletes. Keys created before roles existed were all coordination keys.
CONTRIBUTOR = "contributeur"
COORDINATOR = "coordination"
ROLES = (CONTRIBUTOR, COORDINATOR)


@dataclass(frozen=True)
class Actor:
    """Who presented a valid key: the key's name (the audit log's ``actor``) and its role."""

    name: str
    role: str

    @property
    def is_coordinator(self) -> bool:
        return self.role == COORDINATOR


@dataclass
class ApiKey:
    name: str
    digest: str
    created_at: str
    revoked_at: str | None = None
    role: str = COORDINATOR

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def checked_name(name: str, role: str) -> str:
    """The new key's name, stripped; ``KBError`` in French for an empty name or an unknown role."""
    name = name.strip()
    if not name:
        raise KBError("Donnez un nom à la clé (par exemple le nom de la personne).")
    if role not in ROLES:
        raise KBError(f"Rôle inconnu « {role} » : choisissez {' ou '.join(ROLES)}.")
    return name


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def name_taken(name: str) -> KBError:
    return KBError(f"Une clé active porte déjà le nom « {name} ».")


def no_active_key(name: str) -> KBError:
    return KBError(f"Aucune clé active nommée « {name} ».")
