"""Assemble the components from settings: used by the CLI, the API lifespan and the benchmarks.

The whole-index operations (ingest, remove, reindex) take the data directory's writer lock."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.loading import chunking_params
from ingest.pipeline import Ingestor
from ingest.report import IngestReport
from kb.core.errors import IngestInterrupted, ServiceUnavailable
from kb.core.settings import Settings
from kb.index.embeddings import Embedder, create_embedder
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.calibration import valid_records
from kb.storage.backend import open_backend
from kb.storage.protocols import Backend

if TYPE_CHECKING:  # services/knowledge_base.py opens its index through this module
    from services.knowledge_base import KnowledgeBase

logger = logging.getLogger("passerelles.runtime")


def open_index(
    settings: Settings, embedder: Embedder | None = None, serving: bool = False, backend: Backend | None = None
) -> KnowledgeIndex:
    """``serving``: for a server, where writes must yield the CPU to the questions;
    ``backend``: the base's storage when the caller opened it already."""
    embedder = embedder or create_embedder(settings)
    chunking = chunking_params(settings).as_record()
    return KnowledgeIndex(settings, embedder, chunking, yield_to_queries=serving, backend=backend)


def open_knowledge_base(settings: Settings, embedder: Embedder | None = None, serving: bool = False):
    """The service object over the index of ``settings`` (close it with ``.close()``)."""
    from services.knowledge_base import KnowledgeBase

    return KnowledgeBase.create(settings, open_index(settings, embedder, serving))


class KnowledgeBaseHolder:
    """Opens the knowledge base on first use and again after a failure (a Chroma server not
    up yet, a database restarting, a disk remounted): the API starts and answers 503
    meanwhile instead of exiting. Documents a killed process left between file and index are
    indexed once it opens.

    On PostgreSQL the base is shared: each request reads the generation pointer (one query,
    which also answers 503 while the database is down) and, when a `kb reindex` run elsewhere
    has moved it, opens the new generation; the one it replaces is closed with the next
    replacement (requests may still be reading it) or with the holder."""

    def __init__(self, settings: Settings, embedder: Embedder, retry_seconds: float | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.retry_seconds = settings.backend_retry_s if retry_seconds is None else retry_seconds
        self.kb: KnowledgeBase | None = None
        self.error: ServiceUnavailable | None = None
        self._reconciled = False
        self._last_attempt = float("-inf")
        self._lock = threading.Lock()
        self._retired = None  # the knowledge base of the generation last replaced
        self._warming: threading.Thread | None = None  # the background warm-up (Settings.warm_up)

    def get(self):
        kb = self.kb
        if kb is not None and self._reconciled:
            return kb if self._current(kb) else self._follow(kb)
        with self._lock:
            settled = self.kb is not None and self._reconciled  # another thread may have opened it
            waiting = self.error is not None and time.monotonic() - self._last_attempt < self.retry_seconds
            if not settled and not waiting:
                self._last_attempt = time.monotonic()
                self._open()
            if self.kb is None:
                raise self.error
            return self.kb

    def _open(self) -> None:
        try:
            if self.kb is None:
                self.kb = open_knowledge_base(self.settings, self.embedder, serving=True)
            self.kb.writer.reconcile()
            self._reconciled, self.error = True, None
            if self.settings.warm_up:
                self._warming = threading.Thread(target=_warm_up, args=(self.kb,), name="warm-up", daemon=True)
                self._warming.start()
        except ServiceUnavailable as exc:
            self.error = exc
            logger.error("base indisponible : %s", exc)
            if self.kb is None:
                raise

    @staticmethod
    def _current(kb) -> bool:
        """Whether ``kb`` still reads the base's current generation (always, embedded: only
        this process writes there)."""
        return kb.index.backend.is_current(kb.index.location)

    def _follow(self, stale):
        """Open the generation another process made current. No reconciliation: the
        rebuild has just indexed the source files."""
        with self._lock:
            if self.kb is stale:
                fresh = open_knowledge_base(self.settings, self.embedder, serving=True)
                logger.info("index rebuilt elsewhere: now serving %s", fresh.index.location.generation)
                self.kb = fresh
                self._retire(stale)
            return self.kb

    def _retire(self, kb) -> None:
        retired, self._retired = self._retired, kb
        if retired is None:
            return
        retired.close()
        if retired.index.local_cache is not None:  # derived from a generation now gone
            shutil.rmtree(retired.index.local_cache, ignore_errors=True)

    def close(self) -> None:
        if self._warming is not None:
            self._warming.join()  # it reads the base being closed
        self._retire(None)
        if self.kb is not None:
            self.kb.close()
            self.kb = None


def _warm_up(kb) -> None:
    try:
        kb.warm_up()
    except Exception:  # only an optimisation: the first requests prepare what is missing
        logger.warning("préparation en arrière-plan interrompue", exc_info=True)


def ingest(
    settings: Settings,
    paths: list[Path],
    prune: bool = False,
    embedder: Embedder | None = None,
    **callbacks,
) -> IngestReport:
    """``callbacks``: ``Ingestor.ingest_paths``'s, and ``on_wait`` (called once when another
    writer holds the base's lock, before waiting for it)."""
    backend = open_backend(settings)
    with backend.writer_lock(callbacks.pop("on_wait", None)):
        index = open_index(settings, embedder, backend=backend)
        try:
            backend.require_writable()
            return Ingestor(index, settings).ingest_paths(paths, prune=prune, **callbacks)
        finally:
            index.close()


def remove(settings: Settings, doc_id: str, embedder: Embedder | None = None) -> None:
    backend = open_backend(settings)
    with backend.writer_lock():
        index = open_index(settings, embedder, backend=backend)
        try:
            Ingestor(index, settings).remove(doc_id)
        finally:
            index.close()


def reindex(settings: Settings, embedder: Embedder | None = None, **callbacks) -> IngestReport:
    """Rebuild the whole index from the source files into a new generation, then switch.
    On PostgreSQL the sources are the files kept in the database (``kb_files``), not a disk.

    The old generation is read without the model check (rebuilding with a new model is the
    point) and stays the current one until the new generation is complete.
    """
    embedder = embedder or create_embedder(settings)
    backend = open_backend(settings)
    with backend.writer_lock(callbacks.pop("on_wait", None)):
        old = backend.current_location()
        sources = [Path(path) for path in backend.source_paths(old)]
        # records per model and reranker: the new generation's model picks its own, if any
        calibration = valid_records(backend.stored_calibration(old))
        new = backend.next_location()
        backend.discard_generation(new)  # leftovers of an interrupted rebuild
        chunking = chunking_params(settings).as_record()
        index = KnowledgeIndex(settings, embedder, chunking, location=new, backend=backend)
        try:
            report = _rebuild(Ingestor(index, settings), sources, callbacks)
        except BaseException as exc:
            index.close()
            backend.discard_generation(new)
            if isinstance(exc, IngestInterrupted):  # its wording is an ingestion's
                raise IngestInterrupted(
                    f"Reconstruction abandonnée : {exc.__cause__ or exc} L'index actuel reste en service, "
                    "inchangé ; relancez `kb reindex` quand le service répond.",
                    exc.report,
                ) from exc
            raise
        if calibration:
            index.registry.set_calibration(calibration)
        index.close()
        backend.switch_current(new)
        if old.generation != new.generation:
            backend.discard_generation(old)
        return report


def _rebuild(ingestor: Ingestor, sources: list[Path], callbacks: dict) -> IngestReport:
    """Index every source into the new generation: on PostgreSQL the kept files, then the
    sources of the old generation that have none kept but still exist on this disk (indexed
    before the files were kept in the database; they are kept from now on)."""
    missing = [path for path in sources if not path.exists()]
    if ingestor.kept_files is None:
        report = ingestor.ingest_paths([path for path in sources if path.exists()], **callbacks)
        report.removed.extend(str(path) for path in missing)
        return report
    kept = ingestor.kept_files.source_paths()
    report = ingestor.ingest_stored(**callbacks)
    legacy = [path for path in sources if str(path) not in kept and path.exists()]
    if legacy:
        report.absorb(ingestor.ingest_paths(legacy))
    report.removed.extend(str(path) for path in missing if str(path) not in kept)
    return report
