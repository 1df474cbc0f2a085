"""API keys for writes: shown once at creation, stored as SHA-256 digests, revocable.

Keys are 32 random bytes, so a plain digest is enough (no password stretching needed), and a
stolen key file reveals no usable key. Verification compares digests with
``hmac.compare_digest`` against every stored key, so its time does not depend on which key,
or which prefix of a key, matched.
"""

from __future__ import annotations

import hmac
import json
import threading
from dataclasses import asdict
from pathlib import Path

from kb.core.clock import timestamp
from kb.core.files import atomic_write
from kb.records.keys import (
    COORDINATOR,
    Actor,
    ApiKey,
    checked_name,
    key_digest,
    name_taken,
    new_key,
    no_active_key,
)
from kb.storage.copy import JsonListCopy


class KeyStore(JsonListCopy):
    """The keys in ``data_dir/keys.json`` (``kb/storage/postgres/keys.py``: the same on PostgreSQL)."""

    _TABLE = "keys"
    _ROW = ApiKey

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def _load(self) -> list[ApiKey]:
        if not self._path.exists():
            return []
        return [ApiKey(**row) for row in json.loads(self._path.read_text(encoding="utf-8"))]

    def _save(self, keys: list[ApiKey]) -> None:
        atomic_write(self._path, json.dumps([asdict(k) for k in keys], indent=1).encode("utf-8"), mode=0o600)

    def create(self, name: str, role: str = COORDINATOR) -> str:
        name = checked_name(name, role)
        with self._lock:
            keys = self._load()
            if any(k.name == name and k.active for k in keys):
                raise name_taken(name)
            key = new_key()
            keys.append(ApiKey(name=name, digest=key_digest(key), created_at=timestamp(), role=role))
            self._save(keys)
        return key

    def list(self) -> list[ApiKey]:
        return self._load()

    def revoke(self, name: str) -> None:
        with self._lock:
            keys = self._load()
            active = [k for k in keys if k.name == name and k.active]
            if not active:
                raise no_active_key(name)
            for key in active:
                key.revoked_at = timestamp()
            self._save(keys)

    def verify(self, presented: str) -> Actor | None:
        """The key's holder when ``presented`` is an active key, else None."""
        candidate = key_digest(presented or "")
        matched: Actor | None = None
        for key in self._load():
            if hmac.compare_digest(candidate, key.digest) and key.active:
                matched = Actor(key.name, key.role)
        return matched

    def close(self) -> None:
        """Nothing to release (the PostgreSQL store gives back its connections)."""
