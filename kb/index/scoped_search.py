"""How a vector query honours a scope, at any size of base.

A vector store's metadata filter (Chroma's ``where``) costs time linear in the collection: at
100,000 passages, one document's scope takes 40 ms on the passages and 160 ms on the sentences,
a sector's 400 to 600 ms, against about 1 ms unfiltered. So a scope is searched by the cheapest
of three equivalent routes:

- **a few documents** (a version family's current member, a handful of ids): their vectors are
  fetched by id (the registry names them) and compared here, exactly;
- **a type/sector scope**: an unfiltered query with proportionally more results, kept when
  enough of them fall inside the scope, else deeper (four times, up to a bound);
- otherwise the store's own filtered query, so that a scope never empties a page that has
  matches further down; unless the caller wants only the matches near the top
  (``Scope.near_top_only``), which the bounded over-fetch has already found.

The unfiltered queries of one embedding are remembered (per store and registry revision): the
searches of one page (a bridge view searches one question in five scopes) each over-fetch from
the same nearest vectors, so a deeper query already made serves the shallower ones, and one
that returned the whole store serves them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from kb.core.bounded_cache import BoundedCache
from kb.core.models import Scope, StoredDocument, chunk_id

Hits = list[tuple[str, float]]
# The ids a store names the vectors of some document versions by (passages or sentences).
IdsOf = Callable[[Sequence[StoredDocument]], list[str]]

_DEEPER = 4  # an over-fetch that fell short is tried again, this many times deeper
_SCOPES_CACHED = 16  # type/sector scopes whose documents are kept (a few sets of doc ids)
_QUERIES_CACHED = 16  # unfiltered queries remembered: a few questions' passages and sentences


def passage_ids(documents: Sequence[StoredDocument]) -> list[str]:
    """The passages' ids of some document versions (the registry counts their chunks)."""
    return [chunk_id(d.metadata.doc_id, d.version, i) for d in documents for i in range(d.chunk_count)]


class ScopedSearch:
    """Runs a store's vector query inside a scope; ``registry``: where documents, versions and
    chunk counts are read (``snapshot()``)."""

    def __init__(self, registry, exact_max_passages: int, overfetch_max: int) -> None:
        self.registry = registry
        self.exact_max_passages = exact_max_passages
        self.overfetch_max = overfetch_max
        self._scopes: BoundedCache[tuple, tuple[frozenset[str], float]] = BoundedCache(_SCOPES_CACHED)
        # (store, revision, embedding) -> (results asked for, what the store returned)
        self._unfiltered: BoundedCache[tuple, tuple[int, Hits]] = BoundedCache(_QUERIES_CACHED)

    def hits(
        self,
        store,
        embedding: np.ndarray,
        wanted: int,
        scope: Scope | None,
        ids_of: IdsOf = passage_ids,
    ) -> Hits:
        """The ``wanted`` nearest vectors of ``store`` inside ``scope``, (id, cosine) best first.
        ``ids_of`` names a store's vectors of some documents."""
        if scope is None:
            return self.unfiltered(store, embedding, wanted)
        if scope.is_empty() or not (scope.doc_types or scope.sectors or scope.doc_ids is not None):
            return store.query(embedding, wanted, scope)
        documents, _ = self.registry.snapshot()
        if scope.doc_ids is not None:
            admitted = [d for doc_id in scope.doc_ids if (d := documents.get(doc_id)) and scope.admits(d.metadata)]
            if sum(d.chunk_count for d in admitted) <= self.exact_max_passages:
                return exact_hits(store, embedding, wanted, ids_of(admitted))
            return store.query(embedding, wanted, scope)
        found = self._overfetched(store, embedding, wanted, scope, documents)
        return found if found is not None else store.query(embedding, wanted, scope)

    def _overfetched(self, store, embedding, wanted: int, scope: Scope, documents) -> Hits | None:
        """An unfiltered query filtered here, or None when it would not do within the bound."""
        admitted, share = self._admitted(scope, documents)
        if share <= 0:
            return None
        fetch = int(wanted / share) + 10
        while fetch <= self.overfetch_max:
            hits = self.unfiltered(store, embedding, fetch)
            # a passage's or a sentence's id starts with its document's (kb/models.chunk_id)
            selected = [(hit, score) for hit, score in hits if hit.rsplit("::", 2)[0] in admitted]
            if len(selected) >= wanted or len(hits) < fetch:
                return selected[:wanted]
            if fetch == self.overfetch_max:
                return selected[:wanted] if scope.near_top_only else None
            fetch = min(fetch * _DEEPER, self.overfetch_max)
        return None

    def unfiltered(self, store, embedding, wanted: int) -> Hits:
        """The store's ``wanted`` nearest vectors, from a query of this embedding already made
        at least as deep (or that returned the whole store) when there is one."""
        if not isinstance(embedding, np.ndarray):
            return store.query(embedding, wanted, None)
        key = (id(store), self.registry.revision(), embedding.tobytes())
        known = self._unfiltered.get(key)
        if known is not None:
            asked, hits = known
            if wanted <= asked or len(hits) < asked:
                return hits[:wanted]
        hits = store.query(embedding, wanted, None)
        self._unfiltered.put(key, (wanted, hits))
        return hits[:wanted]  # a copy: the remembered list is never handed out

    def _admitted(self, scope: Scope, documents: dict[str, StoredDocument]) -> tuple[frozenset[str], float]:
        """The documents a type/sector scope keeps, and their share of the passages (cached per
        registry revision)."""

        def admitted() -> tuple[frozenset[str], float]:
            kept = [d for d in documents.values() if scope.admits(d.metadata)]
            total = sum(d.chunk_count for d in documents.values())
            share = sum(d.chunk_count for d in kept) / total if total else 0.0
            return frozenset(d.metadata.doc_id for d in kept), share

        return self._scopes.get_or_compute((self.registry.revision(), scope.doc_types, scope.sectors), admitted)


def exact_hits(store, embedding: np.ndarray, wanted: int, ids: list[str]) -> Hits:
    """The ``wanted`` nearest of some vectors fetched by id, by exact cosine similarity."""
    if not ids or wanted <= 0:
        return []
    found, vectors = store.vectors_by_id(ids)
    if not found:
        return []
    query = np.asarray(embedding, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(query) or 1.0)
    scores = (vectors @ query) / np.where(norms > 0, norms, 1.0)
    order = np.argsort(-scores, kind="stable")[:wanted]
    return [(found[i], float(scores[i])) for i in order]
