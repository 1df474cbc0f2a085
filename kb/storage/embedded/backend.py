"""The embedded base: everything in the data directory (``KB_DATA_DIR``), for one process.

A generation is a directory named by the ``CURRENT`` file, holding the SQLite registry and the
Chroma collections (persistent, or on a ``chroma run`` server, ``KB_CHROMA_URL``); one writer
at a time holds ``data_dir/.write.lock``. The side stores are files beside it (``keys.json``,
``partners.json``, ``proposals.sqlite``, ``questions.sqlite``, ``audit.jsonl``,
``rapprochements.sqlite``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kb.core.clock import utc_now
from kb.core.errors import StorageReadOnly
from kb.core.files import storage_error
from kb.records.questions import Clock
from kb.storage.embedded.audit import AuditLog
from kb.storage.embedded.chroma import drop_collection, open_vector_store
from kb.storage.embedded.keys import KeyStore
from kb.storage.embedded.partners import PartnerStore
from kb.storage.embedded.proposals import ProposalStore
from kb.storage.embedded.querylog import QuestionLog
from kb.storage.embedded.rapprochements import RapprochementStore
from kb.storage.embedded.registry import Registry
from kb.storage.location import FIRST_GENERATION, SENTENCE_STORE, IndexLocation
from kb.storage.protocols import GenerationStores
from kb.storage.registry_snapshots import GenerationRecords

CURRENT_FILE = "CURRENT"
# /health says writing is degraded below this room left in the data directory: a document's
# file, its sidecar, the registry's and the vector store's pages would not fit much longer.
MIN_FREE_BYTES = 16 * 1_048_576
REGISTRY_FILE = "registry.sqlite3"


class EmbeddedBackend(GenerationRecords):
    name = "embedded"
    shared = False

    def __init__(self, data_dir: Path, chroma_url: str | None, collection_prefix: str, query_log_days: int) -> None:
        self.data_dir = data_dir
        self.chroma_url = chroma_url
        self.collection_prefix = collection_prefix
        self.query_log_days = query_log_days

    # -- generations and the writer lock -------------------------------------------------------

    def current_location(self) -> IndexLocation:
        pointer = self.data_dir / CURRENT_FILE
        if pointer.exists():
            return IndexLocation(self.data_dir, pointer.read_text().strip())
        return IndexLocation(self.data_dir, FIRST_GENERATION)

    def has_current(self) -> bool:
        """Whether a generation was ever named current (the first index opened names itself)."""
        return (self.data_dir / CURRENT_FILE).exists()

    def next_location(self) -> IndexLocation:
        return self.current_location().following()

    def is_current(self, location: IndexLocation) -> bool:
        """Always: only the process that holds this base switches its generations."""
        return True

    def switch_current(self, location: IndexLocation) -> None:
        location.data_dir.mkdir(parents=True, exist_ok=True)
        pointer = location.data_dir / CURRENT_FILE
        temporary = pointer.with_suffix(".tmp")
        temporary.write_text(location.generation + "\n")
        os.replace(temporary, pointer)

    def discard_generation(self, location: IndexLocation) -> None:
        """Delete a generation: its collections (on a server) and its directory."""
        if self.chroma_url:
            name = location.collection_name(self.collection_prefix)
            drop_collection(self.chroma_url, name)
            drop_collection(self.chroma_url, f"{name}-{SENTENCE_STORE}")
        shutil.rmtree(location.directory, ignore_errors=True)

    @contextmanager
    def writer_lock(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """One writer at a time on a base (ingest, remove, reindex, the API's writes);
        ``on_wait`` is called once when another writer holds it, before waiting."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            handle = open(self.data_dir / ".write.lock", "w")  # noqa: SIM115 - held across the yield
        except OSError as exc:
            raise storage_error(exc) or StorageReadOnly(
                f"impossible d'écrire dans le dossier de données ({exc.strerror or exc}) : vérifiez KB_DATA_DIR."
            ) from exc
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None:
                    on_wait()
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def open_generation(
        self,
        location: IndexLocation,
        description: dict[str, Any],
        sentence_vectors: bool,
        check: Callable[[dict[str, Any]], None],
    ) -> GenerationStores:
        directory = location.directory
        directory.mkdir(parents=True, exist_ok=True)
        registry = Registry(directory / REGISTRY_FILE)
        name = location.collection_name(self.collection_prefix)
        try:
            check(registry.info())
            vectors = open_vector_store(self.chroma_url, directory / "chroma", name, description)
            check(vectors.description)
            sentences = None
            if sentence_vectors:
                sentences = open_vector_store(
                    self.chroma_url, directory / "chroma", f"{name}-{SENTENCE_STORE}", description
                )
        except BaseException:
            registry.close()
            raise
        return GenerationStores(
            registry, vectors, sentences, directory / "lexical", False, None, None, close=lambda: None
        )

    @contextmanager
    def _registry_of(self, location: IndexLocation) -> Iterator[Registry | None]:
        path = location.directory / REGISTRY_FILE
        if not path.exists():
            yield None
            return
        registry = Registry(path)
        try:
            yield registry
        finally:
            registry.close()

    # -- health --------------------------------------------------------------------------------

    def write_problem(self, location: IndexLocation) -> str | None:
        writable = os.access(location.directory, os.W_OK) and os.access(self.data_dir, os.W_OK)
        if not writable:
            return "dossier de données en lecture seule"
        try:
            disk = os.statvfs(self.data_dir)
        except OSError:
            return None  # nothing known about the room left: the writes will tell
        free = disk.f_bavail * disk.f_frsize
        if free < MIN_FREE_BYTES:
            megabytes = f"{free / 1_048_576:.1f}".replace(".", ",")
            return f"espace disque insuffisant ({megabytes} Mo libres dans le dossier de données)"
        if disk.f_files and not disk.f_favail:
            return "espace disque insuffisant (plus aucun fichier ne peut être créé dans le dossier de données)"
        return None

    def require_writable(self) -> None:
        """Nothing to check ahead: a read-only directory fails the writer lock, in French."""

    def describe(self) -> str:
        return f"le dossier {self.data_dir}"

    def describe_location(self, location: IndexLocation) -> str:
        return str(location.directory.resolve())

    def vector_store_name(self) -> str:
        return self.chroma_url or "chroma (persistant, local)"

    def public_vector_store_name(self) -> str:
        """The vector store as anyone may read it (a server's address is not shown)."""
        return "chroma (serveur)" if self.chroma_url else "chroma (persistant, local)"

    # -- side stores ---------------------------------------------------------------------------

    def key_store(self) -> KeyStore:
        return KeyStore(self.data_dir / "keys.json")

    def partner_store(self) -> PartnerStore:
        return PartnerStore(self.data_dir / "partners.json")

    def proposal_store(self) -> ProposalStore:
        return ProposalStore(self.data_dir / "proposals.sqlite")

    def question_log(self, clock: Clock = utc_now) -> QuestionLog:
        """Purged at opening."""
        return QuestionLog(self.data_dir / "questions.sqlite", self.query_log_days, clock=clock)

    def audit_log(self) -> AuditLog:
        return AuditLog(self.data_dir / "audit.jsonl")

    def rapprochement_store(self) -> RapprochementStore:
        return RapprochementStore(self.data_dir / "rapprochements.sqlite")
