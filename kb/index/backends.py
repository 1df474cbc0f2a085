"""The backends one index generation is made of, opened together: the registry, the passages'
vector store, the sentences' (when ``KB_SENTENCE_VECTORS``) and the lexical index derived from
the registry. Embedded (SQLite registry + Chroma collections in the generation's directory) or on
PostgreSQL (registry and pgvector tables in the generation's schema)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.core.errors import IndexMismatchError
from kb.core.settings import Settings
from kb.index.generations import IndexLocation
from kb.index.lexical_index import LexicalIndex
from kb.index.sentence_vectors import STORE_SUFFIX
from kb.storage.embedded.chroma import open_vector_store
from kb.storage.embedded.registry import Registry


@dataclass
class IndexBackends:
    registry: Any
    vectors: Any
    sentence_store: Any | None  # None: the index keeps no sentence vectors
    lexical: LexicalIndex
    local_cache: Path | None = None  # PostgreSQL: what this process derives from the generation


def open_backends(
    settings: Settings, location: IndexLocation, description: dict[str, Any], database=None
) -> IndexBackends:
    """Open a generation's backends, refusing one built with another description (model,
    chunking, sentence vectors): it would be searched with vectors it cannot compare."""
    if database is not None:
        return _open_postgres(settings, location, description, database)
    return _open_embedded(settings, location, description)


def _open_embedded(settings: Settings, location: IndexLocation, description: dict[str, Any]) -> IndexBackends:
    directory = location.directory
    directory.mkdir(parents=True, exist_ok=True)
    registry = Registry(directory / "registry.sqlite3")
    check_description(registry.info(), description)
    name = location.collection_name(settings.collection_prefix)
    vectors = open_vector_store(settings.chroma_url, directory / "chroma", name, description)
    check_description(vectors.description, description)
    sentence_store = None
    if settings.sentence_vectors:
        sentence_store = open_vector_store(
            settings.chroma_url, directory / "chroma", f"{name}-{STORE_SUFFIX}", description
        )
    lexical = LexicalIndex(registry, directory / "lexical", delta_max_chunks=settings.lexical_delta_max_chunks)
    return IndexBackends(registry, vectors, sentence_store, lexical)


def _open_postgres(settings: Settings, location: IndexLocation, description: dict[str, Any], database) -> IndexBackends:
    """Registry and vectors in the generation's schema; the lexical index, derived from the
    shared registry, is kept by each server in its own data directory (per base)."""
    from kb.storage.postgres.database import generation_schema
    from kb.storage.postgres.registry import PgRegistry
    from kb.storage.postgres.vectors import PgVectorStore

    schema = generation_schema(location.generation)
    registry = PgRegistry(database, schema)
    check_description(registry.info(), description)
    vectors = PgVectorStore(database, schema, description)
    check_description(vectors.description, description)
    sentence_store = None
    if settings.sentence_vectors:
        sentence_store = PgVectorStore(database, schema, description, table=f"{STORE_SUFFIX}_vectors")
    local_cache = settings.data_dir / "cache" / registry.base_id()
    lexical = LexicalIndex(
        registry,
        local_cache / location.generation / "lexical",
        delta_max_chunks=settings.lexical_delta_max_chunks,
        shared=True,
    )
    return IndexBackends(registry, vectors, sentence_store, lexical, local_cache)


def check_description(recorded: dict[str, Any], expected: dict[str, Any]) -> None:
    if not recorded:
        return
    differences = [
        f"{key} : index « {recorded.get(key)} », configuration « {expected.get(key)} »"
        for key in {**recorded, **expected}
        if recorded.get(key) != expected.get(key)
    ]
    if differences:
        raise IndexMismatchError(
            "L'index a été construit avec un autre modèle d'embeddings, un autre découpage ou "
            "sans les vecteurs de phrases (ou avec, KB_SENTENCE_VECTORS) "
            f"({'; '.join(differences)}). Lancez `kb reindex` pour le reconstruire avec la "
            "configuration actuelle."
        )
