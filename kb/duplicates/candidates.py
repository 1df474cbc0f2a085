"""The existing documents a new one is compared with besides its semantic neighbours: a
close title, the same title, a close porteur (``kb/duplicates/finder.py``).

Finding them used to fold every title of the base on each write (1 s at 38,000 documents).
``NamedDocuments`` keeps the title words, folded titles and porteurs of the current documents
in step with the registry (``DocumentTally``: only the documents written since are read), so
a write looks up its own title's words and compares its porteur with the distinct porteurs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from rapidfuzz import fuzz

from kb.core.models import StoredDocument
from kb.core.text import fold
from kb.index.document_tally import DocumentTally


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def name_match(a: str | None, b: str | None) -> float:
    """0-1: how far two spellings of a name (porteur, territory) are the same; one contained
    in the other counts as the same ("Le Panier des Sucs" in "Épicerie solidaire Le Panier
    des Sucs")."""
    if not a or not b:
        return 0.0
    words_a, words_b = _name_words(a), _name_words(b)
    score = fuzz.token_set_ratio(" ".join(words_a), " ".join(words_b))
    squashed_a, squashed_b = "".join(words_a), "".join(words_b)
    if min(len(squashed_a), len(squashed_b)) >= 8:
        # "Roulensemble" and "Roul'Ensemble Vercors-Roubion": one name glued in the other
        score = max(score, fuzz.partial_ratio(squashed_a, squashed_b))
    return score / 100


_NAME_STOPWORDS = {"l", "d", "le", "la", "les", "de", "des", "du", "et", "en"}


def _name_words(name: str) -> list[str]:
    return [w for w in re.findall(r"\w+", fold(name)) if w not in _NAME_STOPWORDS]


_WORD = re.compile(r"\w+")


def title_words(title: str, folded: str | None = None) -> set[str]:
    """``folded``: the title already folded, when the caller has it."""
    return {w for w in _WORD.findall(fold(title) if folded is None else folded) if len(w) > 2}


class NamedDocuments(DocumentTally[None]):
    """Who is named how: title words, folded titles and porteurs, each to its documents."""

    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, tuple[frozenset[str], str, str]] = {}  # doc_id -> (title words, folded title, porteur)
        self._by_word: dict[str, set[str]] = {}
        self._by_title: dict[str, set[str]] = {}
        self._by_porteur: dict[str, set[str]] = {}

    def clear(self) -> None:
        for table in (self._keys, self._by_word, self._by_title, self._by_porteur):
            table.clear()

    def add(self, stored: StoredDocument) -> None:
        metadata = stored.metadata
        folded = fold(metadata.title)
        keys = (frozenset(title_words(metadata.title, folded)), folded, metadata.porteur or "")
        self._keys[metadata.doc_id] = keys
        for word in keys[0]:
            self._by_word.setdefault(word, set()).add(metadata.doc_id)
        self._by_title.setdefault(keys[1], set()).add(metadata.doc_id)
        if keys[2]:
            self._by_porteur.setdefault(keys[2], set()).add(metadata.doc_id)

    def discard(self, stored: StoredDocument) -> None:
        doc_id = stored.metadata.doc_id
        keys = self._keys.pop(doc_id, None)
        if keys is None:
            return
        for table, key in [
            *((self._by_word, word) for word in keys[0]),
            (self._by_title, keys[1]),
            (self._by_porteur, keys[2]),
        ]:
            members = table.get(key)
            if members is not None:
                members.discard(doc_id)
                if not members:
                    del table[key]

    def result(self, documents: Mapping[str, StoredDocument]) -> None:
        return None

    def matching(self, title: str, porteur: str | None, title_jaccard: float, porteur_match: float) -> set[str]:
        """The documents whose title words are at least ``title_jaccard`` alike (Jaccard),
        whose folded title is the same, or whose porteur matches at least ``porteur_match``
        (``name_match``). Read it inside ``up_to_date``."""
        if title_jaccard <= 0 or porteur_match <= 0:  # every document qualifies
            return set(self._keys)
        folded = fold(title)
        found = set(self._by_title.get(folded, ()))
        words = title_words(title, folded)
        shared: Counter[str] = Counter()
        for word in words:
            shared.update(self._by_word.get(word, ()))
        for doc_id, common in shared.items():
            if common / (len(words) + len(self._keys[doc_id][0]) - common) >= title_jaccard:
                found.add(doc_id)
        if porteur:
            for name, doc_ids in self._by_porteur.items():
                if name_match(porteur, name) >= porteur_match:
                    found |= doc_ids
        return found
