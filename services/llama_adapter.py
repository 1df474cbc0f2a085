"""The one module that knows llama-index: the LLM client, and the base as a llama-index retriever.

- ``create_chat_client(settings)``: the configured OpenAI-compatible LLM (``OpenAILike``, chat
  API, ``KB_LLM_TIMEOUT_S``, no retry), seen by ``services.generation`` as plain strings.
- ``PasserellesRetriever(retriever)``: a ``BaseRetriever`` over the project's hybrid retrieval,
  one ``NodeWithScore`` per passage, with the document's metadata and provenance, for llama-index
  applications (query engines, agents) built on the base.

llama-index's global ``Settings`` default to OpenAI's remote models: both entry points pin them
(``pin_settings``) to the configured LLM and the base's own embedding model, or to local mocks
that never call anywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from llama_index.core import Settings as LlamaSettings
from llama_index.core.embeddings import BaseEmbedding, MockEmbedding
from llama_index.core.llms import LLM, ChatMessage, MessageRole
from llama_index.core.llms.mock import MockLLM
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeRelationship, NodeWithScore, QueryBundle, RelatedNodeInfo, TextNode
from llama_index.llms.openai_like import OpenAILike
from pydantic import PrivateAttr

from kb.core.models import Passage, page_url
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.filters import Filters
from kb.search.hits import DocumentHit
from kb.search.retrieval import Retriever

NO_KEY = "no-key"  # sent when KB_LLM_API_KEY is empty (never OPENAI_API_KEY from the environment)
MAX_TOKENS = 600  # a short answer: a few sentences
_pinned = {"llm": False, "embed_model": False}


# -- global settings --------------------------------------------------------------------------


class BaseEmbedder(BaseEmbedding):
    """The base's embedding model as a llama-index embedding (local: no call anywhere), through
    the index (its locks and query cache)."""

    _index: Any = PrivateAttr()

    def __init__(self, index: KnowledgeIndex, **kwargs: Any) -> None:
        super().__init__(model_name=index.embedder.model_id, **kwargs)
        self._index = index

    @classmethod
    def class_name(cls) -> str:
        return "PasserellesEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self._index.query_vector(query)]

    def _get_text_embedding(self, text: str) -> list[float]:
        return [float(x) for x in self._index.embed_passages([text])[0]]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self._index.embed_passages(texts)]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await asyncio.to_thread(self._get_query_embedding, query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return await asyncio.to_thread(self._get_text_embedding, text)


def pin_settings(llm: LLM | None = None, index: KnowledgeIndex | None = None) -> None:
    """Pin llama-index's global ``Settings`` so that it never falls back to a remote OpenAI
    model: the given LLM and the embedding model of the given index; what is not given and was
    not pinned before becomes a local mock (no call anywhere)."""
    if llm is not None:
        LlamaSettings.llm = llm
        _pinned["llm"] = True
    elif not _pinned["llm"]:
        LlamaSettings.llm = MockLLM()
    if index is not None:
        LlamaSettings.embed_model = BaseEmbedder(index)
        _pinned["embed_model"] = True
    elif not _pinned["embed_model"]:
        LlamaSettings.embed_model = MockEmbedding(embed_dim=1)


# -- the LLM ---------------------------------------------------------------------------------


class LlamaChat:
    """The configured LLM, with plain strings in and out (``services.generation.ChatClient``)."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm

    def answer(self, system: str, user: str) -> str:
        response = self.llm.chat(_messages(system, user))
        content = response.message.content
        if not isinstance(content, str):
            raise ValueError("réponse sans texte")
        return content

    async def stream(self, system: str, user: str) -> AsyncIterator[str]:
        responses = await self.llm.astream_chat(_messages(system, user))
        async for response in responses:
            if response.delta:
                yield response.delta


def create_chat_client(settings: Settings, index: KnowledgeIndex | None = None) -> LlamaChat:
    """The client of ``KB_LLM_URL`` (no request is made here). One attempt per question: a
    retry would multiply the wait before the extractive answer is given."""
    llm = OpenAILike(
        model=settings.llm_model or "default",
        api_base=settings.llm_url.strip(),
        api_key=settings.llm_api_key.get_secret_value() or NO_KEY,
        is_chat_model=True,
        is_function_calling_model=False,
        timeout=settings.llm_timeout_s,
        max_retries=0,
        max_tokens=MAX_TOKENS,
        temperature=0.1,
    )
    pin_settings(llm, index)
    return LlamaChat(llm)


def _messages(system: str, user: str) -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.SYSTEM, content=system), ChatMessage(role=MessageRole.USER, content=user)]


# -- the base as a retriever -----------------------------------------------------------------


class PasserellesRetriever(BaseRetriever):
    """The base's hybrid retrieval (glossary, filters, fusion) for llama-index: the passages of
    the ``k`` best documents, best first, each a ``TextNode`` carrying its provenance.

    ``retriever``: ``KnowledgeBase.retriever`` (``services.runtime.open_knowledge_base``)."""

    def __init__(
        self,
        retriever: Retriever,
        k: int = 5,
        filters: Filters | None = None,
        passages_per_document: int = 3,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.retriever = retriever
        self.k = k
        self.filters = filters
        self.passages_per_document = passages_per_document
        pin_settings(index=retriever.index)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.retriever.search(
            query_bundle.query_str, k=self.k, filters=self.filters, passages_per_document=self.passages_per_document
        )
        base_url = self.retriever.index.settings.public_url
        return [
            NodeWithScore(node=_node(hit, passage, base_url), score=passage.score)
            for hit in hits
            for passage in hit.passages
        ]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)


# Provenance that helps no LLM reading the passage: kept in the metadata, not in its prompt.
_NOT_FOR_LLM = ["doc_id", "chunk", "url", "source_url", "page"]


def _node(hit: DocumentHit, passage: Passage, base_url: str) -> TextNode:
    meta, chunk = hit.metadata, passage.chunk
    return TextNode(
        id_=f"{chunk.doc_id}::{chunk.index:04d}",
        text=chunk.text,
        start_char_idx=chunk.start,
        end_char_idx=chunk.end,
        metadata={
            "doc_id": meta.doc_id,
            "chunk": chunk.index,
            "section": chunk.section_label,
            "page": chunk.page,
            "title": meta.title,
            "doc_type": meta.doc_type,
            "sector": meta.sector,
            "territory": meta.territory,
            "porteur": meta.porteur,
            "date": meta.date,
            "url": page_url(base_url, meta.doc_id, chunk.index),
            "source_url": meta.source_url,
        },
        excluded_llm_metadata_keys=list(_NOT_FOR_LLM),
        excluded_embed_metadata_keys=list(_NOT_FOR_LLM),
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=meta.doc_id)},
    )
