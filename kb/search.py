"""The search service: documents with their best passages, snippets and highlighted terms."""

from __future__ import annotations

from kb.answer import document_summary, reference_section
from kb.filters import Filters
from kb.models import page_url
from kb.retrieval import Retriever
from kb.snippets import make_snippet


def search_documents(
    retriever: Retriever, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid"
) -> dict:
    terms = retriever.query_terms(query)
    base_url = retriever.index.settings.public_url
    results = []
    for hit in retriever.search(query, k=k, filters=filters, mode=mode):
        passages = []
        # the passage that matched comes first; a contact or "see also" section only when
        # nothing else matched (practitioners want the experience, the contact is listed apart)
        ordered = sorted(hit.passages, key=lambda p: reference_section(p.chunk.section))
        for passage in ordered:
            snippet, highlights = make_snippet(passage.chunk.text, terms, retriever.index.term)
            passages.append(
                {
                    "text": passage.chunk.text,
                    "snippet": snippet,
                    "highlights": highlights,
                    "section": passage.chunk.section_label,
                    "page": passage.chunk.page,
                    "url": page_url(base_url, hit.metadata.doc_id, passage.chunk.index),
                }
            )
        results.append({**document_summary(hit.metadata, hit.score, base_url), "passages": passages})
    return {"results": results}
