"""The vector store: a Chroma collection, embedded (persistent) or behind a `chroma run` server.

Chroma types stay in this module; callers see ids, scores and plain dicts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from kb.core.errors import BackendUnavailable, InsufficientStorage, KBError, ServiceUnavailable, StorageReadOnly
from kb.core.files import READ_ONLY, is_disk_full, is_read_only
from kb.core.models import Scope


def open_vector_store(
    chroma_url: str | None, persist_dir: Path, name: str, description: dict[str, Any]
) -> ChromaVectorStore:
    """The collection ``name`` of a Chroma server (``chroma_url``) or of a persistent directory."""
    client = create_chroma_client(chroma_url, persist_dir)
    try:
        return ChromaVectorStore(client, name, description)
    except KBError:
        raise
    except Exception as exc:
        where = f"le serveur Chroma {chroma_url}" if chroma_url else "la base de vecteurs locale (Chroma)"
        raise BackendUnavailable(f"{where} ne s'ouvre pas ; réessayez ou vérifiez le dossier de données.") from exc


def drop_collection(chroma_url: str | None, name: str) -> None:
    """Delete a server-side collection (a persistent one goes with its directory)."""
    if not chroma_url:
        return
    try:
        create_chroma_client(chroma_url, Path(".")).delete_collection(name)
    except Exception:
        pass  # already gone, or the server is down: an unused collection is harmless


def _backend_call(method):
    """Any failure of the vector store is the service's unavailability (a 503), not a bug of
    the request, or a full disk (a 507), or a read-only one (a 503 that says so): the original
    error stays chained for the logs."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except KBError:
            raise
        except Exception as exc:
            if is_disk_full(exc):
                raise InsufficientStorage() from exc
            if is_read_only(exc):
                raise StorageReadOnly(READ_ONLY) from exc
            raise BackendUnavailable(
                "la base de vecteurs (Chroma) ne répond pas ; réessayez dans quelques instants."
            ) from exc

    return call


def create_chroma_client(chroma_url: str | None, persist_dir: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        if not url.hostname:
            raise ServiceUnavailable(f"URL du serveur Chroma invalide : « {chroma_url} » (KB_CHROMA_URL).")
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # the client checks the server at construction
            raise BackendUnavailable(
                f"Serveur Chroma injoignable à l'adresse {chroma_url} : vérifiez qu'il est "
                "démarré (`chroma run`) ou retirez KB_CHROMA_URL."
            ) from exc
    try:
        persist_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(persist_dir), settings=chroma_settings)
    except Exception as exc:
        raise BackendUnavailable(
            "la base de vecteurs locale (Chroma) ne s'ouvre pas : vérifiez que le dossier de "
            "données existe et peut être écrit (KB_DATA_DIR)."
        ) from exc


class ChromaVectorStore:
    """Vectors and per-chunk metadata. Each vector carries its document's ``doc_id``/``version``."""

    def __init__(self, client, name: str, description: dict[str, Any]) -> None:
        self._client = client
        self.name = name
        self._collection = client.get_or_create_collection(
            name,
            metadata=description,
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )
        self._max_batch = max(1, int(client.get_max_batch_size()))

    @property
    def description(self) -> dict[str, Any]:
        return dict(self._collection.metadata or {})

    def close(self) -> None:
        """Release the client's files (the SQLite database, the HNSW segments); chromadb shares
        one system per directory in a process and stops it with its last client."""
        try:
            self._client.close()
        except Exception:  # a server already gone: nothing left to release here
            pass

    @_backend_call
    def add(
        self,
        ids: Sequence[str],
        embeddings: np.ndarray,
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        for start in range(0, len(ids), self._max_batch):
            end = start + self._max_batch
            self._collection.upsert(
                ids=list(ids[start:end]),
                embeddings=np.asarray(embeddings[start:end], dtype=np.float32),
                documents=list(texts[start:end]),
                metadatas=[_clean(m) for m in metadatas[start:end]],
            )

    @_backend_call
    def delete_document(self, doc_id: str, keep_version: str | None = None) -> None:
        where: dict[str, Any] = {"doc_id": doc_id}
        if keep_version is not None:
            where = {"$and": [{"doc_id": doc_id}, {"version": {"$ne": keep_version}}]}
        self._collection.delete(where=where)

    @_backend_call
    def query(self, embedding: np.ndarray, n_results: int, scope: Scope | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first; ``scope`` restricts inside the search."""
        if n_results <= 0 or (scope is not None and scope.is_empty()):
            return []
        result = self._collection.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32)],
            n_results=n_results,
            where=_where(scope),
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = result["distances"][0]
        return [(chunk, 1.0 - float(distance)) for chunk, distance in zip(ids, distances, strict=True)]

    @_backend_call
    def versions_by_chunk(self) -> dict[str, tuple[str, str]]:
        """Every stored chunk id with its (doc_id, version): used to sweep orphans."""
        found: dict[str, tuple[str, str]] = {}
        total = self._collection.count()
        for offset in range(0, total, 1000):
            _add_versions(found, self._collection.get(include=["metadatas"], limit=1000, offset=offset))
        return found

    @_backend_call
    def versions_by_chunk_of(self, doc_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """The stored chunk ids of some documents with their (doc_id, version)."""
        found: dict[str, tuple[str, str]] = {}
        wanted = sorted(doc_ids)
        for start in range(0, len(wanted), _IN_BATCH):
            batch = wanted[start : start + _IN_BATCH]
            _add_versions(found, self._collection.get(where={"doc_id": {"$in": batch}}, include=["metadatas"]))
        return found

    @_backend_call
    def embeddings(self, doc_id: str, version: str) -> np.ndarray:
        """The stored vectors of one document version, in chunk order."""
        found = self._collection.get(where={"$and": [{"doc_id": doc_id}, {"version": version}]}, include=["embeddings"])
        if not len(found["ids"]):
            return self._no_vectors()
        order = np.argsort(found["ids"])
        return np.asarray(found["embeddings"], dtype=np.float32)[order]

    @_backend_call
    def embeddings_of(self, versions: dict[str, str]) -> dict[str, np.ndarray]:
        """The stored vectors of several documents (doc_id → version), in chunk order each:
        one call per batch of documents (``kb migrate``, the duplicate finder)."""
        wanted = list(versions)
        rows: dict[str, np.ndarray] = {}
        for start in range(0, len(wanted), _IN_BATCH):
            batch = {doc_id: versions[doc_id] for doc_id in wanted[start : start + _IN_BATCH]}
            found = self._collection.get(where={"doc_id": {"$in": list(batch)}}, include=["embeddings", "metadatas"])
            rows.update(_by_document(found["ids"], found["embeddings"], found["metadatas"], batch))
        return {doc_id: vectors if len(vectors) else self._no_vectors() for doc_id, vectors in rows.items()}

    def _no_vectors(self) -> np.ndarray:
        """No vector, as a matrix of the store's dimension (as vectors_by_id and the PostgreSQL
        store give it): a caller stacks it with others."""
        return np.zeros((0, int(self.description.get("dimension") or 0)), dtype=np.float32)

    @_backend_call
    def vectors_by_id(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The stored vectors of some ids (those stored, in no set order): an exact search over
        a few documents reads them instead of running a filtered query."""
        found_ids: list[str] = []
        found: list[Any] = []
        for start in range(0, len(ids), _IDS_BATCH):
            page = self._collection.get(ids=list(ids[start : start + _IDS_BATCH]), include=["embeddings"])
            found_ids += page["ids"]
            found += list(page["embeddings"])
        if not found:
            return [], np.zeros((0, int(self.description.get("dimension") or 0)), dtype=np.float32)
        return found_ids, np.asarray(found, dtype=np.float32)

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Many vectors about to be added at once (nothing to change for Chroma)."""
        yield

    @_backend_call
    def delete_ids(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), self._max_batch):
            self._collection.delete(ids=list(ids[start : start + self._max_batch]))

    @_backend_call
    def count(self) -> int:
        return self._collection.count()

    def drop(self) -> None:
        self._client.delete_collection(self.name)


# Documents named by one `$in` filter: a bounded filter per call, whatever the caller asks.
_IN_BATCH = 500
_IDS_BATCH = 5000  # ids named by one `get` (SQLite's bound on a statement's variables)


def _add_versions(found: dict[str, tuple[str, str]], page) -> None:
    for chunk, meta in zip(page["ids"], page["metadatas"], strict=True):
        found[chunk] = (str(meta.get("doc_id")), str(meta.get("version")))


def _by_document(ids, embeddings, metadatas, versions: dict[str, str]) -> dict[str, np.ndarray]:
    """Rows grouped per document of ``versions`` (other versions left out), in chunk id order."""
    rows: dict[str, list[tuple[str, Any]]] = {doc_id: [] for doc_id in versions}
    for chunk, vector, meta in zip(ids, embeddings, metadatas, strict=True):
        doc_id = str(meta.get("doc_id"))
        if versions.get(doc_id) == str(meta.get("version")):
            rows[doc_id].append((chunk, vector))
    return {
        doc_id: np.asarray([vector for _, vector in sorted(found, key=lambda row: row[0])], dtype=np.float32)
        for doc_id, found in rows.items()
    }


def _where(scope: Scope | None) -> dict[str, Any] | None:
    if scope is None:
        return None
    conditions = []
    for field, values in (("doc_type", scope.doc_types), ("sector", scope.sectors), ("doc_id", scope.doc_ids)):
        if values:
            conditions.append({field: {"$in": list(values)}})
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def _clean(metadata: dict[str, Any]) -> dict[str, Any]:
    """Chroma accepts str/int/float/bool values only; None is dropped."""
    return {k: v for k, v in metadata.items() if isinstance(v, (str, int, float, bool))}
