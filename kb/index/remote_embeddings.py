"""Embeddings from an OpenAI-compatible server (``KB_EMBEDDING_BACKEND=openai``).

Any server that answers ``POST {url}/embeddings`` with ``{"model", "input": [texts]}`` the way
OpenAI's API does (``data[i].embedding`` and ``data[i].index``): the French state's Albert
API, Ollama, vLLM, text-embeddings-inference, Infinity, LiteLLM…

* Passages go in requests of ``KB_EMBEDDING_BATCH_SIZE`` texts, at most
  ``KB_EMBEDDING_CONCURRENCY`` of them in flight, their order kept; a query is one request.
* A request that meets a 429, a 5xx, a timeout (``KB_EMBEDDING_TIMEOUT_S``) or a lost
  connection is tried again up to ``KB_EMBEDDING_RETRIES`` times, after an exponential
  back-off, or after the server's ``Retry-After`` when it is short (capped). When every
  attempt failed, or the server answers something that is not embeddings, the error is the
  French 503 of the other backends (``BackendUnavailable``): searches answer 503, an
  ingestion stops cleanly (``ingest/pipeline.py``). Other 4xx (a wrong key, an unknown
  model) are not retried. The key is sent as ``Authorization: Bearer`` and never appears in
  a message or a log line (nor a password written in the URL).
* Rows are read by each item's ``index`` and L2-normalised. The dimension is asked of the
  server (one short text) the first time it is needed, which is when an index opens over
  this model: a server down then makes the index unavailable (503) rather than the process
  fail, and the API retries it (``KB_BACKEND_RETRY_S``). Every later response must have that
  dimension: one that has not is refused (``IndexMismatchError``) and nothing is written.
* The model id recorded in the index is ``openai/<model>``: changing the model needs
  ``kb reindex``; the index also refuses a server that now answers another dimension under
  the same name (``kb/index/backends.py``).
"""

from __future__ import annotations

import email.utils
import logging
import math
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import numpy as np

from kb.core.errors import BackendUnavailable, IndexMismatchError

logger = logging.getLogger("passerelles.embeddings")

BACKOFF_S = 0.5  # first wait before a retry; doubled each time
BACKOFF_MAX_S = 8.0
RETRY_AFTER_MAX_S = 10.0  # a longer Retry-After is waited this long only
PROBE_TEXT = "dimension"
HEALTH_TIMEOUT_S = 3.0  # /health's own attempt, after a failure, waits no longer
_RETRIED_STATUS = {408, 409, 425, 429}


class RetryableError(Exception):
    """One attempt failed in a way worth trying again; ``wait``: the server's Retry-After."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


class OpenAIEmbedder:
    def __init__(
        self,
        url: str,
        model: str,
        api_key: str = "",
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 32,
        concurrency: int = 4,
        retries: int = 3,
        timeout_s: float = 30.0,
        backoff_s: float = BACKOFF_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``transport``: for tests (an ``httpx.MockTransport``); nothing is sent here."""
        self.url = url.strip().rstrip("/")
        self.model = model
        self.model_id = f"openai/{model}"
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self.batch_size = batch_size
        self.concurrency = concurrency
        # The index hands over this many texts per call, so that the batches of one call can
        # be in flight together (``KnowledgeIndex.embed_passages``).
        self.texts_per_call = batch_size * concurrency
        self.retries = retries
        self.backoff_s = backoff_s
        self.where = _public_url(self.url)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=timeout_s,
            transport=transport,
            limits=httpx.Limits(max_connections=concurrency + 1, max_keepalive_connections=concurrency + 1),
            follow_redirects=False,
        )
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="embeddings")
        self._dimension: int | None = None
        self._probe_lock = threading.Lock()
        self.last_error: str | None = None  # the last failure seen, None once a request succeeds

    # -- the Embedder protocol ----------------------------------------------------------

    @property
    def dimension(self) -> int:
        """Asked of the server once (``BackendUnavailable`` while it does not answer)."""
        if self._dimension is None:
            with self._probe_lock:
                if self._dimension is None:
                    self._dimension = self._request([PROBE_TEXT]).shape[1]
        return self._dimension

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        dimension = self.dimension  # asked first: every response is checked against it
        if not texts:
            return np.zeros((0, dimension), dtype=np.float32)
        prefixed = [self._passage_prefix + text for text in texts]
        batches = [prefixed[start : start + self.batch_size] for start in range(0, len(prefixed), self.batch_size)]
        if len(batches) == 1:
            return self._checked(self._request(batches[0]))
        # map keeps the order and raises the first failure (the other requests still finish)
        return np.vstack([self._checked(part) for part in self._pool.map(self._request, batches)])

    def embed_query(self, text: str) -> np.ndarray:
        self.dimension  # noqa: B018 - asked first: the response is checked against it
        return self._checked(self._request([self._query_prefix + text]))[0]

    def check(self) -> str:
        """``ok``, or what is wrong, for /health: no request while the last one succeeded, else
        one short attempt (so that a server back up is seen without waiting for a search)."""
        if self.last_error is None:
            return "ok"
        try:
            probe = self._attempt(
                [PROBE_TEXT], timeout=min(self._client.timeout.read or HEALTH_TIMEOUT_S, HEALTH_TIMEOUT_S)
            )
        except (RetryableError, BackendUnavailable):
            return "injoignable"
        if self._dimension is not None and probe.shape[1] != self._dimension:
            return f"dimension {probe.shape[1]} au lieu de {self._dimension}"
        self.last_error = None
        return "ok"

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self._client.close()

    # -- one request, retried ------------------------------------------------------------

    def _request(self, texts: list[str]) -> np.ndarray:
        attempts = self.retries + 1
        for attempt in range(attempts):
            try:
                vectors = self._attempt(texts)
            except RetryableError as exc:
                self.last_error = str(exc)
                if attempt + 1 == attempts:
                    raise self._unavailable(f"{exc}, {attempts} tentative(s)") from None
                wait = exc.wait if exc.wait is not None else self.backoff_s * 2**attempt
                wait = min(wait, RETRY_AFTER_MAX_S if exc.wait is not None else BACKOFF_MAX_S)
                logger.warning(
                    "serveur d'embeddings %s : %s, nouvel essai dans %.1f s (%d/%d)",
                    self.where,
                    exc,
                    wait,
                    attempt + 1,
                    self.retries,
                )
                time.sleep(wait)
            except BackendUnavailable as exc:
                self.last_error = str(exc)
                raise
            else:
                self.last_error = None
                return vectors
        raise AssertionError("unreachable")

    def _attempt(self, texts: list[str], timeout: float | None = None) -> np.ndarray:
        options: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        try:
            response = self._client.post(
                f"{self.url}/embeddings", json={"model": self.model, "input": texts}, **options
            )
        except httpx.TimeoutException:
            raise RetryableError("délai dépassé") from None
        except httpx.TransportError as exc:
            raise RetryableError(f"connexion impossible ({type(exc).__name__})") from None
        status = response.status_code
        if status in _RETRIED_STATUS or status >= 500:
            raise RetryableError(f"HTTP {status}", _retry_after(response.headers.get("Retry-After")))
        if status in (401, 403):
            raise self._unavailable(f"clé refusée (HTTP {status}, KB_EMBEDDING_API_KEY)", "refuse la requête")
        if status == 404:
            raise self._unavailable(
                f"adresse ou modèle « {self.model} » inconnu (HTTP 404 ; KB_EMBEDDING_URL est l'adresse de base, "
                "sans /embeddings)",
                "refuse la requête",
            )
        if status >= 300:
            raise self._unavailable(f"HTTP {status} : {_server_message(response)}", "refuse la requête")
        try:
            return _read_vectors(response.json(), len(texts))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise self._unavailable(f"ce ne sont pas des embeddings ({exc})"[:300], "répond mal") from None

    def _checked(self, vectors: np.ndarray) -> np.ndarray:
        """Refuse vectors of another dimension than the one this model was opened with."""
        expected = self.dimension
        if vectors.shape[1] != expected:
            self.last_error = f"dimension {vectors.shape[1]} au lieu de {expected}"
            raise IndexMismatchError(
                f"Le serveur d'embeddings ({self.where}) renvoie pour « {self.model} » des vecteurs de "
                f"dimension {vectors.shape[1]}, alors que l'index a été construit en dimension {expected} : "
                "rien n'a été écrit. Le modèle servi sous ce nom a changé ; revenez au précédent, ou lancez "
                "`kb reindex` pour reconstruire l'index avec le nouveau."
            )
        return vectors

    def _unavailable(self, reason: str, lead: str = "ne répond pas") -> BackendUnavailable:
        advice = (
            "Vérifiez qu'il est démarré et joignable (KB_EMBEDDING_URL), puis réessayez."
            if lead == "ne répond pas"
            else "Vérifiez KB_EMBEDDING_URL, KB_EMBEDDING_MODEL et KB_EMBEDDING_API_KEY."
        )
        return BackendUnavailable(
            f"Le serveur d'embeddings ({self.where}, modèle « {self.model} ») {lead} : {reason}. {advice}"
        )


def _read_vectors(payload: Any, count: int) -> np.ndarray:
    """The rows of an OpenAI-shaped response, in input order, L2-normalised."""
    data = payload["data"]
    if not isinstance(data, list) or len(data) != count:
        raise ValueError(f"{len(data) if isinstance(data, list) else 'aucun'} vecteur(s) pour {count} texte(s)")
    rows: list[Any] = [None] * count
    for position, item in enumerate(data):
        index = item.get("index", position)
        if not isinstance(index, int) or not 0 <= index < count or rows[index] is not None:
            raise ValueError(f"index {index!r} invalide")
        rows[index] = item["embedding"]
    if isinstance(rows[0], str):
        raise ValueError("vecteurs encodés en base64 : non pris en charge")
    vectors = np.asarray(rows, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] == 0:
        raise ValueError("vecteurs de longueurs différentes ou vides")
    if not np.isfinite(vectors).all():
        raise ValueError("valeurs non finies")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError("vecteur nul")
    return vectors / norms


def _retry_after(value: str | None) -> float | None:
    """Seconds of a Retry-After header (a number or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _server_message(response: httpx.Response) -> str:
    """What the server said of a refused request, short (it may echo the input)."""
    try:
        payload = response.json()
        error = payload.get("error") or payload.get("detail") or payload.get("message") or payload
        if isinstance(error, dict):
            error = error.get("message", error)
        text = str(error)
    except ValueError:
        text = response.text
    text = " ".join(text.split())
    return text[:200] + ("…" if len(text) > 200 else "")


def _public_url(url: str) -> str:
    """The URL without a user or password written in it (shown in messages and logs)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
