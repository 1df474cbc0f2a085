"""The proposal store, the review transitions, keys with a role and the audit log, on every
backend (``store_settings``: the data directory's files, then PostgreSQL)."""

from __future__ import annotations

import json

import pytest

from kb.core.errors import ConflictError, KBError
from kb.records.keys import CONTRIBUTOR, COORDINATOR, Actor
from kb.records.proposals import CHANGES_REQUESTED, PROPOSED, PUBLISHED, REJECTED, Proposal, check_transition
from kb.storage.backend import open_backend
from kb.storage.embedded.keys import KeyStore


def proposal(
    doc_id: str = "fiche-a", status: str = PROPOSED, by: str = "Aline", updated_at: str = "2025-01-01T00:00:00+00:00"
) -> Proposal:
    return Proposal(
        doc_id=doc_id,
        status=status,
        replace=False,
        title="Une fiche",
        doc_type="fiche expérience",
        sector="développement local",
        territory="Cantal",
        porteur=None,
        date="2025",
        submitted_by=by,
        submitted_at=updated_at,
        updated_at=updated_at,
        comment=None,
        data=b"# Une fiche\n\xc3\xa9t\xc3\xa9",
        suffix=".md",
        sidecar={"themes": ["commerce"]},
        duplicates=[{"doc_id": "x", "reasons": ["même titre"]}],
    )


@pytest.fixture
def store(store_settings):
    opened = open_backend(store_settings).proposal_store()
    yield opened
    opened.close()


@pytest.fixture
def keys(store_settings):
    opened = open_backend(store_settings).key_store()
    yield opened
    opened.close()


@pytest.fixture
def audit(store_settings):
    opened = open_backend(store_settings).audit_log()
    yield opened
    opened.close()


def test_a_proposal_round_trips_and_one_per_document_id(store):
    store.put(proposal())
    assert store.get("fiche-a") == proposal()
    store.put(proposal(by="Aline", updated_at="2025-02-01T00:00:00+00:00"))
    assert len(store.list()) == 1 and store.get("fiche-a").updated_at.startswith("2025-02")
    assert store.get("absente") is None


def test_lists_by_status_and_author_latest_first(store):
    store.put(proposal("a", updated_at="2025-01-01T00:00:00+00:00"))
    store.put(proposal("b", by="Bruno", updated_at="2025-03-01T00:00:00+00:00"))
    store.put(proposal("c", status=REJECTED, updated_at="2025-02-01T00:00:00+00:00"))
    assert [p.doc_id for p in store.list()] == ["b", "c", "a"]
    assert [p.doc_id for p in store.list(PROPOSED)] == ["b", "a"]
    assert [p.doc_id for p in store.list(submitted_by="Aline")] == ["c", "a"]
    assert store.count() == 2, "open proposals only"


def test_set_status_and_remove(store):
    store.put(proposal())
    updated = store.set_status(store.get("fiche-a"), CHANGES_REQUESTED, "Ajoutez le budget.")
    assert store.get("fiche-a") == updated and updated.comment == "Ajoutez le budget."
    store.remove("fiche-a")
    assert store.get("fiche-a") is None


def test_a_status_change_on_a_proposal_changed_meanwhile_is_a_conflict(store):
    store.put(proposal())
    read_by_two = store.get("fiche-a")
    store.set_status(read_by_two, REJECTED, "Hors sujet.")
    with pytest.raises(ConflictError, match="a changé ou a été retirée entre-temps"):
        store.set_status(read_by_two, CHANGES_REQUESTED, "Ajoutez le budget.")
    assert store.get("fiche-a").status == REJECTED


@pytest.mark.parametrize(
    "current, target, allowed",
    [
        (PROPOSED, PUBLISHED, True),
        (PROPOSED, CHANGES_REQUESTED, True),
        (PROPOSED, REJECTED, True),
        (CHANGES_REQUESTED, PROPOSED, True),
        (CHANGES_REQUESTED, REJECTED, True),
        (REJECTED, PROPOSED, True),
        (CHANGES_REQUESTED, PUBLISHED, False),
        (CHANGES_REQUESTED, CHANGES_REQUESTED, False),
        (REJECTED, PUBLISHED, False),
        (REJECTED, CHANGES_REQUESTED, False),
        (REJECTED, REJECTED, False),
    ],
)
def test_transitions(current, target, allowed):
    if allowed:
        check_transition(proposal(status=current), target)
    else:
        with pytest.raises(ConflictError, match=f"« {current} »"):
            check_transition(proposal(status=current), target)


def test_keys_have_a_role(keys):
    contributor = keys.create("Aline", role=CONTRIBUTOR)
    coordinator = keys.create("Marie")
    assert keys.verify(contributor) == Actor("Aline", CONTRIBUTOR) and not keys.verify(contributor).is_coordinator
    assert keys.verify(coordinator) == Actor("Marie", COORDINATOR) and keys.verify(coordinator).is_coordinator
    assert keys.verify("psl_faux") is None and keys.verify("") is None
    with pytest.raises(KBError, match="Rôle inconnu « éditeur »"):
        keys.create("Paul", role="éditeur")
    with pytest.raises(KBError, match="Donnez un nom"):
        keys.create("  ")
    assert [(key.name, key.role) for key in keys.list()] == [("Aline", CONTRIBUTOR), ("Marie", COORDINATOR)]
    assert all(key.digest not in (contributor, coordinator) for key in keys.list()), "digests only"


def test_one_active_key_per_name_and_a_revoked_key_is_refused(keys):
    first = keys.create(" Aline ")
    with pytest.raises(KBError, match="Une clé active porte déjà le nom « Aline »"):
        keys.create("Aline")
    keys.revoke("Aline")
    assert keys.verify(first) is None
    with pytest.raises(KBError, match="Aucune clé active nommée « Aline »"):
        keys.revoke("Aline")
    second = keys.create("Aline", role=CONTRIBUTOR)
    assert keys.verify(second) == Actor("Aline", CONTRIBUTOR)
    listed = keys.list()
    assert [(key.name, key.active) for key in listed] == [("Aline", False), ("Aline", True)]
    assert listed[0].revoked_at >= listed[0].created_at


def test_keys_written_before_roles_existed_are_coordination_keys(tmp_path):
    path = tmp_path / "keys.json"
    contributor = KeyStore(path).create("Aline", role=CONTRIBUTOR)
    rows = json.loads(path.read_text())
    for row in rows:
        del row["role"]  # a keys.json written before roles existed
    path.write_text(json.dumps(rows))
    assert {key.role for key in KeyStore(path).list()} == {COORDINATOR}
    assert KeyStore(path).verify(contributor) == Actor("Aline", COORDINATOR)


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


def test_a_proposal_stored_against_what_was_read_refuses_a_change_made_meanwhile(store_settings):
    """Two servers read no proposal for one id, then both store theirs: the second is a 409,
    not a silent overwrite; the same for a proposal changed since it was read."""
    first, second = open_backend(store_settings).proposal_store(), open_backend(store_settings).proposal_store()
    try:
        first.put(proposal(by="Aline"), expected=None)
        with pytest.raises(ConflictError, match="Une autre personne vient de proposer"):
            second.put(proposal(by="Bruno"), expected=None)
        assert first.get("fiche-a").submitted_by == "Aline"
        read = second.get("fiche-a")
        first.put(proposal(by="Aline", updated_at="2025-06-01T00:00:00+00:00"), expected=read)
        with pytest.raises(ConflictError):
            second.put(proposal(by="Aline", updated_at="2025-07-01T00:00:00+00:00"), expected=read)
        assert first.get("fiche-a").updated_at == "2025-06-01T00:00:00+00:00"
    finally:
        first.close()
        second.close()
