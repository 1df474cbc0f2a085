"""What both registries share: the per-revision snapshot of the current documents (kept up
to date from the documents changed since, not re-read whole) and the row they are read from."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from kb.core.models import DocumentMetadata, StoredDocument
from kb.storage.location import IndexLocation

# Past this many documents changed since the last snapshot, reading them all is as quick.
SNAPSHOT_MAX_CHANGES = 2000


class RegistrySnapshots:
    """The per-revision snapshot of the documents, shared by every registry backend: the
    subclass gives ``revision``, ``changed_since`` and ``_document_rows``."""

    _snapshot_cache: tuple[int, dict[str, StoredDocument], dict[str, str]] | None = None

    def revision(self) -> int:
        raise NotImplementedError

    def changed_since(self, revision: int) -> tuple[set[str], int] | None:
        raise NotImplementedError

    def _document_rows(self, doc_ids: Iterable[str] | None = None) -> list[tuple]:
        raise NotImplementedError

    def snapshot(self) -> tuple[dict[str, StoredDocument], dict[str, str]]:
        """All documents (in doc_id order) and their versions, brought up to date when the
        revision has moved: only the documents written or deleted since are read again.

        Searches read these on every request; parsing thousands of metadata rows each time
        would dominate their cost. The revision is read before the rows, so a snapshot is
        never older than its stamp (at worst newer, and then reloaded on the next call)."""
        _, documents, versions = self._snapshot()
        return documents, versions

    def revisioned_snapshot(self) -> tuple[int, dict[str, StoredDocument]]:
        """The revision the snapshot stands for (it may hold writes a little newer), and its
        documents: what ``kb/index/document_tally.py`` keeps in step from."""
        revision, documents, _ = self._snapshot()
        return revision, documents

    def _snapshot(self) -> tuple[int, dict[str, StoredDocument], dict[str, str]]:
        revision = self.revision()
        cached = self._snapshot_cache
        if cached is not None and cached[0] == revision:
            return cached
        changed = self.changed_since(cached[0]) if cached is not None else None
        if cached is None or changed is None or len(changed[0]) > SNAPSHOT_MAX_CHANGES:
            documents = {row[0]: stored_document(row[1:]) for row in self._document_rows()}
        else:
            documents = dict(cached[1])
            for doc_id in changed[0]:
                documents.pop(doc_id, None)
            rows = self._document_rows(changed[0]) if changed[0] else []
            for row in rows:
                documents[row[0]] = stored_document(row[1:])
            if rows:
                documents = dict(sorted(documents.items()))
        versions = {doc_id: stored.version for doc_id, stored in documents.items()}
        self._snapshot_cache = (revision, documents, versions)
        return self._snapshot_cache

    def documents(self) -> Iterator[StoredDocument]:
        return iter(list(self.snapshot()[0].values()))

    def versions(self) -> dict[str, str]:
        return self.snapshot()[1]


def stored_document(row: tuple) -> StoredDocument:
    """A (metadata as JSON text or dict, version, chunk_count, indexed_at) row."""
    metadata, version, chunk_count, indexed_at = row
    return StoredDocument(
        metadata=DocumentMetadata.from_dict(json.loads(metadata) if isinstance(metadata, str) else metadata),
        version=version,
        chunk_count=chunk_count,
        indexed_at=indexed_at,
    )


class GenerationRecords:
    """What both backends read from a generation's registry without opening the index: its
    description and its documents' source files; ``_registry_of`` opens it (None when the
    generation holds none)."""

    def _registry_of(self, location: IndexLocation) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def recorded_description(self, location: IndexLocation) -> dict[str, Any]:
        """The model and chunking a generation was built with ({} when it has none)."""
        with self._registry_of(location) as registry:
            return registry.info() if registry is not None else {}

    def stored_calibration(self, location: IndexLocation) -> Any:
        """The calibration records `kb calibrate` stored in a generation (None without any):
        ``kb reindex`` carries them to the generation it builds."""
        with self._registry_of(location) as registry:
            return registry.calibration() if registry is not None else None

    def source_paths(self, location: IndexLocation) -> list[str]:
        """The source files of a generation's documents (what ``kb reindex`` reads again)."""
        with self._registry_of(location) as registry:
            if registry is None:
                return []
            return [doc.metadata.source_path for doc in registry.documents() if doc.metadata.source_path]
