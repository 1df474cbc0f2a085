"""BM25 tuned for French, derived from the registry and kept in step with it.

The analyser lowercases, splits elisions (l', d', qu'…), folds accents and ligatures, drops
stop words and stems with the Snowball French stemmer, so that "Épiceries", "epicerie" and
"l'épicerie" meet. The index is built from the registry's chunk table (the source of truth)
and stamped with the registry's revision: whenever a write changes the registry, the next
search rebuilds it, so the lexical and vector sides never disagree about what exists.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from kb.registry import Registry
from kb.text import fold

_WORD = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+", re.UNICODE)
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)


class FrenchAnalyzer:
    def __init__(self) -> None:
        import Stemmer
        from bm25s.stopwords import STOPWORDS_FRENCH

        self._stemmer = Stemmer.Stemmer("french")
        self._stopwords = {fold(w) for w in STOPWORDS_FRENCH} | {"a", "ete", "etre", "comment"}
        self._cache: dict[str, str] = {}

    def tokens(self, text: str) -> list[str]:
        text = _ELISION.sub(" ", text.replace("œ", "oe").replace("Œ", "OE").lower())
        result: list[str] = []
        for word in _WORD.findall(text):
            term = self._cache.get(word)
            if term is None:
                folded = fold(word)
                if folded in self._stopwords or (len(folded) < 2 and not folded.isdigit()):
                    term = ""
                else:
                    # Folding before stemming: queries typed without accents stem alike.
                    term = self._stemmer.stemWord(folded)
                if len(self._cache) < 200_000:
                    self._cache[word] = term
            if term:
                result.append(term)
        return result


class LexicalIndex:
    """A BM25 index over the current chunks; rebuilt lazily when the registry's revision moves."""

    def __init__(self, registry: Registry, directory: Path, analyzer: FrenchAnalyzer | None = None):
        self._registry = registry
        self._directory = directory
        self.analyzer = analyzer or FrenchAnalyzer()
        self._lock = threading.Lock()
        self._revision: int | None = None
        self._ids: list[str] = []
        self._doc_of: np.ndarray = np.array([], dtype=object)
        self._bm25 = None
        self._load()

    def _load(self) -> None:
        stamp = self._directory / "stamp.json"
        if not stamp.exists():
            return
        try:
            import bm25s

            meta = json.loads(stamp.read_text())
            self._bm25 = bm25s.BM25.load(str(self._directory / meta["folder"])) if meta["ids"] else None
            self._ids = meta["ids"]
            self._doc_of = np.array([i.split("::")[0] for i in self._ids], dtype=object)
            self._revision = meta["revision"]
        except Exception:  # unreadable or partial: rebuilt on the next search
            self._bm25, self._revision, self._ids = None, None, []

    def refresh(self) -> None:
        revision = self._registry.revision()
        if revision == self._revision:
            return
        with self._lock:
            if revision == self._revision:
                return
            self._rebuild(revision)

    def _rebuild(self, revision: int) -> None:
        import bm25s

        ids: list[str] = []
        corpus: list[list[str]] = []
        for chunk_id, title, section, text in self._registry.lexical_rows():
            ids.append(chunk_id)
            corpus.append(self.analyzer.tokens(f"{title}\n{section}\n{text}"))
        bm25 = None
        if ids:
            bm25 = bm25s.BM25(k1=1.2, b=0.75)
            bm25.index(corpus, show_progress=False)
        self._save(bm25, ids, revision)
        self._bm25, self._ids, self._revision = bm25, ids, revision
        self._doc_of = np.array([i.split("::")[0] for i in ids], dtype=object)

    def _save(self, bm25, ids: list[str], revision: int) -> None:
        """Write beside, then swap the stamp: a reader sees the old or the new index, whole."""
        import shutil

        self._directory.mkdir(parents=True, exist_ok=True)
        folder = f"bm25-{revision}"
        if bm25 is not None:
            bm25.save(str(self._directory / folder))
        temporary = self._directory / "stamp.json.tmp"
        temporary.write_text(json.dumps({"revision": revision, "folder": folder, "ids": ids}))
        temporary.replace(self._directory / "stamp.json")
        for old in self._directory.glob("bm25-*"):
            if old.name != folder:
                shutil.rmtree(old, ignore_errors=True)

    def idf(self, terms: list[str]) -> dict[str, float]:
        """Inverse document frequency of analysed terms over the current passages: rare terms
        weigh more when an answer sentence is chosen."""
        self.refresh()
        if self._bm25 is None:
            return {term: 1.0 for term in terms}
        frequencies = np.diff(self._bm25.scores["indptr"])
        total = self._bm25.scores["num_docs"]
        weights = {}
        for term in terms:
            column = self._bm25.vocab_dict.get(term)
            df = int(frequencies[column]) if column is not None and column < len(frequencies) else 0
            weights[term] = float(np.log(1 + (total - df + 0.5) / (df + 0.5)))
        return weights

    def search(
        self, query: str, limit: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, BM25 score), best first, only among ``doc_ids`` when given."""
        self.refresh()
        if self._bm25 is None or not self._ids:
            return []
        terms = self.analyzer.tokens(query)
        if not terms:
            return []
        scores = np.asarray(self._bm25.get_scores(terms), dtype=np.float32)
        if doc_ids is not None:
            scores = np.where(np.isin(self._doc_of, list(doc_ids)), scores, 0.0)
        positive = np.flatnonzero(scores > 0)
        if positive.size == 0:
            return []
        top = positive[np.argsort(-scores[positive], kind="stable")[:limit]]
        return [(self._ids[i], float(scores[i])) for i in top]
