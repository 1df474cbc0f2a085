"""The PostgreSQL base (``KB_DATABASE_URL``), shared by every server and CLI pointed at it.

A generation is a schema (``kb_gen_0001``…) named by the ``kb_generation`` row, holding the
registry and the pgvector tables; the writer lock is an advisory lock; the side stores are
tables of the default schema (``kb_keys``…), each holding a handle on the process's pool. The
lexical index, derived from the shared registry, is kept by each process in its data directory.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kb.core.clock import utc_now
from kb.records.questions import Clock
from kb.storage.location import FIRST_GENERATION, SENTENCE_STORE, IndexLocation
from kb.storage.postgres.audit import PgAuditLog
from kb.storage.postgres.database import Database, describe_url, generation_schema, open_database
from kb.storage.postgres.files import PgFiles
from kb.storage.postgres.keys import PgKeyStore
from kb.storage.postgres.partners import PgPartnerStore
from kb.storage.postgres.proposals import PgProposalStore
from kb.storage.postgres.querylog import PgQuestionLog
from kb.storage.postgres.rapprochements import PgRapprochementStore
from kb.storage.postgres.registry import PgRegistry
from kb.storage.postgres.vectors import PgVectorStore
from kb.storage.protocols import GenerationStores
from kb.storage.registry_snapshots import GenerationRecords


class PostgresBackend(GenerationRecords):
    name = "postgresql"
    shared = True

    def __init__(
        self,
        url: str,
        data_dir: Path,
        pool_size: int,
        timeout_s: float,
        query_log_days: int,
        partners_refresh_s: float,
    ) -> None:
        self.url = url
        self.data_dir = data_dir
        self.pool_size = pool_size
        self.timeout_s = timeout_s
        self.query_log_days = query_log_days
        self.partners_refresh_s = partners_refresh_s

    def connect(self) -> Database:
        """A handle on the process's pool for this base (give it back with ``close()``)."""
        return open_database(self.url, self.pool_size, self.timeout_s)

    @contextmanager
    def _database(self) -> Iterator[Database]:
        database = self.connect()
        try:
            yield database
        finally:
            database.close()

    # -- generations and the writer lock -------------------------------------------------------

    def current_location(self) -> IndexLocation:
        with self._database() as database:
            return IndexLocation(self.data_dir, database.current_generation() or FIRST_GENERATION)

    def has_current(self) -> bool:
        with self._database() as database:
            return database.current_generation() is not None

    def next_location(self) -> IndexLocation:
        return self.current_location().following()

    def is_current(self, location: IndexLocation) -> bool:
        """Whether ``location`` is still the base's generation (a `kb reindex` elsewhere moves it)."""
        with self._database() as database:
            return database.current_generation() in (None, location.generation)

    def switch_current(self, location: IndexLocation) -> None:
        with self._database() as database:
            database.switch_generation(location.generation)

    def discard_generation(self, location: IndexLocation) -> None:
        """Drop a generation's schema, and this process's caches derived from it."""
        with self._database() as database:
            database.drop_generation(location.generation)
        shutil.rmtree(location.directory, ignore_errors=True)

    @contextmanager
    def writer_lock(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """One writer at a time on the base, whichever server or CLI it runs in."""
        with self._database() as database, database.writer_lock(on_wait):
            yield

    def open_generation(
        self,
        location: IndexLocation,
        description: dict[str, Any],
        sentence_vectors: bool,
        check: Callable[[dict[str, Any]], None],
    ) -> GenerationStores:
        """Registry and vectors in the generation's schema, on a handle held until ``close``."""
        database = self.connect()
        try:
            schema = generation_schema(location.generation)
            registry = PgRegistry(database, schema)
            check(registry.info())
            vectors = PgVectorStore(database, schema, description)
            check(vectors.description)
            sentences = None
            if sentence_vectors:
                sentences = PgVectorStore(database, schema, description, table=f"{SENTENCE_STORE}_vectors")
            local_cache = self.data_dir / "cache" / registry.base_id()
            kept_files = PgFiles(database)
        except BaseException:
            database.close()
            raise
        return GenerationStores(
            registry,
            vectors,
            sentences,
            local_cache / location.generation / "lexical",
            True,
            local_cache,
            kept_files,
            close=database.close,
        )

    @contextmanager
    def _registry_of(self, location: IndexLocation) -> Iterator[PgRegistry | None]:
        with self._database() as database:
            schema = generation_schema(location.generation)
            present = database.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
            yield PgRegistry(database, schema) if present else None

    # -- health --------------------------------------------------------------------------------

    def write_problem(self, location: IndexLocation) -> str | None:
        with self._database() as database:
            return None if database.writable() else "base PostgreSQL en lecture seule"

    def require_writable(self) -> None:
        """``StorageReadOnly`` before a batch of writes rather than one failure per file."""
        with self._database() as database:
            database.require_writable()

    def describe(self) -> str:
        return describe_url(self.url)

    def describe_location(self, location: IndexLocation) -> str:
        return f"{describe_url(self.url)} (schéma {generation_schema(location.generation)})"

    def vector_store_name(self) -> str:
        return "PostgreSQL (pgvector)"

    def public_vector_store_name(self) -> str:
        return self.vector_store_name()

    # -- side stores ---------------------------------------------------------------------------

    def key_store(self) -> PgKeyStore:
        return PgKeyStore(self.connect)

    def partner_store(self) -> PgPartnerStore:
        """Connects on first use: the app builds it before the database may be up."""
        return PgPartnerStore(self.connect, refresh_seconds=self.partners_refresh_s)

    def proposal_store(self) -> PgProposalStore:
        return PgProposalStore(self.connect)

    def question_log(self, clock: Clock = utc_now) -> PgQuestionLog:
        """Purged at opening."""
        return PgQuestionLog(self.connect, self.query_log_days, clock=clock)

    def audit_log(self) -> PgAuditLog:
        return PgAuditLog(self.connect)

    def rapprochement_store(self) -> PgRapprochementStore:
        return PgRapprochementStore(self.connect)
