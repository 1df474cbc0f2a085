"""Versions of one document: a revised fiche says which one it replaces (``replaces``).

A document may declare, in its front matter, the id(s) of the document(s) it revises
(``replaces: exp-boutique-essai``, French ``remplace``; ``DocumentMetadata.replaces``). The
documents linked that way, transitively (A replaced by B, B by C), form a *family of versions*.
Relations are drawn between current documents only: an id that names no document of the base
(not ingested yet, or removed) links nothing.

Searches show a family once (``one_per_family``, called at the end of ``Retriever.search``, so
/search, /ask, the site and the widget all see it):

- at the rank (and with the score) of the family's best-ranked member;
- represented by its most recent member, the one no other member replaces, even when only an
  older one ranked: its own best passages are then fetched for the query (``fetch``), within the
  search's scope. When the scope leaves it out (a filter on type, sector, date…), the most recent
  member among those that ranked represents the family instead: filters are never overridden;
- carrying the other members (``DocumentHit.other_versions``, most recent first), which the
  responses show as links ("Autre version").

Ties between heads of one family (a document split into two revisions, or a cycle written by
mistake) go to the latest date, then to the greatest id: arbitrary but stable.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from kb.core.models import DocumentMetadata, StoredDocument, page_url
from kb.index.document_tally import DocumentTally
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.hits import DocumentHit


@dataclass(frozen=True)
class Versions:
    """The version relations of the current documents (only documents with another version
    appear in these maps)."""

    families: dict[str, tuple[str, ...]]  # doc_id -> the members of its family, sorted
    newer: dict[str, frozenset[str]]  # doc_id -> the members that replace it, directly or not
    replaces: dict[str, tuple[str, ...]]  # doc_id -> the members it replaces directly
    metadata: dict[str, DocumentMetadata]  # every member's

    @classmethod
    def build(cls, documents: Iterable[DocumentMetadata]) -> Versions:
        current = {meta.doc_id: meta for meta in documents}
        return cls.linking(current, [doc_id for doc_id, meta in current.items() if meta.replaces])

    @classmethod
    def linking(cls, current: Mapping[str, DocumentMetadata], replacing: Iterable[str]) -> Versions:
        """The relations of the ``current`` documents, given those of them that name others
        in ``replaces`` (every other document can only be named): the cost is that of the
        documents with versions, not of the base."""
        direct = {
            doc_id: tuple(old for old in current[doc_id].replaces if old in current and old != doc_id)
            for doc_id in replacing
        }
        replaced_by: dict[str, set[str]] = {}
        for doc_id, olds in direct.items():
            for old in olds:
                replaced_by.setdefault(old, set()).add(doc_id)
        linked = set(replaced_by) | {doc_id for doc_id, olds in direct.items() if olds}
        families: dict[str, tuple[str, ...]] = {}
        for start in sorted(linked):
            if start in families:
                continue
            members, todo = {start}, [start]
            while todo:  # the connected component, whichever way the links point
                doc_id = todo.pop()
                for other in (*direct.get(doc_id, ()), *replaced_by.get(doc_id, ())):
                    if other not in members:
                        members.add(other)
                        todo.append(other)
            family = tuple(sorted(members))
            families.update(dict.fromkeys(family, family))
        newer: dict[str, frozenset[str]] = {}
        for doc_id in linked:
            seen: set[str] = set()
            todo = list(replaced_by.get(doc_id, ()))
            while todo:
                other = todo.pop()
                if other not in seen:
                    seen.add(other)
                    todo.extend(replaced_by.get(other, ()))
            newer[doc_id] = frozenset(seen - {doc_id})
        return cls(
            families=families,
            newer=newer,
            replaces={doc_id: direct[doc_id] for doc_id in linked if direct.get(doc_id)},
            metadata={doc_id: current[doc_id] for doc_id in linked},
        )

    @property
    def redundant(self) -> int:
        """Members beyond one per family: the most hits collapsing can take out of a ranking."""
        return len(self.families) - len(set(self.families.values()))

    def family(self, doc_id: str) -> tuple[str, ...]:
        """The members of a document's family (itself included); () when it has no other version."""
        return self.families.get(doc_id, ())

    def newest(self, doc_ids: Iterable[str]) -> str:
        """Among members of one family, the most recent: the one no other of them replaces."""
        among = set(doc_ids)
        heads = [d for d in among if not self.newer.get(d, frozenset()) & among] or list(among)
        return max(heads, key=lambda d: (self.metadata[d].date or "", d))

    def others(self, doc_id: str) -> list[DocumentMetadata]:
        """The other members of a document's family, the most recent first."""
        others = [d for d in self.family(doc_id) if d != doc_id]
        by_date = sorted(others, key=lambda d: (self.metadata[d].date or "", d), reverse=True)
        return [self.metadata[d] for d in sorted(by_date, key=lambda d: len(self.newer[d]))]

    def newest_versions(self, doc_id: str) -> list[DocumentMetadata]:
        """The most recent versions of a replaced document (what its page points to); [] when
        no current document replaces it."""
        newer = self.newer.get(doc_id, frozenset())
        heads = [d for d in newer if not self.newer[d] - {doc_id}]
        return [
            self.metadata[d]
            for d in sorted(heads or newer, key=lambda d: (self.metadata[d].date or "", d), reverse=True)
        ]

    def replaced(self, doc_id: str) -> list[DocumentMetadata]:
        """The current documents a document replaces directly."""
        return [self.metadata[d] for d in self.replaces.get(doc_id, ())]


def one_per_family(
    hits: list[DocumentHit],
    versions: Versions,
    k: int,
    fetch: Callable[[str], DocumentHit | None] | None = None,
) -> list[DocumentHit]:
    """The ranked hits with each family of versions once, at its best-ranked member's place
    and score, represented by its most recent member and carrying the others; at most ``k``.

    ``fetch(doc_id)``: that document's hit for the same query and scope, used when a family's
    most recent member did not rank; None when the scope leaves it out (the most recent member
    that ranked represents the family then). Hits must come best first."""
    if not versions.families:
        return hits[:k]
    result: list[DocumentHit] = []
    done: set[tuple[str, ...]] = set()
    for hit in hits:
        if len(result) >= k:
            break
        family = versions.family(hit.metadata.doc_id)
        if not family:
            result.append(hit)
            continue
        if family in done:
            continue
        done.add(family)
        ranked = {h.metadata.doc_id: h for h in hits if h.metadata.doc_id in family}
        newest = versions.newest(family)
        chosen = ranked.get(newest)
        if chosen is None and fetch is not None:
            chosen = fetch(newest)
        if chosen is None:
            chosen = ranked[versions.newest(ranked)]
        result.append(replace(chosen, score=hit.score, other_versions=versions.others(chosen.metadata.doc_id)))
    return result


def version_links(versions: Iterable[DocumentMetadata], base_url: str = "") -> list[dict]:
    """Other versions as responses list them: ``{doc_id, title, date, url}``."""
    return [
        {"doc_id": meta.doc_id, "title": meta.title, "date": meta.date, "url": page_url(base_url, meta.doc_id)}
        for meta in versions
    ]


class VersionTally(DocumentTally[Versions]):
    """The documents that name others in ``replaces``, kept in step with the writes."""

    def __init__(self) -> None:
        super().__init__()
        self.doc_ids: set[str] = set()

    def clear(self) -> None:
        self.doc_ids.clear()

    def add(self, stored: StoredDocument) -> None:
        if stored.metadata.replaces:
            self.doc_ids.add(stored.metadata.doc_id)

    def discard(self, stored: StoredDocument) -> None:
        self.doc_ids.discard(stored.metadata.doc_id)

    def result(self, documents: Mapping[str, StoredDocument]) -> Versions:
        return Versions.linking(_Metadata(documents), sorted(self.doc_ids))


class _Metadata(Mapping[str, DocumentMetadata]):
    """The metadata of a snapshot's documents, read through (no copy of the whole base)."""

    def __init__(self, documents: Mapping[str, StoredDocument]) -> None:
        self._documents = documents

    def __getitem__(self, doc_id: str) -> DocumentMetadata:
        return self._documents[doc_id].metadata

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._documents

    def __iter__(self):
        return iter(self._documents)

    def __len__(self) -> int:
        return len(self._documents)


_tallies: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_tallies_lock = threading.Lock()


def versions_of(index: KnowledgeIndex) -> Versions:
    """The version relations of an index's current documents, brought up to date from the
    documents written since when its registry's revision moves (every write)."""
    with _tallies_lock:
        tally = _tallies.get(index)
        if tally is None:
            tally = _tallies[index] = VersionTally()
    return tally.current(index.registry)
