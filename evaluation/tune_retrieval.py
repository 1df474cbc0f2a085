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
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

from evaluation import retrieval_signals
from evaluation.datasets import CNIL_PATH, PROJECT_ROOT, load_dataset
from evaluation.metrics import reciprocal_rank
from kb.settings import Settings

EXTRA_FILES = {
    "sentences": "sentence_vectors.npy",
    "sparse": "sparse_queries.npz",
    "symmetric": "query_passage_vectors.npy",
}
SHIPPED = "shipped: cos + 0.03 BM25, depth 50"
KINDS = ("natural", "keyword", "acronym", "unaccented", "who", "cross_sector", "typo", "paraphrase")


class MissingSignal(Exception):
    """A strategy reads a signal the cache does not hold (not computed for this dataset)."""


class Question:
    """One question's signals, as per-document scores (arrays over the dataset's documents)."""

    def __init__(self, signals: retrieval_signals.Signals, docs: "Documents", number: int) -> None:
        self.signals = signals
        self.docs = docs
        self.number = number
        self.raw = signals.questions[number]

    def _per_doc(self, passage_scores: np.ndarray) -> np.ndarray:
        best = np.full(self.docs.count, -np.inf)
        np.maximum.at(best, self.docs.of_row, passage_scores)
        return best

    @cached_property
    def passage_cosines(self) -> np.ndarray:
        return self.signals.passage_vectors @ self.signals.query_vectors[self.number]

    @cached_property
    def symmetric_cosine(self) -> np.ndarray:
        """Best passage cosine with the query embedded as a passage."""
        if self.signals.query_passage_vectors is None:
            raise MissingSignal
        return self._per_doc(self.signals.passage_vectors @ self.signals.query_passage_vectors[self.number])

    @cached_property
    def cosine(self) -> np.ndarray:
        """Exact best passage cosine of every document."""
        return self._per_doc(self.passage_cosines)

    @cached_property
    def passage_sentence(self) -> np.ndarray:
        """Best sentence cosine of every passage."""
        if self.signals.sentence_vectors is None:
            raise MissingSignal
        cosines = self.signals.sentence_vectors @ self.signals.query_vectors[self.number]
        best = np.full(len(self.signals.doc_ids), -np.inf)
        np.maximum.at(best, self.signals.sentence_owner, cosines)
        return best

    @cached_property
    def sentence(self) -> np.ndarray:
        return self._per_doc(self.passage_sentence)

    @cached_property
    def passage_sparse(self) -> np.ndarray:
        if self.signals.sparse_queries is None:
            raise MissingSignal
        query = self.signals.sparse_queries[self.number]
        return np.asarray((self.signals.sparse_passages @ query.T).todense()).ravel()

    @cached_property
    def sparse(self) -> np.ndarray:
        """Best passage sparse dot product, normalised by the best document's."""
        scores = self._per_doc(self.passage_sparse)
        return scores / (scores.max() or 1.0)

    @cached_property
    def second_cosine(self) -> np.ndarray:
        """Second best passage cosine of every document (its best for a one-passage document)."""
        order = np.lexsort((-self.passage_cosines, self.docs.of_row))
        docs = self.docs.of_row[order]
        first = np.r_[True, docs[1:] != docs[:-1]]
        second = np.r_[False, first[:-1]] & ~first
        result = self.cosine.copy()
        result[docs[second]] = self.passage_cosines[order][second]
        return result

    def lexical_sum(self, depth: int) -> np.ndarray:
        """Sum of the document's normalised BM25 passage scores (a whole-document BM25 proxy)."""
        total = np.zeros(self.docs.count)
        np.add.at(total, self.docs.of_row, self.lexical_passages(depth))
        return total / (total.max() or 1.0)

    def dense(self, depth: int) -> list[tuple[int, float]]:
        return self.raw.dense[:depth]

    def lexical_passages(self, depth: int) -> np.ndarray:
        """BM25 of every passage normalised by the query's best (0 outside the top ``depth``)."""
        scores = np.zeros(len(self.signals.doc_ids))
        hits = self.raw.lexical[:depth]
        if hits:
            best = hits[0][1] or 1.0
            for row, score in hits:
                scores[row] = score / best
        return scores

    def lexical(self, depth: int) -> np.ndarray:
        return np.maximum(self._per_doc(self.lexical_passages(depth)), 0.0)

    def candidates(self, depth: int, extra: tuple[np.ndarray, ...] = ()) -> np.ndarray:
        """Documents of the dense and BM25 top ``depth`` passages (and of extra signals' top)."""
        mask = np.zeros(self.docs.count, dtype=bool)
        for row, _ in self.raw.dense[:depth]:
            mask[self.docs.of_row[row]] = True
        for row, _ in self.raw.lexical[:depth]:
            mask[self.docs.of_row[row]] = True
        for scores in extra:
            mask[np.argsort(-scores)[: max(1, depth // 3)]] = True
        return mask


class Documents:
    def __init__(self, doc_ids: list[str]) -> None:
        self.ids = sorted(set(doc_ids))
        number = {doc_id: n for n, doc_id in enumerate(self.ids)}
        self.of_row = np.array([number[d] for d in doc_ids], dtype=np.int64)
        self.count = len(self.ids)


Strategy = Callable[[Question], np.ndarray]


def shipped(depth: int, weight: float) -> Strategy:
    """kb.retrieval's fusion: a candidate's best candidate cosine (the lowest dense score for a
    document only BM25 found) plus weight x its normalised best BM25."""

    def score(q: Question) -> np.ndarray:
        dense = np.full(q.docs.count, -np.inf)
        hits = q.dense(depth)
        for row, cosine in hits:
            doc = q.docs.of_row[row]
            dense[doc] = max(dense[doc], cosine)
        floor = min((c for _, c in hits), default=0.0)
        lexical = q.lexical(depth)
        known = np.isfinite(dense)
        base = np.where(known, dense, floor)
        return np.where(known | (lexical > 0), base + weight * lexical, -np.inf)

    return score


def searched_sentences(depth: int, sentences: int, share: float, weight: float) -> Strategy:
    """What a product could run: the dense and BM25 searches of ``depth`` passages and a search
    of the ``sentences`` nearest sentences, each with its floor for a document it did not find;
    (1 - share) x passage cosine + share x sentence cosine + weight x BM25."""

    def score(q: Question) -> np.ndarray:
        if q.signals.sentence_vectors is None:
            raise MissingSignal
        cosines = q.signals.sentence_vectors @ q.signals.query_vectors[q.number]
        top = np.argsort(-cosines)[:sentences]
        sentence = np.full(q.docs.count, -np.inf)
        np.maximum.at(sentence, q.docs.of_row[q.signals.sentence_owner[top]], cosines[top])
        dense = np.full(q.docs.count, -np.inf)
        hits = q.dense(depth)
        for row, cosine in hits:
            dense[q.docs.of_row[row]] = max(dense[q.docs.of_row[row]], cosine)
        found = np.isfinite(dense) | np.isfinite(sentence) | (q.lexical(depth) > 0)
        dense = np.where(np.isfinite(dense), dense, min(c for _, c in hits))
        sentence = np.where(np.isfinite(sentence), sentence, cosines[top[-1]])
        total = (1 - share) * dense + share * sentence + weight * q.lexical(depth)
        return np.where(found, total, -np.inf)

    return score


def blended(lam: float, weight: float, depth: int = 50, how: str = "mean") -> Strategy:
    """One stored vector per passage, moved towards its sentences at indexing time:
    normalise(passage + lam x mean (or sum) of its sentence vectors); searched like today."""
    cache: dict[int, np.ndarray] = {}

    def vectors(signals) -> np.ndarray:
        key = id(signals)
        if key not in cache:
            if signals.sentence_vectors is None:
                raise MissingSignal
            total = np.zeros_like(signals.passage_vectors)
            np.add.at(total, signals.sentence_owner, signals.sentence_vectors)
            if how == "mean":
                counts = np.bincount(signals.sentence_owner, minlength=len(total))[:, None]
                total = total / np.maximum(counts, 1)
            moved = signals.passage_vectors + lam * total
            cache.clear()
            cache[key] = moved / np.linalg.norm(moved, axis=1, keepdims=True)
        return cache[key]

    def score(q: Question) -> np.ndarray:
        cosines = vectors(q.signals) @ q.signals.query_vectors[q.number]
        top = np.argsort(-cosines)[:depth]
        dense = np.full(q.docs.count, -np.inf)
        np.maximum.at(dense, q.docs.of_row[top], cosines[top])
        lexical = q.lexical(depth)
        found = np.isfinite(dense) | (lexical > 0)
        total = np.where(np.isfinite(dense), dense, cosines[top[-1]]) + weight * lexical
        return np.where(found, total, -np.inf)

    return score


def fused(
    depth: int,
    lexical: float = 0.0,
    sentence: float = 0.0,
    sparse: float = 0.0,
    passage_weight: float = 1.0,
    combine: str = "sum",
    extra_candidates: bool = False,
) -> Strategy:
    """Exact cosines of the candidates: passage (weight ``passage_weight``) and sentence
    (weight ``sentence``) cosines summed, or their max; plus BM25 and sparse shares."""

    def score(q: Question) -> np.ndarray:
        if combine == "max":
            dense = np.maximum(q.cosine, q.sentence)
        else:
            dense = passage_weight * q.cosine + (sentence * q.sentence if sentence else 0.0)
        total = dense + lexical * q.lexical(depth) + (sparse * q.sparse if sparse else 0.0)
        extra = ()
        if extra_candidates:
            extra = tuple(getattr(q, signal) for signal, w in (("sentence", sentence), ("sparse", sparse)) if w)
        return np.where(q.candidates(depth, extra), total, -np.inf)

    return score


def multi_passage(depth: int, lexical: float, second: float = 0.0, lexical_sum: float = 0.0) -> Strategy:
    """Evidence from more than one passage: the second best cosine, the document's BM25 sum."""

    def score(q: Question) -> np.ndarray:
        total = q.cosine + second * q.second_cosine + lexical * q.lexical(depth) + lexical_sum * q.lexical_sum(depth)
        return np.where(q.candidates(depth), total, -np.inf)

    return score


def rocchio(depth: int, lexical: float, beta: float, top: int = 3, sentence: float = 0.0) -> Strategy:
    """Dense pseudo-relevance feedback: the query vector moved towards the best passages of the
    first fusion's ``top`` documents, cosines recomputed, fused again with BM25."""
    first = fused(depth, lexical)

    def score(q: Question) -> np.ndarray:
        leaders = np.argsort(-first(q))[:top]
        cosines = q.passage_cosines
        rows = [int(np.flatnonzero(q.docs.of_row == d)[np.argmax(cosines[q.docs.of_row == d])]) for d in leaders]
        moved = q.signals.query_vectors[q.number] + beta * q.signals.passage_vectors[rows].mean(axis=0)
        moved /= np.linalg.norm(moved)
        per_doc = q._per_doc(q.signals.passage_vectors @ moved)
        total = per_doc + lexical * q.lexical(depth) + (sentence * q.sentence if sentence else 0.0)
        return np.where(q.candidates(depth), total, -np.inf)

    return score


def passage_level(depth: int, lexical: float, sentence: float = 0.0) -> Strategy:
    """Fusion per passage (exact cosine + weight x BM25), a document scoring its best passage."""

    def score(q: Question) -> np.ndarray:
        per_passage = q.passage_cosines + lexical * q.lexical_passages(depth)
        if sentence:
            per_passage = per_passage + sentence * q.passage_sentence
        return np.where(q.candidates(depth), q._per_doc(per_passage), -np.inf)

    return score


def rrf(depth: int, lexical_weight: float, k: int, sentence_weight: float = 0.0) -> Strategy:
    def score(q: Question) -> np.ndarray:
        mask = q.candidates(depth)
        fused_scores = np.zeros(q.docs.count)
        signals = [(np.where(mask, q.cosine, -np.inf), 1.0), (np.where(q.lexical(depth) > 0, q.lexical(depth), -np.inf), lexical_weight)]
        if sentence_weight:
            signals.append((np.where(mask, q.sentence, -np.inf), sentence_weight))
        for scores, weight in signals:
            order = np.argsort(-scores)
            ranks = np.empty(q.docs.count)
            ranks[order] = np.arange(1, q.docs.count + 1)
            fused_scores += np.where(np.isfinite(scores), weight / (k + ranks), 0.0)
        return np.where(mask, fused_scores, -np.inf)

    return score


def alone(signal: str) -> Strategy:
    return lambda q: getattr(q, signal)


def strategies() -> dict[str, Strategy]:
    found: dict[str, Strategy] = {SHIPPED: shipped(50, 0.03)}
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
        found[f"passage-prefixed query, depth 100, BM25 {weight}"] = lambda q, w=weight: np.where(
            q.candidates(100), q.symmetric_cosine + w * q.lexical(100), -np.inf
        )
        found[f"both query vectors averaged, depth 100, BM25 {weight}"] = lambda q, w=weight: np.where(
            q.candidates(100), (q.cosine + q.symmetric_cosine) / 2 + w * q.lexical(100), -np.inf
        )
    for k in (10, 60):
        for weight in (1.0, 1.5, 2.0, 3.0):
            found[f"RRF k={k}, depth 100, BM25 x{weight}"] = rrf(100, weight, k)
    for depth in (100,):
        for weight in (0.03, 0.05, 0.08, 0.12):
            found[f"max(passage, sentence), depth {depth}, BM25 {weight}"] = fused(depth, weight, combine="max")
            for share in (0.3, 0.5, 1.0):
                found[f"passage + {share} sentence, depth {depth}, BM25 {weight}"] = fused(depth, weight, share)
            found[f"0.5 passage + 0.5 sentence, depth {depth}, BM25 {weight}"] = fused(depth, weight, 0.5, passage_weight=0.5)
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
    names = list((cnil or project).keys())
    header = f"{'strategy':58} {'CNIL':>6} {'C.cal':>6} {'C.ho':>6} {'proj':>6} {'p.ho':>6} " + " ".join(
        f"{k[:6]:>6}" for k in KINDS
    ) + f" {'para.ho':>7} {'typo.ho':>7}"
    print(header)
    for name in names:
        c = cnil[name] if cnil else {}
        p = project[name] if project else {}
        cells = [mean(c.get(g, [])) for g in ("all", "calibration", "held_out")]
        cells += [mean(p.get(g, [])) for g in ("all", "held_out", *KINDS, "paraphrase@held_out", "typo@held_out")]
        print(f"{name[:58]:58} " + " ".join(f"{v:6.3f}" for v in cells[:5 + len(KINDS)]) + " " + " ".join(f"{v:7.3f}" for v in cells[5 + len(KINDS):]))


def winners(cnil: dict, project: dict, tolerance: float = 0.005) -> list[str]:
    """Strategies with no kind below the shipped figure (less ``tolerance``), best paraphrase
    held-out first; those reaching 0.75 on CNIL's held-out half come first."""
    shipped_kinds = {kind: mean(project[SHIPPED][kind]) for kind in KINDS}
    kept = []
    for name in project:
        if not project[name].get("all") or not cnil.get(name, {}).get("all"):
            continue
        if all(mean(project[name][kind]) >= shipped_kinds[kind] - tolerance for kind in KINDS if kind != "paraphrase"):
            kept.append(name)
    return sorted(
        kept,
        key=lambda n: (mean(cnil[n]["held_out"]) >= 0.75, mean(project[n]["paraphrase@held_out"]), mean(cnil[n]["held_out"])),
        reverse=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/tune-retrieval"))
    parser.add_argument("--index-dir", type=Path, default=None, help="folder for the datasets' indexes (reused)")
    parser.add_argument("--sparse-top-k", type=int, default=64)
    parser.add_argument("--only", choices=("cnil", "project"), default=None)
    parser.add_argument(
        "--extras", default="sentences,sparse", help="costly signals to compute: sentences, sparse (comma-separated, or none)"
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
        print("\nNo kind below the shipped figure (tolerance 0.005), best first:")
        best = winners(results["cnil"], results["project"])[:15]
        report({n: results["cnil"][n] for n in best}, {n: results["project"][n] for n in best})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
