"""The backends every contract suite of tests/kb/storage runs against (haystack's way): one
``test_<kind>_contract.py`` per Protocol of ``kb/storage/protocols.py``, each test run on every
backend, which must behave the same.

``store_settings`` (tests/conftest.py's, with the backends' names as ids) and the ``backend``
opened on it are parametrised over the embedded base (the data directory) and a fresh PostgreSQL
database on the session's server: a test takes one or the other, and so runs once per backend.
``generation``: the stores of the backend's first generation (registry and vectors), opened as
a KnowledgeIndex opens them. ``vector_store``: the vectors of a first generation on embedded
Chroma, a Chroma server and PostgreSQL (as tests/kb/index/test_index_contract.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kb.core.settings import Settings
from kb.storage.backend import open_backend
from kb.storage.location import IndexLocation
from kb.storage.protocols import Backend, GenerationStores, Registry, VectorStore

BACKENDS = ("embedded", "postgres")
VECTOR_BACKENDS = ("embedded", "chroma-server", "postgres")
DIMENSION = 8
# What a KnowledgeIndex records of itself (kb/index/knowledge_index.py), for a model of 8 dimensions.
DESCRIPTION: dict[str, Any] = {
    "embedding_model": "contrat/modele-8",
    "dimension": DIMENSION,
    "chunking_chunker": "test",
    "chunking_max_chars": 1000,
}


def accept_any(recorded: dict[str, Any]) -> None:
    """An ``open_generation`` check that refuses nothing."""


def close_stores(stores: GenerationStores) -> None:
    """Close a generation's stores as KnowledgeIndex.close does."""
    for store in (stores.sentence_vectors, stores.vectors, stores.registry):
        if store is not None:
            store.close()
    stores.close()


@dataclass
class Generation:
    """A generation opened on a backend; ``reopen`` opens it again (as another process would)."""

    backend: Backend
    location: IndexLocation
    opened: list[GenerationStores] = field(default_factory=list)

    @property
    def stores(self) -> GenerationStores:
        return self.opened[0]

    @property
    def registry(self) -> Registry:
        return self.stores.registry

    @property
    def vectors(self) -> VectorStore:
        return self.stores.vectors

    def reopen(
        self,
        description: dict[str, Any] | None = None,
        check: Callable[[dict[str, Any]], None] = accept_any,
        sentence_vectors: bool = False,
    ) -> GenerationStores:
        stores = self.backend.open_generation(self.location, description or DESCRIPTION, sentence_vectors, check)
        self.opened.append(stores)
        return stores


@contextmanager
def first_generation(backend: Backend) -> Iterator[Generation]:
    """The backend's current generation opened, closed and discarded at the end (a Chroma
    server's collections included)."""
    generation = Generation(backend, backend.current_location())
    generation.reopen()
    try:
        yield generation
    finally:
        for stores in reversed(generation.opened):
            close_stores(stores)
        backend.discard_generation(generation.location)


@pytest.fixture(params=BACKENDS)
def store_settings(request, tmp_path: Path) -> Settings:
    """Settings of a fresh base: the data directory alone (embedded), then a fresh PostgreSQL
    database (the data directory then holds only what a process derives from it)."""
    if request.param == "embedded":
        return Settings(data_dir=tmp_path / "data")
    return Settings(data_dir=tmp_path / "data", database_url=request.getfixturevalue("postgres_url"))


@pytest.fixture
def backend(store_settings: Settings) -> Backend:
    """The backend ``kb/storage/backend.py`` opens on ``store_settings`` (it connects to nothing yet)."""
    return open_backend(store_settings)


@pytest.fixture
def generation(backend: Backend) -> Iterator[Generation]:
    with first_generation(backend) as opened:
        yield opened


@pytest.fixture(params=VECTOR_BACKENDS)
def vector_generation(request, tmp_path: Path) -> Iterator[Generation]:
    """A first generation whose vectors are in embedded Chroma, on a Chroma server (a collection
    prefix of its own), or in PostgreSQL."""
    settings = Settings(
        data_dir=tmp_path / "data",
        chroma_url=request.getfixturevalue("chroma_server") if request.param == "chroma-server" else None,
        collection_prefix=f"t{uuid.uuid4().hex[:10]}",
        database_url=request.getfixturevalue("postgres_url") if request.param == "postgres" else None,
    )
    with first_generation(open_backend(settings)) as opened:
        yield opened


@pytest.fixture
def vector_store(vector_generation: Generation) -> VectorStore:
    return vector_generation.vectors
