"""`kb migrate` copies the side stores too: embedded → PostgreSQL → embedded, row for row."""

from __future__ import annotations

from contextlib import closing

import pytest

from kb.core.errors import KBError
from kb.core.settings import Settings
from kb.records.keys import Actor
from kb.storage.backend import open_backend
from kb.storage.embedded.audit import AuditLog
from kb.storage.embedded.querylog import QuestionLog
from services.migration import copy_side_stores, migrate, recorded_description
from tests.migration_data import fill_index, fill_side_stores, side_store_contents

COPIED = {"clés": 3, "sites partenaires": 2, "propositions": 1, "questions": 2, "avis": 1, "entrées du journal": 3}


def _holder(settings: Settings, key: str) -> Actor | None:
    with closing(open_backend(settings).key_store()) as keys:
        return keys.verify(key)


def test_every_side_store_goes_to_postgresql_and_back(tmp_path, postgres_url):
    embedded = Settings(data_dir=tmp_path / "embedded")
    shared = Settings(data_dir=tmp_path / "cache", database_url=postgres_url)
    back = Settings(data_dir=tmp_path / "back")
    fill_index(embedded, 2)
    kept, revoked = fill_side_stores(embedded)

    assert migrate(embedded, shared, copy_stores=copy_side_stores).stores == COPIED
    assert _holder(shared, kept) == Actor("Aline", "contributeur")
    assert _holder(shared, revoked) is None
    assert migrate(shared, back, copy_stores=copy_side_stores).stores == COPIED
    assert _holder(back, kept) == Actor("Aline", "contributeur")
    assert _holder(back, revoked) is None
    assert side_store_contents(embedded) == side_store_contents(shared) == side_store_contents(back)


def test_a_target_store_that_has_rows_is_refused_and_nothing_is_kept(tmp_path, postgres_url):
    embedded = Settings(data_dir=tmp_path / "embedded")
    shared = Settings(data_dir=tmp_path / "cache", database_url=postgres_url)
    fill_index(embedded, 1)
    fill_side_stores(embedded)
    with closing(open_backend(shared).partner_store()) as partners:
        partners.add("https://deja.exemple.org", "Déjà là", "Zoé")
    before = side_store_contents(shared)

    with pytest.raises(KBError, match=r"contient déjà des sites partenaires \(1\)"):
        migrate(embedded, shared, copy_stores=copy_side_stores)
    # the keys were copied before the partner sites were refused: they are gone again
    assert side_store_contents(shared) == before
    assert recorded_description(shared) == {}  # and the index copied before is gone


def test_a_failure_after_some_stores_empties_them_again(tmp_path, postgres_url, monkeypatch):
    shared = Settings(data_dir=tmp_path / "cache", database_url=postgres_url)
    fill_side_stores(shared)
    back = Settings(data_dir=tmp_path / "back")
    before = side_store_contents(back)

    def broken(self, dump):
        raise KBError("Le disque est plein.")

    monkeypatch.setattr(AuditLog, "restore", broken)
    with pytest.raises(KBError, match="disque est plein"):
        copy_side_stores(shared, back)
    assert side_store_contents(back) == before


def test_a_count_that_differs_after_the_copy_keeps_nothing(tmp_path, postgres_url, monkeypatch):
    shared = Settings(data_dir=tmp_path / "cache", database_url=postgres_url)
    fill_side_stores(shared)
    back = Settings(data_dir=tmp_path / "back")
    before = side_store_contents(back)

    restore = QuestionLog.restore

    def losing_the_feedback(self, dump):
        restore(self, {**dump, "feedback": []})

    monkeypatch.setattr(QuestionLog, "restore", losing_the_feedback)
    with pytest.raises(KBError, match="Copie incomplète des avis : la destination en a 0 pour 1"):
        copy_side_stores(shared, back)
    assert side_store_contents(back) == before
