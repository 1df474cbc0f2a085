"""Search service: passages grouped into documents (practitioners open fiches, not fragments)."""

from __future__ import annotations

from kb.errors import KBError
from kb.index import KnowledgeIndex


def search_documents(index: KnowledgeIndex, query: str, k: int, passages_per_doc: int = 3) -> dict:
    if not query.strip():
        raise KBError("La question est vide.")
    passages = index.dense_search(query, limit=k * 6)
    results: dict[str, dict] = {}
    for passage in passages:
        meta = passage.metadata
        entry = results.get(meta.doc_id)
        if entry is None:
            if len(results) >= k:
                continue
            entry = results[meta.doc_id] = {
                "doc_id": meta.doc_id,
                "title": meta.title,
                "doc_type": meta.doc_type,
                "sector": meta.sector,
                "url": meta.source_url,
                "source": meta.source_path,
                "score": round(passage.score, 4),
                "passages": [],
            }
        if len(entry["passages"]) < passages_per_doc:
            entry["passages"].append(
                {
                    "text": passage.chunk.text,
                    "section": passage.chunk.section_label,
                    "page": passage.chunk.page,
                }
            )
    return {"results": list(results.values())}
