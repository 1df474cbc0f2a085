"""The RapprochementStore contract on every backend (``store_settings``): one mark per pair,
whatever order its documents are named in, replaced by the next one, forgotten on reopening,
seen by another store of the same base (another process, another server)."""

from __future__ import annotations

from contextlib import closing

import pytest

from kb.core.errors import InvalidRequest, NotFoundError
from kb.records.rapprochements import (
    ALREADY_LINKED,
    INTRODUCED,
    NOT_RELEVANT,
    PairMark,
    checked_status,
    new_mark,
    pair_id,
    split_pair_id,
)
from kb.storage import protocols
from kb.storage.backend import open_backend

VERSIONS = {"exp-epicerie": "v1", "annuaire-pat": "v7", "fin-leader": "v2"}


@pytest.fixture
def stores(store_settings):
    opened = open_backend(store_settings).rapprochement_store(), open_backend(store_settings).rapprochement_store()
    yield opened
    for store in opened:
        store.close()


def test_each_backend_gives_a_rapprochement_store(backend):
    with closing(backend.rapprochement_store()) as store:
        assert isinstance(store, protocols.RapprochementStore)


def test_a_mark_is_kept_once_per_pair_in_either_order_and_seen_by_another_store(stores):
    store, other = stores
    mark = new_mark("exp-epicerie", "annuaire-pat", INTRODUCED, VERSIONS, "Marie")
    assert (mark.doc_a, mark.doc_b, mark.version_a, mark.version_b) == ("annuaire-pat", "exp-epicerie", "v7", "v1")
    store.put(mark)
    assert other.get("exp-epicerie", "annuaire-pat") == mark == other.get("annuaire-pat", "exp-epicerie")
    replaced = new_mark("annuaire-pat", "exp-epicerie", NOT_RELEVANT, VERSIONS, "Paul")
    other.put(replaced)
    assert store.list() == [replaced]
    assert store.get("exp-epicerie", "fin-leader") is None


def test_reopening_forgets_the_mark(stores):
    store, other = stores
    store.put(new_mark("exp-epicerie", "fin-leader", ALREADY_LINKED, VERSIONS, "Marie"))
    store.put(new_mark("annuaire-pat", "fin-leader", INTRODUCED, VERSIONS, "Marie"))
    assert other.remove("fin-leader", "exp-epicerie") is True
    assert other.remove("fin-leader", "exp-epicerie") is False
    assert [m.pair_id for m in store.list()] == ["annuaire-pat~fin-leader"]


def test_a_mark_applies_only_to_the_versions_it_was_set_on():
    mark = new_mark("exp-epicerie", "annuaire-pat", INTRODUCED, VERSIONS, "Marie")
    assert mark.applies("v7", "v1")
    assert not mark.applies("v8", "v1") and not mark.applies("v7", None)


def test_pair_ids_name_the_two_documents_in_byte_order():
    assert pair_id("b-doc", "a-doc") == "a-doc~b-doc" == PairMark("a-doc", "b-doc", "x", "1", "2", "m", "t").pair_id
    assert split_pair_id("b-doc~a-doc") == ("a-doc", "b-doc")
    for wrong in ("a-doc", "a-doc~a-doc", "~b", "a~b~c"):
        with pytest.raises(NotFoundError, match="Aucun rapprochement"):
            split_pair_id(wrong)


def test_only_the_known_statuses_are_accepted_in_french():
    assert checked_status(" déjà en lien ") == ALREADY_LINKED
    with pytest.raises(InvalidRequest) as refused:
        checked_status("fini")
    assert "« mis en relation »" in refused.value.problems[0].message
