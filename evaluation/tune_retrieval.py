"""Compare retrieval strategies on CNIL and the project questions from cached signals:
`python -m evaluation.tune_retrieval [--cache DIR] [--index-dir DIR]`.

Successor of tune_fusion: candidates, sentence vectors and sparse "latent terms" are computed
once per dataset (evaluation/retrieval_signals.py, numpy files under --cache), then every
strategy ranks documents from them in memory. Prints MRR@10 for CNIL (all, and its two halves
in file order) and for the project questions by split and by kind.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

from evaluation import retrieval_signals
from evaluation.datasets import CNIL_PATH, PROJECT_ROOT, load_dataset
from evaluation.metrics import reciprocal_rank
from evaluation.retrieval_strategies import (
    Documents,
    MissingSignal,
    Question,
    Strategy,
    alone,
    blended,
    fused,
    multi_passage,
    passage_level,
    rocchio,
    rrf,
    searched_sentences,
    shipped,
)
from kb.core.settings import Settings

EXTRA_FILES = {
    "sentences": "sentence_vectors.npy",
    "sparse": "sparse_queries.npz",
    "symmetric": "query_passage_vectors.npy",
}
BASELINE = "before #15: cos + 0.03 BM25, depth 50"
KINDS = ("natural", "keyword", "acronym", "unaccented", "who", "cross_sector", "typo", "paraphrase")


def _prefixed_query(weight: float) -> Strategy:
    """The query embedded as a passage, depth 100, plus ``weight`` x BM25."""
    return lambda q: np.where(q.candidates(100), q.symmetric_cosine + weight * q.lexical(100), -np.inf)


def _both_query_vectors(weight: float) -> Strategy:
    """The mean of the query's two cosines (as a query, as a passage), depth 100, plus ``weight`` x BM25."""
    return lambda q: np.where(q.candidates(100), (q.cosine + q.symmetric_cosine) / 2 + weight * q.lexical(100), -np.inf)


def strategies() -> dict[str, Strategy]:
    found: dict[str, Strategy] = {BASELINE: shipped(50, 0.03)}
    for depth in (50, 100, 300):
        for weight in (0.03, 0.05, 0.08, 0.12, 0.2):
            found[f"shipped fusion, depth {depth}, BM25 {weight}"] = shipped(depth, weight)
    found["dense alone (exact)"] = alone("cosine")
    found["sentence alone"] = alone("sentence")
    found["sparse alone"] = alone("sparse")
    found["BM25 alone"] = lambda q: np.where(q.lexical(300) > 0, q.lexical(300), -np.inf)
    for depth in (50, 100, 300):
        for weight in (0.03, 0.05, 0.08, 0.12):
            found[f"exact cosine, depth {depth}, BM25 {weight}"] = fused(depth, weight)
    for weight in (0.03, 0.05, 0.08):
        found[f"passage-level, depth 100, BM25 {weight}"] = passage_level(100, weight)
    for weight in (0.03, 0.05, 0.08):
        for second in (0.2, 0.5):
            found[f"cos + {second} second cos, depth 100, BM25 {weight}"] = multi_passage(100, weight, second)
        for share in (0.03, 0.05, 0.1):
            found[f"BM25 {weight} + doc BM25 sum {share}, depth 100"] = multi_passage(100, weight, lexical_sum=share)
    for depth, sentences in ((50, 50), (50, 200), (100, 400)):
        for share in (0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
            for weight in (0.02, 0.025, 0.03, 0.04, 0.05):
                found[f"searched: {share} sentence ({sentences}), depth {depth}, BM25 {weight}"] = searched_sentences(
                    depth, sentences, share, weight
                )
    for lam in (0.25, 0.5, 1.0, 2.0):
        for weight in (0.02, 0.03, 0.04, 0.05):
            found[f"blended vector: passage + {lam} mean sentence, BM25 {weight}"] = blended(lam, weight)
    for weight in (0.03, 0.05, 0.08):
        for beta in (0.3, 0.6, 1.0):
            found[f"dense PRF (Rocchio top 3, beta {beta}), depth 100, BM25 {weight}"] = rocchio(100, weight, beta)
    found["dense alone, query embedded as a passage"] = alone("symmetric_cosine")
    for weight in (0.03, 0.05, 0.08):
        found[f"passage-prefixed query, depth 100, BM25 {weight}"] = _prefixed_query(weight)
        found[f"both query vectors averaged, depth 100, BM25 {weight}"] = _both_query_vectors(weight)
    for k in (10, 60):
        for weight in (1.0, 1.5, 2.0, 3.0):
            found[f"RRF k={k}, depth 100, BM25 x{weight}"] = rrf(100, weight, k)
    for depth in (100,):
        for weight in (0.03, 0.05, 0.08, 0.12):
            found[f"max(passage, sentence), depth {depth}, BM25 {weight}"] = fused(depth, weight, combine="max")
            for share in (0.3, 0.5, 1.0):
                found[f"passage + {share} sentence, depth {depth}, BM25 {weight}"] = fused(depth, weight, share)
            found[f"0.5 passage + 0.5 sentence, depth {depth}, BM25 {weight}"] = fused(
                depth, weight, 0.5, passage_weight=0.5
            )
        for weight in (0.03, 0.05, 0.08):
            for share in (0.01, 0.03, 0.05, 0.1):
                found[f"sparse {share}, depth {depth}, BM25 {weight}"] = fused(depth, weight, sparse=share)
                found[f"sparse {share} (+its candidates), depth {depth}, BM25 {weight}"] = fused(
                    depth, weight, sparse=share, extra_candidates=True
                )
    return found


def evaluate(signals: retrieval_signals.Signals, found: dict[str, Strategy]) -> dict[str, dict[str, list[float]]]:
    """Per strategy, per group ("all", a split, a kind, kind@split): the reciprocal ranks."""
    docs = Documents(signals.doc_ids)
    groups: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in found}
    for number, raw in enumerate(signals.questions):
        question = Question(signals, docs, number)
        for name, strategy in found.items():
            try:
                scores = strategy(question)
            except MissingSignal:
                continue
            order = np.argsort(-scores, kind="stable")[:10]
            ranking = [docs.ids[d] for d in order if np.isfinite(scores[d])]
            rr = reciprocal_rank(ranking, set(raw.relevant), 10)
            for group in ("all", raw.split, raw.kind, f"{raw.kind}@{raw.split}"):
                groups[name][group].append(rr)
    return groups


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def report(cnil: dict | None, project: dict | None) -> None:
    names = list((cnil or project or {}).keys())
    header = (
        f"{'strategy':58} {'CNIL':>6} {'C.cal':>6} {'C.ho':>6} {'proj':>6} {'p.ho':>6} "
        + " ".join(f"{k[:6]:>6}" for k in KINDS)
        + f" {'para.ho':>7} {'typo.ho':>7}"
    )
    print(header)
    for name in names:
        c = cnil[name] if cnil else {}
        p = project[name] if project else {}
        cells = [mean(c.get(g, [])) for g in ("all", "calibration", "held_out")]
        cells += [mean(p.get(g, [])) for g in ("all", "held_out", *KINDS, "paraphrase@held_out", "typo@held_out")]
        print(
            f"{name[:58]:58} "
            + " ".join(f"{v:6.3f}" for v in cells[: 5 + len(KINDS)])
            + " "
            + " ".join(f"{v:7.3f}" for v in cells[5 + len(KINDS) :])
        )


def winners(cnil: dict, project: dict, tolerance: float = 0.005) -> list[str]:
    """Strategies with no kind below the baseline figure (less ``tolerance``), best paraphrase
    held-out first; those reaching 0.75 on CNIL's held-out half come first."""
    baseline_kinds = {kind: mean(project[BASELINE][kind]) for kind in KINDS}
    kept = []
    for name in project:
        if not project[name].get("all") or not cnil.get(name, {}).get("all"):
            continue
        if all(mean(project[name][kind]) >= baseline_kinds[kind] - tolerance for kind in KINDS if kind != "paraphrase"):
            kept.append(name)
    return sorted(
        kept,
        key=lambda n: (
            mean(cnil[n]["held_out"]) >= 0.75,
            mean(project[n]["paraphrase@held_out"]),
            mean(cnil[n]["held_out"]),
        ),
        reverse=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/tune-retrieval"))
    parser.add_argument("--index-dir", type=Path, default=None, help="folder for the datasets' indexes (reused)")
    parser.add_argument("--sparse-top-k", type=int, default=64)
    parser.add_argument("--only", choices=("cnil", "project"), default=None)
    parser.add_argument(
        "--extras",
        default="sentences,sparse",
        help="costly signals to compute: sentences, sparse (comma-separated, or none)",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    found = strategies()
    results = {}
    for name, path in (("cnil", CNIL_PATH), ("project", PROJECT_ROOT / "evaluation" / "questions.jsonl")):
        if args.only and args.only != name:
            continue
        cache = args.cache / name
        extras = tuple(e for e in args.extras.split(",") if e in EXTRA_FILES)
        if not (cache / "questions.json").exists() or any(not (cache / EXTRA_FILES[e]).exists() for e in extras):
            print(f"{name}: computing signals into {cache}", flush=True)
            index_dir = args.index_dir / name if args.index_dir else None
            dataset = load_dataset(path, PROJECT_ROOT / "corpus")
            retrieval_signals.compute(dataset, settings, index_dir, cache, args.sparse_top_k, extras)
        results[name] = evaluate(retrieval_signals.load(cache), found)
    report(results.get("cnil"), results.get("project"))
    if "cnil" in results and "project" in results:
        print("\nNo kind below the baseline (before #15) (tolerance 0.005), best first:")
        best = winners(results["cnil"], results["project"])[:15]
        report({n: results["cnil"][n] for n in best}, {n: results["project"][n] for n in best})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
