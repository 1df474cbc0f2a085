"""One storage contract, run against every backend: embedded Chroma, a Chroma server, and
PostgreSQL with pgvector."""

from __future__ import annotations

import uuid
from dataclasses import replace

import numpy as np
import pytest

from kb.core.errors import BackendUnavailable, IndexMismatchError, NotFoundError
from kb.core.models import Chunk, DocumentMetadata, Scope
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from kb.index.sentence_vectors import best_by_chunk
from kb.storage.protocols import EVERY_DOCUMENT
from tests.fakes import ToyEmbedder, vowel_vector

CHUNKING = {"chunker": "test", "max_chars": 1000}


@pytest.fixture(params=["persistent", "http", "postgres"])
def make_index(request, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:10]}"
    chroma_url = request.getfixturevalue("chroma_server") if request.param == "http" else None
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    opened = []

    def factory(embedder=None, chunking=CHUNKING, sentence_vectors=True) -> KnowledgeIndex:
        settings = Settings(
            data_dir=tmp_path / "data",
            chroma_url=chroma_url,
            collection_prefix=prefix,
            database_url=database_url,
            sentence_vectors=sentence_vectors,
        )
        index = KnowledgeIndex(settings, embedder or ToyEmbedder(), chunking)
        opened.append(index)
        return index

    yield factory
    for index in opened:
        index.close()


def _document(doc_id: str, texts: list[str], version: str):
    metadata = DocumentMetadata(doc_id=doc_id, title=doc_id.title(), doc_type="fiche méthode")
    chunks = [Chunk(doc_id, i, t, i * 100, i * 100 + len(t)) for i, t in enumerate(texts)]
    vectors = np.stack([vowel_vector(t) for t in texts])
    return metadata, version, " ".join(texts), chunks, vectors


def _live_ids(index: KnowledgeIndex) -> set[str]:
    return set(index.vectors.versions_by_chunk())


def test_search_returns_the_closest_chunk_with_its_document(make_index):
    index = make_index()
    index.upsert(*_document("alpha", ["aaaa aaa", "ooo oo"], "v1"))
    index.upsert(*_document("beta", ["iii ii"], "v1"))
    passages = index.dense_search("aaa", 2)
    assert passages[0].chunk.doc_id == "alpha"
    assert passages[0].chunk.text == "aaaa aaa"
    assert passages[0].metadata.title == "Alpha"
    assert passages[0].score == pytest.approx(1.0, abs=1e-5)


def test_filter_by_documents_is_applied_inside_the_search(make_index):
    index = make_index()
    for n in range(6):
        index.upsert(*_document(f"a{n}", ["aaaa"], "v1"))
    index.upsert(*_document("far", ["aaaa eeee"], "v1"))
    passages = index.dense_search("aaaa", 1, Scope(doc_ids=("far",)))
    assert [p.chunk.doc_id for p in passages] == ["far"]


def test_new_version_replaces_every_old_chunk(make_index):
    index = make_index()
    index.upsert(*_document("alpha", ["aaa", "eee", "iii"], "v1"))
    index.upsert(*_document("alpha", ["ooo"], "v2"))
    assert _live_ids(index) == {"alpha::v2::0000"}
    assert index.registry.counts() == (1, 1)
    assert [p.chunk.text for p in index.dense_search("aaa", 5)] == ["ooo"]


def test_remove_deletes_vectors_and_registry_entry(make_index):
    index = make_index()
    index.upsert(*_document("alpha", ["aaa"], "v1"))
    index.upsert(*_document("beta", ["eee"], "v1"))
    index.remove("alpha")
    assert index.registry.counts() == (1, 1)
    assert _live_ids(index) == {"beta::v1::0000"}
    with pytest.raises(NotFoundError):
        index.remove("alpha")


def test_upsert_many_writes_several_embedded_documents_like_upsert(make_index):
    index = make_index()
    index.upsert(*_document("alpha", ["aaa", "eee"], "v1"))
    calls = []
    add = index.vectors.add
    index.vectors.add = lambda *args: calls.append(len(args[0])) or add(*args)
    index.upsert_many([_document("alpha", ["ooo"], "v2"), _document("beta", ["iii ii", "uuu"], "v1")])
    index.upsert_many([])
    assert calls == [3]  # one vector-store call for the three new chunks
    assert index.registry.counts() == (2, 3)
    assert _live_ids(index) == {"alpha::v2::0000", "beta::v1::0000", "beta::v1::0001"}
    assert index.find("alpha").version == "v2"
    assert [p.chunk.doc_id for p in index.dense_search("uuu", 1)] == ["beta"]
    assert [p.chunk.text for p in index.lexical_search("ooo", 5)] == ["ooo"]


def test_crash_before_the_switch_keeps_the_old_version_searchable(make_index, monkeypatch):
    index = make_index()
    index.upsert(*_document("alpha", ["aaa"], "v1"))

    def crash(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(index.registry, "replace_document", crash)
    with pytest.raises(RuntimeError):
        index.upsert(*_document("alpha", ["eee", "iii"], "v2"))
    monkeypatch.undo()
    assert [p.chunk.text for p in index.dense_search("eee", 5)] == ["aaa"]
    assert index.sweep_orphans() == 2
    assert _live_ids(index) == {"alpha::v1::0000"}


def _killed(*args, **kwargs):
    raise RuntimeError("killed")


def test_crash_after_the_switch_shows_only_the_new_version(make_index, monkeypatch):
    index = make_index()
    index.upsert(*_document("alpha", ["aaa"], "v1"))
    monkeypatch.setattr(index.vectors, "delete_document", _killed)
    with pytest.raises(RuntimeError):
        index.upsert(*_document("alpha", ["eee"], "v2"))
    monkeypatch.undo()
    assert [p.chunk.text for p in index.dense_search("aaa", 5)] == ["eee"]
    assert index.sweep_orphans() == 1
    assert _live_ids(index) == {"alpha::v2::0000"}


def test_a_sweep_reads_only_the_vectors_of_documents_whose_write_was_interrupted(make_index, monkeypatch):
    index = make_index()
    index.sweep_orphans()  # a new index's journal: "*" until a first sweep
    index.upsert_many([_document("alpha", ["aaa"], "v1"), _document("beta", ["eee"], "v1")])
    assert index.registry.unsettled() == set()  # settled once the old vectors are gone
    monkeypatch.setattr(index.registry, "replace_document", _killed)
    with pytest.raises(RuntimeError):
        index.upsert(*_document("alpha", ["iii", "ooo"], "v2"))
    monkeypatch.undo()
    assert index.registry.unsettled() == {"alpha"}
    monkeypatch.setattr(index.vectors, "versions_by_chunk", _killed)  # no full scan
    assert index.sweep_orphans() == 2
    monkeypatch.undo()
    assert _live_ids(index) == {"alpha::v1::0000", "beta::v1::0000"}
    assert index.registry.unsettled() == set()
    assert index.sweep_orphans() == 0


def test_the_journalled_sweep_clears_the_sentences_of_an_interrupted_write(make_index, monkeypatch):
    index = make_index()
    index.sweep_orphans()
    index.upsert(*_document("alpha", ["aaa"], "v1"))
    monkeypatch.setattr(index.registry, "replace_document", _killed)
    with pytest.raises(RuntimeError):
        index.upsert(*_document("alpha", ["iii", "ooo"], "v2"))
    monkeypatch.undo()
    assert ("alpha", "v2") in set(index.sentences.store.versions_by_chunk().values())
    for store in (index.vectors, index.sentences.store):
        monkeypatch.setattr(store, "versions_by_chunk", _killed)  # no full scan of either store
    assert index.sweep_orphans() == 2
    monkeypatch.undo()
    assert set(index.sentences.store.versions_by_chunk().values()) == {("alpha", "v1")}
    assert {p.chunk.doc_id for p in index.sentence_search("ooo", 5)} == {"alpha"}


def test_a_removal_whose_vectors_stayed_is_swept_after_reopening(make_index, monkeypatch):
    index = make_index()
    index.upsert(*_document("alpha", ["aaa"], "v1"))
    index.upsert(*_document("beta", ["eee"], "v1"))
    index.sweep_orphans()
    monkeypatch.setattr(index.vectors, "delete_document", _backend_down)
    index.remove("alpha")
    monkeypatch.undo()
    index.close()
    reopened = make_index()  # the flag of the process is gone, the journal is not
    assert reopened.registry.unsettled() == {"alpha"}
    assert reopened.sweep_orphans() == 1
    assert _live_ids(reopened) == {"beta::v1::0000"}


def test_a_journal_saying_every_document_sweeps_the_whole_store_once(make_index):
    index = make_index()
    index.upsert(*_document("alpha", ["aaa"], "v1"))
    index.sweep_orphans()
    # vectors a crash left before the journal existed: only a full scan can find them
    index.vectors.add(
        ["alpha::v0::0000"], np.stack([vowel_vector("ooo")]), ["ooo"], [{"doc_id": "alpha", "version": "v0"}]
    )
    index.registry.mark_unsettled([EVERY_DOCUMENT])
    assert index.sweep_orphans() == 1
    assert _live_ids(index) == {"alpha::v1::0000"}
    assert index.registry.unsettled() == set()


def _backend_down(*args, **kwargs):
    raise BackendUnavailable("la base de vecteurs ne répond pas")


def test_reopening_with_another_model_is_refused(make_index):
    index = make_index()
    index.upsert(*_document("alpha", ["aaa"], "v1"))
    index.close()
    with pytest.raises(IndexMismatchError) as refused:
        make_index(embedder=ToyEmbedder("toy/other-model"))
    assert "kb reindex" in str(refused.value)
    assert "toy/other-model" in str(refused.value)


def test_reopening_with_other_chunking_is_refused(make_index):
    make_index().close()
    with pytest.raises(IndexMismatchError):
        make_index(chunking={"chunker": "test", "max_chars": 500})


def test_a_passage_is_found_by_its_closest_sentence(make_index):
    index = make_index()
    # the passage's own vector is mostly "o"; one of its sentences is all "a"
    index.upsert(*_document("alpha", ["Ooooo ooo oooo. Aaaa aa.", "iii"], "v1"))
    index.upsert(*_document("beta", ["aaoo ooa aoa"], "v1"))
    assert index.dense_search("aaa", 1)[0].chunk.doc_id == "beta"
    found = index.sentence_search("aaa", 5)
    assert (found[0].chunk.doc_id, found[0].chunk.index) == ("alpha", 0)
    assert found[0].score == pytest.approx(1.0, abs=1e-5)
    assert [p.chunk.doc_id for p in index.sentence_search("aaa", 5, Scope(doc_ids=("beta",)))] == ["beta"]


def test_a_sentence_search_in_a_broad_scope_filters_an_unfiltered_query_itself(make_index, monkeypatch):
    index = make_index()
    index.upsert(*_document("alpha", ["Aaaa aa. Oooo oo.", "iii"], "v1"))
    metadata, version, text, chunks, vectors = _document("beta", ["Aaa aaa. Eee ee."], "v1")
    index.upsert(replace(metadata, doc_type="compte rendu"), version, text, chunks, vectors)
    scope = Scope(doc_types=("compte rendu",))
    by_store_filter = best_by_chunk(index.sentences.store.query(index.query_vector("aaa"), 20, scope))
    filters = []
    query = index.sentences.store.query
    monkeypatch.setattr(index.sentences.store, "query", lambda e, n, s=None: filters.append(s) or query(e, n, s))
    found = index.sentence_search("aaa", 5, scope)
    assert filters == [None]  # a store's metadata filter costs the whole collection at scale
    assert [(p.chunk.doc_id, p.chunk.index) for p in found] == [("beta", 0)]
    assert [p.score for p in found] == pytest.approx([score for _, score in by_store_filter])


def test_a_few_documents_scope_compares_their_vectors_read_by_id(make_index, monkeypatch):
    index = make_index()
    index.upsert(*_document("alpha", ["Aaaa aa. Oooo oo.", "iii ee"], "v1"))
    index.upsert(*_document("alpha", ["Aaa ooo. Eee.", "iii ee"], "v2"))  # v1's vectors must not count
    index.upsert(*_document("beta", ["aaaa"], "v1"))
    scope = Scope(doc_ids=("alpha",))
    embedding = index.query_vector("aaa")
    filtered_passages = index.vectors.query(embedding, 20, scope)
    filtered_sentences = index.sentences.store.query(embedding, 20, scope)
    for store in (index.vectors, index.sentences.store):
        monkeypatch.setattr(store, "query", lambda *args: pytest.fail("a filtered query was run"))
    passages = index.dense_search("aaa", 5, scope)
    assert [(p.chunk.doc_id, p.chunk.index) for p in passages] == [("alpha", 0), ("alpha", 1)]
    assert [p.score for p in passages] == pytest.approx([s for _, s in filtered_passages], abs=1e-5)
    by_sentence = index.sentence_search("aaa", 5, scope)
    best = {}
    for sentence, score in filtered_sentences:
        best.setdefault(sentence.rsplit("~", 1)[0], score)
    assert [p.score for p in by_sentence] == pytest.approx(list(best.values()), abs=1e-5)
    assert index.dense_search("aaa", 5, Scope(doc_ids=("alpha",), doc_types=("compte rendu",))) == []


def test_a_versions_sentence_ids_are_split_once_and_a_new_version_is_split_again(make_index, monkeypatch):
    index = make_index()
    index.upsert(*_document("alpha", ["Aaaa aa. Oooo oo."], "v1"))
    scope = Scope(doc_ids=("alpha",))
    first = index.sentence_hits("aaa", 5, scope)
    chunks = index.registry.chunks
    read = []
    monkeypatch.setattr(index.registry, "chunks", lambda ids: read.append(list(ids)) or chunks(ids))
    assert index.sentence_hits("aaa", 5, scope) == first and read == []
    index.upsert(*_document("alpha", ["Eee ee. Aaa."], "v2"))
    assert [h.chunk_id for h in index.sentence_hits("aaa", 5, scope)] == ["alpha::v2::0000"] and read


def test_vectors_are_read_by_id_and_unknown_ids_are_ignored(make_index):
    index = make_index()
    *_, vectors = document = _document("alpha", ["aaa", "eee"], "v1")
    index.upsert(*document)
    ids = sorted(index.vectors.versions_by_chunk())  # chunk order
    found, matrix = index.vectors.vectors_by_id([*reversed(ids), "nowhere"])
    assert sorted(found) == sorted(ids)
    by_id = dict(zip(found, matrix, strict=True))
    for chunk, vector in zip(ids, vectors, strict=True):
        assert by_id[chunk] / np.linalg.norm(by_id[chunk]) == pytest.approx(vector / np.linalg.norm(vector), abs=1e-6)
    assert index.vectors.vectors_by_id(["nowhere"])[0] == []
    assert index.vectors.vectors_by_id(["nowhere"])[1].shape == (0, index.embedder.dimension)


def test_sentences_follow_new_versions_and_removals(make_index):
    index = make_index()
    index.upsert(*_document("alpha", ["Uuu. Aaaa."], "v1"))
    index.upsert(*_document("alpha", ["Uuu. Iiii."], "v2"))
    assert {p.chunk.doc_id for p in index.sentence_search("aaa", 10)} == {"alpha"}
    assert set(index.sentences.store.versions_by_chunk().values()) == {("alpha", "v2")}
    assert len(index.documents_sentence_vectors(["alpha"])["alpha"]) == 2
    index.remove("alpha")
    assert index.sentence_search("aaa", 10) == []
    assert index.sentences.store.count() == 0


def test_an_index_without_sentence_vectors_is_refused_when_they_are_expected(make_index):
    make_index(sentence_vectors=False).close()
    with pytest.raises(IndexMismatchError) as refused:
        make_index()
    assert "sentence_vectors" in str(refused.value) and "kb reindex" in str(refused.value)
    make_index(sentence_vectors=False).close()


def test_an_index_with_sentence_vectors_is_refused_without_them(make_index):
    make_index().close()
    with pytest.raises(IndexMismatchError):
        make_index(sentence_vectors=False)


def test_the_index_persists_across_reopening(make_index):
    index = make_index()
    index.upsert(*_document("alpha", ["aaa"], "v1"))
    index.close()
    reopened = make_index()
    assert reopened.get("alpha").version == "v1"
    assert reopened.dense_search("aaa", 1)[0].chunk.doc_id == "alpha"


def test_lexical_search_follows_every_write(make_index):
    index = make_index()
    index.upsert(*_document("alpha", ["épicerie solidaire itinérante"], "v1"))
    index.upsert(*_document("beta", ["garage solidaire"], "v1"))
    assert [p.chunk.doc_id for p in index.lexical_search("epiceries", 5)] == ["alpha"]
    index.upsert(*_document("alpha", ["transport à la demande"], "v2"))
    assert index.lexical_search("épicerie", 5) == []
    assert [p.chunk.doc_id for p in index.lexical_search("solidaire", 5)] == ["beta"]
    index.remove("beta")
    assert index.lexical_search("solidaire", 5) == []


def test_lexical_filter_is_applied_inside_the_search(make_index):
    index = make_index()
    for n in range(5):
        index.upsert(*_document(f"a{n}", ["mobilité solidaire mobilité"], "v1"))
    index.upsert(*_document("far", ["mobilité et culture"], "v1"))
    assert [p.chunk.doc_id for p in index.lexical_search("mobilité", 1, Scope(doc_ids=("far",)))] == ["far"]


def test_type_and_sector_scope_apply_inside_both_searches(make_index):
    index = make_index()
    for n in range(6):
        index.upsert(*_document(f"m{n}", ["aaaa aaaa"], "v1"))
    metadata, version, text, chunks, vectors = _document("exp", ["aaaa eeee"], "v1")
    metadata = DocumentMetadata(doc_id="exp", title="Exp", doc_type="fiche expérience", sector="action sociale")
    index.upsert(metadata, version, text, chunks, vectors)
    scope = Scope(doc_types=("fiche expérience",), sectors=("action sociale",))
    assert [p.chunk.doc_id for p in index.dense_search("aaaa", 1, scope)] == ["exp"]
    assert [p.chunk.doc_id for p in index.lexical_search("aaaa", 1, scope)] == ["exp"]
    assert index.dense_search("aaaa", 5, Scope(sectors=("transversal",))) == []
    assert index.lexical_search("aaaa", 5, Scope(doc_ids=())) == []


def test_a_documents_stored_vectors_come_back_in_chunk_order(make_index):
    index = make_index()
    index.upsert(*_document("alpha", ["aaaa aaa", "ooo oo", "iii"], "v1"))
    stored = index.document_vectors("alpha")
    assert stored.dtype == np.float32
    assert np.allclose(stored, np.stack([vowel_vector(t) for t in ["aaaa aaa", "ooo oo", "iii"]]), atol=1e-6)


def test_vectors_of_several_documents_come_in_one_call_as_one_by_one(make_index):
    index = make_index()
    index.upsert(*_document("alpha", ["aaaa aaa", "ooo oo", "iii"], "v1"))
    index.upsert(*_document("alpha", ["aaaa aaa", "uuu"], "v2"))  # only the current version counts
    index.upsert(*_document("beta", ["eee ee"], "v1"))
    together = index.documents_vectors(["alpha", "beta", "absent"])
    assert set(together) == {"alpha", "beta"}
    for doc_id in ("alpha", "beta"):
        assert np.allclose(together[doc_id], index.document_vectors(doc_id))
    assert together["alpha"].shape[0] == 2


def test_a_bulk_load_leaves_an_index_that_finds_its_vectors(make_index):
    index = make_index()
    with index.bulk_load():
        for n in range(5):
            index.upsert(*_document(f"doc-{n}", ["aaa" if n == 3 else "ooo"], "v1"))
    assert index.dense_search("aaa", 1)[0].chunk.doc_id == "doc-3"
