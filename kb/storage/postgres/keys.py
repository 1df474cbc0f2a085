"""API keys on PostgreSQL (``kb_keys``): the contract of ``kb/storage/embedded/keys.py``, shared by every server.

A key created or revoked on one server is accepted or refused by all the others at their next
request: ``verify`` reads the table each time (one indexed lookup). Only one active key per
name: a partial unique index decides between two servers creating the same name together.

``verify`` looks the digest up rather than comparing it with every key as the file store does:
the lookup's time depends on the SHA-256 of the presented key, which tells nothing about any
stored key.
"""

from __future__ import annotations

from kb.core.clock import timestamp
from kb.records.keys import COORDINATOR, Actor, ApiKey, checked_name, key_digest, name_taken, new_key, no_active_key
from kb.storage.postgres.store import Connect, PgStore

_DDL = """
CREATE TABLE IF NOT EXISTS kb_keys (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    role TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS kb_keys_active_name ON kb_keys(name) WHERE revoked_at IS NULL;
"""


class PgKeyStore(PgStore):
    _COPIED = {"keys": ("name, digest, created_at, revoked_at, role", "id")}

    def __init__(self, connect: Connect) -> None:
        super().__init__(connect, _DDL)

    def create(self, name: str, role: str = COORDINATOR) -> str:
        name = checked_name(name, role)
        key = new_key()
        rows = self._db.execute(
            "INSERT INTO kb_keys(name, digest, created_at, role) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING id",
            (name, key_digest(key), timestamp(), role),
        )
        if not rows:
            raise name_taken(name)
        return key

    def list(self) -> list[ApiKey]:
        rows = self._db.execute("SELECT name, digest, created_at, revoked_at, role FROM kb_keys ORDER BY id")
        return [
            ApiKey(name, digest, created_at, revoked_at, role) for name, digest, created_at, revoked_at, role in rows
        ]

    def revoke(self, name: str) -> None:
        rows = self._db.execute(
            "UPDATE kb_keys SET revoked_at = %s WHERE name = %s AND revoked_at IS NULL RETURNING id",
            (timestamp(), name),
        )
        if not rows:
            raise no_active_key(name)

    def verify(self, presented: str) -> Actor | None:
        """The key's holder when ``presented`` is an active key, else None."""
        rows = self._db.execute(
            "SELECT name, role FROM kb_keys WHERE digest = %s AND revoked_at IS NULL",
            (key_digest(presented or ""),),
        )
        return Actor(rows[0][0], rows[0][1]) if rows else None
