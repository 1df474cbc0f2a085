"""Retrieval strategies over cached signals (evaluation/retrieval_signals.py): each ranks a
question's documents from per-document score arrays, for evaluation/tune_retrieval.py."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np

from evaluation import retrieval_signals


class MissingSignal(Exception):
    """A strategy reads a signal the cache does not hold (not computed for this dataset)."""


class Question:
    """One question's signals, as per-document scores (arrays over the dataset's documents)."""

    def __init__(self, signals: retrieval_signals.Signals, docs: Documents, number: int) -> None:
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
        if self.signals.sentence_vectors is None or self.signals.sentence_owner is None:
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
    """kb.search.retrieval's fusion before sentence vectors: a candidate's best candidate cosine (the
    lowest dense score for a document only BM25 found) plus weight x its normalised best BM25."""

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
        if q.signals.sentence_vectors is None or q.signals.sentence_owner is None:
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
        signals = [
            (np.where(mask, q.cosine, -np.inf), 1.0),
            (np.where(q.lexical(depth) > 0, q.lexical(depth), -np.inf), lexical_weight),
        ]
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
