"""The search service: documents with their best passages, snippets and highlighted terms."""

from __future__ import annotations

from kb.answer import document_summary
from kb.digest import skipped_section
from kb.filters import Filters
from kb.models import page_url
from kb.retrieval import DocumentHit, Retriever
from kb.snippets import make_snippet
from kb.versions import version_links


def passage_views(retriever: Retriever, hit: DocumentHit, terms: set[str], limit: int | None = None) -> list[dict]:
    """A hit's passages as shown: snippet, highlighted terms, where they are, their page link.
    The passage that matched comes first; a contact or "see also" section only when nothing
    else matched (practitioners want the experience, the contact is listed apart)."""
    base_url = retriever.index.settings.public_url
    ordered = sorted(hit.passages, key=lambda p: skipped_section(p.chunk.section))[:limit]
    views = []
    for passage in ordered:
        snippet, highlights = make_snippet(passage.chunk.text, terms, retriever.index.term)
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
    query: str,
    k: int = 10,
    filters: Filters | None = None,
    mode: str = "hybrid",
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
