"""A search's fused ranking reordered by a reranker (kb/search/rerank.py), when one is configured.

The ``top_n`` best documents of the hybrid ranking are scored by the reranker on one text each,
the document's title and its best passage (cut to ``TEXT_CHARS``). Their new order combines the
two rankings by a weighted reciprocal rank: ``(1 - weight) / (K + fused rank) + weight / (K +
reranker rank)`` (ties keep the fused order), so ``weight`` 0 is the fused order and 1 the
reranker's. The reordered documents then take the fused scores in descending order: the
evidence floor, the answer's threshold, the grey zone and the list's cut keep reading scores on
the scale they were calibrated on, and the documents past ``top_n`` keep theirs.

A question is searched several times in one request (its listing, its evidence on the whole
base, its answer): the scores are cached per query text, document and text, so the reranker is
asked once. When it fails (error, timeout, malformed answer), the fused ranking is kept and the
request's ``Query.rerank`` says so; the same request does not ask again, and no request asks a
failing reranker again for ``COOLDOWN_S`` seconds (a search must not wait on a server that is down).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import replace

from kb.core.bounded_cache import BoundedCache
from kb.core.settings import Settings
from kb.search.hits import DocumentHit
from kb.search.query import Query
from kb.search.rerank import Reranker, RerankError, create_reranker

logger = logging.getLogger("passerelles.rerank")

K = 60  # the reciprocal-rank constant: ranks count almost linearly over the top 20
TEXT_CHARS = 1500  # about 400 tokens: title and passage fit a 512-token cross-encoder with the query
COOLDOWN_S = 30.0
CACHE_SIZE = 8192  # document scores (top_n per question)

FAILED = "Le reclassement a échoué ({reason}) : les résultats gardent l'ordre habituel de la recherche."
SUSPENDED = (
    "Le reclassement est suspendu après un échec récent ({reason}) : les résultats gardent l'ordre "
    "habituel de la recherche."
)


class _Health:
    """When the reranker last failed, and why (shared by the copies of one ``Reranking``)."""

    def __init__(self) -> None:
        self.until = 0.0
        self.reason = ""
        self.lock = threading.Lock()

    def failed(self, reason: str) -> None:
        with self.lock:
            self.until = time.monotonic() + COOLDOWN_S
            self.reason = reason

    def suspended(self) -> str | None:
        with self.lock:
            return self.reason if time.monotonic() < self.until else None


class Reranking:
    def __init__(
        self,
        reranker: Reranker,
        top_n: int,
        weight: float,
        cache: BoundedCache[tuple[str, str, str, str], float] | None = None,
        health: _Health | None = None,
    ) -> None:
        self.reranker = reranker
        self.top_n = top_n
        self.weight = weight
        self._cache = cache if cache is not None else BoundedCache(CACHE_SIZE)
        self._health = health or _Health()

    @classmethod
    def from_settings(cls, settings: Settings, weight: float | None = None) -> Reranking | None:
        """The settings' reranker (None without one); ``weight``: the calibrated share, when
        the index has one (else ``KB_RERANK_WEIGHT``)."""
        reranker = create_reranker(settings)
        if reranker is None:
            return None
        return cls(reranker, settings.rerank_top_n, settings.rerank_weight if weight is None else weight)

    @property
    def model_id(self) -> str:
        return self.reranker.model_id

    def with_weight(self, weight: float) -> Reranking:
        """The same reranker, cache and failure state with another weight (fitting it)."""
        return Reranking(self.reranker, self.top_n, weight, self._cache, self._health)

    def close(self) -> None:
        close = getattr(self.reranker, "close", None)
        if close is not None:
            close()

    def apply(self, query: Query, hits: list[DocumentHit]) -> list[DocumentHit]:
        """``hits`` (the fused ranking, best first) with its ``top_n`` first reordered, or
        unchanged when the reranker fails (said in ``query.rerank``)."""
        top = hits[: self.top_n]
        outcome = query.rerank
        if len(top) < 2 or self.weight <= 0 or outcome.fallback:
            return hits
        reason = self._health.suspended()
        if reason is not None:
            outcome.failed(SUSPENDED.format(reason=reason))
            return hits
        try:
            scores = self._scores(query.spelled, top)
        except RerankError as error:
            logger.warning("Reclassement : ordre de la fusion gardé (%s)", error)
            self._health.failed(str(error))
            outcome.failed(FAILED.format(reason=error))
            return hits
        outcome.applied = True
        return combine(top, scores, self.weight) + hits[self.top_n :]

    def _scores(self, query: str, hits: list[DocumentHit]) -> list[float]:
        texts = [document_text(hit) for hit in hits]
        keys = [
            (self.model_id, query, hit.metadata.doc_id, hashlib.blake2b(text.encode(), digest_size=16).hexdigest())
            for hit, text in zip(hits, texts, strict=True)
        ]
        known = {key: score for key in keys if (score := self._cache.get(key)) is not None}
        missing = [i for i, key in enumerate(keys) if key not in known]
        if missing:
            fresh = self.reranker.scores(query, [texts[i] for i in missing])
            if len(fresh) != len(missing):
                raise RerankError(f"{len(fresh)} score(s) reçus pour {len(missing)} textes")
            for i, score in zip(missing, fresh, strict=True):
                known[keys[i]] = score
                self._cache.put(keys[i], score)
        return [known[key] for key in keys]


def document_text(hit: DocumentHit) -> str:
    """What the reranker reads of a document: its title and its best passage."""
    passage = hit.passages[0].chunk.text if hit.passages else ""
    return f"{hit.metadata.title or ''}\n{' '.join(passage.split())}".strip()[:TEXT_CHARS]


def combine(hits: list[DocumentHit], scores: list[float], weight: float) -> list[DocumentHit]:
    """``hits`` (fused order) reordered by the weighted reciprocal rank of their fused rank and
    their rank by ``scores``, carrying the fused scores in descending order."""
    by_score = sorted(range(len(hits)), key=lambda i: -scores[i])  # stable: ties in fused order
    reranked = {i: rank for rank, i in enumerate(by_score, start=1)}

    def combined(i: int) -> float:
        return (1 - weight) / (K + i + 1) + weight / (K + reranked[i])

    order = sorted(range(len(hits)), key=lambda i: (-combined(i), i))
    fused = sorted((hit.score for hit in hits), reverse=True)
    return [replace(hits[i], score=score) for i, score in zip(order, fused, strict=True)]
