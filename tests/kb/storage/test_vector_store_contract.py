"""The VectorStore contract on every vector backend (``vector_store``: embedded Chroma, a Chroma
server, PostgreSQL with pgvector), with small hand-made vectors of 8 dimensions: the nearest by
cosine first, the vectors of a document version in chunk order, the scopes filtered inside the
search, and deletions by document, version or id."""

from __future__ import annotations

import numpy as np
import pytest

from kb.core.models import Scope, chunk_id
from kb.storage import protocols
from tests.kb.storage.conftest import DESCRIPTION, DIMENSION


def unit(*values: float) -> np.ndarray:
    """A unit vector of ``DIMENSION`` from its first coordinates."""
    vector = np.zeros(DIMENSION, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


E = np.eye(DIMENSION, dtype=np.float32)  # E[i]: the unit vector of axis i


def add(store, doc_id: str, version: str, vectors, doc_type: str = "fiche méthode", sector: str | None = "social"):
    """A document version's vectors, as KnowledgeIndex.upsert_many adds them; their chunk ids."""
    vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, DIMENSION)
    ids = [chunk_id(doc_id, version, n) for n in range(len(vectors))]
    metadatas = [
        {
            "doc_id": doc_id,
            "version": version,
            "chunk_index": n,
            "start": n * 100,
            "end": n * 100 + 50,
            "section": "Contexte",
            "page": None,
            "doc_type": doc_type,
            "sector": sector,
        }
        for n in range(len(vectors))
    ]
    store.add(ids, vectors, [f"{doc_id} {n}" for n in range(len(vectors))], metadatas)
    return ids


def ids_of(hits: list[tuple[str, float]]) -> list[str]:
    return [chunk for chunk, _ in hits]


def test_each_backend_gives_a_vector_store(vector_store):
    assert isinstance(vector_store, protocols.VectorStore)


def test_a_new_store_is_empty_and_keeps_the_description_it_was_made_with(vector_generation):
    store = vector_generation.vectors
    assert store.description == DESCRIPTION
    assert store.count() == 0 and store.query(E[0], 5) == []
    assert store.versions_by_chunk() == {} and store.versions_by_chunk_of(["a"]) == {}
    found, vectors = store.vectors_by_id(["a::v1::0000"])
    assert found == [] and vectors.shape == (0, DIMENSION)
    reopened = vector_generation.reopen({**DESCRIPTION, "dimension": 16, "embedding_model": "autre"}).vectors
    assert reopened.description == DESCRIPTION, "what it was made with, not what the opener asks"


def test_the_query_gives_the_nearest_by_cosine_first_with_its_similarity(vector_store):
    add(vector_store, "loin", "v1", unit(-0.6, 0.8))
    add(vector_store, "a", "v1", E[0])
    add(vector_store, "c", "v1", unit(0.6, 0.8))
    add(vector_store, "orthogonal", "v1", E[1])
    add(vector_store, "b", "v1", unit(0.8, 0.6))
    hits = vector_store.query(E[0], 10)
    assert ids_of(hits) == ["a::v1::0000", "b::v1::0000", "c::v1::0000", "orthogonal::v1::0000", "loin::v1::0000"]
    assert [score for _, score in hits] == pytest.approx([1.0, 0.8, 0.6, 0.0, -0.6], abs=1e-5)
    assert all(isinstance(chunk, str) and isinstance(score, float) for chunk, score in hits)
    scaled = vector_store.query(E[0] * 3, 2)  # the query's norm does not matter
    assert ids_of(scaled) == ids_of(hits[:2]) and [s for _, s in scaled] == pytest.approx([1.0, 0.8], abs=1e-5)
    assert ids_of(vector_store.query(E[1], 1)) == ["orthogonal::v1::0000"]


def test_the_query_gives_at_most_what_is_stored_and_nothing_for_no_result_or_no_document(vector_store):
    add(vector_store, "a", "v1", [E[0], E[1]])
    assert len(vector_store.query(E[0], 50)) == 2
    assert vector_store.query(E[0], 0) == []
    assert vector_store.query(E[0], 5, Scope(doc_ids=())) == [], "a scope of no document admits none"


def test_a_scope_filters_inside_the_search_by_type_sector_and_document(vector_store):
    add(vector_store, "methode", "v1", E[0], doc_type="fiche méthode", sector="social")
    add(vector_store, "experience", "v1", unit(0.9, 0.1), doc_type="fiche expérience", sector="social")
    add(vector_store, "mobilite", "v1", unit(0.8, 0.2), doc_type="fiche expérience", sector="mobilité")
    add(vector_store, "sans-secteur", "v1", unit(0.7, 0.3), doc_type="fiche expérience", sector=None)
    add(vector_store, "guide", "v1", unit(0.6, 0.4), doc_type="guide", sector="mobilité")

    def scoped(scope: Scope, n: int = 10) -> list[str]:
        return [chunk.split("::")[0] for chunk in ids_of(vector_store.query(E[0], n, scope))]

    assert scoped(Scope()) == ["methode", "experience", "mobilite", "sans-secteur", "guide"]
    assert scoped(Scope(doc_types=("fiche expérience",))) == ["experience", "mobilite", "sans-secteur"]
    assert scoped(Scope(doc_types=("fiche expérience",)), 1) == ["experience"], "the nearest inside the scope"
    assert scoped(Scope(doc_types=("guide", "fiche méthode"))) == ["methode", "guide"]
    assert scoped(Scope(sectors=("mobilité",))) == ["mobilite", "guide"]
    assert scoped(Scope(doc_types=("fiche expérience",), sectors=("social", "mobilité"))) == ["experience", "mobilite"]
    assert scoped(Scope(doc_ids=("guide", "sans-secteur", "absent"))) == ["sans-secteur", "guide"]
    assert scoped(Scope(doc_types=("guide",), doc_ids=("methode",))) == []
    assert scoped(Scope(doc_types=("absent",))) == []


def test_adding_an_id_again_replaces_its_vector_and_metadata(vector_store):
    [chunk] = add(vector_store, "a", "v1", E[0], doc_type="guide")
    add(vector_store, "b", "v1", unit(0.9, 0.1))
    add(vector_store, "a", "v1", E[2], doc_type="fiche méthode")
    assert vector_store.count() == 2
    assert ids_of(vector_store.query(E[0], 1)) == ["b::v1::0000"]
    assert vector_store.query(E[2], 1) == [(chunk, pytest.approx(1.0, abs=1e-5))]
    assert ids_of(vector_store.query(E[2], 5, Scope(doc_types=("guide",)))) == []
    assert np.allclose(vector_store.embeddings("a", "v1"), [E[2]], atol=1e-6)


def test_the_vectors_of_a_version_come_in_chunk_order(vector_store):
    vectors = np.stack([unit(1, n + 1, -n) for n in range(12)])  # chunk ids …::0000 to …::0011
    ids = [chunk_id("a", "v1", n) for n in range(12)]
    order = [11, 2, 0, 7, 1, 10, 3, 9, 5, 4, 8, 6]
    metadatas = [{"doc_id": "a", "version": "v1", "chunk_index": n, "doc_type": "guide", "sector": None} for n in order]
    vector_store.add([ids[n] for n in order], vectors[order], [f"a {n}" for n in order], metadatas)
    add(vector_store, "a", "v2", [E[3], E[4]])
    add(vector_store, "b", "v1", E[5])
    stored = vector_store.embeddings("a", "v1")
    assert stored.shape == (12, DIMENSION) and stored.dtype == np.float32
    assert np.allclose(stored, vectors, atol=1e-6)
    assert np.allclose(vector_store.embeddings("a", "v2"), [E[3], E[4]], atol=1e-6)


def test_a_version_without_vectors_gives_an_empty_matrix_of_the_dimension(vector_store):
    add(vector_store, "a", "v1", [E[0], E[1]])
    assert vector_store.embeddings("a", "v9").shape == (0, DIMENSION)
    assert vector_store.embeddings("absent", "v1").shape == (0, DIMENSION)
    assert vector_store.embeddings_of({"absent": "v1"})["absent"].shape == (0, DIMENSION)


def test_the_vectors_of_several_documents_are_those_of_the_versions_asked(vector_store):
    add(vector_store, "a", "v1", [E[0], E[1], E[2]])
    add(vector_store, "b", "v1", [E[3]])
    add(vector_store, "b", "v2", [E[4], E[5]])
    add(vector_store, "c", "v1", [E[6]])
    found = vector_store.embeddings_of({"b": "v2", "a": "v1", "absent": "v1", "c": "v0"})
    assert set(found) == {"a", "b", "absent", "c"}
    assert np.allclose(found["a"], E[[0, 1, 2]], atol=1e-6) and np.allclose(found["b"], E[[4, 5]], atol=1e-6)
    assert found["absent"].shape == found["c"].shape == (0, DIMENSION)
    assert vector_store.embeddings_of({}) == {}


def test_vectors_by_id_gives_those_stored_in_any_order(vector_store):
    add(vector_store, "a", "v1", [E[0], E[1]])
    add(vector_store, "b", "v1", unit(1, 1))
    found, vectors = vector_store.vectors_by_id(["b::v1::0000", "absent::v1::0000", "a::v1::0001"])
    assert sorted(found) == ["a::v1::0001", "b::v1::0000"] and vectors.shape == (2, DIMENSION)
    by_id = dict(zip(found, vectors, strict=True))
    assert np.allclose(by_id["a::v1::0001"], E[1], atol=1e-6)
    assert np.allclose(by_id["b::v1::0000"], unit(1, 1), atol=1e-6)
    none, empty = vector_store.vectors_by_id([])
    assert none == [] and empty.shape == (0, DIMENSION)


def test_each_chunk_is_known_with_its_document_version(vector_store):
    add(vector_store, "a", "v1", [E[0], E[1]])
    add(vector_store, "a", "v2", [E[2]])
    add(vector_store, "b", "v1", [E[3]])
    assert vector_store.versions_by_chunk() == {
        "a::v1::0000": ("a", "v1"),
        "a::v1::0001": ("a", "v1"),
        "a::v2::0000": ("a", "v2"),
        "b::v1::0000": ("b", "v1"),
    }
    assert vector_store.versions_by_chunk_of(["a", "absent"]) == {
        "a::v1::0000": ("a", "v1"),
        "a::v1::0001": ("a", "v1"),
        "a::v2::0000": ("a", "v2"),
    }
    assert vector_store.versions_by_chunk_of([]) == {}
    assert vector_store.count() == 4


def test_deleting_a_document_removes_its_versions_or_all_but_the_one_kept(vector_store):
    add(vector_store, "a", "v1", [E[0], E[1]])
    add(vector_store, "a", "v2", [E[2]])
    add(vector_store, "a", "v3", [E[3]])
    add(vector_store, "b", "v1", [E[4]])
    vector_store.delete_document("a", keep_version="v2")
    assert vector_store.versions_by_chunk() == {"a::v2::0000": ("a", "v2"), "b::v1::0000": ("b", "v1")}
    vector_store.delete_document("a", keep_version="v2")  # nothing more to delete
    vector_store.delete_document("absent")
    assert vector_store.count() == 2
    vector_store.delete_document("a")
    assert vector_store.versions_by_chunk() == {"b::v1::0000": ("b", "v1")}
    assert ids_of(vector_store.query(E[2], 5)) == ["b::v1::0000"]


def test_deleting_ids_removes_those_and_ignores_the_others(vector_store):
    ids = add(vector_store, "a", "v1", [E[0], E[1], E[2]])
    vector_store.delete_ids([ids[0], ids[2], "absent::v1::0000"])
    vector_store.delete_ids([])
    assert vector_store.count() == 1 and vector_store.versions_by_chunk() == {ids[1]: ("a", "v1")}
    assert ids_of(vector_store.query(E[0], 5)) == [ids[1]]


def test_vectors_added_in_a_bulk_load_are_searchable_after_it(vector_store):
    with vector_store.bulk_load():
        for n in range(DIMENSION):
            add(vector_store, f"doc-{n}", "v1", [E[n], (E[n] + E[(n + 1) % DIMENSION]) / np.sqrt(2)])
    assert vector_store.count() == 2 * DIMENSION
    assert vector_store.query(E[3], 1) == [("doc-3::v1::0000", pytest.approx(1.0, abs=1e-5))]
    with vector_store.bulk_load():  # on a filled store: added as usual
        add(vector_store, "tard", "v1", unit(1, 0, 0, 0, 0, 0, 0, 0.1))
    assert ids_of(vector_store.query(unit(1, 0, 0, 0, 0, 0, 0, 0.1), 1)) == ["tard::v1::0000"]


def test_a_dropped_store_opens_again_empty_with_the_new_description(vector_generation):
    add(vector_generation.vectors, "a", "v1", [E[0], E[1]])
    vector_generation.vectors.drop()
    described = {**DESCRIPTION, "embedding_model": "autre"}
    store = vector_generation.reopen(described).vectors
    assert store.count() == 0 and store.description == described
    add(store, "b", "v1", E[2])
    assert ids_of(store.query(E[2], 5)) == ["b::v1::0000"]
