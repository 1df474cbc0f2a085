"""Hybrid retrieval with sentence vectors: a document's cosine mixes its best passage and its
best sentence (kb/search/retrieval.py, FusionParams.sentence_share)."""

from __future__ import annotations

import numpy as np
import pytest

from kb.core.models import Chunk, DocumentMetadata
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.retrieval import FusionParams, Retriever
from tests.fakes import ToyEmbedder, vowel_vector


def _store(index: KnowledgeIndex, doc_id: str, text: str) -> None:
    metadata = DocumentMetadata(doc_id=doc_id, title=doc_id.title(), doc_type="fiche méthode")
    chunk = Chunk(doc_id, 0, text, 0, len(text))
    index.upsert(metadata, "v1", text, [chunk], np.stack([vowel_vector(text)]))


@pytest.fixture
def index(tmp_path):
    opened = KnowledgeIndex(Settings(data_dir=tmp_path / "data"), ToyEmbedder(), {"chunker": "test"})
    # alpha's passage vector leans to "o", but one of its sentences is all "a"; beta is a third "a"
    _store(opened, "alpha", "Ooooo oooo ooooo. Ooo oooo. Aaaa.")
    _store(opened, "beta", "Aoaoo aoo.")
    yield opened
    opened.close()


def _first(index: KnowledgeIndex, share: float) -> str:
    retriever = Retriever(index, fusion=FusionParams(lexical_weight=0.0, candidates=10, sentence_share=share))
    return retriever.search("aaa", k=2)[0].metadata.doc_id


def test_the_best_sentence_lifts_a_document_whose_passage_vector_is_averaged_away(index):
    assert _first(index, 0.0) == "beta"
    assert _first(index, 0.6) == "alpha"


def test_an_index_without_sentence_vectors_ranks_by_passages_whatever_the_share(tmp_path):
    plain = KnowledgeIndex(
        Settings(data_dir=tmp_path / "plain", sentence_vectors=False), ToyEmbedder(), {"chunker": "test"}
    )
    try:
        _store(plain, "alpha", "Ooooo oooo ooooo. Ooo oooo. Aaaa.")
        _store(plain, "beta", "Aoaoo aoo.")
        assert _first(plain, 0.6) == "beta"
    finally:
        plain.close()


def test_a_sentence_repeated_in_a_document_is_embedded_once(tmp_path):
    model = ToyEmbedder()
    index = KnowledgeIndex(Settings(data_dir=tmp_path / "data"), model, {"chunker": "test"})
    try:
        _store(index, "gamma", "Une étape du projet. Une étape du projet. Une autre étape.")
        assert model.passages_embedded == 2  # the passage's vector is given; two distinct sentences
        assert index.sentences.store.count() == 3
    finally:
        index.close()
