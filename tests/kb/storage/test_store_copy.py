"""The migration's contract of every side store on every backend (``store_settings``): a dump
restores as it was, into an empty store only, and a restore can be undone."""

from __future__ import annotations

from contextlib import closing

import pytest

from kb.core.errors import KBError
from kb.storage.backend import (
    open_audit_log,
    open_key_store,
    open_partner_store,
    open_proposal_store,
    open_question_log,
)
from tests.migration_data import fill_side_stores, side_store_contents

OPENERS = [open_key_store, open_partner_store, open_proposal_store, open_question_log, open_audit_log]
TABLES = {
    open_key_store: ["keys"],
    open_partner_store: ["partners"],
    open_proposal_store: ["proposals"],
    open_question_log: ["questions", "feedback"],
    open_audit_log: ["audit"],
}


@pytest.mark.parametrize("open_store", OPENERS, ids=lambda opener: opener.__name__)
def test_a_filled_store_refuses_a_restore_and_keeps_its_rows(store_settings, open_store):
    fill_side_stores(store_settings)
    before = side_store_contents(store_settings)
    with closing(open_store(store_settings)) as store:
        dump = store.dump()
        assert list(dump) == TABLES[open_store] and all(dump.values())
        with pytest.raises(KBError, match="La destination contient déjà des"):
            store.restore(dump)
    assert side_store_contents(store_settings) == before


def test_every_store_undone_then_restored_is_as_it_was(store_settings):
    fill_side_stores(store_settings)
    before = side_store_contents(store_settings)
    for open_store in OPENERS:
        with closing(open_store(store_settings)) as store:
            dump = store.dump()
            store.undo_restore()
            assert not any(store.dump().values())
            store.restore(dump)
            assert store.dump() == dump
    assert side_store_contents(store_settings) == before


def test_an_empty_dump_restores_to_an_empty_store(store_settings):
    for open_store in OPENERS:
        with closing(open_store(store_settings)) as store:
            empty = store.dump()
            assert not any(empty.values())
            store.restore(empty)
            assert store.dump() == empty
