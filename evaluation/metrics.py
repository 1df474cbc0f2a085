"""Retrieval metrics at document level. Pure functions over ranked ids and gold sets."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def recall_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of the relevant documents found in the first k (1.0 or 0.0 with one gold)."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / len(relevant)


def hit_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return 1.0 if set(ranked[:k]) & relevant else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    for position, doc_id in enumerate(ranked[:k], start=1):
        if doc_id in relevant:
            return 1.0 / position
    return 0.0


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k."""
    if not relevant:
        return 0.0
    dcg = sum(
        1.0 / math.log2(position + 1) for position, doc_id in enumerate(ranked[:k], start=1) if doc_id in relevant
    )
    ideal = sum(1.0 / math.log2(position + 1) for position in range(1, min(len(relevant), k) + 1))
    return dcg / ideal


def summarise(rankings: Iterable[tuple[Sequence[str], set[str]]]) -> dict[str, float]:
    """Mean recall@1/5/10, MRR@10 and nDCG@10 over (ranking, gold) pairs with a gold."""
    rows = [(list(ranked), gold) for ranked, gold in rankings if gold]
    if not rows:
        return {"recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0, "n": 0}
    n = len(rows)
    return {
        "recall@1": sum(recall_at(r, g, 1) for r, g in rows) / n,
        "recall@5": sum(recall_at(r, g, 5) for r, g in rows) / n,
        "recall@10": sum(recall_at(r, g, 10) for r, g in rows) / n,
        "mrr@10": sum(reciprocal_rank(r, g, 10) for r, g in rows) / n,
        "ndcg@10": sum(ndcg_at(r, g, 10) for r, g in rows) / n,
        "n": n,
    }
