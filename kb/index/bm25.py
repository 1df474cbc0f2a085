"""BM25 postings that can be combined: term frequencies and passage lengths, scored at query
time with the statistics of the whole live corpus (``CorpusStats``).

bm25s bakes the corpus statistics into its stored scores, so a passage added later could not
be scored on the same scale. Here the main index and the small delta of recent writes keep raw
term frequencies; a query scores both with one idf and one average length (Lucene's BM25, as
bm25s computes it), so their scores are comparable and equal those of a full rebuild.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypedDict

import numpy as np

from kb.core.models import Scope, parse_chunk_id

K1, B = 1.2, 0.75


class PostingArrays(TypedDict):
    """The arrays of ``Postings`` by name, as the lexical index saves them (``np.savez``)."""

    starts: np.ndarray
    rows: np.ndarray
    frequencies: np.ndarray
    lengths: np.ndarray


class Postings:
    """Term frequencies of a list of passages by term: the rows holding term ``t`` are
    ``rows[starts[t]:starts[t + 1]]`` (ascending), with their frequencies beside them."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        starts: np.ndarray,
        rows: np.ndarray,
        frequencies: np.ndarray,
        lengths: np.ndarray,
    ):
        self.vocabulary = vocabulary
        self.starts, self.rows, self.frequencies, self.lengths = starts, rows, frequencies, lengths

    @classmethod
    def build(cls, corpus: list[list[str]]) -> Postings:
        vocabulary: dict[str, int] = {}
        ids = [
            np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for t in tokens), np.int64, len(tokens))
            for tokens in corpus
        ]
        lengths = np.array([len(tokens) for tokens in corpus], dtype=np.float64)
        count = max(len(corpus), 1)
        if not vocabulary:
            return cls({}, np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32), lengths)
        terms = np.concatenate(ids)
        rows = np.repeat(np.arange(len(corpus), dtype=np.int64), lengths.astype(np.int64))
        keys, frequencies = np.unique(terms * count + rows, return_counts=True)  # by term, then row
        starts = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys // count, minlength=len(vocabulary)), out=starts[1:])
        # float32 frequencies: exact for counts, half the memory of float64
        return cls(vocabulary, starts, (keys % count).astype(np.int32), frequencies.astype(np.float32), lengths)

    def __len__(self) -> int:
        return len(self.lengths)

    def document_frequencies(self, hidden: np.ndarray | None = None) -> np.ndarray:
        """Passages holding each term (by column), not counting the ``hidden`` rows: one pass
        over the postings, so that a term's frequency is then a lookup."""
        if hidden is None or not hidden.any():
            return np.diff(self.starts)
        running = np.concatenate(([0], np.cumsum(~hidden[self.rows])))
        return running[self.starts[1:]] - running[self.starts[:-1]]

    def document_frequency(self, term: str, frequencies: np.ndarray) -> int:
        """A term's entry in ``document_frequencies`` (0 for a term no passage holds)."""
        column = self.vocabulary.get(term)
        return 0 if column is None else int(frequencies[column])

    def column(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, frequencies) of one term; empty when no passage holds it."""
        column = self.vocabulary.get(term)
        if column is None:
            return self.rows[:0], self.frequencies[:0]
        start, end = self.starts[column], self.starts[column + 1]
        return self.rows[start:end], self.frequencies[start:end]

    def arrays(self) -> PostingArrays:
        return {"starts": self.starts, "rows": self.rows, "frequencies": self.frequencies, "lengths": self.lengths}

    @classmethod
    def from_arrays(cls, terms: list[str], arrays) -> Postings:
        vocabulary = {term: column for column, term in enumerate(terms)}
        return cls(vocabulary, arrays["starts"], arrays["rows"], arrays["frequencies"], arrays["lengths"])

    def terms(self) -> list[str]:
        return sorted(self.vocabulary, key=self.vocabulary.__getitem__)


@dataclass(frozen=True)
class CorpusStats:
    """What BM25 needs of the live corpus: the passage count and the total of their lengths."""

    count: int
    total_length: float

    def idf(self, document_frequency: int) -> float:
        return math.log(1 + (self.count - document_frequency + 0.5) / (document_frequency + 0.5))

    def scores(self, frequencies: np.ndarray, lengths: np.ndarray, idf: float) -> np.ndarray:
        average = self.total_length / self.count if self.count else 1.0
        return idf * frequencies / (K1 * ((1 - B) + B * lengths / average) + frequencies)


class _Column:
    """A string per BM25 row, stored as integer codes so that a scope masks rows in O(rows)."""

    def __init__(self, values: list[str]) -> None:
        self.names = sorted(set(values))
        position = {name: code for code, name in enumerate(self.names)}
        self.codes = np.array([position[v] for v in values], dtype=np.int32)

    def allows(self, wanted) -> np.ndarray:
        allowed = np.array([name in wanted for name in self.names] + [False], dtype=bool)
        return allowed[self.codes]


class Rows:
    """The chunk id, type and sector of each BM25 row."""

    def __init__(self, ids: list[str], types: list[str], sectors: list[str]) -> None:
        self.ids = ids
        self.types, self.sectors = types, sectors
        self.doc = _Column([parse_chunk_id(i)[0] for i in ids])
        self.type = _Column(types)
        self.sector = _Column(sectors)

    def mask(self, scope: Scope) -> np.ndarray:
        mask = np.ones(len(self.ids), dtype=bool)
        if scope.doc_types:
            mask &= self.type.allows(set(scope.doc_types))
        if scope.sectors:
            mask &= self.sector.allows(set(scope.sectors))
        if scope.doc_ids is not None:
            mask &= self.doc.allows(set(scope.doc_ids))
        return mask


def best_of(tiers: list[tuple[list[str], np.ndarray]], limit: int) -> list[tuple[str, float]]:
    """The ``limit`` best positive scores of several tiers; equal scores in chunk id order, as
    one index over all the chunks (built in chunk id order) would rank them."""
    candidates: list[tuple[float, str]] = []
    for ids, scores in tiers:
        positive = np.flatnonzero(scores > 0)
        if positive.size > limit:
            # everything scoring at least the limit-th best (ties at the boundary included)
            floor = np.partition(scores[positive], positive.size - limit)[positive.size - limit]
            positive = positive[scores[positive] >= floor]
        candidates.extend((float(scores[i]), ids[i]) for i in positive)
    candidates.sort(key=lambda item: (-item[0], item[1]))
    return [(chunk, score) for score, chunk in candidates[:limit]]
