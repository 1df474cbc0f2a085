"""Compare fusion strategies on a dataset: `python -m evaluation.tune_fusion --dataset PATH`.

Dense and BM25 candidates are computed once per question; each strategy then ranks documents
from them, so many strategies are compared at the cost of one retrieval pass. This is how the
shipped fusion (kb.search.retrieval.FusionParams) was chosen.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from evaluation.datasets import CNIL_PATH, PROJECT_ROOT, load_dataset
from evaluation.metrics import summarise
from evaluation.retrieval import dataset_index
from kb.core.settings import Settings
from kb.search.glossary import Glossary


def doc_scores(passages) -> dict[str, float]:
    best: dict[str, float] = {}
    for p in passages:
        best[p.chunk.doc_id] = max(best.get(p.chunk.doc_id, float("-inf")), p.score)
    return best


def ranked(scores: dict[str, float]) -> list[str]:
    return [d for d, _ in sorted(scores.items(), key=lambda kv: -kv[1])][:10]


def rrf(rank_lists: list[list[str]], weights: list[float], k: int = 60) -> list[str]:
    fused: dict[str, float] = defaultdict(float)
    for ranking, weight in zip(rank_lists, weights, strict=True):
        for position, doc in enumerate(ranking, start=1):
            fused[doc] += weight / (k + position)
    return ranked(fused)


def weighted(dense: dict[str, float], lexical: dict[str, float], weight: float) -> list[str]:
    best = max(lexical.values(), default=0.0) or 1.0
    floor = min(dense.values(), default=0.0)
    docs = set(dense) | set(lexical)
    return ranked({d: dense.get(d, floor) + weight * lexical.get(d, 0.0) / best for d in docs})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=CNIL_PATH)
    parser.add_argument("--index-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = Settings()
    dataset = load_dataset(args.dataset, PROJECT_ROOT / "corpus")
    glossary = Glossary.load(settings.glossary_file)
    questions = [q for q in dataset.questions if q.relevant]
    strategies: dict[str, list] = defaultdict(list)
    with dataset_index(dataset, settings, args.index_dir) as (index, _):
        for q in questions:
            text = glossary.expand(q.question)
            dense = doc_scores(index.dense_search(text, 100))
            lexical = doc_scores(index.lexical_search(text, 100))
            dense_rank, lexical_rank = ranked(dense), ranked(lexical)
            gold = set(q.relevant)
            strategies["bm25"].append((lexical_rank, gold))
            strategies["dense"].append((dense_rank, gold))
            for k in (10, 60):
                strategies[f"rrf k={k}"].append((rrf([dense_rank, lexical_rank], [1, 1], k), gold))
                strategies[f"rrf k={k} dense x2"].append((rrf([dense_rank, lexical_rank], [2, 1], k), gold))
            for weight in (0.01, 0.02, 0.03, 0.05, 0.08, 0.12):
                strategies[f"weighted {weight}"].append((weighted(dense, lexical, weight), gold))
    print(f"{'strategy':24} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR@10':>7} {'nDCG@10':>8}")
    for name, rows in strategies.items():
        f = summarise(rows)
        print(
            f"{name:24} {f['recall@1']:6.3f} {f['recall@5']:6.3f} {f['recall@10']:6.3f} {f['mrr@10']:7.3f} {f['ndcg@10']:8.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
