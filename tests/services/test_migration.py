"""`kb migrate` both ways: embedded → PostgreSQL → embedded, nothing re-embedded, counts checked."""

from __future__ import annotations

import pytest

from kb.core.errors import KBError
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from services.migration import migrate
from tests.fakes import ToyEmbedder
from tests.migration_data import CHUNKING, fill_index


def _contents(settings: Settings) -> dict:
    index = KnowledgeIndex(settings, ToyEmbedder(), CHUNKING)
    try:
        return {
            d.metadata.doc_id: (
                d.version,
                d.metadata.title,
                [c.text for c in index.document_chunks(d.metadata.doc_id)],
                index.document_vectors(d.metadata.doc_id).round(5).tolist(),
                [p.chunk.doc_id for p in index.lexical_search("iii", 3)],
            )
            for d in index.documents()
        }
    finally:
        index.close()


def test_a_base_goes_to_postgresql_and_back_unchanged(tmp_path, postgres_url):
    embedded = Settings(data_dir=tmp_path / "embedded")
    shared = Settings(data_dir=tmp_path / "cache", database_url=postgres_url)
    back = Settings(data_dir=tmp_path / "back")
    fill_index(embedded, 7)

    there = migrate(embedded, shared)
    assert (there.documents, there.passages, there.vectors) == (7, 14, 14)
    assert there.files == 0 and len(there.missing_files) == 7  # written straight to the index: no file
    again = migrate(shared, back)
    assert (again.documents, again.passages, again.vectors) == (7, 14, 14)
    assert _contents(embedded) == _contents(shared) == _contents(back)


def test_a_target_that_is_not_empty_is_refused_and_left_alone(tmp_path, postgres_url):
    embedded = Settings(data_dir=tmp_path / "embedded")
    shared = Settings(data_dir=tmp_path / "cache", database_url=postgres_url)
    fill_index(embedded, 2)
    fill_index(shared, 1)
    with pytest.raises(KBError, match="contient déjà 1 document"):
        migrate(embedded, shared)
    assert set(_contents(shared)) == {"doc-0"}


def test_nothing_to_copy_is_a_french_error(tmp_path, postgres_url):
    with pytest.raises(KBError, match="Aucune base à copier"):
        migrate(Settings(data_dir=tmp_path / "empty"), Settings(data_dir=tmp_path / "c", database_url=postgres_url))
