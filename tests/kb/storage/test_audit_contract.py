"""The AuditLog contract on every backend (``backend``: the data directory's audit.jsonl, then
PostgreSQL): entries in the order recorded, with their details, and each document's latest."""

from __future__ import annotations

from contextlib import closing

import pytest

from kb.storage import protocols


@pytest.fixture
def audit(backend):
    opened = backend.audit_log()
    yield opened
    opened.close()


def test_each_backend_gives_an_audit_log(backend):
    with closing(backend.audit_log()) as audit:
        assert isinstance(audit, protocols.AuditLog)


def test_last_entries_follow_the_log(audit):
    assert audit.last_entries() == {} and audit.entries() == []
    audit.record("Aline", "proposition", "a")
    audit.record("Marie", "ajout", "b")
    assert audit.last_entries()["a"]["action"] == "proposition"
    audit.record("Marie", "publication", "a")
    last = audit.last_entries()
    assert (last["a"]["actor"], last["a"]["action"]) == ("Marie", "publication") and last["b"]["action"] == "ajout"


def test_entries_keep_their_order_and_details(audit):
    audit.record("Aline", "proposition", "a", title="Épicerie", remplacement=False)
    audit.record("Marie", "ajout", "b", version=2)
    audit.record("Marie", "rejet", "a", title="Épicerie", commentaire=None)
    assert [entry["action"] for entry in audit.entries()] == ["proposition", "ajout", "rejet"]
    first, last = audit.entries("a")
    assert list(first) == ["at", "actor", "action", "doc_id", "title", "remplacement"]
    assert (first["title"], first["remplacement"], last["commentaire"]) == ("Épicerie", False, None)


def test_an_entry_is_stamped_in_utc_and_nested_details_come_back_as_recorded(audit):
    details = {"titre": "Une fiche « été »", "pages": [1, 2], "sous": {"vide": None, "vrai": True, "réel": 0.5}}
    audit.record("Aline", "proposition", "fiche-a", détails=details)
    [entry] = audit.entries()
    assert entry == {**entry, "actor": "Aline", "action": "proposition", "doc_id": "fiche-a", "détails": details}
    assert list(entry) == ["at", "actor", "action", "doc_id", "détails"]
    assert entry["at"][:4].isdigit() and entry["at"].endswith("+00:00")


def test_entries_of_a_document_never_written_are_none(audit):
    audit.record("Aline", "ajout", "a")
    assert audit.entries("absent") == [] and "absent" not in audit.last_entries()
    assert [entry["doc_id"] for entry in audit.entries("a")] == ["a"]


def test_entries_are_in_the_order_recorded_whatever_their_documents(audit):
    for n, doc_id in enumerate(["c", "a", "b", "a", "c"]):
        audit.record("Marie", "ajout", doc_id, n=n)
    assert [(entry["doc_id"], entry["n"]) for entry in audit.entries()] == [
        ("c", 0),
        ("a", 1),
        ("b", 2),
        ("a", 3),
        ("c", 4),
    ]
    assert [entry["n"] for entry in audit.entries("c")] == [0, 4]
    assert {doc_id: entry["n"] for doc_id, entry in audit.last_entries().items()} == {"a": 3, "b": 2, "c": 4}
    stamps = [entry["at"] for entry in audit.entries()]
    assert stamps == sorted(stamps)


def test_an_entry_recorded_by_another_log_of_the_base_is_read_at_once(backend):
    """Two logs of one base (two servers, or the CLI beside a server): each reads the other's
    entries at its next call, its latest entries too (whatever it had read before)."""
    with closing(backend.audit_log()) as first, closing(backend.audit_log()) as second:
        assert second.last_entries() == {}
        first.record("Aline", "proposition", "a")
        assert second.last_entries()["a"]["actor"] == "Aline"
        second.record("Marie", "publication", "a")
        assert first.last_entries()["a"]["action"] == "publication"
        assert [entry["actor"] for entry in first.entries("a")] == ["Aline", "Marie"]
        assert first.entries() == second.entries()
