"""`kb migrate` both ways: embedded → PostgreSQL → embedded, nothing re-embedded, counts checked."""

from __future__ import annotations

import numpy as np
import pytest

from kb.errors import KBError
from kb.index import KnowledgeIndex
from kb.models import Chunk, DocumentMetadata
from kb.settings import Settings
from services.migration import migrate
from tests.fakes import ToyEmbedder, vowel_vector

CHUNKING = {"chunker": "test", "max_chars": 1000}


def _fill(settings: Settings, count: int) -> None:
    index = KnowledgeIndex(settings, ToyEmbedder(), CHUNKING)
    try:
        for n in range(count):
            texts = [f"aaa ooo {n}", f"iii uuu {n} eee"]
            metadata = DocumentMetadata(doc_id=f"doc-{n}", title=f"Document {n}", doc_type="expérience", sector="social")
            chunks = [Chunk(metadata.doc_id, i, t, i * 20, i * 20 + len(t)) for i, t in enumerate(texts)]
            index.upsert(metadata, "v1", " ".join(texts), chunks, np.stack([vowel_vector(t) for t in texts]))
        index.persist_derived(wait=True)
    finally:
        index.close()


def _contents(settings: Settings) -> dict:
    index = KnowledgeIndex(settings, ToyEmbedder(), CHUNKING)
    try:
        return {
            d.metadata.doc_id: (d.version, d.metadata.title, [c.text for c in index.document_chunks(d.metadata.doc_id)],
                                index.document_vectors(d.metadata.doc_id).round(5).tolist(),
                                [p.chunk.doc_id for p in index.lexical_search("iii", 3)])
            for d in index.documents()
        }
    finally:
        index.close()


def test_a_base_goes_to_postgresql_and_back_unchanged(tmp_path, postgres_url):
    embedded = Settings(data_dir=tmp_path / "embedded")
    shared = Settings(data_dir=tmp_path / "cache", database_url=postgres_url)
    back = Settings(data_dir=tmp_path / "back")
    _fill(embedded, 7)

    there = migrate(embedded, shared)
    assert (there.documents, there.passages, there.vectors) == (7, 14, 14)
    again = migrate(shared, back)
    assert (again.documents, again.passages, again.vectors) == (7, 14, 14)
    assert _contents(embedded) == _contents(shared) == _contents(back)


def test_a_target_that_is_not_empty_is_refused_and_left_alone(tmp_path, postgres_url):
    embedded = Settings(data_dir=tmp_path / "embedded")
    shared = Settings(data_dir=tmp_path / "cache", database_url=postgres_url)
    _fill(embedded, 2)
    _fill(shared, 1)
    with pytest.raises(KBError, match="contient déjà 1 document"):
        migrate(embedded, shared)
    assert set(_contents(shared)) == {"doc-0"}


def test_nothing_to_copy_is_a_french_error(tmp_path, postgres_url):
    with pytest.raises(KBError, match="Aucune base à copier"):
        migrate(Settings(data_dir=tmp_path / "empty"), Settings(data_dir=tmp_path / "c", database_url=postgres_url))
