"""The Atom feed of newly published documents (``/flux.atom``), written with feedgen.

A document's date in the feed is its first publication: the audit log's first ``ajout`` of its
id when there is one (the registry's ``indexed_at`` changes on every replacement), or the
``publie_le`` of a ``reprise`` entry, which ``kb import`` and ``kb migrate`` record for a
document the log does not date (one indexed by ``kb ingest``: its ``indexed_at`` would become the
copy's time); else its ``indexed_at``. Document text is untrusted: feedgen escapes every value it
writes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from feedgen.feed import FeedGenerator

from kb.core.models import StoredDocument, page_url
from kb.core.vocabulary import content_doc_types
from kb.search.filters import Filters
from services.knowledge_base import KnowledgeBase

FEED_SIZE = 50
SUMMARY_CHARS = 400
FEED_TITLE = "Passerelles — nouvelles fiches"
FIRST_PUBLICATION = "ajout"
CARRIED_PUBLICATION = "reprise"  # a copy of the base (import, migrate) carrying a date
CARRIED_DATE = "publie_le"
# characters XML 1.0 cannot hold at all (feedgen's lxml refuses them): dropped from the text
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def first_publications(kb: KnowledgeBase) -> dict[str, tuple[str, int]]:
    """The time of each document's first publication in the audit log, with its line number
    (which orders two publications of the same second)."""
    return publications_in(kb.writer.audit.entries())


def publications_in(entries: Iterable[dict]) -> dict[str, tuple[str, int]]:
    """(time, line) of each document's earliest ``ajout`` or carried ``reprise`` date."""
    first: dict[str, tuple[str, int]] = {}
    for line, entry in enumerate(entries):
        doc_id, action = entry.get("doc_id"), entry.get("action")
        if not doc_id or action not in (FIRST_PUBLICATION, CARRIED_PUBLICATION):
            continue
        at = entry.get("at") if action == FIRST_PUBLICATION else entry.get(CARRIED_DATE)
        if not isinstance(at, str) or not _is_time(at):
            continue
        if doc_id not in first or _time(at) < _time(first[doc_id][0]):
            first[doc_id] = (at, line)
    return first


def publication_dates(stored: Iterable[StoredDocument], entries: Iterable[dict]) -> dict[str, str]:
    """Each document's date in the feed (its first publication, else its ``indexed_at``)."""
    published = publications_in(entries)
    return {
        document.metadata.doc_id: published.get(document.metadata.doc_id, (document.indexed_at, -1))[0]
        for document in stored
    }


def undated_publications(entries: Iterable[dict], dates: dict[str, str]) -> dict[str, str]:
    """The first publications of ``dates`` (doc_id → its date at the source of a copy) that the
    audit log of ``entries`` does not give: each becomes a ``reprise`` entry carrying it
    (``CARRIED_DATE``), so that the feed keeps its date after the copy."""
    dated = publications_in(entries)
    return {doc_id: at for doc_id, at in dates.items() if doc_id not in dated and _is_time(at)}


def public_documents(kb: KnowledgeBase) -> list[StoredDocument]:
    """The documents public reads may list (the review's statuses will narrow this to the
    published ones)."""
    return kb.index.documents()


def atom_feed(kb: KnowledgeBase, filters: Filters | None, base_url: str) -> bytes:
    """The feed of the ``FEED_SIZE`` most recently published content documents matching
    ``filters``. ``base_url``: the public site's (``KB_PUBLIC_URL``), else the API's own."""
    site = (kb.index.settings.public_url or base_url).rstrip("/")
    published = first_publications(kb)
    wanted = set(content_doc_types()) if filters is None or not filters.doc_type else None
    entries = [
        (*published.get(stored.metadata.doc_id, (stored.indexed_at, -1)), stored)
        for stored in public_documents(kb)
        if (wanted is None or stored.metadata.doc_type in wanted)
        and (filters is None or filters.accepts(stored.metadata))
    ]
    entries.sort(key=lambda entry: (_time(entry[0]), entry[1], entry[2].metadata.doc_id), reverse=True)
    entries = entries[:FEED_SIZE]

    feed = FeedGenerator()
    feed.id(f"{site}/flux.atom")
    feed.title(FEED_TITLE)
    feed.subtitle("Les fiches récemment publiées dans Passerelles, la base des méthodes et expériences du réseau.")
    feed.language("fr")
    feed.author({"name": "Passerelles"})
    feed.link(href=f"{site}/", rel="alternate", type="text/html")
    feed.link(href=f"{site}/flux.atom", rel="self", type="application/atom+xml")
    feed.updated(max((_time(e[0]) for e in entries), default=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)))
    for first, _, stored in entries:
        meta = stored.metadata
        entry = feed.add_entry(order="append")
        entry.id(f"urn:passerelles:fiche:{meta.doc_id}")
        entry.title(_clean(meta.title))
        entry.link(href=page_url(site, meta.doc_id), rel="alternate", type="text/html")
        entry.published(_time(first))
        entry.updated(max(_time(first), _time(stored.indexed_at)))
        entry.summary(_summary(kb.index.document_text(meta.doc_id) or "", meta.title))
        for term in (meta.doc_type, meta.sector, *meta.themes):
            if term:
                entry.category(term=_clean(term), label=_clean(term))
        if meta.porteur:
            entry.author({"name": _clean(meta.porteur)})
    return feed.atom_str(pretty=True, encoding="UTF-8")


def _is_time(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _time(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _summary(text: str, title: str) -> str:
    """The document's first lines as plain text: headings, the title and Markdown marks left out."""
    lines = []
    for line in text.splitlines():
        line = line.strip().lstrip("-*>").strip()
        if not line or line.startswith("#") or line == title.strip():
            continue
        lines.append(line)
        if sum(len(kept) for kept in lines) > SUMMARY_CHARS:
            break
    plain = _clean(re.sub(r"\s+", " ", re.sub(r"[*_`]+", "", " ".join(lines)))).strip()
    if len(plain) <= SUMMARY_CHARS:
        return plain
    return plain[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
