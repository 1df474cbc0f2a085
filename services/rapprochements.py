"""Rapprochements (issue 29, §3): pairs of documents of the two sectors the working group should
hear about, the coordinator's marks on them (audited, kept by the backend), the CSV for the
next meeting.

The pairs come from ``PairTally`` (kb/rapprochements/tally.py), kept in step with the registry:
a request reads the ranking of the current revision, scoring only the documents written since.
Pairs of the same two structures (the GAL and the épicerie through four documents) are shown
once, the best one standing for the others (``also``). A mark holds for the two documents'
versions it was set on (kb/records/rapprochements.py): once either changes, the pair is open
again.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable
from typing import NamedTuple

from kb.answer.directory import reach
from kb.core.bounded_cache import BoundedCache
from kb.core.models import DocumentMetadata, chunk_id, page_url
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from kb.rapprochements.profiles import Pair
from kb.rapprochements.reason import reason
from kb.rapprochements.tally import PairTally, Ranking
from kb.records.rapprochements import (
    STATUSES,
    TO_REVIEW,
    PairMark,
    checked_status,
    new_mark,
    no_pair,
    pair_id,
    split_pair_id,
)
from kb.search.filters import parse_filters
from kb.storage.protocols import AuditLog, RapprochementStore

MARKED = "rapprochement marqué"
REOPENED = "rapprochement rouvert"
NO_DOCUMENT = ""  # a pair names two documents: the entry's details say which
CSV_PAIRS = 200  # a meeting's worth: each row's reason and contacts are read
CSV_COLUMNS = (
    "Statut",
    "Score",
    "Même territoire",
    "Ce qu'ils partagent",
    "Document A",
    "Secteur A",
    "Territoire A",
    "Contact A",
    "Page A",
    "Document B",
    "Secteur B",
    "Territoire B",
    "Contact B",
    "Page B",
)


class _Listing(NamedTuple):
    """The pairs as a page reads them, for one ranking and one set of marks."""

    ranking: Ranking
    marks: tuple[PairMark, ...]
    representatives: list[Pair]  # the best pair of each two structures, best first
    marked: dict[tuple[str, str], PairMark]  # two structures → the mark that still applies


class Rapprochements:
    def __init__(
        self,
        settings: Settings,
        index: KnowledgeIndex,
        store: RapprochementStore,
        audit: AuditLog,
        known_values: Callable[[], dict[str, set[str]]],
    ) -> None:
        self.index = index
        self.store = store
        self.audit = audit
        self._known_values = known_values
        self._base_url = settings.public_url
        self.tally = PairTally(
            index.documents_vectors,
            index.document_text,
            settings.rapprochements_per_document,
            settings.rapprochements_candidates,
        )
        self._reasons: BoundedCache[tuple, str] = BoundedCache(2048)
        # the groups of the last ranking and marks read: a page reads them, not 300,000 pairs
        self._listing: _Listing | None = None
        self._grouping = threading.Lock()

    def close(self) -> None:
        self.store.close()

    def ranking(self) -> Ranking:
        """The pairs at the registry's current revision (the documents written since scored)."""
        return self.tally.current(self.index.registry)

    def pairs(
        self,
        territory: str | None = None,
        theme: str | None = None,
        status: str | None = TO_REVIEW,
        offset: int = 0,
        limit: int = 20,
    ) -> dict:
        """A page of the pairs, best first: ``{"pairs", "total", "offset", "limit", "counts"}``
        (``counts``: the pairs of each status under the same territory and theme)."""
        listing = self._grouped(self.ranking())
        listed = self._filtered(listing, territory, theme)
        counts = {name: 0 for name in STATUSES}
        for pair in listed:
            counts[_status(listing, pair)] += 1
        if status is not None:
            wanted = checked_status(status)
            listed = [pair for pair in listed if _status(listing, pair) == wanted]
        page = listed[offset : offset + limit]
        members = _members(listing.ranking, {pair.group for pair in page})
        return {
            "pairs": [self._view(listing, pair, members[pair.group]) for pair in page],
            "total": len(listed),
            "offset": offset,
            "limit": limit,
            "counts": counts,
        }

    def set_status(self, pair: str, status: str, actor: str) -> dict:
        """Mark a proposed pair (or reopen it with « à examiner »), audited; the pair as listed."""
        a, b = split_pair_id(pair)
        value = checked_status(status)
        ranking = self.ranking()
        found = ranking.by_key.get((a, b))
        if found is None:
            raise no_pair(pair)
        if value == TO_REVIEW:
            self.store.remove(a, b)
            self.audit.record(actor, REOPENED, NO_DOCUMENT, rapprochement=pair_id(a, b), a=a, b=b)
        else:
            versions = {a: found.versions[0], b: found.versions[1]}
            self.store.put(new_mark(a, b, value, versions, actor))
            self.audit.record(actor, MARKED, NO_DOCUMENT, rapprochement=pair_id(a, b), a=a, b=b, statut=value)
        listing = self._grouped(ranking)
        members = _members(ranking, {found.group})[found.group]
        return self._view(listing, members[0], members)

    def csv(
        self,
        territory: str | None = None,
        theme: str | None = None,
        status: str | None = TO_REVIEW,
        limit: int = CSV_PAIRS,
    ) -> str:
        """The best ``limit`` pairs for the next meeting, for a spreadsheet: UTF-8 with BOM,
        ``;``-separated."""
        listing = self.pairs(territory, theme, status, 0, limit)
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for row in listing["pairs"]:
            sides = [
                [
                    _cell(side["title"]),
                    side["sector"],
                    _cell(side["territory"] or ""),
                    _cell(_contact_text(side["contact"])),
                    side["url"],
                ]
                for side in (row["a"], row["b"])
            ]
            writer.writerow(
                [
                    row["status"],
                    f"{row['score']:.3f}".replace(".", ","),
                    "oui" if row["same_territory"] else "non",
                    _cell(row["reason"]),
                    *sides[0],
                    *sides[1],
                ]
            )
        return out.getvalue()

    # -- what a listing shows ---------------------------------------------------------------

    def _filtered(self, listing: _Listing, territory: str | None, theme: str | None) -> list[Pair]:
        if not territory and not theme:
            return listing.representatives
        filters = parse_filters(self._known_values(), theme=theme, territory=territory)
        if filters is None:
            return listing.representatives
        documents = listing.ranking.documents
        accepted: dict[str, bool] = {}  # each document judged once

        def accepts(doc_id: str) -> bool:
            if doc_id not in accepted:
                stored = documents.get(doc_id)
                accepted[doc_id] = stored is not None and filters.accepts(stored.metadata)
            return accepted[doc_id]

        return [pair for pair in listing.representatives if accepts(pair.a) or accepts(pair.b)]

    def _grouped(self, ranking: Ranking) -> _Listing:
        """The pairs by their two structures, in the ranking's order (a group's place is its best
        pair's), and each group's mark: the latest set on one of its pairs that still applies.
        Computed once per ranking and marks read: one pass over the pairs."""
        marks = tuple(self.store.list())
        with self._grouping:
            cached = self._listing
            if cached is not None and cached.ranking is ranking and cached.marks == marks:
                return cached
            seen: set[tuple[str, str]] = set()
            representatives = []
            for pair in ranking.pairs:
                if pair.group not in seen:
                    seen.add(pair.group)
                    representatives.append(pair)
            marked: dict[tuple[str, str], PairMark] = {}
            for mark in sorted(marks, key=lambda m: m.marked_at):
                found = ranking.by_key.get((mark.doc_a, mark.doc_b))
                if found is not None and mark.applies(*found.versions):
                    marked[found.group] = mark
            self._listing = _Listing(ranking, marks, representatives, marked)
            return self._listing

    def _view(self, listing: _Listing, pair: Pair, members: list[Pair]) -> dict:
        a, b = self._metadata(pair.a), self._metadata(pair.b)
        mark = listing.marked.get(pair.group)
        return {
            "id": pair_id(pair.a, pair.b),
            "a": self._side(a),
            "b": self._side(b),
            "reason": self._reason(pair, a, b),
            "score": round(pair.score, 4),
            "same_territory": pair.same_territory,
            "publics": list(pair.publics),
            "named": pair.named,
            "status": mark.status if mark else TO_REVIEW,
            "marked_by": mark.marked_by if mark else None,
            "marked_at": mark.marked_at if mark else None,
            "also": [{"a": p.a, "b": p.b} for p in members if p is not pair],
        }

    def _metadata(self, doc_id: str) -> DocumentMetadata:
        stored = self.index.find(doc_id)
        return stored.metadata if stored is not None else DocumentMetadata(doc_id=doc_id, title=doc_id)

    def _side(self, meta: DocumentMetadata) -> dict:
        found = reach(self.index, meta, self.index.document_text(meta.doc_id) or "", "rapprochement")
        return {
            "doc_id": meta.doc_id,
            "title": meta.title,
            "sector": meta.sector,
            "territory": meta.territory,
            "doc_type": meta.doc_type,
            "porteur": meta.porteur,
            "url": page_url(self._base_url, meta.doc_id),
            "contact": {"name": found["name"], "contact": found["contact"], "doc_id": found["doc_id"]}
            if found
            else None,
        }

    def _reason(self, pair: Pair, a: DocumentMetadata, b: DocumentMetadata) -> str:
        def compute() -> str:
            ids = [
                chunk_id(pair.a, pair.versions[0], pair.passages[0]),
                chunk_id(pair.b, pair.versions[1], pair.passages[1]),
            ]
            chunks = self.index.registry.chunks(ids)
            texts = [chunks[i].text if i in chunks else "" for i in ids]
            return reason(pair, a, b, texts[0], texts[1])

        return self._reasons.get_or_compute((pair.a, pair.b, pair.versions), compute)


def _status(listing: _Listing, pair: Pair) -> str:
    mark = listing.marked.get(pair.group)
    return mark.status if mark else TO_REVIEW


def _members(ranking: Ranking, groups: set[tuple[str, str]]) -> dict[tuple[str, str], list[Pair]]:
    """The pairs of some groups, best first (one pass over the ranking)."""
    found: dict[tuple[str, str], list[Pair]] = {group: [] for group in groups}
    for pair in ranking.pairs:
        if pair.group in found:
            found[pair.group].append(pair)
    return found


def _contact_text(contact: dict | None) -> str:
    if not contact:
        return ""
    return f"{contact['name']} : {contact['contact'] or ''}".strip(" :")


def _cell(text: str) -> str:
    """Document text is untrusted: never let a spreadsheet read it as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
