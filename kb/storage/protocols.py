"""What every storage backend provides: one Protocol per kind of store (haystack's way).

Callers annotate with these, never with a backend's class. A new backend implements each of
them under the same file name (``embedded/keys.py`` ↔ ``postgres/keys.py``) and passes the
contract suite of each kind (``tests/kb/storage/test_<kind>_contract.py``). A new method is
added to the Protocol first, then to every implementation.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from kb.core.clock import utc_now
from kb.core.models import Chunk, DocumentMetadata, Scope, StoredDocument, StoredFile
from kb.records.keys import Actor, ApiKey
from kb.records.partners import Partner
from kb.records.proposals import ANY_PROPOSAL, OPEN, Expected, Proposal
from kb.records.questions import Clock, Feedback, LoggedQuestion, Period
from kb.records.rapprochements import PairMark
from kb.storage.copy import StoreDump
from kb.storage.location import IndexLocation

# A write run inside the registry's switch transaction, given its connection.
Alongside = Callable[[Any], None]
# An unsettled entry of a registry meaning "any vector may be an orphan": written when the
# journal is created, since a registry older than it cannot say which writes were interrupted.
EVERY_DOCUMENT = "*"


@runtime_checkable
class Copyable(Protocol):
    """What ``kb migrate`` copies a side store with (``kb/storage/copy.py``)."""

    def dump(self) -> StoreDump: ...

    def restore(self, dump: StoreDump) -> None: ...

    def undo_restore(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class KeyStore(Copyable, Protocol):
    """The API keys, kept as digests."""

    def create(self, name: str, role: str = ...) -> str: ...

    def list(self) -> builtins.list[ApiKey]: ...

    def revoke(self, name: str) -> None: ...

    def verify(self, presented: str) -> Actor | None: ...


@runtime_checkable
class PartnerStore(Copyable, Protocol):
    """The partner sites allowed to call the API from a browser."""

    def add(self, origin: str, name: str, actor: str) -> Partner: ...

    def list(self) -> builtins.list[Partner]: ...

    def origins(self) -> frozenset[str]: ...

    def remove(self, origin: str) -> Partner: ...

    def replace_all(self, partners: builtins.list[Partner]) -> None: ...


@runtime_checkable
class ProposalStore(Copyable, Protocol):
    """The documents submitted by contributors, waiting for coordination."""

    def count(self, statuses: tuple[str, ...] = OPEN) -> int: ...

    def get(self, doc_id: str) -> Proposal | None: ...

    def list(self, status: str | None = None, submitted_by: str | None = None) -> builtins.list[Proposal]: ...

    def put(self, proposal: Proposal, expected: Expected = ANY_PROPOSAL) -> None: ...

    def remove(self, doc_id: str) -> None: ...

    def set_status(self, proposal: Proposal, status: str, comment: str | None) -> Proposal: ...


@runtime_checkable
class RapprochementStore(Copyable, Protocol):
    """The coordinator's marks on pairs of documents of different sectors (kb/records/rapprochements.py)."""

    def get(self, a: str, b: str) -> PairMark | None: ...

    def list(self) -> builtins.list[PairMark]: ...

    def put(self, mark: PairMark) -> None: ...

    def remove(self, a: str, b: str) -> bool: ...


@runtime_checkable
class QuestionLog(Copyable, Protocol):
    """What practitioners asked and said, kept for a bounded time."""

    def purge(self) -> int: ...

    def questions(self, period: Period) -> list[LoggedQuestion]: ...

    def feedback(self, period: Period, useful: bool | None = None) -> list[Feedback]: ...

    def record(
        self, kind: str, question: str, filters: dict, found: bool, doc_ids: list[str], channel: str
    ) -> None: ...

    def record_feedback(
        self, question: str, useful: bool, comment: str | None, doc_ids: list[str], channel: str
    ) -> None: ...


@runtime_checkable
class AuditLog(Copyable, Protocol):
    """Who added, changed or removed what, and when."""

    def entries(self, doc_id: str | None = None) -> list[dict]: ...

    def last_entries(self) -> dict[str, dict]: ...

    def record(self, actor: str, action: str, doc_id: str, **details: Any) -> None: ...


@runtime_checkable
class Registry(Protocol):
    """Which version of each document is current: the index's source of truth."""

    def info(self) -> dict[str, Any]: ...

    def set_info(self, values: dict[str, Any]) -> None: ...

    def calibration(self) -> Any: ...

    def set_calibration(self, value: Any) -> None: ...

    def revision(self) -> int: ...

    def changed_since(self, revision: int) -> tuple[set[str], int] | None: ...

    def counts(self) -> tuple[int, int]: ...

    def get_document(self, doc_id: str) -> StoredDocument | None: ...

    def documents(self) -> Iterator[StoredDocument]: ...

    def document_text(self, doc_id: str) -> str | None: ...

    def doc_ids_for_source(self, source_path: str) -> list[str]: ...

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]: ...

    def lexical_rows(self, doc_ids: Iterable[str] | None = None) -> Iterator[tuple[str, str, str, str, str, str]]: ...

    def versions(self) -> dict[str, str]: ...

    def snapshot(self) -> tuple[dict[str, StoredDocument], dict[str, str]]: ...

    def revisioned_snapshot(self) -> tuple[int, dict[str, StoredDocument]]: ...

    def replace_document(
        self,
        metadata: DocumentMetadata,
        version: str,
        text: str,
        chunks: list[Chunk],
        alongside: Alongside | None = None,
    ) -> None: ...

    def delete_document(self, doc_id: str, alongside: Alongside | None = None) -> bool: ...

    def mark_unsettled(self, doc_ids: Iterable[str]) -> None: ...

    def mark_settled(self, doc_ids: Iterable[str]) -> None: ...

    def unsettled(self) -> set[str]: ...

    def close(self) -> None: ...


@runtime_checkable
class VectorStore(Protocol):
    """Vectors by chunk id, with the metadata a scope filters on."""

    @property
    def description(self) -> dict[str, Any]:
        """The model and chunking the vectors were computed with, as recorded."""
        ...

    def add(
        self,
        ids: Sequence[str],
        embeddings: np.ndarray,
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None: ...

    def query(self, embedding: np.ndarray, n_results: int, scope: Scope | None = None) -> list[tuple[str, float]]: ...

    def count(self) -> int: ...

    def embeddings(self, doc_id: str, version: str) -> np.ndarray: ...

    def embeddings_of(self, versions: dict[str, str]) -> dict[str, np.ndarray]: ...

    def vectors_by_id(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray]: ...

    def versions_by_chunk(self) -> dict[str, tuple[str, str]]: ...

    def versions_by_chunk_of(self, doc_ids: Iterable[str]) -> dict[str, tuple[str, str]]: ...

    def delete_document(self, doc_id: str, keep_version: str | None = None) -> None: ...

    def delete_ids(self, ids: Sequence[str]) -> None: ...

    def bulk_load(self) -> AbstractContextManager[None]: ...

    def drop(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class KeptFiles(Protocol):
    """The documents' original files, kept by a shared backend beside its registry: ``kb
    reindex`` and any server rebuild from the backend alone. ``put_in`` and ``delete_in`` give
    a write to run in the registry's switch transaction (an ``Alongside``)."""

    @staticmethod
    def put_in(stored: StoredFile) -> Alongside: ...

    @staticmethod
    def delete_in(doc_id: str) -> Alongside: ...

    def get(self, doc_id: str) -> StoredFile | None: ...

    def has(self, doc_id: str) -> bool: ...

    def has_source(self, source_path: str) -> bool: ...

    def source_paths(self) -> set[str]: ...

    def versions(self) -> dict[str, str]: ...

    def files(self, doc_ids: list[str]) -> Iterator[StoredFile]: ...


@dataclass
class GenerationStores:
    """What one generation of the index is stored in, opened together by a backend."""

    registry: Registry
    vectors: VectorStore
    sentence_vectors: VectorStore | None  # None: the index keeps no sentence vectors
    lexical_dir: Path  # where the lexical index derived from the registry is saved
    shared: bool  # several processes read and write the registry (the lexical index follows it)
    local_cache: Path | None  # what this process derives from a shared generation
    kept_files: KeptFiles | None  # the originals kept with the registry (``postgres/files.py``), if any
    close: Callable[[], None]


@runtime_checkable
class Backend(Protocol):
    """A whole base: where its generations, writer lock and side stores live.

    ``kb/storage/backend.py`` chooses one from the settings; everything else receives it."""

    name: str  # "embedded" or "postgresql"
    shared: bool  # several processes (servers, CLI) may use the base at once

    # -- generations of the index and the writer lock ------------------------------------------

    def current_location(self) -> IndexLocation: ...

    def has_current(self) -> bool: ...

    def next_location(self) -> IndexLocation: ...

    def is_current(self, location: IndexLocation) -> bool: ...

    def switch_current(self, location: IndexLocation) -> None: ...

    def discard_generation(self, location: IndexLocation) -> None: ...

    def writer_lock(self, on_wait: Callable[[], None] | None = None) -> AbstractContextManager[None]:
        """One writer at a time on the base; ``on_wait`` is called once if another holds it."""
        ...

    def open_generation(
        self,
        location: IndexLocation,
        description: dict[str, Any],
        sentence_vectors: bool,
        check: Callable[[dict[str, Any]], None],
    ) -> GenerationStores:
        """The stores of a generation; ``check`` refuses a recorded description (the registry's,
        then the vector store's) before anything else is opened on it."""
        ...

    def recorded_description(self, location: IndexLocation) -> dict[str, Any]: ...

    def source_paths(self, location: IndexLocation) -> list[str]: ...

    def stored_calibration(self, location: IndexLocation) -> Any: ...

    # -- health --------------------------------------------------------------------------------

    def write_problem(self, location: IndexLocation) -> str | None: ...

    def require_writable(self) -> None: ...

    def describe(self) -> str: ...

    def describe_location(self, location: IndexLocation) -> str: ...

    def vector_store_name(self) -> str: ...

    def public_vector_store_name(self) -> str:
        """The vector store as anyone may read it (no server address)."""
        ...

    # -- side stores ---------------------------------------------------------------------------

    def key_store(self) -> KeyStore: ...

    def partner_store(self) -> PartnerStore: ...

    def proposal_store(self) -> ProposalStore: ...

    def question_log(self, clock: Clock = utc_now) -> QuestionLog: ...

    def audit_log(self) -> AuditLog: ...

    def rapprochement_store(self) -> RapprochementStore: ...
