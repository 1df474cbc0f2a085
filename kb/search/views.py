"""What a search shows: documents with their best passages, snippets and highlighted terms."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from kb.core.models import DocumentMetadata, page_url
from kb.core.text import fold
from kb.search.filters import Filters
from kb.search.hits import DocumentHit
from kb.search.query import Query
from kb.search.retrieval import Mode, Retriever
from kb.search.versions import version_links

_SKIPPED_SECTIONS = (
    "pour aller plus loin",
    "voir aussi",
    "contact",
    "source",
    "ressources",
    "lien",
    "la question",
    "ordre du jour",
    "participants",
    "date, lieu",
    "date et lieu",
    "programme",
    "sommaire",
)


def document_summary(meta: DocumentMetadata, score: float | None = None, base_url: str = "") -> dict:
    """A document as listed in responses: ``url`` is its page on this site, ``source_url`` the
    page on the original site (when known)."""
    summary: dict[str, Any] = {
        "doc_id": meta.doc_id,
        "title": meta.title,
        "doc_type": meta.doc_type,
        "sector": meta.sector,
        "url": page_url(base_url, meta.doc_id),
        "source_url": meta.source_url,
        "source": meta.source_name,
    }
    if score is not None:
        summary["score"] = round(score, 4)
    return summary


def skipped_section(path: tuple[str, ...]) -> bool:
    """Pointers to other documents, contact lines, agendas and participant lists."""
    return any(fold(part).startswith(_SKIPPED_SECTIONS) for part in path[-1:])


def passage_views(
    retriever: Retriever, hit: DocumentHit, terms: AbstractSet[str], limit: int | None = None
) -> list[dict]:
    """A hit's passages as shown: snippet, highlighted terms, where they are, their page link.
    The passage that matched comes first; a contact or "see also" section only when nothing
    else matched (practitioners want the experience, the contact is listed apart)."""
    base_url = retriever.index.settings.public_url
    ordered = sorted(hit.passages, key=lambda p: skipped_section(p.chunk.section))[:limit]
    views = []
    for passage in ordered:
        snippet, highlights = retriever.snippets.make(passage.chunk.text, terms)
        views.append(
            {
                "text": passage.chunk.text,
                "snippet": snippet,
                "highlights": highlights,
                "section": passage.chunk.section_label,
                "page": passage.chunk.page,
                "url": page_url(base_url, hit.metadata.doc_id, passage.chunk.index),
            }
        )
    return views


def search_documents(
    retriever: Retriever,
    query: str | Query,
    k: int = 10,
    filters: Filters | None = None,
    mode: Mode = "hybrid",
    hits: list[DocumentHit] | None = None,
) -> dict:
    """The documents of a query with their passages; ``hits``: its ranking, when known."""
    terms = retriever.query_terms(query)
    base_url = retriever.index.settings.public_url
    if hits is None:
        hits = retriever.search(query, k=k, filters=filters, mode=mode)
    return {
        "results": [
            {
                **document_summary(hit.metadata, hit.score, base_url),
                "passages": passage_views(retriever, hit, terms),
                "other_versions": version_links(hit.other_versions, base_url),
            }
            for hit in hits[:k]
        ]
    }
