"""The stores one index generation is made of, opened together through the storage backend:
the registry, the passages' vector store, the sentences' (when ``KB_SENTENCE_VECTORS``) and
the lexical index derived from the registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kb.core.errors import IndexMismatchError
from kb.core.settings import Settings
from kb.index.lexical_index import LexicalIndex
from kb.storage.location import IndexLocation
from kb.storage.protocols import Backend, GenerationStores


@dataclass
class IndexBackends:
    stores: GenerationStores
    lexical: LexicalIndex


def open_backends(
    settings: Settings, backend: Backend, location: IndexLocation, description: dict[str, Any]
) -> IndexBackends:
    """Open a generation's stores, refusing one built with another description (model,
    chunking, sentence vectors): it would be searched with vectors it cannot compare. On a
    shared backend the lexical index is kept by each process in its own data directory."""
    stores = backend.open_generation(
        location, description, settings.sentence_vectors, lambda recorded: check_description(recorded, description)
    )
    lexical = LexicalIndex(
        stores.registry,
        stores.lexical_dir,
        delta_max_chunks=settings.lexical_delta_max_chunks,
        shared=stores.shared,
    )
    return IndexBackends(stores, lexical)


def check_description(recorded: dict[str, Any], expected: dict[str, Any]) -> None:
    if not recorded:
        return
    differences = [
        f"{key} : index « {recorded.get(key)} », configuration « {expected.get(key)} »"
        for key in {**recorded, **expected}
        if recorded.get(key) != expected.get(key)
    ]
    if differences and _only_dimension_differs(recorded, expected):
        raise IndexMismatchError(
            f"Le modèle d'embeddings « {expected.get('embedding_model')} » donne maintenant des vecteurs de "
            f"dimension {expected.get('dimension')}, alors que l'index a été construit avec des vecteurs de "
            f"dimension {recorded.get('dimension')} : un autre modèle est servi sous ce nom. Revenez au "
            "précédent, ou lancez `kb reindex` pour reconstruire l'index avec celui-ci."
        )
    if differences:
        raise IndexMismatchError(
            "L'index a été construit avec un autre modèle d'embeddings, un autre découpage ou "
            "sans les vecteurs de phrases (ou avec, KB_SENTENCE_VECTORS) "
            f"({'; '.join(differences)}). Lancez `kb reindex` pour le reconstruire avec la "
            "configuration actuelle."
        )


def _only_dimension_differs(recorded: dict[str, Any], expected: dict[str, Any]) -> bool:
    """The same model name whose vectors changed size: a server now serving another model."""
    keys = {**recorded, **expected}
    return recorded.get("dimension") != expected.get("dimension") and all(
        recorded.get(key) == expected.get(key) for key in keys if key != "dimension"
    )
