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

COPIED = {
    "clés": 3,
    "sites partenaires": 2,
    "propositions": 1,
    "questions": 2,
    "avis": 1,
    "entrées du journal": 3,
    "rapprochements marqués": 2,
}


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
    # the first copy dated doc-1 (indexed, never published through the API) with a `reprise`
    assert migrate(shared, back, copy_stores=copy_side_stores).stores == {**COPIED, "entrées du journal": 4}
    assert _holder(back, kept) == Actor("Aline", "contributeur")
    assert _holder(back, revoked) is None
    source, copied = side_store_contents(embedded), side_store_contents(shared)
    assert {**source, "audit": None} == {**copied, "audit": None} and copied == side_store_contents(back)
    *rows, carried = copied["audit"][0]
    assert rows == source["audit"][0]
    assert (carried["actor"], carried["action"], carried["doc_id"]) == ("kb migrate", "reprise", "doc-1")


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


def _feed_dates(settings: Settings) -> dict[str, str]:
    """Each document's date in the feed (its first publication, else its ``indexed_at``)."""
    from kb.index.knowledge_index import KnowledgeIndex
    from services.feed import publication_dates
    from tests.fakes import ToyEmbedder
    from tests.migration_data import CHUNKING

    index = KnowledgeIndex(settings, ToyEmbedder(), CHUNKING)
    try:
        with closing(open_backend(settings).audit_log()) as audit:
            return publication_dates(index.documents(), audit.entries())
    finally:
        index.close()


def test_the_feed_keeps_every_first_publication_date_there_and_back(tmp_path, postgres_url):
    """doc-0 is dated by its `ajout`, doc-1 (written without the API) by its old ``indexed_at``:
    the copies' ``indexed_at`` are the migration's time, the feed's dates stay."""
    import sqlite3

    from kb.storage.embedded.backend import REGISTRY_FILE

    embedded = Settings(data_dir=tmp_path / "embedded")
    shared = Settings(data_dir=tmp_path / "cache", database_url=postgres_url)
    back = Settings(data_dir=tmp_path / "back")
    fill_index(embedded, 2)
    fill_side_stores(embedded)
    with sqlite3.connect(open_backend(embedded).current_location().directory / REGISTRY_FILE) as db:
        db.execute("UPDATE documents SET indexed_at = '2024-02-01T08:00:00+00:00' WHERE doc_id = 'doc-1'")
    original = _feed_dates(embedded)
    assert original["doc-1"] == "2024-02-01T08:00:00+00:00"

    assert migrate(embedded, shared, copy_stores=copy_side_stores).dates_carried == 1
    assert migrate(shared, back, copy_stores=copy_side_stores).dates_carried == 0
    assert _feed_dates(shared) == _feed_dates(back) == original
