"""The Backend contract on every backend (``backend``: the data directory, then PostgreSQL): the
generations of the index and the pointer to the current one, the writer lock, what a generation
records, the health of a writable base, and the stores of a generation, refused through ``check``
before anything is opened on a description it refuses. Each kind of store: its own
``test_<kind>_contract.py``."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from kb.core.errors import IndexMismatchError
from kb.core.models import Chunk, DocumentMetadata
from kb.storage import protocols
from kb.storage.backend import is_shared, open_backend
from kb.storage.location import FIRST_GENERATION, IndexLocation
from tests.kb.storage.conftest import DESCRIPTION, DIMENSION, accept_any, close_stores


def _write(registry, doc_id: str, source_path: str | None) -> None:
    metadata = DocumentMetadata(doc_id=doc_id, title=doc_id.title(), source_path=source_path)
    registry.replace_document(metadata, "v1", doc_id, [Chunk(doc_id, 0, doc_id, 0, len(doc_id))])


def test_each_backend_is_a_backend(backend, store_settings):
    assert isinstance(backend, protocols.Backend)
    assert backend.shared == is_shared(store_settings) and backend.name in ("embedded", "postgresql")


def test_a_base_never_opened_can_name_its_first_generation(backend):
    """``kb migrate`` or a rebuild may switch before anything else wrote in the data directory."""
    first = backend.current_location()
    backend.switch_current(first)
    assert backend.has_current() and backend.current_location() == first


def test_a_new_base_has_no_current_generation_until_one_is_switched_to(backend, store_settings):
    """Opened first, then switched to, as KnowledgeIndex does (the embedded base writes its
    pointer in the data directory the opening made)."""
    data_dir = store_settings.data_dir
    assert not backend.has_current()
    first = backend.current_location()
    assert first == IndexLocation(data_dir, FIRST_GENERATION) and backend.is_current(first)
    close_stores(backend.open_generation(first, DESCRIPTION, False, accept_any))
    assert not backend.has_current(), "opening a generation does not make it current"
    assert backend.next_location() == IndexLocation(data_dir, "gen-0002")
    backend.switch_current(first)
    assert backend.has_current() and backend.current_location() == first
    backend.switch_current(backend.next_location())
    assert backend.current_location() == IndexLocation(data_dir, "gen-0002")
    assert backend.next_location() == IndexLocation(data_dir, "gen-0003")
    assert backend.is_current(backend.current_location())
    other = open_backend(store_settings)  # another process on the same base
    assert other.has_current() and other.current_location() == IndexLocation(data_dir, "gen-0002")


def test_a_generation_records_its_description_and_its_documents_source_files(generation):
    backend, location, registry = generation.backend, generation.location, generation.registry
    assert backend.recorded_description(location) == {} and backend.source_paths(location) == []
    registry.set_info(DESCRIPTION)
    _write(registry, "b", "documents/a.md")
    _write(registry, "a", "documents/z.md")
    _write(registry, "c", None)  # a document written through the API keeps no source file
    assert backend.recorded_description(location) == DESCRIPTION
    assert backend.source_paths(location) == ["documents/z.md", "documents/a.md"], "in the order of the ids"
    never_opened = location.following()
    assert backend.recorded_description(never_opened) == {} and backend.source_paths(never_opened) == []


def test_a_generation_gives_its_calibration_records_without_being_opened(generation):
    backend, location, registry = generation.backend, generation.location, generation.registry
    assert backend.stored_calibration(location) is None
    records = [{"model": "m", "reranker": None, "values": {"answer_min_score": 0.9}}]
    registry.set_calibration(records)
    assert backend.stored_calibration(location) == records
    assert backend.stored_calibration(location.following()) is None


def test_a_discarded_generation_leaves_nothing_and_the_current_one_untouched(generation):
    backend, current = generation.backend, generation.location
    _write(generation.registry, "a", "documents/a.md")
    backend.switch_current(current)
    rebuilt = backend.next_location()
    stores = backend.open_generation(rebuilt, DESCRIPTION, True, accept_any)
    try:
        stores.registry.set_info(DESCRIPTION)
        _write(stores.registry, "b", "documents/b.md")
        stores.vectors.add(["b::v1::0000"], np.eye(1, DIMENSION), ["b"], [{"doc_id": "b", "version": "v1"}])
    finally:
        close_stores(stores)
    assert backend.source_paths(rebuilt) == ["documents/b.md"]
    backend.discard_generation(rebuilt)
    assert backend.recorded_description(rebuilt) == {} and backend.source_paths(rebuilt) == []
    assert not rebuilt.directory.exists()
    assert backend.current_location() == current and backend.source_paths(current) == ["documents/a.md"]
    reopened = backend.open_generation(rebuilt, DESCRIPTION, False, accept_any)
    try:
        assert reopened.registry.counts() == (0, 0) and reopened.vectors.count() == 0, "made anew"
    finally:
        close_stores(reopened)
        backend.discard_generation(rebuilt)


def test_the_writer_lock_is_exclusive(backend, store_settings):
    """A second writer (another process: a backend of its own on the same base) waits until the
    first lets the lock go, then holds it."""
    other = open_backend(store_settings)
    holding = threading.Event()

    def second_writer() -> None:
        with other.writer_lock():
            holding.set()

    with backend.writer_lock():
        thread = threading.Thread(target=second_writer, daemon=True)
        thread.start()
        assert not holding.wait(0.3), "the second writer waits"
    assert holding.wait(10), "then gets the lock"
    thread.join(10)
    assert not thread.is_alive()
    with backend.writer_lock():  # and lets it go
        pass


def test_a_writer_that_must_wait_is_told_once_and_a_free_lock_tells_nothing(backend, store_settings):
    other = open_backend(store_settings)
    told: list[str] = []
    holding = threading.Event()
    with backend.writer_lock(on_wait=lambda: told.append("first")):
        assert told == [], "a free lock makes nobody wait"

        def second_writer() -> None:
            with other.writer_lock(on_wait=lambda: told.append("second")):
                holding.set()

        thread = threading.Thread(target=second_writer, daemon=True)
        thread.start()
        for _ in range(100):  # until the second writer has found the lock taken
            if told:
                break
            threading.Event().wait(0.05)
        assert told == ["second"] and not holding.is_set()
    assert holding.wait(10)
    thread.join(10)
    assert told == ["second"]


def test_a_writable_base_reports_no_write_problem(generation):
    assert generation.backend.write_problem(generation.location) is None
    assert generation.backend.require_writable() is None


def test_a_backend_describes_its_base_and_its_generations(backend, store_settings):
    described = backend.describe()
    if store_settings.database is None:
        assert str(store_settings.data_dir) in described
    else:
        database = store_settings.database.partition("?")[0].rsplit("/", 1)[1]
        assert described.startswith("postgresql://") and described.endswith(f"/{database}")
    location = backend.current_location()
    assert "gen_0001" in backend.describe_location(location).replace("-", "_")
    assert backend.vector_store_name() and backend.public_vector_store_name()


def test_the_public_name_of_the_vector_store_shows_no_server_address(store_settings):
    with_server = open_backend(store_settings.model_copy(update={"chroma_url": "http://chroma.interne:8123"}))
    public = with_server.public_vector_store_name()
    assert public and "chroma.interne" not in public and "8123" not in public


def test_a_generation_gives_its_registry_and_vector_stores(backend, store_settings, generation):
    stores = generation.stores
    assert isinstance(stores.registry, protocols.Registry) and isinstance(stores.vectors, protocols.VectorStore)
    assert stores.sentence_vectors is None, "none asked"
    assert stores.shared == backend.shared and (stores.local_cache is not None) == backend.shared
    assert isinstance(stores.lexical_dir, Path) and store_settings.data_dir in stores.lexical_dir.parents
    assert stores.kept_files is None or isinstance(stores.kept_files, protocols.KeptFiles)
    sentences = generation.reopen(sentence_vectors=True).sentence_vectors
    assert isinstance(sentences, protocols.VectorStore) and sentences.description == DESCRIPTION
    sentences.add(["a::v1::0000:00"], np.eye(1, DIMENSION), ["a"], [{"doc_id": "a", "version": "v1"}])
    assert sentences.count() == 1 and stores.vectors.count() == 0, "a store apart"


def test_check_sees_the_registry_description_then_the_vector_store_one(generation):
    backend, location = generation.backend, generation.location
    fresh = backend.next_location()
    seen: list[dict] = []
    close_stores(backend.open_generation(fresh, DESCRIPTION, False, seen.append))
    backend.discard_generation(fresh)
    assert seen == [{}, DESCRIPTION], "a new generation: no description recorded, its vectors made with the one given"
    generation.registry.set_info(DESCRIPTION)
    seen.clear()
    generation.reopen({**DESCRIPTION, "embedding_model": "autre"}, check=seen.append)
    assert seen == [DESCRIPTION, DESCRIPTION], "what each store recorded, not what the opener asks"
    assert backend.current_location() == location


def _refusing(wanted: dict, seen: list):
    def check(recorded: dict) -> None:
        seen.append(recorded)
        if recorded and recorded != wanted:
            raise IndexMismatchError("index construit avec un autre modèle")

    return check


def test_open_generation_refuses_through_check_before_opening_the_next_store(generation):
    other = {**DESCRIPTION, "embedding_model": "autre"}
    seen: list[dict] = []
    with pytest.raises(IndexMismatchError):  # the vectors' description, the registry recording none
        generation.reopen(other, check=_refusing(other, seen))
    assert seen == [{}, DESCRIPTION]
    generation.registry.set_info(DESCRIPTION)
    seen.clear()
    with pytest.raises(IndexMismatchError):  # the registry's, before the vector store is opened
        generation.reopen(other, check=_refusing(other, seen))
    assert seen == [DESCRIPTION]
    seen.clear()
    stores = generation.reopen(check=_refusing(DESCRIPTION, seen))  # nothing left half-open
    assert seen == [DESCRIPTION, DESCRIPTION] and stores.registry.info() == DESCRIPTION
