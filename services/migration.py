"""`kb migrate`: copy a base between the embedded backend (SQLite + Chroma under a data
directory) and PostgreSQL, either way, without re-embedding anything.

The copy reads the source's registry and stored vectors and writes them through the target's
normal write path (``KnowledgeIndex.upsert_many``: vectors first, then each document's
registry switch), so the target is a base like any other. Both writer locks are held, the
target must be empty, and the counts are compared at the end: a difference is an error, and
the target is then discarded rather than left half-copied.

The documents' original files go with them: into ``kb_files`` in the transaction of each
document's switch (to PostgreSQL), or into the target's ``documents/`` folder, where the
document's source path then points (to a data directory). A document whose file is gone from
the source is copied without it and named in the report.

``copy_side_stores`` then copies what lives beside the index (keys with their digests, partner
sites, proposals with their submissions, questions and feedback, the audit log) row for row,
through each store's ``dump``/``restore`` (kb/storage/copy.py), and empties again the target
stores it filled if a later one fails.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack, closing, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ingest.discover import SIDECAR_SUFFIXES
from ingest.file_store import DatabaseFileStore, FileStore, FolderFileStore, open_file_store
from kb.core.errors import KBError
from kb.core.settings import Settings
from kb.index.embeddings import RecordedModel
from kb.index.knowledge_index import KnowledgeIndex
from kb.storage.backend import SIDE_STORES, open_backend, open_side_store
from kb.storage.copy import LABELS
from services.feed import CARRIED_DATE, CARRIED_PUBLICATION, publication_dates, undated_publications

BATCH_DOCUMENTS = 100
MIGRATE_ACTOR = "kb migrate"


@dataclass
class MigrationReport:
    documents: int = 0
    passages: int = 0
    vectors: int = 0
    stores: dict[str, int] = field(default_factory=dict)  # rows copied per side store, files
    files: int = 0  # original files copied
    missing_files: list[str] = field(default_factory=list)  # documents whose file the source lacks
    dates_carried: int = 0  # ``reprise`` entries recorded to keep first publication dates


def recorded_description(settings: Settings) -> dict[str, Any]:
    """The model and chunking the base of ``settings`` was built with ({} when there is none)."""
    backend = open_backend(settings)
    if not backend.has_current():
        return {}
    return backend.recorded_description(backend.current_location())


def open_recorded(settings: Settings, description: dict[str, Any]) -> KnowledgeIndex:
    """The index of ``settings`` opened with a stand-in for the model it was built with: its
    stored vectors can be read and copied, nothing embedded."""
    model = RecordedModel(description["embedding_model"], int(description["dimension"]))
    chunking = {
        key.removeprefix("chunking_"): value for key, value in description.items() if key.startswith("chunking_")
    }
    # a copy keeps the source's format: sentence vectors if, and only if, it has them
    settings = settings.model_copy(update={"sentence_vectors": "sentence_vectors" in description})
    return KnowledgeIndex(settings, model, chunking)


def where(settings: Settings) -> str:
    return open_backend(settings).describe()


def migrate(
    source: Settings,
    target: Settings,
    copy_stores: Callable[[Settings, Settings], dict[str, int]] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> MigrationReport:
    """Copy the base of ``source`` into the empty base of ``target``; ``copy_stores`` copies
    what lives beside the index (keys, logs, files) and returns rows copied per store."""
    description = recorded_description(source)
    if not description.get("embedding_model"):
        raise KBError(f"Aucune base à copier dans {where(source)} (vérifiez KB_DATA_DIR ou KB_DATABASE_URL).")
    existing = recorded_description(target)
    report = MigrationReport()
    with open_backend(source).writer_lock(), open_backend(target).writer_lock():
        origin = open_recorded(source, description)
        try:
            if existing.get("embedding_model"):
                documents = stored_counts(target, existing)[0]
                if documents:
                    raise KBError(
                        f"La base de destination ({where(target)}) contient déjà {documents} document(s) : "
                        "la copie se fait vers une base vide."
                    )
            destination = open_recorded(target, description)
            location = destination.location
            try:
                _copy_index(origin, destination, report, on_progress)
                if copy_stores is not None:
                    report.stores = copy_stores(source, target)
                    report.dates_carried = _carry_dates(source, target, origin.documents())
            except BaseException:
                destination.close()
                destination.backend.discard_generation(location)
                raise
            destination.close()
        finally:
            origin.close()
    return report


def _carry_dates(source: Settings, target: Settings, stored) -> int:
    """A ``reprise`` entry in the target's (copied) audit log for each document whose first
    publication the log does not date: the copy's ``indexed_at`` is the migration's time, and
    the feed would date the whole base from it (services/feed.py)."""
    with (
        closing(open_backend(source).audit_log()) as origin,
        closing(open_backend(target).audit_log()) as copied,
    ):
        missing = undated_publications(copied.entries(), publication_dates(stored, origin.entries()))
        for doc_id, at in missing.items():
            copied.record(MIGRATE_ACTOR, CARRIED_PUBLICATION, doc_id, **{CARRIED_DATE: at})
    return len(missing)


def stored_counts(settings: Settings, description: dict[str, Any]) -> tuple[int, int]:
    """(documents, passages) of the base of ``settings``, opened without a model."""
    index = open_recorded(settings, description)
    try:
        return index.counts()
    finally:
        index.close()


class _FileCopier:
    """Each document's original from the source's file store to the target's."""

    def __init__(self, origin: KnowledgeIndex, destination: KnowledgeIndex) -> None:
        self.source: FileStore = open_file_store(origin.settings, origin)
        self.target: FileStore = open_file_store(destination.settings, destination)
        self.written: list[Path] = []  # files written into a target folder (removed on failure)

    def copy(self, document, report: MigrationReport):
        """(the metadata to store, the write to run in the document's switch, or None)."""
        metadata = document.metadata
        original = self.source.original(metadata.doc_id, metadata.source_path)
        if original is None:
            report.missing_files.append(metadata.doc_id)
            return metadata, None
        report.files += 1
        if isinstance(self.target, DatabaseFileStore):
            in_folder = (
                isinstance(self.source, FolderFileStore)
                and Path(original.source_path).parent == self.source.folder.resolve()
            )
            path = self.target.source_path(original.name) if in_folder else original.source_path
            moved = replace(original, source_path=path)
            return replace(metadata, source_path=path), self.target.files.put_in(moved)
        name = f"{metadata.doc_id}{original.suffix}"
        path = self.target.source_path(name)
        self.target.write(metadata.doc_id, replace(original, name=name, source_path=path), lambda _: None)
        self.written.extend([Path(path), Path(path + SIDECAR_SUFFIXES[0])])
        return replace(metadata, source_path=path), None

    def undo(self) -> None:
        for path in self.written:
            path.unlink(missing_ok=True)


def _copy_index(origin: KnowledgeIndex, destination: KnowledgeIndex, report: MigrationReport, on_progress) -> None:
    stored = origin.documents()
    files = _FileCopier(origin, destination)
    try:
        _copy_documents(origin, destination, stored, files, report, on_progress)
    except BaseException:
        files.undo()
        raise


def _copy_documents(origin, destination, stored, files: _FileCopier, report: MigrationReport, on_progress) -> None:
    with destination.bulk_load():
        for start in range(0, len(stored), BATCH_DOCUMENTS):
            documents = stored[start : start + BATCH_DOCUMENTS]
            doc_ids = [d.metadata.doc_id for d in documents]
            vectors = origin.documents_vectors(doc_ids)
            sentences = origin.documents_sentence_vectors(doc_ids) or {}
            batch, companions = [], []
            for document in documents:
                doc_id = document.metadata.doc_id
                chunks = origin.document_chunks(doc_id)
                found = vectors.get(doc_id)
                if found is None or len(chunks) != len(found):
                    raise KBError(
                        f"Le document « {doc_id} » a {len(chunks)} passages mais "
                        f"{0 if found is None else len(found)} vecteurs dans la base source : lancez "
                        "`kb reindex` sur la source avant de la copier."
                    )
                metadata, companion = files.copy(document, report)
                batch.append((metadata, document.version, origin.document_text(doc_id) or "", chunks, found))
                companions.append(companion)
            destination.upsert_many(batch, companions, [sentences.get(doc_id) for doc_id in doc_ids])
            if on_progress:
                on_progress(start + len(documents), len(stored))
    destination.persist_derived(wait=True)
    expected, copied = origin.counts(), destination.counts()
    vectors = destination.vectors.count()
    if copied != expected or vectors != expected[1]:
        raise KBError(
            f"Copie incomplète : {copied[0]} documents et {copied[1]} passages ({vectors} vecteurs) copiés "
            f"pour {expected[0]} documents et {expected[1]} passages dans la source ; rien n'est gardé."
        )
    report.documents, report.passages, report.vectors = copied[0], copied[1], vectors


def copy_side_stores(source: Settings, target: Settings) -> dict[str, int]:
    """Copy every side store of ``source`` into the empty ones of ``target`` as stored (a key
    keeps its digest, so it keeps working; a revoked one stays revoked), then compare the
    counts. On any failure the target stores already filled are emptied again. The rows
    copied per table, named in French for the CLI."""
    copied: dict[str, int] = {}
    with ExitStack() as opened:
        restored = []
        try:
            for kind in SIDE_STORES:
                origin = opened.enter_context(closing(open_side_store(open_backend(source), kind)))
                destination = opened.enter_context(closing(open_side_store(open_backend(target), kind)))
                dump = origin.dump()
                destination.restore(dump)
                restored.append(destination)
                found = destination.dump()
                for table, rows in dump.items():
                    if len(found.get(table, [])) != len(rows):
                        raise KBError(
                            f"Copie incomplète des {LABELS[table]} : la destination en a {len(found.get(table, []))} "
                            f"pour {len(rows)} dans la source ; rien n'est gardé."
                        )
                    copied[LABELS[table]] = len(rows)
        except BaseException:
            for destination in reversed(restored):
                # the failure that stopped the copy is the one to report, not a failed cleanup
                with suppress(KBError):
                    destination.undo_restore()
            raise
    return copied
