"""The rapprochements kept in step with the registry: a write scores its own pairs, no other.

``PairTally`` is a ``DocumentTally`` (kb/index/document_tally.py): the documents written or
removed since its last revision are taken out with their pairs, then each written one is
profiled (its passages' vectors and text read once) and scored against its candidates: the
``candidates`` documents of the other sector whose centre is nearest its own, and those that
name its structure or that it names (the nearest ``candidates`` of them). It keeps its best ``per_document`` pairs; a pair stays
while one of its two documents keeps it, until either is written again. A document written
later does not re-open the lists of the others: a full pass (a restart, ``kb reindex``) can
add to them, never take away a pair whose score still holds.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from kb.core.models import StoredDocument
from kb.index.document_tally import DocumentTally
from kb.rapprochements.profiles import (
    SIDES,
    Pair,
    Profile,
    normalised,
    paired_sector,
    profile,
    score_pair,
    structure_key,
)

# A structure named by more documents than this share of the paired ones (and at least
# COMMON_FLOOR of them) is everyone's partner (the resource centre, the Région): naming it
# says nothing about a subject.
COMMON_SHARE = 0.2
COMMON_FLOOR = 10

ReadVectors = Callable[[list[str]], Mapping[str, np.ndarray]]
ReadText = Callable[[str], str | None]


@dataclass(frozen=True)
class Ranking:
    """The pairs at one revision, best first, and the documents they were computed from."""

    pairs: tuple[Pair, ...] = ()
    documents: Mapping[str, StoredDocument] = field(default_factory=dict)
    by_key: Mapping[tuple[str, str], Pair] = field(default_factory=dict)  # (a, b) → its pair


class _Side:
    """One sector's profiles and their centres as one matrix (rebuilt when changed)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.matrix: np.ndarray | None = None
        self.dirty = True

    def nearest(self, profiles: Mapping[str, Profile], sector: str, centre: np.ndarray, count: int) -> list[str]:
        if self.dirty:
            self.ids = sorted(doc_id for doc_id, p in profiles.items() if p.sector == sector)
            self.matrix = np.stack([profiles[d].centre for d in self.ids]) if self.ids else None
            self.dirty = False
        if self.matrix is None:
            return []
        cosines = self.matrix @ centre
        if len(cosines) > count:
            chosen = np.argpartition(cosines, len(cosines) - count)[len(cosines) - count :]
        else:
            chosen = np.arange(len(cosines))
        return [self.ids[i] for i in chosen]


class PairTally(DocumentTally[Ranking]):
    def __init__(self, read_vectors: ReadVectors, read_text: ReadText, per_document: int, candidates: int) -> None:
        super().__init__()
        self._read_vectors = read_vectors
        self._read_text = read_text
        self._per_document = per_document
        self._candidate_count = candidates
        self._pending: dict[str, StoredDocument] = {}
        self._profiles: dict[str, Profile] = {}
        self._pairs: dict[tuple[str, str], Pair] = {}
        self._by_document: dict[str, set[tuple[str, str]]] = {}
        self._by_structure: dict[str, set[str]] = {}  # structure key → the documents it carries
        self._naming: dict[str, set[str]] = {}  # structure key → the documents naming it
        self._sides = {sector: _Side() for sector in SIDES}
        self.scored = 0  # documents profiled and scored so far (for the benchmark)
        # the pairs best first, as last returned, and the pairs changed since (a write changes
        # a few dozen of hundreds of thousands: they are taken out and put back in place)
        self._ranked: list[Pair] | None = None
        self._changed: set[tuple[str, str]] = set()

    # -- the tally's steps -----------------------------------------------------------------

    def clear(self) -> None:
        for table in (self._pending, self._profiles, self._pairs, self._by_document, self._by_structure, self._naming):
            table.clear()
        for side in self._sides.values():
            side.dirty = True
        self._ranked = None
        self._changed.clear()

    def add(self, stored: StoredDocument) -> None:
        if paired_sector(stored) is not None:
            self._pending[stored.metadata.doc_id] = stored

    def discard(self, stored: StoredDocument) -> None:
        doc_id = stored.metadata.doc_id
        self._pending.pop(doc_id, None)
        gone = self._profiles.pop(doc_id, None)
        if gone is None:
            return
        self._sides[gone.sector].dirty = True
        _unlink(self._by_structure, gone.structure, doc_id)
        for name in gone.names:
            _unlink(self._naming, name, doc_id)
        for key in self._by_document.pop(doc_id, set()):
            self._pairs.pop(key, None)
            self._changed.add(key)
            other = key[1] if key[0] == doc_id else key[0]
            self._by_document.get(other, set()).discard(key)

    def result(self, documents: Mapping[str, StoredDocument]) -> Ranking:
        if self._pending:
            self._score_pending()
        ranked = self._ranked
        if ranked is None or len(self._changed) > len(self._pairs) // 4:
            ranked = sorted(self._pairs.values(), key=_order)
        elif self._changed:
            changed = self._changed
            touched = {doc_id for key in changed for doc_id in key}
            ranked = [p for p in ranked if (p.a not in touched and p.b not in touched) or (p.a, p.b) not in changed]
            for key in changed:
                if key in self._pairs:
                    bisect.insort(ranked, self._pairs[key], key=_order)
        self._ranked, self._changed = ranked, set()
        return Ranking(tuple(ranked), documents, dict(self._pairs))

    # -- scoring the documents written since ----------------------------------------------

    def _score_pending(self) -> None:
        pending = list(self._pending.values())
        self._pending.clear()
        vectors = {
            doc_id: normalised(v) for doc_id, v in self._read_vectors([s.metadata.doc_id for s in pending]).items()
        }
        porteurs = frozenset(self._by_structure) | {
            structure_key(s.metadata.porteur) for s in pending if s.metadata.porteur
        }
        written = self._profile_all(pending, vectors, porteurs)
        for found in written:
            self._profiles[found.doc_id] = found
            self._sides[found.sector].dirty = True
            if found.structure:
                self._by_structure.setdefault(found.structure, set()).add(found.doc_id)
            for name in found.names:
                self._naming.setdefault(name, set()).add(found.doc_id)
        common = self._common()
        for found in written:
            self._score(found, vectors, common)
            self.scored += 1

    def _profile_all(
        self, pending: list[StoredDocument], vectors: Mapping[str, np.ndarray], porteurs: frozenset[str]
    ) -> list[Profile]:
        found = []
        for stored in pending:
            doc_id = stored.metadata.doc_id
            if doc_id not in vectors:
                continue
            made = profile(stored, vectors[doc_id], self._read_text(doc_id) or "", porteurs)
            if made is not None:
                found.append(made)
        return found

    def _common(self) -> frozenset[str]:
        limit = max(COMMON_FLOOR, COMMON_SHARE * len(self._profiles))
        return frozenset(name for name, docs in self._naming.items() if len(docs) > limit)

    def _candidates(self, found: Profile) -> set[str]:
        other = next(s for s in SIDES if s != found.sector)
        near = set(self._sides[other].nearest(self._profiles, other, found.centre, self._candidate_count))
        linked: set[str] = set()
        for name in found.names:
            linked |= self._by_structure.get(name, set())
        if found.structure:
            linked |= self._naming.get(found.structure, set())
        linked = {d for d in linked - near if d in self._profiles and self._profiles[d].sector == other}
        if len(linked) > self._candidate_count:  # a structure with many documents: its nearest ones
            ranked = sorted(linked, key=lambda d: -float(self._profiles[d].centre @ found.centre))
            linked = set(ranked[: self._candidate_count])
        return {d for d in near if self._profiles[d].sector == other} | linked

    def _score(self, found: Profile, vectors: dict[str, np.ndarray], common: frozenset[str]) -> None:
        candidates = sorted(self._candidates(found))
        missing = [d for d in candidates if d not in vectors]
        if missing:
            vectors.update({d: normalised(v) for d, v in self._read_vectors(missing).items()})
        scored = []
        for d in candidates:
            other = self._profiles[d]
            # a pair the other document already kept in this pass (or since) is the same pair
            key = (found.doc_id, d) if found.doc_id < d else (d, found.doc_id)
            kept = self._pairs.get(key)
            wanted = (found.version, other.version) if key[0] == found.doc_id else (other.version, found.version)
            if kept is not None and kept.versions == wanted:
                scored.append(kept)
            elif d in vectors and len(vectors[d]):
                scored.append(score_pair(found, other, vectors[found.doc_id], vectors[d], common))
        scored.sort(key=lambda p: -p.score)
        for pair in scored[: self._per_document]:
            key = (pair.a, pair.b)
            self._pairs[key] = pair
            self._changed.add(key)
            self._by_document.setdefault(pair.a, set()).add(key)
            self._by_document.setdefault(pair.b, set()).add(key)


def _order(pair: Pair) -> tuple[float, str, str]:
    return (-pair.score, pair.a, pair.b)


def _unlink(table: dict[str, set[str]], key: str, doc_id: str) -> None:
    members = table.get(key)
    if members is not None:
        members.discard(doc_id)
        if not members:
            del table[key]


def involving(ranking: Ranking, doc_ids: Iterable[str]) -> list[Pair]:
    """The pairs of a ranking that involve any of some documents."""
    wanted = set(doc_ids)
    return [p for p in ranking.pairs if p.a in wanted or p.b in wanted]
