"""The search service: documents with their best passages, snippets and highlighted terms."""

from __future__ import annotations

from kb.answer import document_summary
from kb.filters import Filters
from kb.retrieval import Retriever
from kb.snippets import make_snippet


def search_documents(
    retriever: Retriever, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid"
) -> dict:
    terms = retriever.query_terms(query)
    results = []
    for hit in retriever.search(query, k=k, filters=filters, mode=mode):
        passages = []
        for passage in hit.passages:
            snippet, highlights = make_snippet(passage.chunk.text, terms, retriever.index.term)
            passages.append(
                {
                    "text": passage.chunk.text,
                    "snippet": snippet,
                    "highlights": highlights,
                    "section": passage.chunk.section_label,
                    "page": passage.chunk.page,
                }
            )
        results.append({**document_summary(hit.metadata, hit.score), "passages": passages})
    return {"results": results}
