"""BM25 tuned for French, derived from the registry and kept in step with it.

The analyser lowercases, splits elisions (l', d', qu'…), folds accents and ligatures, drops
stop words and stems with the Snowball French stemmer, so that "Épiceries", "epicerie" and
"l'épicerie" meet. The index is built from the registry's chunk table (the source of truth)
and stamped with the registry's revision: whenever a write changes the registry, the next
search rebuilds it in memory, so the lexical and vector sides never disagree about what exists.
Reads never write: the files are saved by the write path (``persist``), best effort, so that a
restart need not rebuild; a read-only disk only costs that.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path

import numpy as np

from kb.models import Scope, parse_chunk_id
from kb.registry import Registry
from kb.text import fold

logger = logging.getLogger("passerelles.lexical")
_WORD = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+", re.UNICODE)
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)


class FrenchAnalyzer:
    def __init__(self) -> None:
        import Stemmer
        from bm25s.stopwords import STOPWORDS_FRENCH

        self._stemmer = Stemmer.Stemmer("french")
        self._stopwords = {fold(w) for w in STOPWORDS_FRENCH} | {"a", "ete", "etre", "comment"}
        self._cache: dict[str, str] = {}

    def term(self, word: str) -> str:
        """The analysed term of one word ('' for a stop word), cached: snippets call it a lot."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        tokens = self.tokens(word)
        return tokens[-1] if tokens else ""

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


class _Column:
    """A string per BM25 row, stored as integer codes so that a scope masks rows in O(rows)."""

    def __init__(self, values: list[str]) -> None:
        self.names = sorted(set(values))
        position = {name: code for code, name in enumerate(self.names)}
        self.codes = np.array([position[v] for v in values], dtype=np.int32)

    def allows(self, wanted) -> np.ndarray:
        allowed = np.array([name in wanted for name in self.names] + [False], dtype=bool)
        return allowed[self.codes]


class _Rows:
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


_PLAIN_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SPELLED = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?", re.UNICODE)


class _Spellings:
    """How the base writes each word: the accented or hyphenated form of a folded word, kept
    when it is at least nine times in ten the way the base writes it ("creche" -> "crèche";
    not "a" -> "à", both frequent)."""

    def __init__(self) -> None:
        self._counts: dict[str, dict[str, int]] = {}

    def add(self, text: str) -> None:
        for match in _SPELLED.finditer(text):
            word = match.group().lower()
            forms = self._counts.setdefault(fold(word), {})
            forms[word] = forms.get(word, 0) + 1
            if "-" in word:  # the halves count as words of their own too
                for half in word.split("-"):
                    halves = self._counts.setdefault(fold(half), {})
                    halves[half] = halves.get(half, 0) + 1

    def words(self) -> list[str]:
        """Every folded word of at least TYPO_MIN_LETTERS letters the base writes."""
        return sorted(w for w in self._counts if len(w) >= TYPO_MIN_LETTERS and " " not in w)

    def accented(self) -> dict[str, str]:
        spelled: dict[str, str] = {}
        for folded, forms in self._counts.items():
            form, count = max(forms.items(), key=lambda item: item[1])
            if len(folded) >= 3 and form != folded and count * 10 >= 9 * sum(forms.values()):
                spelled[folded] = form
        return spelled


TYPO_MIN_LETTERS = 5  # shorter words are too easily one letter away from another word
TYPO_FAN_OUT = 2  # vocabulary terms a misspelt word may stand for


def typo_distance(word: str) -> int:
    """Edits allowed between a misspelt word and a word of the base."""
    return 1 if len(word) < 8 else 2


def restore_accents(text: str, accents: dict[str, str]) -> str:
    """"creer une micro creche" -> "créer une micro-crèche" with the base's spellings
    (``_Spellings.accented``). Words typed with an accent are kept as typed."""
    if not accents:
        return text
    words = list(_PLAIN_WORD.finditer(text))
    out: list[str] = []
    position = 0
    skip = False
    for number, match in enumerate(words):
        if skip:
            skip = False
            continue
        word = match.group()
        following = words[number + 1] if number + 1 < len(words) else None
        if following is not None and text[match.end() : following.start()] in (" ", "-"):
            pair = accents.get(f"{word.lower()} {following.group().lower()}")
            if pair is not None:
                out.append(text[position : match.start()] + _same_case(word, pair))
                position, skip = following.end(), True
                continue
        spelled = accents.get(word.lower()) if word.isascii() else None
        if spelled is not None:
            out.append(text[position : match.start()] + _same_case(word, spelled))
            position = match.end()
    out.append(text[position:])
    return "".join(out)


def _same_case(typed: str, spelled: str) -> str:
    return spelled[:1].upper() + spelled[1:] if typed[:1].isupper() else spelled


class LexicalIndex:
    """A BM25 index over the current chunks; rebuilt lazily when the registry's revision moves."""

    def __init__(self, registry: Registry, directory: Path, analyzer: FrenchAnalyzer | None = None):
        self._registry = registry
        self._directory = directory
        self.analyzer = analyzer or FrenchAnalyzer()
        self._lock = threading.Lock()
        self._revision: int | None = None
        self._saved_revision: int | None = None
        self._state: tuple = (None, _Rows([], [], []))  # (bm25, rows), swapped as one
        self._accents: dict[str, str] = {}
        self._words: list[str] = []  # folded words of 5 letters or more, for typos
        self._known_words: frozenset[str] = frozenset()
        self._load()

    def _load(self) -> None:
        stamp = self._directory / "stamp.json"
        if not stamp.exists():
            return
        try:
            import bm25s

            meta = json.loads(stamp.read_text())
            if "accents" not in meta or "words" not in meta:
                return  # saved by an older version: rebuilt on the next search
            bm25 = bm25s.BM25.load(str(self._directory / meta["folder"])) if meta["ids"] else None
            self._state = (bm25, _Rows(meta["ids"], meta["types"], meta["sectors"]))
            self._accents = meta["accents"]
            self._words = meta["words"]
            self._known_words = frozenset(self._words)
            self._revision = self._saved_revision = meta["revision"]
        except Exception:  # unreadable, partial or older format: rebuilt on the next search
            self._state, self._revision = (None, _Rows([], [], [])), None

    def refresh(self, wait: bool = True) -> None:
        """Rebuild when the registry has moved. A reader (``wait=False``) that finds a rebuild
        under way keeps searching the previous index rather than waiting for it: the write
        that moved the registry rebuilds before it is acknowledged, and passages of replaced
        versions are dropped by the index anyway."""
        revision = self._registry.revision()
        if revision == self._revision:
            return
        if not self._lock.acquire(blocking=wait or self._revision is None):
            return
        try:
            if revision != self._revision:
                self._rebuild(revision)
        finally:
            self._lock.release()

    def _rebuild(self, revision: int) -> None:
        import bm25s

        ids: list[str] = []
        types: list[str] = []
        sectors: list[str] = []
        corpus: list[list[str]] = []
        spellings = _Spellings()
        for chunk_id, title, section, text, doc_type, sector in self._registry.lexical_rows():
            ids.append(chunk_id)
            types.append(doc_type)
            sectors.append(sector)
            corpus.append(self.analyzer.tokens(f"{title}\n{section}\n{text}"))
            spellings.add(text)
        bm25 = None
        if ids:
            bm25 = bm25s.BM25(k1=1.2, b=0.75)
            bm25.index(corpus, show_progress=False)
        self._state = (bm25, _Rows(ids, types, sectors))
        self._accents = spellings.accented()
        self._words = spellings.words()
        self._known_words = frozenset(self._words)
        self._revision = revision

    def persist(self) -> None:
        """Bring the index up to date and save it (write path only; failures are not fatal)."""
        self.refresh()
        with self._lock:
            if self._revision is None or self._revision == self._saved_revision:
                return
            try:
                self._save(*self._state, self._revision)
                self._saved_revision = self._revision
            except OSError as exc:
                logger.warning("lexical index kept in memory only (%s)", exc)

    def _save(self, bm25, rows: _Rows, revision: int) -> None:
        """Write beside, then swap the stamp: a reader sees the old or the new index, whole."""
        import shutil

        self._directory.mkdir(parents=True, exist_ok=True)
        folder = f"bm25-{revision}"
        if bm25 is not None:
            bm25.save(str(self._directory / folder))
        temporary = self._directory / "stamp.json.tmp"
        temporary.write_text(
            json.dumps(
                {
                    "revision": revision,
                    "folder": folder,
                    "ids": rows.ids,
                    "types": rows.types,
                    "sectors": rows.sectors,
                    "accents": self._accents,
                    "words": self._words,
                }
            )
        )
        temporary.replace(self._directory / "stamp.json")
        for old in self._directory.glob("bm25-*"):
            if old.name != folder:
                shutil.rmtree(old, ignore_errors=True)

    def restore_accents(self, text: str) -> str:
        """``text`` with the words typed without accents or hyphens written as the base writes
        them, for the dense model (the lexical side folds and does not need it)."""
        self.refresh(wait=False)
        return restore_accents(text, self._accents)

    def idf(self, terms: list[str]) -> dict[str, float]:
        """Inverse document frequency of analysed terms over the current passages: rare terms
        weigh more when an answer sentence is chosen."""
        self.refresh(wait=False)
        bm25, _ = self._state
        if bm25 is None:
            return {term: 1.0 for term in terms}
        frequencies = np.diff(bm25.scores["indptr"])
        total = bm25.scores["num_docs"]
        weights = {}
        for term in terms:
            column = bm25.vocab_dict.get(term)
            df = int(frequencies[column]) if column is not None and column < len(frequencies) else 0
            weights[term] = float(np.log(1 + (total - df + 0.5) / (df + 0.5)))
        return weights

    def query_terms(self, query: str) -> list[str]:
        """The analysed terms of a query, and for each word the base never writes (5 letters or
        more: "solidair", "itinerente"), the terms of the base's nearest words (1 edit, 2 from 8
        letters; at most TYPO_FAN_OUT of them)."""
        self.refresh(wait=False)
        terms = self.analyzer.tokens(query)
        bm25, _ = self._state
        if bm25 is None or not self._words:
            return terms
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        vocabulary = bm25.vocab_dict
        known = self._known_words
        found = list(terms)
        for word in set(_WORD.findall(fold(_ELISION.sub(" ", query)))):
            # unknown as written, even when its stem happens to exist ("assurence" -> "assurent")
            if len(word) < TYPO_MIN_LETTERS or word in known or not word.isalpha() or not self.analyzer.term(word):
                continue
            nearest = process.extract(
                word, self._words, scorer=Levenshtein.distance, score_cutoff=typo_distance(word), limit=TYPO_FAN_OUT * 2
            )
            added = 0
            for match, _, _ in nearest:
                corrected = self.analyzer.term(match)
                if corrected in vocabulary and corrected not in found:
                    found.append(corrected)
                    added += 1
                    if added >= TYPO_FAN_OUT:
                        break
        return found

    def search(self, query: str, limit: int, scope: Scope | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score), best first, only within ``scope`` when given."""
        self.refresh(wait=False)
        bm25, rows = self._state  # one read: a rebuild swaps both together
        if bm25 is None or not rows.ids or (scope is not None and scope.is_empty()):
            return []
        terms = self.query_terms(query)
        if not terms:
            return []
        scores = np.asarray(bm25.get_scores(terms), dtype=np.float32)
        if scope is not None:
            scores = np.where(rows.mask(scope), scores, 0.0)
        positive = np.flatnonzero(scores > 0)
        if positive.size == 0:
            return []
        top = positive[np.argsort(-scores[positive], kind="stable")[:limit]]
        return [(rows.ids[i], float(scores[i])) for i in top]
