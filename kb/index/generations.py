"""Where the index lives and who may write it: its *generations* and the writer lock, on
either backend.

Embedded: a generation is a directory under ``data_dir`` (``gen-0001``…) named by the
``CURRENT`` file, and one writer at a time holds ``data_dir/.write.lock``. PostgreSQL
(``KB_DATABASE_URL``): a generation is a schema (``kb_gen_0001``…) named by the
``kb_generation`` row, and the writer lock is an advisory lock held by every server and CLI on
the base. ``kb reindex`` builds the next generation beside the current one and switches the
pointer atomically once it is complete, so a failed rebuild leaves the old index untouched.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kb.core.errors import StorageReadOnly
from kb.core.settings import Settings

CURRENT_FILE = "CURRENT"
FIRST_GENERATION = "gen-0001"


@dataclass(frozen=True)
class IndexLocation:
    data_dir: Path
    generation: str

    @property
    def directory(self) -> Path:
        """The generation's directory (embedded), or its local caches (PostgreSQL)."""
        return self.data_dir / self.generation

    def collection_name(self, prefix: str) -> str:
        return f"{prefix}-{self.generation}"


@contextmanager
def _database(settings: Settings):
    from kb.storage.postgres.database import open_database

    database = open_database(settings.database, settings.database_pool_size, settings.database_timeout_s)
    try:
        yield database
    finally:
        database.close()


def current_location(settings: Settings) -> IndexLocation:
    if settings.database:
        with _database(settings) as database:
            return IndexLocation(settings.data_dir, database.current_generation() or FIRST_GENERATION)
    pointer = settings.data_dir / CURRENT_FILE
    if pointer.exists():
        return IndexLocation(settings.data_dir, pointer.read_text().strip())
    return IndexLocation(settings.data_dir, FIRST_GENERATION)


def has_current(settings: Settings) -> bool:
    """Whether a generation was ever named current (the first index opened names itself)."""
    if settings.database:
        with _database(settings) as database:
            return database.current_generation() is not None
    return (settings.data_dir / CURRENT_FILE).exists()


def next_location(settings: Settings) -> IndexLocation:
    number = int(current_location(settings).generation.split("-")[1]) + 1
    return IndexLocation(settings.data_dir, f"gen-{number:04d}")


def switch_current(settings: Settings, location: IndexLocation) -> None:
    if settings.database:
        with _database(settings) as database:
            database.switch_generation(location.generation)
        return
    pointer = location.data_dir / CURRENT_FILE
    temporary = pointer.with_suffix(".tmp")
    temporary.write_text(location.generation + "\n")
    os.replace(temporary, pointer)


def discard_generation(settings: Settings, location: IndexLocation) -> None:
    """Delete a generation: its schema, its collection, its files (after a switch or a failed build)."""
    if settings.database:
        with _database(settings) as database:
            database.drop_generation(location.generation)
    elif settings.chroma_url:
        from kb.index.sentence_vectors import STORE_SUFFIX
        from kb.storage.embedded.chroma import drop_collection

        name = location.collection_name(settings.collection_prefix)
        drop_collection(settings.chroma_url, name)
        drop_collection(settings.chroma_url, f"{name}-{STORE_SUFFIX}")
    shutil.rmtree(location.directory, ignore_errors=True)


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """One writer at a time on a base (ingest, remove, reindex, the API's writes)."""
    if settings.database:
        with _database(settings) as database, database.writer_lock():
            yield
        return
    data_dir = settings.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handle = open(data_dir / ".write.lock", "w")
    except OSError as exc:
        raise StorageReadOnly(
            f"impossible d'écrire dans le dossier de données ({exc.strerror or exc}) : vérifiez KB_DATA_DIR."
        ) from exc
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def source_paths(settings: Settings, location: IndexLocation) -> list[str]:
    """The source files of a generation's documents (what `kb reindex` reads again)."""
    if settings.database:
        from kb.storage.postgres.database import generation_schema
        from kb.storage.postgres.registry import PgRegistry

        with _database(settings) as database:
            schema = generation_schema(location.generation)
            present = database.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
            if not present:
                return []
            registry = PgRegistry(database, schema)
            return [doc.metadata.source_path for doc in registry.documents() if doc.metadata.source_path]
    from kb.storage.embedded.registry import Registry

    registry_path = location.directory / "registry.sqlite3"
    if not registry_path.exists():
        return []
    registry = Registry(registry_path)
    try:
        return [doc.metadata.source_path for doc in registry.documents() if doc.metadata.source_path]
    finally:
        registry.close()
