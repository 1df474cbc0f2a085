"""The Registry contract on every backend (``generation``: the SQLite registry of the data
directory's first generation, then the PostgreSQL one in its schema): documents and chunks as
written, the revision and what changed since, the snapshot kept up to date from it, and the
journal of unsettled documents."""

from __future__ import annotations

import pytest

from kb.core.models import Chunk, DocumentMetadata, StoredDocument, chunk_id
from kb.storage import protocols
from kb.storage.embedded.registry import Registry
from kb.storage.protocols import EVERY_DOCUMENT


def _write(registry: Registry, doc_id: str, version: str = "v1", chunks: int = 1) -> None:
    metadata = DocumentMetadata(doc_id=doc_id, title=doc_id.title())
    texts = [f"{doc_id} {n}" for n in range(chunks)]
    registry.replace_document(
        metadata, version, " ".join(texts), [Chunk(doc_id, n, t, 0, len(t)) for n, t in enumerate(texts)]
    )


def test_each_backend_gives_a_registry(generation):
    assert isinstance(generation.registry, protocols.Registry)


def test_changed_since_names_the_documents_written_and_deleted(generation):
    registry = generation.registry
    _write(registry, "alpha", chunks=2)
    _write(registry, "beta")
    assert registry.changed_since(0) == ({"alpha", "beta"}, 3)
    start = registry.revision()
    _write(registry, "alpha", "v2", chunks=3)
    registry.delete_document("beta")
    assert registry.changed_since(start) == ({"alpha", "beta"}, 3)
    assert registry.changed_since(registry.revision()) == (set(), 0)
    _write(registry, "beta", "v2")  # back again: a document, no more a deletion
    assert registry.changed_since(start + 2) == ({"beta"}, 1)


def test_the_snapshot_follows_each_write_as_a_full_reload_would(generation):
    registry = generation.registry
    for doc_id in ("delta", "alpha", "charlie"):
        _write(registry, doc_id)
    registry.snapshot()
    _write(registry, "bravo")
    _write(registry, "alpha", "v2")
    registry.delete_document("charlie")
    documents, versions = registry.snapshot()
    fresh = generation.reopen().registry
    assert list(documents) == list(fresh.snapshot()[0]) == ["alpha", "bravo", "delta"]
    assert versions == fresh.versions() == {"alpha": "v2", "bravo": "v1", "delta": "v1"}
    assert documents["alpha"].version == "v2"


def test_a_registry_older_than_the_journal_asks_for_one_whole_sweep(tmp_path):
    """SQLite only: a registry file made before the journal existed."""
    registry = Registry(tmp_path / "registry.sqlite3")
    registry.mark_settled([EVERY_DOCUMENT])
    registry.mark_unsettled(["alpha", "beta"])
    registry.mark_settled(["beta"])
    assert registry.unsettled() == {"alpha"}
    with registry._db:
        registry._db.execute("DROP TABLE unsettled")
    registry.close()
    reopened = Registry(tmp_path / "registry.sqlite3")
    assert reopened.unsettled() == {EVERY_DOCUMENT}
    reopened.close()


# -- what no test covered before the contract ---------------------------------------------------

METADATA = DocumentMetadata(
    doc_id="epicerie",
    title="Une épicerie solidaire",
    doc_type="fiche expérience",
    sector="action sociale",
    themes=("alimentation", "lien social"),
    territory="Cantal",
    date="2024",
    porteur="Association Le Panier",
    source_url="https://exemple.org/epicerie",
    source_path="documents/epicerie.md",
    content_hash="abc123",
    replaces=("epicerie-2019",),
    extra={"public": ["familles"], "budget": 12000},
)
TEXTS = ["Une épicerie « solidaire » ouverte en 2021.", "Les bénévoles tiennent la caisse.", "Budget : 12 000 €."]
CHUNKS = [
    Chunk("epicerie", 0, TEXTS[0], 0, 43, ("Contexte",), None),
    Chunk("epicerie", 1, TEXTS[1], 44, 77, ("Contexte", "Fonctionnement"), 2),
    Chunk("epicerie", 2, TEXTS[2], 78, 96, (), 3),
]


def test_a_new_registry_is_empty_and_asks_for_one_whole_sweep(generation):
    registry = generation.registry
    assert registry.counts() == (0, 0) and registry.revision() == 0 and registry.info() == {}
    assert registry.snapshot() == ({}, {}) and registry.versions() == {} and list(registry.documents()) == []
    assert registry.revisioned_snapshot() == (0, {})
    assert registry.get_document("epicerie") is None and registry.document_text("epicerie") is None
    assert registry.chunks(["epicerie::v1::0000"]) == {} and registry.chunks([]) == {}
    assert registry.doc_ids_for_source("documents/epicerie.md") == [] and list(registry.lexical_rows()) == []
    assert registry.changed_since(0) == (set(), 0)
    assert registry.unsettled() == {EVERY_DOCUMENT}, "a new journal: any vector may be an orphan"


def test_a_document_reads_back_as_written(generation):
    registry = generation.registry
    registry.replace_document(METADATA, "v1", " ".join(TEXTS), CHUNKS)
    stored = registry.get_document("epicerie")
    assert isinstance(stored, StoredDocument)
    assert (stored.metadata, stored.version, stored.chunk_count) == (METADATA, "v1", 3)
    assert stored.indexed_at[:4].isdigit() and stored.indexed_at.endswith("+00:00")
    assert registry.document_text("epicerie") == " ".join(TEXTS)
    ids = [chunk_id("epicerie", "v1", n) for n in range(3)]
    assert ids == ["epicerie::v1::0000", "epicerie::v1::0001", "epicerie::v1::0002"]
    assert registry.chunks([*ids, "epicerie::v0::0000", "absent::v1::0000"]) == dict(zip(ids, CHUNKS, strict=True))
    assert registry.counts() == (1, 3) and registry.versions() == {"epicerie": "v1"}
    documents, versions = registry.snapshot()
    assert documents == {"epicerie": stored} and versions == {"epicerie": "v1"}
    assert list(registry.documents()) == [stored]
    assert generation.reopen().registry.get_document("epicerie") == stored, "as another process reads it"


def test_a_new_version_replaces_the_old_one_whole(generation):
    registry = generation.registry
    registry.replace_document(METADATA, "v1", " ".join(TEXTS), CHUNKS)
    revision = registry.revision()
    changed = DocumentMetadata(doc_id="epicerie", title="L'épicerie, deux ans après", source_path="documents/e2.md")
    registry.replace_document(changed, "v2", "Nouveau texte.", [Chunk("epicerie", 0, "Nouveau texte.", 0, 14)])
    assert registry.revision() == revision + 1
    stored = registry.get_document("epicerie")
    assert (stored.metadata, stored.version, stored.chunk_count) == (changed, "v2", 1)
    assert registry.document_text("epicerie") == "Nouveau texte."
    assert registry.chunks([chunk_id("epicerie", "v1", n) for n in range(3)]) == {}, "no chunk of v1 left"
    assert list(registry.chunks([chunk_id("epicerie", "v2", 0)])) == ["epicerie::v2::0000"]
    assert registry.counts() == (1, 1) and registry.versions() == {"epicerie": "v2"}
    assert registry.doc_ids_for_source("documents/epicerie.md") == []
    assert registry.doc_ids_for_source("documents/e2.md") == ["epicerie"]


def test_the_revision_moves_once_per_write_and_a_snapshot_names_it(generation):
    registry = generation.registry
    assert registry.revision() == 0
    _write(registry, "alpha")
    _write(registry, "beta", chunks=2)
    assert registry.revision() == 2
    revision, documents = registry.revisioned_snapshot()
    assert revision == 2 and list(documents) == ["alpha", "beta"]
    assert registry.delete_document("alpha") is True
    assert registry.revision() == 3
    revision, documents = registry.revisioned_snapshot()
    assert revision == 3 and list(documents) == ["beta"] and documents["beta"].chunk_count == 2
    registry.mark_unsettled(["beta"])
    registry.set_info({"embedding_model": "autre"})
    assert registry.revision() == 3, "only the documents' writes move it"


def test_deleting_a_document_removes_it_and_its_chunks_and_a_missing_one_is_false(generation):
    registry = generation.registry
    registry.replace_document(METADATA, "v1", " ".join(TEXTS), CHUNKS)
    _write(registry, "autre")
    assert registry.delete_document("absent") is False
    assert registry.delete_document("epicerie") is True
    assert registry.delete_document("epicerie") is False, "already gone"
    assert registry.get_document("epicerie") is None and registry.document_text("epicerie") is None
    assert registry.chunks([chunk_id("epicerie", "v1", n) for n in range(3)]) == {}
    assert registry.counts() == (1, 1) and registry.versions() == {"autre": "v1"}
    assert registry.doc_ids_for_source("documents/epicerie.md") == []
    assert "epicerie" in registry.changed_since(0)[0], "a deletion is a change"


def test_the_documents_of_a_source_file(generation):
    registry = generation.registry
    for doc_id, source in (("b", "documents/recueil.pdf"), ("a", "documents/recueil.pdf"), ("c", "documents/c.md")):
        metadata = DocumentMetadata(doc_id=doc_id, title=doc_id, source_path=source)
        registry.replace_document(metadata, "v1", doc_id, [Chunk(doc_id, 0, doc_id, 0, 1)])
    _write(registry, "sans-fichier")
    assert sorted(registry.doc_ids_for_source("documents/recueil.pdf")) == ["a", "b"]
    assert registry.doc_ids_for_source("documents/c.md") == ["c"]
    assert registry.doc_ids_for_source("documents/absent.md") == []


def test_documents_come_in_byte_order_of_their_ids(generation):
    """The order SQLite and PostgreSQL's ``COLLATE "C"`` give, whatever the database's locale."""
    registry = generation.registry
    ids = ["zeta", "Beta", "éte", "alpha", "Zoé", "a-b", "a_b", "10", "9"]
    for doc_id in ids:
        _write(registry, doc_id)
    assert list(registry.snapshot()[0]) == sorted(ids)
    assert [stored.metadata.doc_id for stored in registry.documents()] == sorted(ids)
    assert list(generation.reopen().registry.versions()) == sorted(ids)
    assert [row[0] for row in registry.lexical_rows()] == sorted(chunk_id(doc_id, "v1", 0) for doc_id in ids)


def test_lexical_rows_give_each_current_chunk_with_its_document_fields(generation):
    registry = generation.registry
    registry.replace_document(METADATA, "v1", " ".join(TEXTS), CHUNKS)
    _write(registry, "autre", chunks=2)
    expected = [
        ("autre::v1::0000", "Autre", "", "autre 0", "document", ""),
        ("autre::v1::0001", "Autre", "", "autre 1", "document", ""),
        ("epicerie::v1::0000", METADATA.title, "Contexte", TEXTS[0], "fiche expérience", "action sociale"),
        (
            "epicerie::v1::0001",
            METADATA.title,
            "Contexte > Fonctionnement",
            TEXTS[1],
            "fiche expérience",
            "action sociale",
        ),
        ("epicerie::v1::0002", METADATA.title, "", TEXTS[2], "fiche expérience", "action sociale"),
    ]
    assert list(registry.lexical_rows()) == expected
    assert list(registry.lexical_rows(["epicerie", "absent"])) == expected[2:]
    assert list(registry.lexical_rows([])) == []


def test_the_description_is_recorded_apart_from_the_bookkeeping(generation):
    registry = generation.registry
    description = {"embedding_model": "contrat/modele-8", "dimension": 8, "chunking_max_chars": 1000, "x": [1, "é"]}
    registry.set_info(description)
    _write(registry, "alpha")
    assert registry.info() == description, "the revision is bookkeeping"
    registry.set_info({"dimension": 16})
    assert registry.info() == {**description, "dimension": 16}
    assert generation.reopen().registry.info() == {**description, "dimension": 16}


def test_the_calibration_is_stored_as_bookkeeping_beside_the_description(generation):
    """`kb calibrate` stores its records in the index: an index so calibrated still opens (its
    description, compared at open, is unchanged), and a reopened registry reads them back."""
    registry = generation.registry
    description = {"embedding_model": "contrat/modele-8", "dimension": 8}
    registry.set_info(description)
    assert registry.calibration() is None
    records = [{"model": "contrat/modele-8", "reranker": None, "values": {"answer_min_score": 0.91, "x": "é"}}]
    registry.set_calibration(records)
    assert registry.calibration() == records and registry.info() == description
    assert generation.reopen().registry.calibration() == records
    registry.set_calibration([])
    assert registry.calibration() == []


def test_the_journal_names_the_documents_whose_write_is_unsettled(generation):
    registry = generation.registry
    registry.mark_settled([EVERY_DOCUMENT])
    assert registry.unsettled() == set()
    registry.mark_unsettled(["alpha", "beta", "alpha"])
    registry.mark_unsettled([])
    assert registry.unsettled() == {"alpha", "beta"}
    registry.mark_settled(["alpha", "absent"])
    assert registry.unsettled() == {"beta"}
    assert generation.reopen().registry.unsettled() == {"beta"}, "kept for the next process's sweep"
    registry.mark_settled([])
    registry.mark_settled(["beta"])
    assert registry.unsettled() == set()


def test_a_write_alongside_is_committed_with_the_switch_or_not_at_all(generation):
    """``alongside`` runs in the switch's transaction, given its connection: when it fails,
    the document stays as it was (the revision too)."""
    registry = generation.registry
    _write(registry, "alpha")
    revision = registry.revision()
    calls = []

    def killed(connection) -> None:
        calls.append(connection)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        _replace(registry, "alpha", "v2", alongside=killed)
    with pytest.raises(RuntimeError, match="killed"):
        registry.delete_document("alpha", alongside=killed)
    assert len(calls) == 2 and calls[0] is not None
    assert registry.revision() == revision and registry.versions() == {"alpha": "v1"}
    assert registry.chunks([chunk_id("alpha", "v1", 0)]) != {} and registry.changed_since(revision) == (set(), 0)
    _replace(registry, "alpha", "v2", alongside=calls.append)
    assert registry.versions() == {"alpha": "v2"} and len(calls) == 3
    assert registry.delete_document("alpha", alongside=calls.append) is True and len(calls) == 4


def _replace(registry, doc_id: str, version: str, alongside) -> None:
    registry.replace_document(
        DocumentMetadata(doc_id=doc_id, title=doc_id), version, "texte", [Chunk(doc_id, 0, "texte", 0, 5)], alongside
    )
