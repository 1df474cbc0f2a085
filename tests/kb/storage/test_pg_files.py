"""The ``kb_files`` table: a document's file switches in the registry's own transaction."""

from __future__ import annotations

from contextlib import closing

import pytest

from kb.core.models import Chunk, DocumentMetadata, StoredFile
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from kb.storage.postgres.files import PgFiles
from tests.fakes import ToyEmbedder

CHUNKING = {"max_chars": 800, "overlap_chars": 0, "min_chars": 0}


@pytest.fixture
def index(tmp_path, postgres_url):
    opened = KnowledgeIndex(Settings(data_dir=tmp_path / "data", database_url=postgres_url), ToyEmbedder(), CHUNKING)
    yield opened
    opened.close()


def _write(index: KnowledgeIndex, files: PgFiles, text: str, alongside=None) -> StoredFile:
    stored = StoredFile("note", "note.md", "documents/note.md", text.encode(), b"", f"v-{len(text)}")
    chunk = Chunk(doc_id="note", index=0, start=0, end=len(text), section=(), page=None, text=text)
    metadata = DocumentMetadata(doc_id="note", title="Note", source_path=stored.source_path)
    vectors = index.embedder.embed_passages([text])
    index.upsert(metadata, stored.version, text, [chunk], vectors, alongside or files.put_in(stored))
    return stored


def test_the_file_and_the_index_switch_together(index):
    files = index.kept_files
    first = _write(index, files, "Première version de la note.")
    assert files.get("note") == first and files.versions() == {"note": first.version}
    assert index.get("note").version == first.version and files.has("note")

    def put_then_fail(conn):
        files.put_in(StoredFile("note", "note.md", "documents/note.md", b"autre", b"", "v-autre"))(conn)
        raise RuntimeError("the transaction fails after the file row is written")

    with pytest.raises(RuntimeError):
        _write(index, files, "Deuxième version, jamais enregistrée.", alongside=put_then_fail)
    assert files.get("note") == first and index.get("note").version == first.version

    index.remove("note", files.delete_in("note"))
    assert files.get("note") is None and index.find("note") is None and not files.has("note")
    assert list(files.files(["note"])) == []


def test_files_come_back_in_batches_in_id_order(index):
    files = index.kept_files
    ids = [f"doc-{n:03d}" for n in range(70)]
    with closing(index.backend.connect()) as database, database.transaction() as conn:
        for doc_id in reversed(ids):
            files.put_in(StoredFile(doc_id, f"{doc_id}.txt", f"documents/{doc_id}.txt", b"x", b"", "v"))(conn)
    assert [f.doc_id for f in files.files(ids)] == ids
    assert files.source_paths() == {f"documents/{doc_id}.txt" for doc_id in ids}
    assert sorted(files.versions()) == ids
