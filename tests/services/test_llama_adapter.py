"""The base as a llama-index retriever: one NodeWithScore per passage, with its provenance; and
llama-index's global settings pinned to local models."""

from __future__ import annotations

import asyncio

import pytest

from kb.core.settings import Settings
from kb.search.filters import Filters
from services import runtime
from tests.apps import copy_index


@pytest.fixture(scope="module")
def kb(tmp_path_factory, toy_mini_index):
    from tests.fakes import ToyEmbedder

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("llama") / "data", public_url="https://passerelles.example.org"
    )
    embedder = ToyEmbedder()
    copy_index(toy_mini_index, settings)  # the mini corpus ingested once per session
    kb = runtime.open_knowledge_base(settings, embedder)
    yield kb
    kb.close()


def test_retrieve_gives_passages_with_their_provenance(kb):
    from llama_index.core.schema import NodeWithScore, TextNode

    from services.llama_adapter import PasserellesRetriever

    nodes = PasserellesRetriever(kb.retriever, k=2).retrieve("chauffeurs bénévoles")
    hits = kb.retriever.search("chauffeurs bénévoles", k=2)
    expected = [(h.metadata.doc_id, p.chunk.index, p.score) for h in hits for p in h.passages]
    assert [(n.node.metadata["doc_id"], n.node.metadata["chunk"], n.score) for n in nodes] == expected
    assert nodes and all(isinstance(n, NodeWithScore) and isinstance(n.node, TextNode) for n in nodes)
    first, hit, passage = nodes[0], hits[0], hits[0].passages[0]
    assert first.node.text == passage.chunk.text
    assert first.node.node_id == f"{hit.metadata.doc_id}::{passage.chunk.index:04d}"
    assert first.node.ref_doc_id == hit.metadata.doc_id
    assert (first.node.start_char_idx, first.node.end_char_idx) == (passage.chunk.start, passage.chunk.end)
    meta = first.node.metadata
    assert meta == {
        "doc_id": hit.metadata.doc_id,
        "chunk": passage.chunk.index,
        "section": passage.chunk.section_label,
        "page": passage.chunk.page,
        "title": hit.metadata.title,
        "doc_type": hit.metadata.doc_type,
        "sector": hit.metadata.sector,
        "territory": hit.metadata.territory,
        "porteur": hit.metadata.porteur,
        "date": hit.metadata.date,
        "url": f"https://passerelles.example.org/fiches/{hit.metadata.doc_id}#passage-{passage.chunk.index}",
        "source_url": hit.metadata.source_url,
    }
    # what an LLM reads of the node: the text and its title, section…, not the plumbing
    from llama_index.core.schema import MetadataMode

    shown = first.node.get_content(metadata_mode=MetadataMode.LLM)
    assert hit.metadata.title in shown and "passage-" not in shown


def test_filters_and_async_retrieval(kb):
    from services.llama_adapter import PasserellesRetriever

    retriever = PasserellesRetriever(kb.retriever, k=5, filters=Filters(sector=("développement local",)))
    nodes = asyncio.run(retriever.aretrieve("transport"))
    assert nodes and {n.node.metadata["sector"] for n in nodes} == {"développement local"}


def test_global_settings_are_pinned_to_local_models(kb):
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core.llms import MockLLM

    from services.llama_adapter import PasserellesRetriever

    PasserellesRetriever(kb.retriever)
    assert isinstance(LlamaSettings.llm, MockLLM) or type(LlamaSettings.llm).__name__ == "OpenAILike"
    vector = LlamaSettings.embed_model.get_query_embedding("épicerie")
    assert vector == pytest.approx([float(x) for x in kb.index.query_vector("épicerie")])
