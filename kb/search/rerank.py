"""Rerankers: a model that scores (query, text) pairs, from a server or a local cross-encoder.

``HttpReranker`` posts to ``{KB_RERANK_URL}/rerank``. The servers an organisation may have
share one shape with variants: text-embeddings-inference wants ``texts`` and answers a bare list
of ``{index, score}``; Infinity, vLLM, Jina, Cohere and Albert's current API want ``documents``
(with ``top_n``, ``model``) and answer ``{"results": [{index, relevance_score}]}``; Albert's
earlier API and Infinity's earlier versions answer ``{"data": [{index, score}]}``, and that
Albert wants ``prompt`` and ``input``. Every one of them ignores the fields it does not know
except, possibly, the strictest (Cohere, Jina) and Albert's current API, which refuses ``prompt``
beside ``query``. So the first request carries both spellings of the list (``documents`` and
``texts``), ``top_n`` = all of them (every server then returns every score) and ``truncate``
(text-embeddings-inference otherwise refuses a text past the model's length); a server that
refuses it as malformed (400 or 422) is asked again with the bare Cohere shape, then with
Albert's earlier ``prompt``/``input``; the shape that worked is kept for the next requests.
Any answer is read in all three response shapes.

``CrossEncoderReranker`` loads a sentence-transformers ``CrossEncoder`` from a local directory
(``KB_RERANK_MODEL_PATH``), never from the hub.

Any failure (connection, timeout, HTTP error, malformed answer, model error) raises
``RerankError`` with a French reason: the caller keeps the fused ranking (kb/search/reranking.py).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from kb.core.errors import KBError
from kb.core.settings import Settings


class RerankError(Exception):
    """The reranker did not give a score for every text; ``str()`` is the French reason."""


class Reranker(Protocol):
    model_id: str

    def scores(self, query: str, texts: Sequence[str]) -> list[float]:
        """One score per text, higher is more relevant; raises ``RerankError``."""
        ...


@dataclass
class RerankOutcome:
    """What reranking did for one request's searches (carried by its ``Query``): ``applied``
    when the ranking shown was reordered by the reranker, ``fallback`` when the reranker failed
    and the fused ranking was kept, with the French ``message`` saying why."""

    applied: bool = False
    fallback: bool = False
    message: str | None = None

    def failed(self, message: str) -> None:
        self.applied = False
        self.fallback = True
        self.message = message

    def payload(self) -> dict[str, Any]:
        return {"applied": self.applied, "fallback": self.fallback, "message": self.message}


# -- a reranking server ---------------------------------------------------------------------

Body = Callable[[str, Sequence[str], str], dict[str, Any]]


def _compatible_body(query: str, texts: Sequence[str], model: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "query": query,
        "documents": list(texts),
        "texts": list(texts),
        "top_n": len(texts),
        "truncate": True,
        "return_documents": False,
    }
    if model:
        body["model"] = model
    return body


def _cohere_body(query: str, texts: Sequence[str], model: str) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query, "documents": list(texts), "top_n": len(texts)}
    if model:
        body["model"] = model
    return body


def _albert_legacy_body(query: str, texts: Sequence[str], model: str) -> dict[str, Any]:
    return {"prompt": query, "input": list(texts), "model": model}


SHAPES: tuple[Body, ...] = (_compatible_body, _cohere_body, _albert_legacy_body)


def parse_scores(payload: Any, count: int) -> list[float]:
    """One score per text from any of the response shapes (see the module's docstring)."""
    items = payload
    if isinstance(payload, dict):
        items = next((payload[key] for key in ("results", "data") if isinstance(payload.get(key), list)), None)
    if not isinstance(items, list):
        raise RerankError("réponse du serveur de reclassement illisible (ni liste, ni « results »)")
    scores: list[float | None] = [None] * count
    for item in items:
        if not isinstance(item, dict):
            raise RerankError("réponse du serveur de reclassement illisible (élément qui n'est pas un objet)")
        index, score = item.get("index"), item.get("relevance_score", item.get("score"))
        if not isinstance(index, int) or not 0 <= index < count:
            raise RerankError(f"réponse du serveur de reclassement illisible (index {index!r})")
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
            raise RerankError(f"réponse du serveur de reclassement illisible (score {score!r})")
        scores[index] = float(score)
    missing = sum(score is None for score in scores)
    if missing:
        raise RerankError(f"le serveur de reclassement n'a pas noté {missing} texte(s) sur {count}")
    return [float(score) for score in scores if score is not None]


class HttpReranker:
    """A ``/rerank`` server (``KB_RERANK_URL``); one request per call, bounded by ``timeout_s``
    in all (a refused shape and its retry share it)."""

    def __init__(self, url: str, model: str = "", api_key: str = "", timeout_s: float = 5.0) -> None:
        self.endpoint = url.strip().rstrip("/") + "/rerank"
        self.model = model.strip()
        self.model_id = f"rerank/{self.model or url.strip().rstrip('/')}"
        self.timeout_s = timeout_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=timeout_s)
        self._shape = 0  # the first shape the server accepted (module docstring)

    def scores(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        deadline = time.monotonic() + self.timeout_s
        shape = self._shape
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RerankError(f"délai de {self.timeout_s:g} s dépassé")
            try:
                response = self._client.post(
                    self.endpoint, json=SHAPES[shape](query, texts, self.model), timeout=httpx.Timeout(left)
                )
            except httpx.TimeoutException as error:
                raise RerankError(f"délai de {self.timeout_s:g} s dépassé") from error
            except httpx.HTTPError as error:
                raise RerankError(f"serveur injoignable ({type(error).__name__})") from error
            if response.status_code in (400, 422) and shape + 1 < len(SHAPES):
                shape += 1  # a server that reads another request shape (module docstring)
                continue
            if response.status_code != 200:
                raise RerankError(f"le serveur a répondu {response.status_code}")
            try:
                payload = response.json()
            except ValueError as error:
                raise RerankError("réponse du serveur de reclassement qui n'est pas du JSON") from error
            scores = parse_scores(payload, len(texts))
            self._shape = shape
            return scores

    def close(self) -> None:
        self._client.close()


# -- a local cross-encoder ------------------------------------------------------------------


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` in a local directory, on the CPU."""

    def __init__(self, model_path: Path) -> None:
        import os

        # A local directory must never trigger a hub lookup, even when the network is up.
        os.environ["HF_HUB_OFFLINE"] = "1"
        model_path = Path(model_path)
        if not (model_path / "config.json").exists():
            raise KBError(
                f"Modèle de reclassement introuvable dans « {model_path} » : indiquez un dossier de "
                "modèle CrossEncoder sentence-transformers local (KB_RERANK_MODEL_PATH)."
            )
        from sentence_transformers import CrossEncoder
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        self._model = CrossEncoder(str(model_path), device="cpu", local_files_only=True)
        name = model_path.resolve().name
        if name in ("model", "models"):
            name = f"{model_path.resolve().parent.name}/{name}"
        self.model_id = f"cross-encoder/{name}"
        self._lock = threading.Lock()  # one prediction at a time: torch already uses every core

    def scores(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        try:
            with self._lock:
                predicted = self._model.predict([(query, text) for text in texts], show_progress_bar=False)
        except Exception as error:  # a model that cannot read its input: keep the fused ranking
            raise RerankError(f"le modèle de reclassement a échoué ({type(error).__name__})") from error
        scores = [float(value) for value in predicted.reshape(len(texts), -1)[:, -1]]
        if not all(math.isfinite(score) for score in scores):
            raise RerankError("le modèle de reclassement a donné un score non numérique")
        return scores


def create_reranker(settings: Settings) -> Reranker | None:
    """The reranker the settings name (a server first), or None when neither is set."""
    if settings.rerank_url.strip():
        return HttpReranker(
            settings.rerank_url,
            settings.rerank_model,
            settings.rerank_api_key.get_secret_value(),
            settings.rerank_timeout_s,
        )
    if settings.rerank_model_path is not None:
        return CrossEncoderReranker(settings.rerank_model_path)
    return None
