"""The side stores on PostgreSQL as several API servers use them: two pools on one database
(two "servers") see each other's writes at once, and a database that goes down is a French 503."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import partial

import psycopg
import pytest

from kb.core.errors import BackendUnavailable, ConflictError, KBError
from kb.records.keys import CONTRIBUTOR, Actor
from kb.records.proposals import CHANGES_REQUESTED, REJECTED
from kb.storage.postgres.audit import PgAuditLog
from kb.storage.postgres.database import Database
from kb.storage.postgres.keys import PgKeyStore
from kb.storage.postgres.partners import PgPartnerStore
from kb.storage.postgres.proposals import PgProposalStore
from tests.kb.storage.test_proposals_contract import proposal


def server(url: str) -> partial:
    """What one more API server would connect with: its own pool on the database."""
    return partial(Database, url, pool_size=2, connect_timeout=1)


@contextmanager
def two(store, url: str):
    first, second = store(server(url)), store(server(url))
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def test_a_key_created_on_one_server_authenticates_on_the_other_and_its_revocation_too(postgres_url):
    with two(PgKeyStore, postgres_url) as (first, second):
        key = first.create("Aline", role=CONTRIBUTOR)
        assert second.verify(key) == Actor("Aline", CONTRIBUTOR)
        with pytest.raises(KBError, match="Une clé active porte déjà le nom « Aline »"):
            second.create("Aline")
        second.revoke("Aline")
        assert first.verify(key) is None


def test_two_servers_creating_one_name_together_make_one_active_key(postgres_url):
    with two(PgKeyStore, postgres_url) as (first, second):
        outcomes: list[str] = []

        def create(store) -> None:
            try:
                store.create("Aline")
                outcomes.append("créée")
            except KBError:
                outcomes.append("refusée")

        threads = [threading.Thread(target=create, args=(store,)) for store in (first, second, first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["créée", "refusée", "refusée", "refusée"]
        assert [key.name for key in second.list() if key.active] == ["Aline"]


def test_a_proposal_stored_by_one_server_is_seen_and_reviewed_once_across_servers(postgres_url):
    with two(PgProposalStore, postgres_url) as (first, second):
        first.put(proposal("fiche-a"))
        seen = second.get("fiche-a")
        assert seen == proposal("fiche-a") and second.count() == 1
        first.set_status(first.get("fiche-a"), REJECTED, "Hors sujet.")
        with pytest.raises(ConflictError):  # the other coordinator read it before the rejection
            second.set_status(seen, CHANGES_REQUESTED, "Ajoutez le budget.")
        second.remove("fiche-a")
        assert first.get("fiche-a") is None


def test_the_audit_of_both_servers_is_one_log(postgres_url):
    with two(PgAuditLog, postgres_url) as (first, second):
        first.record("Aline", "proposition", "a")
        assert second.last_entries()["a"]["actor"] == "Aline"
        second.record("Marie", "publication", "a")
        assert first.last_entries()["a"]["action"] == "publication"
        assert [e["actor"] for e in first.entries("a")] == ["Aline", "Marie"]


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_partner_added_on_another_server_is_allowed_once_the_refresh_time_has_passed(postgres_url):
    ticks = Ticks()
    reader = PgPartnerStore(server(postgres_url), refresh_seconds=5, clock=ticks)
    writer = PgPartnerStore(server(postgres_url), refresh_seconds=5, clock=ticks)
    try:
        assert reader.origins() == frozenset()
        writer.add("https://a.exemple.org", "A", "coordinatrice")
        assert writer.origins() == {"https://a.exemple.org"}, "a server sees its own change at once"
        ticks.now = 4.9
        assert reader.origins() == frozenset()
        ticks.now = 5.0
        assert reader.origins() == {"https://a.exemple.org"}
    finally:
        reader.close()
        writer.close()


def test_the_side_tables_live_in_the_default_schema(postgres_url):
    stores = [PgKeyStore(server(postgres_url)), PgAuditLog(server(postgres_url)), PgProposalStore(server(postgres_url))]
    database = Database(postgres_url)
    try:
        tables = {
            row[0]: row[1]
            for row in database.execute(
                "SELECT table_name, table_schema FROM information_schema.tables WHERE table_name LIKE 'kb\\_%%'"
            )
        }
        assert {name: tables[name] for name in ("kb_keys", "kb_audit", "kb_proposals")} == dict.fromkeys(
            ("kb_keys", "kb_audit", "kb_proposals"), "public"
        )
    finally:
        database.close()
        for store in stores:
            store.close()


@contextmanager
def refusing_connections(maintenance_url: str, url: str):
    """The database stops answering: new connections refused, open ones cut."""
    name = url.partition("?")[0].rsplit("/", 1)[1]
    with psycopg.connect(maintenance_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        try:
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def test_a_database_down_is_a_french_503_and_the_partner_list_read_last_stays(postgres_server, postgres_url):
    keys = PgKeyStore(server(postgres_url))
    partners = PgPartnerStore(server(postgres_url), refresh_seconds=0)
    try:
        key = keys.create("Aline")
        partners.add("https://a.exemple.org", "A", "coordinatrice")
        assert partners.origins() == {"https://a.exemple.org"}
        with refusing_connections(postgres_server, postgres_url):
            with pytest.raises(BackendUnavailable) as caught:
                keys.verify(key)
            assert caught.value.http_status == 503 and "ne répond pas" in str(caught.value)
            assert partners.origins() == {"https://a.exemple.org"}, "pages keep being served"
        restarted = PgKeyStore(server(postgres_url))
        assert restarted.verify(key) == Actor("Aline", "coordination"), "nothing lost"
        restarted.close()
    finally:
        keys.close()
        partners.close()
