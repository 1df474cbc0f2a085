"""The two-tier lexical index: after writes through the normal write path, main + delta answer
as a lexical index rebuilt from scratch over the same registry would."""

from __future__ import annotations

import json
import sqlite3
import threading

import numpy as np
import pytest

from kb.core.models import Chunk, DocumentMetadata, Scope
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from kb.index.lexical_index import LexicalIndex
from kb.storage.embedded.registry import Registry
from tests.fakes import ToyEmbedder, vowel_vector

CHUNKING = {"chunker": "test", "max_chars": 1000}
QUERIES = [
    "épicerie solidaire",
    "epicerie itinerante dans les villages",
    "micro creche rurale",
    "mobilité solidaire des aînés",
    "garage solidaire",
    "transport à la demande",
    "itinerente solidair",  # typos
    "recyclerie du plateau",
    "bénévoles",
]
SCOPES = [
    None,
    Scope(doc_types=("fiche expérience",)),
    Scope(sectors=("action sociale",)),
    Scope(doc_ids=("epicerie", "garage", "creche")),
]
TERMS = ["epiceri", "solidair", "mobilit", "crech", "recycler", "absent"]


@pytest.fixture
def make_index(tmp_path):
    opened = []

    def factory(**overrides) -> KnowledgeIndex:
        settings = Settings(data_dir=tmp_path / "data", collection_prefix="t", **overrides)
        index = KnowledgeIndex(settings, ToyEmbedder(), CHUNKING)
        opened.append(index)
        return index

    yield factory
    for index in opened:
        index.close()


def _write(
    index: KnowledgeIndex,
    doc_id: str,
    texts: list[str],
    version: str = "v1",
    doc_type="fiche expérience",
    sector="action sociale",
):
    metadata = DocumentMetadata(doc_id=doc_id, title=doc_id.title(), doc_type=doc_type, sector=sector)
    chunks = [Chunk(doc_id, i, t, i * 100, i * 100 + len(t)) for i, t in enumerate(texts)]
    index.upsert(metadata, version, " ".join(texts), chunks, np.stack([vowel_vector(t) for t in texts]))
    index.persist_derived()


def _remove(index: KnowledgeIndex, doc_id: str):
    index.remove(doc_id)
    index.persist_derived()


def _seed(index: KnowledgeIndex) -> None:
    _write(
        index,
        "epicerie",
        ["Une épicerie solidaire itinérante passe dans les villages.", "Les bénévoles tiennent l'épicerie."],
    )
    _write(index, "garage", ["Un garage solidaire répare les voitures des aînés."], doc_type="fiche méthode")
    _write(
        index,
        "creche",
        ["Une micro-crèche rurale ouvre ; la crèche accueille dix enfants."],
        sector="développement local",
    )
    _write(index, "mobilite", ["La mobilité solidaire des aînés : transport à la demande et covoiturage."])


def _fresh(index: KnowledgeIndex, tmp_path) -> LexicalIndex:
    """A lexical index built from scratch over the same registry."""
    return LexicalIndex(index.registry, tmp_path / "fresh", delta_max_chunks=0)


def _assert_same_answers(lexical: LexicalIndex, fresh: LexicalIndex, accents_too: bool = True) -> None:
    for query in QUERIES:
        assert lexical.query_terms(query) == fresh.query_terms(query), query
        if accents_too:
            assert lexical.restore_accents(query) == fresh.restore_accents(query), query
        for scope in SCOPES:
            got, expected = lexical.search(query, 5, scope), fresh.search(query, 5, scope)
            assert [c for c, _ in got] == [c for c, _ in expected], (query, scope)
            assert [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-6)
    assert lexical.idf(TERMS) == pytest.approx(fresh.idf(TERMS), rel=1e-9)


def _fold_now(index: KnowledgeIndex) -> None:
    limit = index.lexical.delta_max_chunks
    index.lexical.delta_max_chunks = 0
    index.persist_derived(wait=True)
    index.lexical.delta_max_chunks = limit


def test_adds_replacements_and_deletions_answer_as_a_full_rebuild(make_index, tmp_path):
    index = make_index()
    _seed(index)
    _fold_now(index)
    view = index.lexical._view
    assert view.pending == 0 and len(view.main.rows.ids) == 5
    _write(index, "recyclerie", ["La recyclerie du plateau collecte et répare ; une épicerie y vend."])
    _write(
        index, "creche2", ["Créer une micro-crèche demande un local et des bénévoles."], sector="développement local"
    )
    assert index.lexical._view.pending == 2  # the two new chunks are in the delta
    _assert_same_answers(index.lexical, _fresh(index, tmp_path / "added"))

    _write(index, "epicerie", ["L'épicerie itinérante est devenue un garage solidaire."], version="v2")
    assert index.lexical._view.pending == 5  # two masked chunks of v1, its new chunk, the two adds
    _assert_same_answers(index.lexical, _fresh(index, tmp_path / "replaced"))

    _remove(index, "garage")
    # the removed text's spellings stay until the next fold (its text is gone): searches, idf and
    # typo corrections are exact, the accents of words only the removed text wrote may linger
    _assert_same_answers(index.lexical, _fresh(index, tmp_path / "deleted"), accents_too=False)
    assert index.lexical.search("garage", 5) == _fresh(index, tmp_path / "again").search("garage", 5)
    _fold_now(index)
    _assert_same_answers(index.lexical, _fresh(index, tmp_path / "folded"))


def test_the_main_is_rebuilt_past_the_delta_limit_and_saved(make_index, tmp_path):
    index = make_index(lexical_delta_max_chunks=3)
    index.lexical.refresh()  # the main of the empty registry: every write goes to the delta
    _write(index, "epicerie", ["Une épicerie solidaire itinérante.", "Les bénévoles tiennent l'épicerie."])
    _write(index, "garage", ["Un garage solidaire répare les voitures des aînés."], doc_type="fiche méthode")
    index.lexical.wait_for_fold()
    assert index.lexical._view.pending == 3 and index.lexical._view.main_revision == 0
    _write(index, "creche", ["Une micro-crèche rurale ouvre ; la crèche accueille dix enfants."])
    index.lexical.wait_for_fold()  # 4 chunks: past the limit, folded in the background
    view = index.lexical._view
    assert view.pending == 0 and view.main_revision == index.registry.revision() == 3
    assert (
        json.loads((index.location.directory / "lexical" / "stamp.json").read_text())["revision"] == view.main_revision
    )
    _write(index, "recyclerie", ["La recyclerie du plateau collecte et répare."])
    assert index.lexical._view.pending == 1
    _assert_same_answers(index.lexical, _fresh(index, tmp_path / "fresh"))

    reopened = LexicalIndex(index.registry, index.location.directory / "lexical")
    assert reopened._main[1] == view.main_revision  # the saved main, not a rebuild
    _assert_same_answers(reopened, _fresh(index, tmp_path / "fresh2"))


def test_a_second_index_on_the_same_directory_sees_the_writes_of_the_first(make_index):
    writer, reader = make_index(), make_index()
    _seed(writer)
    assert [p.chunk.doc_id for p in reader.lexical_search("crèche", 5)] == ["creche"]
    _write(writer, "creche", ["Un relais petite enfance remplace la crèche."], version="v2")
    assert [p.chunk.text for p in reader.lexical_search("relais", 5)] == [
        "Un relais petite enfance remplace la crèche."
    ]
    _remove(writer, "creche")
    assert reader.lexical_search("relais", 5) == []
    assert reader.lexical.restore_accents("micro creche") == "micro-crèche"


def test_a_registry_of_the_previous_schema_opens_and_migrates(tmp_path):
    path = tmp_path / "registry.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE index_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE documents (doc_id TEXT PRIMARY KEY, version TEXT NOT NULL, source_path TEXT,
            metadata TEXT NOT NULL, text TEXT NOT NULL, chunk_count INTEGER NOT NULL, indexed_at TEXT NOT NULL);
        CREATE TABLE chunks (chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id)
            ON DELETE CASCADE, idx INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
            section TEXT NOT NULL, page INTEGER, text TEXT NOT NULL);
        INSERT INTO index_info VALUES ('revision', '7'), ('embedding_model', '"toy"');
        INSERT INTO documents VALUES ('garage', 'v1', NULL, '{"doc_id": "garage", "title": "Garage"}',
            'Un garage solidaire.', 1, '2026-01-01T00:00:00+00:00');
        INSERT INTO chunks VALUES ('garage::v1::0000', 'garage', 0, 0, 20, '[]', NULL, 'Un garage solidaire.');
        """
    )
    old.commit()
    old.close()
    registry = Registry(path)
    assert registry.info() == {"embedding_model": "toy"}
    assert registry.changed_since(0) is None  # written before changes were tracked
    assert registry.changed_since(7) == (set(), 0)
    lexical = LexicalIndex(registry, tmp_path / "lexical", delta_max_chunks=10)
    assert [c for c, _ in lexical.search("garage", 5)] == ["garage::v1::0000"]
    metadata = DocumentMetadata(doc_id="velo", title="Vélo")
    registry.replace_document(metadata, "v1", "Un atelier vélo.", [Chunk("velo", 0, "Un atelier vélo.", 0, 16)])
    assert registry.changed_since(7) == ({"velo"}, 1)
    assert {c for c, _ in lexical.search("atelier vélo garage", 5)} == {"velo::v1::0000", "garage::v1::0000"}
    registry.delete_document("garage")
    assert registry.changed_since(8) == ({"garage"}, 0)
    assert [c for c, _ in lexical.search("garage", 5)] == []
    registry.close()


def test_on_a_shared_registry_a_search_waits_for_the_refresh_under_way(tmp_path):
    """Another process wrote (the registry moved, this lexical index was not told) while a
    refresh holds the lock: the search must wait for it, not answer from the older view."""
    registry = Registry(tmp_path / "registry.sqlite3")
    lexical = LexicalIndex(registry, tmp_path / "lexical", shared=True)
    assert lexical.search("recyclerie", 5) == []
    metadata = DocumentMetadata(doc_id="recyclerie", title="Recyclerie", doc_type="fiche expérience")
    registry.replace_document(
        metadata, "v1", "Une recyclerie.", [Chunk("recyclerie", 0, "Une recyclerie du plateau.", 0, 26)]
    )
    found: list = []
    held, reached = threading.Lock(), threading.Event()

    class RefreshUnderWay:
        """The refresh lock, held by another thread until the reader has come to it."""

        def acquire(self, blocking: bool = True) -> bool:
            reached.set()
            return held.acquire(blocking)

        def release(self) -> None:
            held.release()

    held.acquire()
    lexical._lock = RefreshUnderWay()
    reader = threading.Thread(target=lambda: found.extend(lexical.search("recyclerie", 5)))
    reader.start()
    reached.wait()
    held.release()
    reader.join()
    assert [chunk for chunk, _ in found] == ["recyclerie::v1::0000"]
    registry.close()
