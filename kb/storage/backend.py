"""The one place that chooses the storage backend from the settings.

``KB_DATABASE_URL`` unset: the embedded base in the data directory (``embedded/backend.py``,
with Chroma embedded or on ``KB_CHROMA_URL``). Set: that PostgreSQL database
(``postgres/backend.py``), shared by every API server and CLI pointed at it. Everything else
receives the backend opened here, or the stores it opened, and never reads those settings.

The feedback rate limiter (``kb/core/ratelimit.py``) stays in each process's memory on purpose:
a shared one would have to store the clients' addresses, which the base never stores.
"""

from __future__ import annotations

from kb.core.settings import Settings
from kb.storage.embedded.backend import EmbeddedBackend
from kb.storage.protocols import Backend, Copyable

# The side stores, as ``Backend`` methods, in the order of kb/storage/copy.py's LABELS.
SIDE_STORES = ("key_store", "partner_store", "proposal_store", "question_log", "audit_log", "rapprochement_store")


def open_backend(settings: Settings) -> Backend:
    """The backend of ``settings``; opening it connects to nothing yet."""
    url = settings.database
    if url is None:
        return EmbeddedBackend(
            settings.data_dir, settings.chroma_url, settings.collection_prefix, settings.query_log_days
        )
    from kb.storage.postgres.backend import PostgresBackend  # psycopg only when configured

    return PostgresBackend(
        url,
        settings.data_dir,
        settings.database_pool_size,
        settings.database_timeout_s,
        settings.query_log_days,
        settings.partners_refresh_s,
    )


def is_shared(settings: Settings) -> bool:
    """Whether several processes may serve the base of ``settings`` (PostgreSQL)."""
    return settings.database is not None


def open_side_store(backend: Backend, kind: str) -> Copyable:
    """One of ``SIDE_STORES`` by name (what ``kb migrate`` copies one after the other)."""
    if kind not in SIDE_STORES:
        raise ValueError(f"unknown side store {kind!r}")
    opened: Copyable = getattr(backend, kind)()
    return opened
