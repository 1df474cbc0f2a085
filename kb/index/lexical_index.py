"""The lexical index in two tiers, kept in step with the registry (the source of truth).

The *main* tier is built from every chunk of the registry and saved with the revision it was
built at. The *delta* tier holds the chunks of the documents written since (the registry's
``changed_since``), rebuilt in memory when the revision moves; the main's chunks of those
documents are *masked*. A search scores both tiers with the statistics of the live corpus
(main minus masked plus delta, ``kb/index/bm25.py``), so its results and scores are those a full
rebuild would give. When the delta grows past ``KB_LEXICAL_DELTA_MAX_CHUNKS`` the main is
rebuilt in a background thread (searches go on with main + delta) and saved. Everything here
is derivable from the registry: a lost or stale main only costs a rebuild. Reads never write;
the write path saves (``persist``), best effort.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from kb.core.models import Scope
from kb.core.text import fold
from kb.index.bm25 import Postings, Rows, best_of
from kb.index.lexical import (
    _ELISION,
    _WORD,
    TYPO_FAN_OUT,
    TYPO_MIN_LETTERS,
    FrenchAnalyzer,
    _Spellings,
    correctable,
    query_words,
    restore_accents,
    same_case,
    typo_distance,
    typo_like,
)
from kb.index.lexical_tiers import Tier, View, view_of
from kb.storage.protocols import Registry

logger = logging.getLogger("passerelles.lexical")
FORMAT = 2  # of the saved main; another format is rebuilt
SPELLING_DISTANCE = 1  # edits a corrected query word may be from the base's word (docs/search.md)
SYNCHRONOUS_FACTOR = 4  # a delta this many times over the limit is rebuilt before searching


class LexicalIndex:
    """BM25 over the current chunks: a saved main, a delta of the recent writes (see above)."""

    def __init__(
        self,
        registry: Registry,
        directory: Path,
        analyzer: FrenchAnalyzer | None = None,
        delta_max_chunks: int = 2000,
        shared: bool = False,
    ):
        """``shared``: the registry is written by other processes too (PostgreSQL)."""
        self._registry = registry
        self._shared = shared
        self._directory = directory
        self.analyzer = analyzer or FrenchAnalyzer()
        self.delta_max_chunks = delta_max_chunks
        self._lock = threading.Lock()  # one refresh at a time
        self._view: View | None = None
        self._main: tuple[Tier, int] | None = None  # (main, the revision it was built at)
        self._saved_revision: int | None = None
        self._analysed: dict[str, tuple] = {}  # the delta's chunks, analysed once
        self._fold: threading.Thread | None = None
        self._load()

    # -- the main tier on disk -------------------------------------------------------------

    def _load(self) -> bool:
        """Load the saved main (True) unless it is missing, unreadable or of another format."""
        try:
            meta = json.loads((self._directory / "stamp.json").read_text())
            if meta.get("format") != FORMAT:
                return False
            with np.load(self._directory / meta["file"]) as arrays:
                postings = Postings.from_arrays(meta["terms"], {k: arrays[k] for k in arrays.files})
            spellings = _Spellings(meta["spellings"])
            main = Tier(
                postings,
                Rows(meta["ids"], meta["types"], meta["sectors"]),
                spellings,
                meta["accents"],
                frozenset(meta["words"]),
            )
        except (OSError, ValueError, KeyError):  # missing, partial or older: rebuilt when needed
            return False
        if self._main is not None and self._main[1] >= meta["revision"]:
            return False
        self._main = (main, meta["revision"])
        self._saved_revision = meta["revision"]
        return True

    def _save(self, main: Tier, revision: int) -> None:
        """Write beside, then swap the stamp: a reader sees the old or the new main, whole."""
        self._directory.mkdir(parents=True, exist_ok=True)
        name = f"main-{revision}-{os.getpid()}.npz"
        with open(self._directory / name, "wb") as handle:
            np.savez(handle, **main.postings.arrays())
        temporary = self._directory / f"stamp.json.{os.getpid()}.tmp"
        temporary.write_text(
            json.dumps(
                {
                    "format": FORMAT,
                    "revision": revision,
                    "file": name,
                    "terms": main.postings.terms(),
                    "ids": main.rows.ids,
                    "types": main.rows.types,
                    "sectors": main.rows.sectors,
                    "spellings": main.spellings.counts,
                    "accents": main.accents,
                    "words": sorted(main.words),
                },
                ensure_ascii=False,
            )
        )
        temporary.replace(self._directory / "stamp.json")
        for old in [*self._directory.glob("main-*.npz"), *self._directory.glob("bm25-*")]:
            if old.name != name:
                _remove(old)

    # -- keeping in step with the registry ---------------------------------------------------

    def refresh(self, wait: bool = True) -> None:
        """Bring the view to the registry's revision. A reader (``wait=False``) that finds a
        refresh under way keeps searching the current view rather than waiting for it: the
        write that moved the registry refreshes before it is acknowledged. Not on a shared
        registry: a write acknowledged by another server may be what the refresh under way
        has not read yet, so the reader waits (a delta's refresh is short)."""
        revision = self._registry.revision()
        view = self._view
        if view is not None and view.revision == revision:
            return
        if not self._lock.acquire(blocking=wait or view is None or self._shared):
            return
        try:
            if self._view is None or self._view.revision != self._registry.revision():
                self._update()
        finally:
            self._lock.release()

    def _update(self) -> None:
        """Under the lock: the delta since the main; the main first when it is missing, older
        than the registry can account for, or far behind."""
        revision = self._registry.revision()  # before the rows: the view is never older than its stamp
        changed = None if self._main is None else self._registry.changed_since(self._main[1])
        limit = SYNCHRONOUS_FACTOR * max(self.delta_max_chunks, 1)
        if self._main is not None and changed is not None and changed[1] > limit and self._load():
            changed = self._registry.changed_since(self._main[1])  # another process saved a newer main
        if self._main is None or changed is None or changed[1] > limit:
            self._main = (self._build_main(), revision)
            changed = (set(), 0)
        main, main_revision = self._main
        rows = self._registry.lexical_rows(changed[0]) if changed[0] else iter(())
        delta = Tier.build(self.analyzer, rows, self._analysed)
        live = set(delta.rows.ids)
        for chunk in [c for c in self._analysed if c not in live]:
            del self._analysed[chunk]
        self._view = view_of(revision, main, main_revision, changed[0], delta)

    def _build_main(self) -> Tier:
        return Tier.build(self.analyzer, self._registry.lexical_rows())

    def _fold_main(self, save: bool) -> None:
        """Rebuild the main from the whole registry (no lock held: searches go on with main +
        delta), install it, and save it when asked."""
        revision = self._registry.revision()
        main = self._build_main()
        with self._lock:
            if self._main is None or self._main[1] < revision:
                self._main = (main, revision)
                self._update()
        if save:
            self._save_quietly(main, revision)

    def _save_quietly(self, main: Tier, revision: int) -> None:
        try:
            self._save(main, revision)
            self._saved_revision = revision
        except OSError as exc:
            logger.warning("lexical index kept in memory only (%s)", exc)

    def _fold_if_needed(self, save: bool, wait: bool) -> None:
        view = self._view
        if view is None or view.pending <= self.delta_max_chunks:
            return
        if wait:
            self.wait_for_fold()
            self._fold_main(save)
            return
        if self._fold is not None and self._fold.is_alive():
            return
        self._fold = threading.Thread(target=self._fold_quietly, args=(save,), name="lexical-fold", daemon=True)
        self._fold.start()

    def _fold_quietly(self, save: bool) -> None:
        try:
            self._fold_main(save)
        except Exception:  # the delta keeps serving; the next write tries again
            logger.exception("lexical index: rebuilding the main failed")

    def wait_for_fold(self) -> None:
        """Wait for a background rebuild of the main, if one is running."""
        fold = self._fold
        if fold is not None:
            fold.join()

    def persist(self, wait: bool = False) -> None:
        """Write path, after a write: bring the view up to date (the write is then searchable),
        save a main not saved yet, and rebuild the main when the delta has grown past its
        limit, in the background unless ``wait`` (a batch ingestion). Saving is best effort."""
        self.refresh()
        view = self._view
        if view is not None and view.pending > self.delta_max_chunks:
            self._fold_if_needed(save=True, wait=wait)
        elif self._main is not None and self._main[1] != self._saved_revision:
            self._save_quietly(*self._main)

    # -- reads -------------------------------------------------------------------------------

    def _current(self) -> View:
        self.refresh(wait=False)
        view = self._view
        assert view is not None  # the first refresh waits
        if view.pending > self.delta_max_chunks:
            self._fold_if_needed(save=False, wait=False)  # reads never write
        return view

    def restore_accents(self, text: str) -> str:
        """``text`` with the words typed without accents or hyphens written as the base writes
        them, for the dense model (the lexical side folds and does not need it)."""
        return restore_accents(text, self._current().accents)

    def correct(self, text: str, keep: Callable[[str], bool] | None = None) -> str:
        """``text`` with each word the base never writes replaced by the base's nearest word,
        written as the base writes it ("tranport" -> "transport", "benevolles" -> "bénévoles"):
        among the words within SPELLING_DISTANCE edits that read as a typo of it
        (``kb.index.lexical.typo_like``), the fewest edits, then the word the base writes
        most often. Numbers, short words, acronyms, names (a capital inside the sentence) and
        the words ``keep`` accepts (the glossary's) stay as typed
        (``kb.index.lexical.correctable``); so do another form of a word the base writes (its
        stem is in the base: "laissant", "reconnus") and a word with no such neighbour. The
        lexical side still adds the terms of the nearest words of what stays
        (``query_terms``)."""
        view = self._current()
        if view.stats.count == 0 or not view.words:
            return text
        out: list[str] = []
        position = 0
        for match in query_words(text):
            word = match.group()
            if not correctable(text, match) or (keep is not None and keep(word)):
                continue
            folded, term = fold(word), self.analyzer.term(word)
            # a word the base writes, a stop word, or another form of a word the base writes
            # ("laissant", "reconnus"): kept, a correction would only change its meaning
            if folded in view.known or not term or view.document_frequency(term) > 0:
                continue
            nearest = self._nearest_word(view, folded)
            if nearest is not None:
                out.append(text[position : match.start()] + same_case(word, nearest))
                position = match.end()
        out.append(text[position:])
        return "".join(out)

    def _nearest_word(self, view: View, folded: str) -> str | None:
        """The base's word nearest to a word it never writes, in its most frequent spelling:
        one edit away and typo-like (``kb.index.lexical.typo_like``), the most frequent first."""
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        best: tuple[tuple[int, int, str], str] | None = None
        found = process.extract(folded, view.words, scorer=OSA.distance, score_cutoff=SPELLING_DISTANCE, limit=None)
        for match, distance, _ in found:
            if not typo_like(folded, match):
                continue
            forms = dict(view.main.spellings.counts.get(match, {}))
            for form, count in view.delta.spellings.counts.get(match, {}).items():
                forms[form] = forms.get(form, 0) + count
            term = self.analyzer.term(match)
            if not forms or not term or view.document_frequency(term) == 0:  # a removed text's word
                continue
            key = (int(distance), -sum(forms.values()), match)
            if best is None or key < best[0]:
                best = (key, max(sorted(forms.items()), key=lambda item: item[1])[0])
        return None if best is None else best[1]

    def spellings(self) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
        """How the main and the delta write each folded word, with counts (read, never
        modified: kb/search/word_neighbours.py keys its cache on the main's, which a fold replaces)."""
        view = self._current()
        return view.main.spellings.counts, view.delta.spellings.counts

    def knows_any(self, terms: Iterable[str]) -> bool:
        """Whether some passage holds one of these analysed terms."""
        view = self._current()
        return any(view.document_frequency(term) > 0 for term in terms)

    def unknown(self, terms: Iterable[str]) -> frozenset[str]:
        """The analysed terms no passage holds."""
        view = self._current()
        return frozenset(term for term in terms if view.document_frequency(term) == 0)

    def idf(self, terms: list[str]) -> dict[str, float]:
        """Inverse document frequency of analysed terms over the current passages: rare terms
        weigh more when an answer sentence is chosen."""
        view = self._current()
        if view.stats.count == 0:
            return {term: 1.0 for term in terms}
        return {term: view.stats.idf(view.document_frequency(term)) for term in terms}

    def query_terms(self, query: str) -> list[str]:
        """The analysed terms of a query, and for each word the base never writes (5 letters or
        more: "solidair", "itinerente"), the terms of the base's nearest words (1 edit, 2 from 8
        letters; at most TYPO_FAN_OUT of them)."""
        return self._query_terms(self._current(), query)

    def _query_terms(self, view: View, query: str) -> list[str]:
        terms = self.analyzer.tokens(query)
        if view.stats.count == 0 or not view.words:
            return terms
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        found = list(terms)
        for word in set(_WORD.findall(fold(_ELISION.sub(" ", query)))):
            # unknown as written, even when its stem happens to exist ("assurence" -> "assurent")
            if len(word) < TYPO_MIN_LETTERS or word in view.known or not word.isalpha() or not self.analyzer.term(word):
                continue
            nearest = process.extract(
                word, view.words, scorer=Levenshtein.distance, score_cutoff=typo_distance(word), limit=TYPO_FAN_OUT * 2
            )
            added = 0
            for match, _, _ in nearest:
                corrected = self.analyzer.term(match)
                if corrected not in found and view.document_frequency(corrected) > 0:
                    found.append(corrected)
                    added += 1
                    if added >= TYPO_FAN_OUT:
                        break
        return found

    def search(self, query: str, limit: int, scope: Scope | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score), best first (ties in chunk id order), only within ``scope``."""
        view = self._current()
        if view.stats.count == 0 or (scope is not None and scope.is_empty()):
            return []
        scored = view.scored.get_or_compute(query, lambda: self._scores(view, query))
        if not scored:
            return []
        tiers = []
        for tier, scores in zip((view.main, view.delta), scored, strict=True):
            if scope is not None:
                scores = np.where(tier.rows.mask(scope), scores, 0.0)
            tiers.append((tier.rows.ids, scores))
        return best_of(tiers, limit)

    def _scores(self, view: View, query: str) -> list[np.ndarray]:
        """The BM25 score of every row of the main and the delta (masked rows at 0); none
        when the query has no analysed term."""
        terms = self._query_terms(view, query)
        if not terms:
            return []
        idf = {term: view.stats.idf(view.document_frequency(term)) for term in set(terms)}
        scored = []
        for tier, hidden in ((view.main, view.masked), (view.delta, None)):
            scores = np.zeros(len(tier.rows.ids), dtype=np.float64)
            for term in terms:  # a repeated term counts again, as in bm25s
                rows, frequencies = tier.postings.column(term)
                if len(rows):
                    scores[rows] += view.stats.scores(frequencies, tier.postings.lengths[rows], idf[term])
            if hidden is not None:
                scores[hidden] = 0.0
            scores.flags.writeable = False  # shared by the searches of the view
            scored.append(scores)
        return scored


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
