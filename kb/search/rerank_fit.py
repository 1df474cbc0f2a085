"""Fitting ``KB_RERANK_WEIGHT``: the reranker's share in the combined order (kb/search/reranking.py), by `kb calibrate`
(services/calibration.py) before the thresholds, which are fitted on the order it gives.

Each weight of ``WEIGHTS`` ranks the calibration half of the labelled questions (those whose
``split`` is not ``held_out``: a file without splits is used whole); the weight with the best
MRR@10 wins, the smaller on a tie (the fused order is the one the thresholds were measured on).
The reranker is asked once per question: the weights share its cached scores. A reranker that
fails during the fit stops it: a weight fitted on the fused order would say nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kb.core.errors import KBError
from kb.search.retrieval import Retriever

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def reciprocal_rank(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    for position, doc_id in enumerate(ranked[:k], start=1):
        if doc_id in relevant:
            return 1.0 / position
    return 0.0


class Labelled(Protocol):
    @property
    def question(self) -> str: ...

    @property
    def relevant(self) -> Sequence[str]: ...

    @property
    def split(self) -> str | None: ...


@dataclass(frozen=True)
class RerankFit:
    weight: float
    mrr: dict[float, float]  # MRR@10 of the calibration questions, per weight
    questions: int

    def payload(self) -> dict:
        return {
            "weight": self.weight,
            "mrr@10": {str(w): round(v, 4) for w, v in self.mrr.items()},
            "questions": self.questions,
        }


def calibration_half(questions: Iterable[Labelled]) -> list[Labelled]:
    return [q for q in questions if q.relevant and q.split != "held_out"]


def fit_rerank_weight(
    retriever: Retriever, questions: Iterable[Labelled], weights: Sequence[float] = WEIGHTS, k: int = 10
) -> RerankFit:
    """The weight of ``weights`` whose order has the best MRR@10 on the calibration half of
    ``questions`` (ties: the smaller), with the MRR of each; ``retriever`` has the reranker."""
    if retriever.reranker is None:
        raise KBError(
            "Aucun modèle de reclassement configuré (KB_RERANK_URL ou KB_RERANK_MODEL_PATH) : rien à ajuster."
        )
    chosen = calibration_half(questions)
    if not chosen:
        raise KBError(
            "Aucune question étiquetée de la moitié de calibration : le poids du reclassement reste inchangé."
        )
    mrr: dict[float, float] = {}
    for weight in sorted(weights):
        weighted = Retriever(
            retriever.index, retriever.glossary, retriever.fusion, reranker=retriever.reranker.with_weight(weight)
        )
        total = 0.0
        for question in chosen:
            query = weighted.query(question.question)
            ranked = [hit.metadata.doc_id for hit in weighted.search(query, k=k)]
            if query.rerank.fallback:
                raise KBError(f"Ajustement du reclassement interrompu. {query.rerank.message}")
            total += reciprocal_rank(ranked, set(question.relevant), k)
        mrr[weight] = total / len(chosen)
    best = max(mrr.values())
    return RerankFit(min(w for w, value in mrr.items() if value >= best - 1e-12), mrr, len(chosen))
