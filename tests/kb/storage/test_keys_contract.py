"""The KeyStore contract on every backend (``backend``: the data directory's keys.json, then
PostgreSQL): keys with a role, one active key per name, digests only, revocation."""

from __future__ import annotations

import json
from contextlib import closing

import pytest

from kb.core.errors import KBError
from kb.records.keys import CONTRIBUTOR, COORDINATOR, PREFIX, Actor, key_digest
from kb.storage import protocols
from kb.storage.embedded.keys import KeyStore


@pytest.fixture
def keys(backend):
    opened = backend.key_store()
    yield opened
    opened.close()


def test_each_backend_gives_a_key_store(backend):
    with closing(backend.key_store()) as keys:
        assert isinstance(keys, protocols.KeyStore)


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
    """The data directory's keys.json only: the PostgreSQL table always had a role column."""
    path = tmp_path / "keys.json"
    contributor = KeyStore(path).create("Aline", role=CONTRIBUTOR)
    rows = json.loads(path.read_text())
    for row in rows:
        del row["role"]  # a keys.json written before roles existed
    path.write_text(json.dumps(rows))
    assert {key.role for key in KeyStore(path).list()} == {COORDINATOR}
    assert KeyStore(path).verify(contributor) == Actor("Aline", COORDINATOR)


def test_a_new_store_has_no_key_and_refuses_every_revocation(keys):
    assert keys.list() == []
    assert keys.verify("psl_faux") is None
    with pytest.raises(KBError, match="Aucune clé active nommée « Aline »"):
        keys.revoke("Aline")


def test_a_key_is_shown_once_and_kept_as_its_digest(keys):
    key = keys.create("Aline")
    assert key.startswith(PREFIX) and len(key) > len(PREFIX) + 32
    [stored] = keys.list()
    assert (stored.digest, stored.revoked_at, stored.active) == (key_digest(key), None, True)
    assert key not in json.dumps(keys.dump()), "the key itself is nowhere in the store"
    assert len({key, keys.create("Marie"), keys.create("Paul")}) == 3, "each key drawn anew"


def test_a_key_is_refused_once_changed_or_padded(keys):
    key = keys.create("Aline")
    assert keys.verify(key) == Actor("Aline", COORDINATOR)
    assert keys.verify(key[:-1]) is None and keys.verify(key + "x") is None
    assert keys.verify(f" {key} ") is None and keys.verify(key.upper()) is None


def test_revoking_a_name_leaves_the_other_names_active(keys):
    aline, marie = keys.create("Aline"), keys.create("Marie", role=CONTRIBUTOR)
    keys.revoke("Aline")
    assert keys.verify(aline) is None and keys.verify(marie) == Actor("Marie", CONTRIBUTOR)
    assert [(key.name, key.active) for key in keys.list()] == [("Aline", False), ("Marie", True)]


def test_a_key_created_by_one_store_of_the_base_is_verified_by_another_and_its_revocation_too(backend):
    """Two stores of one base (two servers, or the CLI beside a server): each sees the other's
    writes at its next call."""
    with closing(backend.key_store()) as first, closing(backend.key_store()) as second:
        key = first.create("Aline", role=CONTRIBUTOR)
        assert second.verify(key) == Actor("Aline", CONTRIBUTOR)
        with pytest.raises(KBError, match="Une clé active porte déjà le nom « Aline »"):
            second.create("Aline")
        second.revoke("Aline")
        assert first.verify(key) is None
        assert [(key.name, key.active) for key in first.list()] == [("Aline", False)]
