"""Values derived from every document, kept in step with the registry from the documents
written since (kb/document_tally.py): after each write they equal a rebuild from scratch."""

from __future__ import annotations

import pytest

from kb.filters import FilterValues
from kb.models import DocumentMetadata
from kb.registry import Registry
from kb.versions import Versions, VersionTally


def _write(registry: Registry, doc_id: str, themes=(), territory=None, replaces=(), version="v1") -> None:
    metadata = DocumentMetadata(
        doc_id=doc_id, title=doc_id.title(), themes=tuple(themes), territory=territory, replaces=tuple(replaces)
    )
    registry.replace_document(metadata, version, doc_id, [])


def _rebuilt_versions(registry: Registry) -> Versions:
    return Versions.build(stored.metadata for stored in registry.documents())


WRITES = [
    lambda r: _write(r, "a", ["mobilité"], "Creuse"),
    lambda r: _write(r, "b", ["mobilité", "emploi"], "Cantal", replaces=["a"]),
    lambda r: _write(r, "c", ["alimentation"], "Creuse", replaces=["b"]),
    lambda r: _write(r, "a", ["logement"], None, version="v2"),  # a theme and a territory lose a document
    lambda r: _write(r, "d", [], "Lozère", replaces=["absent"]),  # names no document: links nothing
    lambda r: r.delete_document("b"),  # the chain a <- b <- c is cut
    lambda r: _write(r, "e", [], None, replaces=["d"]),
    lambda r: _write(r, "b", ["emploi"], "Cantal", replaces=["a"], version="v2"),  # back again
    lambda r: _write(r, "c", ["alimentation"], "Creuse", version="v2"),  # no longer replaces
    lambda r: r.delete_document("e"),
]


@pytest.fixture
def registry(tmp_path):
    registry = Registry(tmp_path / "registry.sqlite3")
    yield registry
    registry.close()


def test_each_write_leaves_the_values_and_versions_a_rebuild_gives(registry):
    values, versions = FilterValues(), VersionTally()
    values.current(registry), versions.current(registry)
    for write in WRITES:
        write(registry)
        assert values.current(registry) == FilterValues().current(registry)
        assert versions.current(registry) == VersionTally().current(registry) == _rebuilt_versions(registry)
    assert values.current(registry) == {"themes": {"logement", "emploi", "alimentation"}, "territories": {"Cantal", "Creuse", "Lozère"}}
    assert versions.current(registry).family("a") == ("a", "b")


def test_several_writes_between_two_reads_are_taken_in_at_once(registry):
    values, versions = FilterValues(), VersionTally()
    values.current(registry), versions.current(registry)
    for write in WRITES:
        write(registry)
    assert values.current(registry) == FilterValues().current(registry)
    assert versions.current(registry) == _rebuilt_versions(registry)


def test_a_write_reads_only_the_documents_it_changed(registry, monkeypatch):
    for n in range(20):
        _write(registry, f"doc-{n:02d}", ["mobilité"], "Creuse")
    values = FilterValues()
    values.current(registry)
    added = []
    monkeypatch.setattr(values, "add", lambda stored: added.append(stored.metadata.doc_id))
    _write(registry, "doc-03", ["emploi"], "Creuse", version="v2")
    values.current(registry)
    assert added == ["doc-03"]


def test_a_registry_that_cannot_tell_what_changed_is_read_whole(registry, monkeypatch):
    values = FilterValues()
    _write(registry, "a", ["mobilité"])
    values.current(registry)
    _write(registry, "b", ["emploi"])
    monkeypatch.setattr(registry, "changed_since", lambda revision: None)
    assert values.current(registry)["themes"] == {"mobilité", "emploi"}
