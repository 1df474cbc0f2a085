"""The Copyable contract (``kb/storage/copy.py``, what ``kb migrate`` copies the side stores with)
of every side store on every backend (``store_settings``): a dump restores as it was, into an
empty store only, and a restore can be undone."""

from __future__ import annotations

from contextlib import closing

import pytest

from kb.core.errors import KBError
from kb.storage import protocols
from kb.storage.backend import SIDE_STORES, open_backend, open_side_store
from tests.migration_data import fill_side_stores, side_store_contents

OPENERS = SIDE_STORES
TABLES = {
    "key_store": ["keys"],
    "partner_store": ["partners"],
    "proposal_store": ["proposals"],
    "question_log": ["questions", "feedback"],
    "audit_log": ["audit"],
    "rapprochement_store": ["rapprochements"],
}


def open_store(settings, kind):
    return open_side_store(open_backend(settings), kind)


@pytest.mark.parametrize("kind", OPENERS)
def test_each_side_store_of_each_backend_is_copyable(store_settings, kind):
    with closing(open_store(store_settings, kind)) as store:
        assert isinstance(store, protocols.Copyable)


def test_an_unknown_side_store_is_refused(backend):
    with pytest.raises(ValueError, match="unknown side store 'registry'"):
        open_side_store(backend, "registry")


@pytest.mark.parametrize("kind", OPENERS)
def test_a_filled_store_refuses_a_restore_and_keeps_its_rows(store_settings, kind):
    fill_side_stores(store_settings)
    before = side_store_contents(store_settings)
    with closing(open_store(store_settings, kind)) as store:
        dump = store.dump()
        assert list(dump) == TABLES[kind] and all(dump.values())
        with pytest.raises(KBError, match="La destination contient déjà des"):
            store.restore(dump)
    assert side_store_contents(store_settings) == before


def test_every_store_undone_then_restored_is_as_it_was(store_settings):
    fill_side_stores(store_settings)
    before = side_store_contents(store_settings)
    for kind in OPENERS:
        with closing(open_store(store_settings, kind)) as store:
            dump = store.dump()
            store.undo_restore()
            assert not any(store.dump().values())
            store.restore(dump)
            assert store.dump() == dump
    assert side_store_contents(store_settings) == before


def test_an_empty_dump_restores_to_an_empty_store(store_settings):
    for kind in OPENERS:
        with closing(open_store(store_settings, kind)) as store:
            empty = store.dump()
            assert not any(empty.values())
            store.restore(empty)
            assert store.dump() == empty
