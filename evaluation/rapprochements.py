"""The coordinator's rapprochements against evaluation/rapprochements.jsonl: precision at 10
and 20 of the proposed ranking (what GET /coordination/rapprochements lists first, every
status), the labelled true pairs found anywhere in it, and the hard negatives in its top 20.

A pair of the top 20 that is not labelled is reported as such: read both documents and add it
to the file with its label and the sentence saying what they share (or why not).

    python -m evaluation.rapprochements [--index-dir DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from evaluation.datasets import PROJECT_ROOT, Dataset
from evaluation.retrieval import dataset_index
from kb.core.settings import Settings
from services.knowledge_base import KnowledgeBase

LABELS = PROJECT_ROOT / "evaluation" / "rapprochements.jsonl"
TRUE, HARD_NEGATIVE, FALSE = "true", "hard_negative", "false"
TOP = 20


def load(path: Path = LABELS) -> dict[tuple[str, str], str]:
    """(a, b) in byte order → label."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {tuple(sorted((row["a"], row["b"]))): row["label"] for row in rows}  # type: ignore[misc]


def evaluate(
    ranked: list[tuple[str, str]], labels: dict[tuple[str, str], str], proposed: set[tuple[str, str]] | None = None
) -> dict:
    """Figures of a ranking of pairs (each in byte order), best first; ``proposed``: every pair
    proposed, those folded under a listed one included (default: the ranking)."""

    def precision(k: int) -> float | None:
        top = ranked[:k]
        return sum(labels.get(pair) == TRUE for pair in top) / len(top) if top else None

    wanted = {pair for pair, label in labels.items() if label == TRUE}
    return {
        "precision_at_10": precision(10),
        "precision_at_20": precision(20),
        "hard_negatives_in_top_20": [list(p) for p in ranked[:TOP] if labels.get(p) == HARD_NEGATIVE],
        "unlabelled_in_top_20": [list(p) for p in ranked[:TOP] if p not in labels],
        "true_pairs_proposed": len(wanted & (proposed if proposed is not None else set(ranked))),
        "true_pairs_labelled": len(wanted),
        "pairs_proposed": len(ranked),
    }


def ranking(kb: KnowledgeBase) -> tuple[list[tuple[str, str]], set[tuple[str, str]]]:
    """The pairs as listed, and every pair proposed (with those folded under their structures' pair)."""
    listing = kb.rapprochements.pairs(status=None, limit=10**6)
    listed = [(row["a"]["doc_id"], row["b"]["doc_id"]) for row in listing["pairs"]]
    folded = {(other["a"], other["b"]) for row in listing["pairs"] for other in row["also"]}
    return listed, set(listed) | folded


def run(index_dir: Path | None = None, labels_path: Path = LABELS) -> dict:
    settings = Settings()
    with dataset_index(Dataset(name="corpus", corpus=PROJECT_ROOT / "corpus"), settings, index_dir) as (index, _):
        kb = KnowledgeBase.create(settings, index)
        try:
            listed, proposed = ranking(kb)
            return evaluate(listed, load(labels_path), proposed)
        finally:
            kb.rapprochements.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, help="keep the sample index here to reuse it")
    args = parser.parse_args()
    print(json.dumps(run(args.index_dir), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
