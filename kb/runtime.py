"""Assemble the components from settings: used by the CLI, the API lifespan and the benchmarks."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import IngestReport, Ingestor, chunking_params
from kb.embeddings import Embedder, create_embedder
from kb.index import (
    KnowledgeIndex,
    current_location,
    discard_generation,
    next_location,
    switch_current,
    writer_lock,
)
from kb.registry import Registry
from kb.settings import Settings


def open_index(settings: Settings, embedder: Embedder | None = None) -> KnowledgeIndex:
    embedder = embedder or create_embedder(settings)
    return KnowledgeIndex(settings, embedder, chunking_params(settings).as_record())


def ingest(
    settings: Settings,
    paths: list[Path],
    prune: bool = False,
    embedder: Embedder | None = None,
    **callbacks,
) -> IngestReport:
    with writer_lock(settings.data_dir):
        index = open_index(settings, embedder)
        try:
            return Ingestor(index, settings).ingest_paths(paths, prune=prune, **callbacks)
        finally:
            index.close()


def remove(settings: Settings, doc_id: str, embedder: Embedder | None = None) -> None:
    with writer_lock(settings.data_dir):
        index = open_index(settings, embedder)
        try:
            index.remove(doc_id)
        finally:
            index.close()


def reindex(settings: Settings, embedder: Embedder | None = None, **callbacks) -> IngestReport:
    """Rebuild the whole index from the source files into a new generation, then switch.

    The old generation is read without the model check (rebuilding with a new model is the
    point) and stays the current one until the new generation is complete.
    """
    embedder = embedder or create_embedder(settings)
    with writer_lock(settings.data_dir):
        old = current_location(settings.data_dir)
        sources: list[Path] = []
        registry_path = old.directory / "registry.sqlite3"
        if registry_path.exists():
            registry = Registry(registry_path)
            sources = [
                Path(doc.metadata.source_path)
                for doc in registry.documents()
                if doc.metadata.source_path
            ]
            registry.close()
        new = next_location(settings.data_dir)
        discard_generation(settings, new)  # leftovers of an interrupted rebuild
        index = KnowledgeIndex(
            settings, embedder, chunking_params(settings).as_record(), location=new
        )
        try:
            present = [path for path in sources if path.exists()]
            report = Ingestor(index, settings).ingest_paths(present, **callbacks)
            report.removed.extend(str(path) for path in sources if not path.exists())
        except BaseException:
            index.close()
            discard_generation(settings, new)
            raise
        index.close()
        switch_current(new)
        if old.generation != new.generation:
            discard_generation(settings, old)
        return report
