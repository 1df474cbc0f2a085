"""Which route a scoped vector query takes, on a store that records its calls."""

from __future__ import annotations

import numpy as np
import pytest

from kb.core.models import DocumentMetadata, Scope, StoredDocument, chunk_id
from kb.index.scoped_search import ScopedSearch, exact_hits, passage_ids


def _stored(doc_id: str, chunks: int, sector: str | None = None) -> StoredDocument:
    metadata = DocumentMetadata(doc_id=doc_id, title=doc_id, doc_type="fiche", sector=sector)
    return StoredDocument(metadata=metadata, version="v1", chunk_count=chunks, indexed_at="")


class Registry:
    def __init__(self, documents: list[StoredDocument]) -> None:
        self.documents = {d.metadata.doc_id: d for d in documents}

    def snapshot(self):
        return self.documents, {k: d.version for k, d in self.documents.items()}

    def revision(self) -> int:
        return 1


class Store:
    """Vectors on a line: chunk n of the ranking is at cosine 1 - n/1000; records every call."""

    def __init__(self, ranked: list[str]) -> None:
        self.ranked = ranked
        self.calls: list[tuple[int, Scope | None]] = []

    def query(self, embedding, n_results: int, scope=None):
        self.calls.append((n_results, scope))
        hits = [(c, 1 - i / 1000) for i, c in enumerate(self.ranked)]
        if scope is not None:
            hits = [
                (c, s)
                for c, s in hits
                if c.split("::")[0] in (scope.doc_ids or ()) or scope.sectors == ("social",) and c.startswith("s")
            ]
        return hits[:n_results]


def _base(local: int, social: int) -> tuple[Registry, Store]:
    """``local`` documents of the local sector ranked first, then ``social`` social ones."""
    documents = [_stored(f"l{n}", 1, "local") for n in range(local)] + [
        _stored(f"s{n}", 1, "social") for n in range(social)
    ]
    return Registry(documents), Store(passage_ids(documents))


def test_a_broad_scope_keeps_an_unfiltered_query_when_enough_falls_inside():
    registry, store = _base(local=50, social=50)
    store.ranked = [c for pair in zip(store.ranked[:50], store.ranked[50:], strict=True) for c in pair]  # alternating
    hits = ScopedSearch(registry, exact_max_passages=0, overfetch_max=1000).hits(
        store, None, 10, Scope(sectors=("social",))
    )
    assert store.calls == [(30, None)]  # 10 / 0.5 + 10
    assert [c for c, _ in hits] == [chunk_id(f"s{n}", "v1", 0) for n in range(10)]


def test_a_short_over_fetch_goes_deeper_within_its_bound_then_to_the_filtered_query():
    registry, store = _base(local=300, social=100)
    search = ScopedSearch(registry, exact_max_passages=0, overfetch_max=300)
    hits = search.hits(store, None, 10, Scope(sectors=("social",)))
    assert store.calls == [(50, None), (200, None), (300, None), (10, Scope(sectors=("social",)))]
    assert [c for c, _ in hits] == [chunk_id(f"s{n}", "v1", 0) for n in range(10)]
    store.calls.clear()
    ScopedSearch(registry, exact_max_passages=0, overfetch_max=1000).hits(store, None, 10, Scope(sectors=("social",)))
    assert store.calls == [(50, None), (200, None), (800, None)]  # the base ran out: what it found


def test_a_scope_too_narrow_for_the_bound_is_left_to_the_store():
    registry, store = _base(local=990, social=10)
    ScopedSearch(registry, exact_max_passages=0, overfetch_max=500).hits(store, None, 10, Scope(sectors=("social",)))
    assert store.calls == [(10, Scope(sectors=("social",)))]


class ByIdStore(Store):
    def __init__(self, vectors: dict[str, list[float]]) -> None:
        super().__init__(list(vectors))
        self.vectors = vectors
        self.read: list[list[str]] = []

    def vectors_by_id(self, ids):
        self.read.append(list(ids))
        found = [i for i in ids if i in self.vectors]
        return found, np.asarray([self.vectors[i] for i in found], dtype=np.float32).reshape(len(found), 2)


def test_a_few_documents_are_compared_exactly_by_id_and_many_go_to_the_store():
    documents = [_stored("a", 2), _stored("b", 1), _stored("c", 3)]
    store = ByIdStore({chunk_id("a", "v1", 0): [1, 0], chunk_id("a", "v1", 1): [0, 2], chunk_id("b", "v1", 0): [3, 3]})
    search = ScopedSearch(Registry(documents), exact_max_passages=3, overfetch_max=1000)
    hits = search.hits(store, np.array([0.0, 1.0]), 5, Scope(doc_ids=("a", "b", "gone")))
    assert store.calls == [] and store.read == [
        [chunk_id("a", "v1", 0), chunk_id("a", "v1", 1), chunk_id("b", "v1", 0)]
    ]
    assert hits == [
        (chunk_id("a", "v1", 1), pytest.approx(1.0)),
        (chunk_id("b", "v1", 0), pytest.approx(0.7071, abs=1e-4)),
        (chunk_id("a", "v1", 0), pytest.approx(0.0)),
    ]
    search.hits(store, np.array([0.0, 1.0]), 5, Scope(doc_ids=("a", "c")))  # 5 passages > 3
    assert store.calls == [(5, Scope(doc_ids=("a", "c")))]


def test_exact_hits_keep_the_wanted_best_and_survive_nothing_stored():
    store = ByIdStore({"x": [1, 0], "y": [1, 1], "z": [0, 0]})
    assert [c for c, _ in exact_hits(store, np.array([1.0, 0.0]), 2, ["x", "y", "z"])] == ["x", "y"]
    assert exact_hits(store, np.array([1.0, 0.0]), 5, ["z"]) == [("z", 0.0)]  # a zero vector scores 0
    assert exact_hits(store, np.array([1.0, 0.0]), 5, ["w"]) == []
    assert exact_hits(store, np.array([1.0, 0.0]), 5, []) == []


def test_near_the_top_only_a_scope_keeps_what_the_bounded_over_fetch_found():
    registry, store = _base(local=300, social=100)
    store.ranked.insert(5, store.ranked.pop(350))  # one social passage among the nearest
    scope = Scope(sectors=("social",), near_top_only=True)
    hits = ScopedSearch(registry, exact_max_passages=0, overfetch_max=300).hits(store, None, 10, scope)
    assert store.calls == [(50, None), (200, None), (300, None)]  # never the filtered query
    assert [c for c, _ in hits] == [chunk_id("s50", "v1", 0)]
