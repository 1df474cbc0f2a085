"""Families of versions collapse into one hit (kb/search/versions.py), on hand-made hits."""

from __future__ import annotations

from kb.core.models import DocumentMetadata
from kb.search.hits import DocumentHit
from kb.search.versions import Versions, one_per_family, version_links, versions_of
from kb.storage.embedded.registry import Registry


def meta(doc_id: str, date: str | None = None, replaces: tuple[str, ...] = ()) -> DocumentMetadata:
    return DocumentMetadata(doc_id=doc_id, title=doc_id.upper(), date=date, replaces=replaces)


# a <- b <- c (c replaces b, which replaces a); x alone; y replaces a document not in the base
A, B, C = meta("a", "2021"), meta("b", "2023", ("a",)), meta("c", "2025", ("b",))
X, Y = meta("x", "2024"), meta("y", "2024", ("absent",))
VERSIONS = Versions.build([A, B, C, X, Y])


def hits(*scored: tuple[DocumentMetadata, float]) -> list[DocumentHit]:
    return [DocumentHit(m, score) for m, score in scored]


def ids(found: list[DocumentHit]) -> list[str]:
    return [h.metadata.doc_id for h in found]


def test_relations_are_transitive_and_only_between_current_documents():
    assert VERSIONS.family("a") == VERSIONS.family("c") == ("a", "b", "c")
    assert VERSIONS.family("x") == () and VERSIONS.family("y") == ()  # "absent" links nothing
    assert VERSIONS.redundant == 2
    assert VERSIONS.newest(("a", "b", "c")) == "c" and VERSIONS.newest(("a", "b")) == "b"
    assert [m.doc_id for m in VERSIONS.others("c")] == ["b", "a"]  # most recent first
    assert [m.doc_id for m in VERSIONS.newest_versions("a")] == ["c"]
    assert VERSIONS.newest_versions("c") == []
    assert [m.doc_id for m in VERSIONS.replaced("c")] == ["b"] and VERSIONS.replaced("a") == []


def test_a_chain_is_one_hit_at_its_best_rank_shown_by_its_newest_member():
    ranked = hits((B, 0.9), (X, 0.8), (C, 0.7), (A, 0.6), (Y, 0.5))
    found = one_per_family(ranked, VERSIONS, k=10)
    assert ids(found) == ["c", "x", "y"]
    assert found[0].score == 0.9  # the family's best score: the ranking stays sorted
    assert [m.doc_id for m in found[0].other_versions] == ["b", "a"]
    assert found[1].other_versions == [] and found[1] is ranked[1]


def test_k_counts_families_not_members():
    ranked = hits((A, 0.9), (B, 0.85), (C, 0.8), (X, 0.7), (Y, 0.6))
    assert ids(one_per_family(ranked, VERSIONS, k=2)) == ["c", "x"]


def test_a_newest_version_that_did_not_rank_is_fetched_for_the_query():
    fetched = DocumentHit(C, 0.42)
    asked = []

    def fetch(doc_id):
        asked.append(doc_id)
        return fetched

    found = one_per_family(hits((X, 0.8), (A, 0.7)), VERSIONS, k=10, fetch=fetch)
    assert asked == ["c"]
    assert ids(found) == ["x", "c"] and found[1].score == 0.7
    assert [m.doc_id for m in found[1].other_versions] == ["b", "a"]


def test_when_the_scope_leaves_the_newest_out_the_newest_that_ranked_stands_for_the_family():
    found = one_per_family(hits((A, 0.9), (B, 0.8), (X, 0.7)), VERSIONS, k=10, fetch=lambda doc_id: None)
    assert ids(found) == ["b", "x"]
    assert [m.doc_id for m in found[0].other_versions] == ["c", "a"]  # the newer one is still linked


def test_without_versions_in_the_base_hits_are_left_alone():
    ranked = hits((X, 0.9), (A, 0.8))
    assert one_per_family(ranked, Versions.build([X, A]), k=1) == ranked[:1]


def test_split_and_cycle_pick_the_latest_head_and_never_loop():
    split = Versions.build([meta("old", "2020"), meta("n1", "2024", ("old",)), meta("n2", "2025", ("old",))])
    assert split.newest(split.family("old")) == "n2"
    assert [m.doc_id for m in split.newest_versions("old")] == ["n2", "n1"]
    cycle = Versions.build([meta("p", "2022", ("q",)), meta("q", "2023", ("p",))])
    assert cycle.family("p") == ("p", "q") and cycle.newest(("p", "q")) == "q"
    assert ids(one_per_family(hits((cycle.metadata["p"], 0.9)), cycle, k=5)) == ["p"]


def test_links_name_each_version_with_its_page():
    assert version_links([B], "https://passerelles.example") == [
        {"doc_id": "b", "title": "B", "date": "2023", "url": "https://passerelles.example/fiches/b"}
    ]


class Holder:
    """What ``versions_of`` reads of an index: its registry."""

    def __init__(self, registry):
        self.registry = registry


def test_relations_are_kept_per_registry_revision(tmp_path):
    registry = Registry(tmp_path / "registry.sqlite3")
    for metadata in (A, B):
        registry.replace_document(metadata, "v1", metadata.title, [])
    index = Holder(registry)
    assert versions_of(index).family("a") == ("a", "b")
    assert versions_of(index) is versions_of(index)
    registry.replace_document(C, "v1", C.title, [])
    assert versions_of(index).family("a") == ("a", "b", "c")
    registry.close()
