"""The ingestion pipeline, built in one place: load -> chunk -> embed -> store.

Each step is a plain function or method that can be tested alone (loading: ``ingest/loading.py``);
``Ingestor`` strings them together, skips unchanged files (same version hash: nothing embedded,
nothing written) and reports what happened to every file (``ingest/report.py``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.batch_texts import BatchTexts
from ingest.chunking import chunk_document
from ingest.discover import discover
from ingest.inference import complete, missing
from ingest.loading import LoadedDocument, chunking_params, document_version, load_document, parse_sidecar, read_sidecar
from ingest.progress import OnFile, OnOcr, OnPassages, OnStart, PassageProgress
from ingest.readers import ReaderOptions
from ingest.report import IngestReport
from ingest.sector_model import SectorModel, is_labelled
from kb.core.errors import (
    DocumentError,
    DocumentTooLarge,
    DuplicateDocIdError,
    IngestInterrupted,
    KBError,
    ServiceUnavailable,
)
from kb.core.models import Chunk, StoredFile
from kb.core.settings import Settings
from kb.index.embeddings import Vectors
from kb.index.knowledge_index import KnowledgeIndex
from kb.storage.protocols import Alongside


@dataclass
class _Pending:
    loaded: LoadedDocument
    chunks: list[Chunk]
    is_new: bool
    path_label: str = ""
    file: StoredFile | None = None  # its bytes, kept in the database on PostgreSQL


class Ingestor:
    """On PostgreSQL every document stored keeps its original bytes in ``kb_files``, written
    in the registry's switch transaction (``kb/storage/postgres/files.py``): ``kb reindex`` and any server
    rebuild from the database alone."""

    def __init__(self, index: KnowledgeIndex, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self.params = chunking_params(settings)
        self.reader_options = ReaderOptions.from_settings(settings)
        self.kept_files = index.kept_files
        self._sector_model: SectorModel | None = None  # built at the first document without a sector

    # -- steps ---------------------------------------------------------------------------

    def read_source(self, path: Path) -> tuple[bytes, dict, bytes]:
        """The file's bytes and its sidecar (parsed and raw), refused when too large."""
        size = path.stat().st_size
        if size > self.settings.max_file_size_bytes:
            raise DocumentError(
                f"fichier trop volumineux ({size / 1_048_576:.1f} Mo ; limite "
                f"{self.settings.max_file_size_mb:g} Mo, réglable par KB_MAX_FILE_SIZE_MB)"
            )
        sidecar, sidecar_bytes = read_sidecar(path)
        return path.read_bytes(), sidecar, sidecar_bytes

    def unchanged(self, path: Path, data: bytes, sidecar_bytes: bytes) -> str | None:
        """The doc_id under which this very file (same bytes, same sidecar) is already indexed:
        it need not even be read again (an OCR takes seconds per page)."""
        version = document_version(data, sidecar_bytes)
        for doc_id in self.index.doc_ids_for_source(str(path.resolve())):
            existing = self.index.find(doc_id)
            if existing is not None and existing.version == version:
                return doc_id
        return None

    def chunk(self, loaded: LoadedDocument) -> list[Chunk]:
        """The passages of a document, refused before any embedding when there are too many."""
        characters = len(loaded.parsed.text)
        if characters > self.settings.max_document_chars:
            raise DocumentTooLarge(
                f"texte trop long une fois extrait ({characters:,} caractères ; limite "
                f"{self.settings.max_document_chars:,}, réglable par KB_MAX_DOCUMENT_CHARS)".replace(",", " ")
            )
        chunks = chunk_document(loaded.metadata.doc_id, loaded.parsed, self.params)
        if not chunks:
            raise DocumentError("aucun passage indexable dans ce document")
        if len(chunks) > self.settings.max_document_chunks:
            raise DocumentTooLarge(
                f"document trop long : {len(chunks)} passages (limite {self.settings.max_document_chunks}, "
                "réglable par KB_MAX_DOCUMENT_CHUNKS)"
            )
        return chunks

    def embed(
        self, texts: list[str], report: IngestReport, on_progress: Callable[[int], None] | None = None
    ) -> Vectors:
        started = time.perf_counter()
        vectors = self.index.embed_passages(texts, on_progress=on_progress)
        report.embed_seconds += time.perf_counter() - started
        return vectors

    def store(
        self,
        loaded: LoadedDocument,
        chunks: list[Chunk],
        vectors: Vectors,
        file: StoredFile | None = None,
        alongside: Alongside | None = None,
        sentence_vectors: Vectors | None = None,
    ) -> None:
        """Index a document; ``file``: its original, kept with it on PostgreSQL; ``alongside``:
        another write of the same transaction (the writer's, which keeps the file itself);
        ``sentence_vectors``: its sentences' when already embedded (else the index embeds them)."""
        if alongside is None and file is not None and self.kept_files is not None:
            alongside = self.kept_files.put_in(file)
        self.index.upsert(
            loaded.metadata, loaded.version, loaded.parsed.text, chunks, vectors, alongside, sentence_vectors
        )

    def remove(self, doc_id: str) -> None:
        """Take a document out of the index (and its kept file with it)."""
        self.index.remove(doc_id, self.kept_files.delete_in(doc_id) if self.kept_files is not None else None)

    def sector_model(self) -> SectorModel:
        """The classifier over the base's labelled documents, brought up to date with the index
        (only documents new or changed since its last use are read)."""
        if self._sector_model is None:
            self._sector_model = SectorModel()
        self._sector_model.sync(self.index.documents(), self.index.document_text)
        return self._sector_model

    def completed(self, loaded: LoadedDocument) -> LoadedDocument:
        """A document with the sector, territory and publics its metadata lacks inferred
        (ingest/inference.py); as it is when it lacks none."""
        absent = missing(loaded.metadata)
        if not absent:
            return loaded
        model = self.sector_model() if "sector" in absent else None
        return dataclasses.replace(loaded, metadata=complete(loaded.metadata, loaded.parsed.text, model))

    def _complete_pending(self, pending: dict[str, _Pending]) -> None:
        """Infer what the documents read lack, once every document of the batch is read: the
        labelled ones among them teach the classifier first, whatever the order of the files."""
        todo = [item for item in pending.values() if missing(item.loaded.metadata)]
        if not todo:
            return
        model = None
        if any(item.loaded.metadata.sector is None for item in todo):
            model = self.sector_model()
            for item in pending.values():
                meta = item.loaded.metadata
                if is_labelled(meta) and model.version(meta.doc_id) != item.loaded.version:
                    model.add(
                        meta.doc_id,
                        item.loaded.version,
                        meta.sector or "",
                        model.terms(meta.title, item.loaded.parsed.text),
                    )
        for item in todo:
            item.loaded = dataclasses.replace(
                item.loaded, metadata=complete(item.loaded.metadata, item.loaded.parsed.text, model)
            )

    # -- orchestration -------------------------------------------------------------------

    def plan(self, loaded: LoadedDocument, pending: dict[str, _Pending]) -> _Pending | None:
        """None when the document is unchanged; else what must be embedded and stored."""
        doc_id = loaded.metadata.doc_id
        claimed = pending.get(doc_id)
        existing = self.index.find(doc_id)
        other = claimed.loaded.metadata.source_path if claimed else None
        if other is None and existing is not None:
            other = existing.metadata.source_path
        if other and other != loaded.metadata.source_path and self._source_exists(other):
            raise DuplicateDocIdError(f"identifiant « {doc_id} » déjà utilisé par {other}")
        if existing is not None and existing.version == loaded.version:
            return None
        return _Pending(loaded, self.chunk(loaded), is_new=existing is None)

    def _source_exists(self, source: str) -> bool:
        """Whether a document's recorded source is still there: a file the writer keeps in the
        database is named by a relative path (``documents/…``), any other is a path of a disk."""
        if self.kept_files is not None and not Path(source).is_absolute():
            return self.kept_files.has_source(source)
        return Path(source).exists()

    def _flush(self, batch: list[_Pending], report: IngestReport, progress: PassageProgress) -> None:
        """Embed a batch of documents in one go (their passages and sentences), then store each
        one atomically."""
        if not batch:
            return
        plan = BatchTexts.of(
            [(item.loaded.metadata.title, item.chunks) for item in batch], self.index.sentences is not None
        )
        try:
            vectors = self.embed(plan.texts, report, progress.batch(batch, plan.texts_per_passage))
        except ServiceUnavailable as exc:
            # an embeddings server down (after its retries): every next batch would wait as
            # long and fail the same way, so the run stops; nothing of this batch was written
            progress.skip()
            raise _interrupted(exc, report) from exc
        except Exception as exc:  # the model failing must not stop the run nor lose documents
            for item in batch:
                report.failed.append((item.path_label, f"échec du calcul des embeddings ({exc})"))
            progress.skip()
            return
        for number, item in enumerate(batch):
            try:
                self.store(
                    item.loaded,
                    item.chunks,
                    plan.passage_vectors(vectors, number),
                    item.file,
                    sentence_vectors=plan.sentence_vectors(vectors, number),
                )
            except Exception as exc:
                report.failed.append((item.path_label, f"échec de l'écriture dans l'index ({exc})"))
                continue
            report.chunks_written += len(item.chunks)
            (report.added if item.is_new else report.updated).append(item.loaded.metadata.doc_id)
            # The file's front matter may have changed its id: the old id must not linger.
            source = item.loaded.metadata.source_path or ""
            for stale in self.index.doc_ids_for_source(source):
                if stale != item.loaded.metadata.doc_id:
                    self.remove(stale)
                    report.removed.append(stale)

    def _embed_pending(self, pending: dict[str, _Pending], report: IngestReport, progress: PassageProgress) -> None:
        """Embed and store what was read, a few batches at a time (each stored as soon as embedded)."""
        self._complete_pending(pending)
        flush_at = self.settings.embedding_batch_size * 4
        batch: list[_Pending] = []
        try:
            for item in pending.values():
                batch.append(item)
                if sum(len(queued.chunks) for queued in batch) >= flush_at:
                    self._flush(batch, report, progress)
                    batch = []
            self._flush(batch, report, progress)
        except IngestInterrupted:  # what was stored before is searchable (the lexical index)
            self.index.persist_derived(wait=True)
            raise
        pending.clear()

    def _read_one(self, path: Path, pending: dict[str, _Pending], report: IngestReport, on_ocr: OnOcr | None) -> None:
        data, sidecar, sidecar_bytes = self.read_source(path)
        doc_id = self.unchanged(path, data, sidecar_bytes)
        if doc_id is not None and doc_id not in pending:
            report.unchanged.append(doc_id)
            return
        self._take(path, path.resolve(), data, sidecar, sidecar_bytes, pending, report, on_ocr)

    def _take(
        self,
        label: Path,
        source: Path,
        data: bytes,
        sidecar: dict,
        sidecar_bytes: bytes,
        pending: dict[str, _Pending],
        report: IngestReport,
        on_ocr: OnOcr | None,
    ) -> None:
        """Read a file's bytes (recorded under ``source``) and plan its storing."""
        options = self.reader_options
        if on_ocr is not None:
            options = dataclasses.replace(options, on_ocr_page=lambda done, total: on_ocr(label, done, total))
        loaded = load_document(source, data, sidecar, sidecar_bytes, options)
        planned = self.plan(loaded, pending)
        if planned is None:
            report.unchanged.append(loaded.metadata.doc_id)
        else:
            planned.path_label = str(label)
            planned.file = StoredFile(
                loaded.metadata.doc_id, source.name, str(source), data, sidecar_bytes, loaded.version
            )
            pending[loaded.metadata.doc_id] = planned

    def ingest_paths(
        self,
        paths: list[Path],
        prune: bool = False,
        on_file: OnFile | None = None,
        on_start: OnStart | None = None,
        on_ocr: OnOcr | None = None,
        on_passages: OnPassages | None = None,
    ) -> IngestReport:
        """Read every file first (up to ``ingest_read_ahead_passages`` passages, so that the
        progress knows how many passages there are to embed), then embed and store them."""
        started = time.perf_counter()
        report = IngestReport()
        self.index.sweep_orphans()
        found = discover(paths)
        for path, reason in found.problems:
            report.failed.append((str(path), reason))
        if on_start:
            on_start(len(found.files))
        reads = [
            (path, lambda pending, path=path: self._read_one(path, pending, report, on_ocr)) for path in found.files
        ]
        self._read_and_store(reads, report, on_file, on_passages)
        if prune:
            report.removed.extend(self._prune(found.roots, {p.resolve() for p in found.files}))
        self.index.persist_derived(wait=True)
        report.total_seconds = time.perf_counter() - started
        return report

    def ingest_stored(
        self,
        doc_ids: list[str] | None = None,
        on_file: OnFile | None = None,
        on_start: OnStart | None = None,
        on_ocr: OnOcr | None = None,
        on_passages: OnPassages | None = None,
    ) -> IngestReport:
        """Index the files kept in the database (every one, or those of ``doc_ids``) as
        ``ingest_paths`` indexes a folder: each under the source path it was first recorded
        with, unchanged ones skipped. PostgreSQL only."""
        kept_files = self.kept_files
        if kept_files is None:
            raise ValueError("ingest_stored reads the files a backend keeps: this one keeps none")
        started = time.perf_counter()
        report = IngestReport()
        self.index.sweep_orphans()
        wanted = sorted(kept_files.versions()) if doc_ids is None else sorted(doc_ids)
        if on_start:
            on_start(len(wanted))
        reads = (
            (Path(file.name), lambda pending, file=file: self._read_stored(file, pending, report, on_ocr))
            for file in kept_files.files(wanted)
        )
        self._read_and_store(reads, report, on_file, on_passages)
        self.index.persist_derived(wait=True)
        report.total_seconds = time.perf_counter() - started
        return report

    def _read_stored(
        self, file: StoredFile, pending: dict[str, _Pending], report: IngestReport, on_ocr: OnOcr | None
    ) -> None:
        existing = self.index.find(file.doc_id)
        if existing is not None and existing.version == file.version and file.doc_id not in pending:
            report.unchanged.append(file.doc_id)
            return
        sidecar = parse_sidecar(file.sidecar, file.name)
        self._take(Path(file.name), Path(file.source_path), file.data, sidecar, file.sidecar, pending, report, on_ocr)

    def _read_and_store(
        self,
        reads: Iterable[tuple[Path, Callable[[dict[str, _Pending]], None]]],
        report: IngestReport,
        on_file: OnFile | None,
        on_passages: OnPassages | None,
    ) -> None:
        """Run each (label, read) in turn, a failure reported against its label, embedding and
        storing what was read whenever enough passages wait."""
        pending: dict[str, _Pending] = {}
        progress = PassageProgress(on_passages)
        for label, read in reads:
            try:
                read(pending)
            except KBError as exc:
                report.failed.append((str(label), str(exc)))
            except OSError as exc:
                report.failed.append((str(label), f"lecture impossible ({exc.strerror or exc})"))
            except (RecursionError, MemoryError, ValueError, TypeError, LookupError) as exc:
                # a reader library choking on a hostile file: that file fails, the run goes on
                report.failed.append((str(label), f"fichier illisible ({type(exc).__name__})"))
            waiting = sum(len(item.chunks) for item in pending.values())
            progress.read(waiting)
            if waiting >= self.settings.ingest_read_ahead_passages:
                self._embed_pending(pending, report, progress)
            if on_file:
                on_file(label)
        self._embed_pending(pending, report, progress)

    def _prune(self, roots: list[Path], present: set[Path]) -> list[str]:
        removed = []
        for stored in self.index.documents():
            source = stored.metadata.source_path
            if not source:
                continue
            source_path = Path(source)
            under_root = any(source_path.is_relative_to(root) for root in roots)
            if under_root and source_path not in present:
                self.remove(stored.metadata.doc_id)
                removed.append(stored.metadata.doc_id)
        return removed


def _interrupted(cause: ServiceUnavailable, report: IngestReport) -> IngestInterrupted:
    stored = len(report.added) + len(report.updated)
    return IngestInterrupted(
        f"Indexation arrêtée : {cause} {stored} document(s) indexé(s) avant l'arrêt, complets ; le lot en "
        "cours n'a pas été écrit. Relancez la commande quand le service répond : les documents déjà "
        "indexés seront sautés.",
        report,
    )
