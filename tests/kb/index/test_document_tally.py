"""Values derived from every document, kept in step with the registry from the documents
written since (kb/index/document_tally.py): after each write they equal a rebuild from scratch."""

from __future__ import annotations

import pytest

from kb.core.models import DocumentMetadata
from kb.core.text import fold
from kb.duplicates.candidates import NamedDocuments, jaccard, name_match, title_words
from kb.search.filters import FilterValues
from kb.search.versions import Versions, VersionTally
from kb.storage.embedded.registry import Registry


def _write(
    registry: Registry, doc_id: str, themes=(), territory=None, replaces=(), version="v1", title=None, porteur=None
) -> None:
    metadata = DocumentMetadata(
        doc_id=doc_id,
        title=title or doc_id.title(),
        themes=tuple(themes),
        territory=territory,
        replaces=tuple(replaces),
        porteur=porteur,
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
    assert values.current(registry) == {
        "themes": {"logement", "emploi", "alimentation"},
        "territories": {"Cantal", "Creuse", "Lozère"},
    }
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


NAMED_WRITES = [
    lambda r: _write(r, "a", title="Épicerie solidaire itinérante", porteur="Le Panier des Sucs"),
    lambda r: _write(r, "b", title="Une épicerie solidaire en camion", porteur="Panier des Sucs"),
    lambda r: _write(r, "c", title="Garage solidaire", porteur="Roul'Ensemble Vercors"),
    lambda r: _write(r, "a", title="Épicerie itinérante solidaire", version="v2"),  # no porteur now
    lambda r: r.delete_document("b"),
    lambda r: _write(r, "d", title="EPICERIE ITINERANTE SOLIDAIRE", porteur="Roulensemble"),
]
QUERIES = [
    ("Épicerie solidaire itinérante", "Panier des Sucs"),
    ("épicerie itinérante solidaire", None),
    ("Garage", "Roulensemble"),
    ("Autre chose", "Le Panier"),
]


def _named_by_scan(registry: Registry, title: str, porteur: str | None) -> set[str]:
    """What the finder read before the tally: every document's title and porteur."""
    return {
        stored.metadata.doc_id
        for stored in registry.documents()
        if jaccard(title_words(title), title_words(stored.metadata.title)) >= 0.75
        or fold(stored.metadata.title) == fold(title)
        or name_match(porteur, stored.metadata.porteur) >= 0.9
    }


def test_named_documents_match_what_a_scan_of_every_document_finds(registry):
    named = NamedDocuments()
    for write in NAMED_WRITES:
        write(registry)
        for title, porteur in QUERIES:
            with named.up_to_date(registry):
                found = named.matching(title, porteur, 0.75, 0.9)
            assert found == _named_by_scan(registry, title, porteur)
    with named.up_to_date(registry):
        assert named.matching("Épicerie solidaire itinérante", "Roulensemble", 0.75, 0.9) == {"a", "c", "d"}
        assert named.matching("x", None, 0.0, 0.9) == {"a", "c", "d"}  # a zero threshold takes every document
