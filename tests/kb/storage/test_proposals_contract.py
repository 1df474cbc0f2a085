"""The ProposalStore contract on every backend (``store_settings``: the data directory's
proposals.sqlite, then PostgreSQL), and the review transitions."""

from __future__ import annotations

from contextlib import closing

import pytest

from kb.core.errors import ConflictError
from kb.records.proposals import (
    CHANGES_REQUESTED,
    OPEN,
    PROPOSED,
    PUBLISHED,
    REJECTED,
    Proposal,
    check_transition,
)
from kb.storage import protocols
from kb.storage.backend import open_backend


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


def test_each_backend_gives_a_proposal_store(backend):
    with closing(backend.proposal_store()) as proposals:
        assert isinstance(proposals, protocols.ProposalStore)


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


def test_a_new_store_is_empty(store):
    assert store.list() == [] and store.count() == 0 and store.count((REJECTED,)) == 0
    assert store.get("fiche-a") is None


def test_count_names_the_statuses_it_counts(store):
    store.put(proposal("a"))
    store.put(proposal("b", status=CHANGES_REQUESTED))
    store.put(proposal("c", status=REJECTED))
    store.put(proposal("d", status=REJECTED))
    assert store.count() == store.count(OPEN) == 2
    assert store.count((REJECTED,)) == 2 and store.count((PROPOSED,)) == 1
    assert store.count((PROPOSED, CHANGES_REQUESTED, REJECTED)) == 4 and store.count((PUBLISHED,)) == 0


def test_lists_by_status_and_author_together_latest_first_then_by_id(store):
    store.put(proposal("b", by="Bruno", updated_at="2025-03-01T00:00:00+00:00"))
    store.put(proposal("a", by="Bruno", updated_at="2025-03-01T00:00:00+00:00"))  # same time: by id
    store.put(proposal("c", by="Bruno", status=REJECTED, updated_at="2025-04-01T00:00:00+00:00"))
    store.put(proposal("d", updated_at="2025-05-01T00:00:00+00:00"))
    assert [p.doc_id for p in store.list()] == ["d", "c", "a", "b"]
    assert [p.doc_id for p in store.list(PROPOSED, submitted_by="Bruno")] == ["a", "b"]
    assert store.list(REJECTED, submitted_by="Aline") == [] and store.list(submitted_by="Personne") == []


def test_a_status_change_keeps_the_submission_and_stamps_the_change(store):
    submitted = proposal()
    store.put(submitted)
    updated = store.set_status(submitted, REJECTED, None)
    assert (updated.status, updated.comment) == (REJECTED, None) and updated.updated_at > submitted.updated_at
    stored = store.get("fiche-a")
    assert stored == updated
    assert (stored.data, stored.sidecar, stored.duplicates, stored.submitted_at) == (
        submitted.data,
        submitted.sidecar,
        submitted.duplicates,
        submitted.submitted_at,
    )


def test_a_status_change_on_a_removed_proposal_is_a_conflict_and_removing_twice_is_harmless(store):
    store.put(proposal())
    read = store.get("fiche-a")
    store.remove("fiche-a")
    store.remove("fiche-a")
    store.remove("absente")
    with pytest.raises(ConflictError, match="a changé ou a été retirée entre-temps"):
        store.set_status(read, REJECTED, "Hors sujet.")
    assert store.get("fiche-a") is None and store.count() == 0


def test_a_proposal_stored_against_what_was_read_goes_in_when_nothing_changed(store):
    store.put(proposal(), expected=None)
    read = store.get("fiche-a")
    resubmitted = proposal(updated_at="2025-03-01T00:00:00+00:00")
    store.put(resubmitted, expected=read)
    assert store.get("fiche-a") == resubmitted
    store.remove("fiche-a")
    store.put(proposal(by="Bruno"), expected=None)  # a removed id is free again
    assert store.get("fiche-a").submitted_by == "Bruno"
