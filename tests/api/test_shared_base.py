"""Several API servers on one PostgreSQL base, in one process: each app keeps its own index
objects and caches (registry snapshot, lexical index, vocabulary), as a server on another
machine would, over a toy embedder; the database goes down, read-only, and comes back."""

from __future__ import annotations

import time

import psycopg
import pytest
from fastapi.testclient import TestClient

from kb.core.errors import ConflictError
from kb.core.settings import Settings
from kb.storage.backend import open_backend
from services import runtime
from tests.api.test_coordination import FICHE
from tests.apps import app_over
from tests.fakes import ToyEmbedder

# the toy embedder finds every fiche alike: published as distinct on purpose
DISTINCT = {"duplicate_reason": "fiches de test"}


def _settings(tmp_path, name: str, url: str) -> Settings:
    # no background warm-up: its queries would race the administrator's actions below (a
    # connection it opens while the base turns read-only keeps writing)
    return Settings(
        data_dir=tmp_path / name, database_url=url, database_timeout_s=1, backend_retry_s=0.01, warm_up=False
    )


def _client(settings: Settings) -> TestClient:
    return TestClient(app_over(settings, ToyEmbedder()))


def _auth(settings: Settings) -> dict:
    keys = open_backend(settings).key_store()
    try:
        return {"Authorization": f"Bearer {keys.create('coordinatrice')}"}
    finally:
        keys.close()


def _found(client: TestClient, query: str) -> list[str]:
    response = client.get("/search", params={"q": query})
    assert response.status_code == 200, response.text
    return [result["doc_id"] for result in response.json()["results"]]


def _back(client: TestClient) -> None:
    """Wait for the server to answer again after the database came back (without a restart):
    the pool reconnects with a backoff of a few seconds."""
    deadline = time.monotonic() + 60
    while client.get("/health").status_code != 200:
        assert time.monotonic() < deadline, "the server did not recover"
        time.sleep(0.2)


def _cited(client: TestClient, question: str) -> list[str]:
    response = client.post("/ask", json={"question": question})
    assert response.status_code == 200, response.text
    body = response.json()  # a base of one document answers with its nearest, not a citation
    return [doc["doc_id"] for doc in body["sources"] + body.get("nearest", [])]


class _Admin:
    """What a database administrator does to the test's base (on the maintenance database)."""

    def __init__(self, url: str) -> None:
        base, _, query = url.partition("?")
        self.name = base.rsplit("/", 1)[1]
        self.maintenance = f"{base.rsplit('/', 1)[0]}/postgres" + (f"?{query}" if query else "")

    def _run(self, *statements: str) -> None:
        with psycopg.connect(self.maintenance, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def _cut(self) -> str:
        return f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'"

    def stop(self) -> None:
        self._run(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS false', self._cut())

    def start(self) -> None:
        self._run(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS true')

    def read_only(self, on: bool) -> None:
        self._run(
            f'ALTER DATABASE "{self.name}" SET default_transaction_read_only = {"on" if on else "off"}', self._cut()
        )


@pytest.fixture
def two_servers(tmp_path, postgres_url):
    first, second = _settings(tmp_path, "a", postgres_url), _settings(tmp_path, "b", postgres_url)
    with _client(first) as a, _client(second) as b:
        yield a, b, _auth(first), first


def test_a_write_on_one_server_is_read_at_once_on_the_other(two_servers):
    a, b, auth, _ = two_servers
    assert _found(b, "atelier vélo") == []  # b's caches are filled before the write
    assert b.get("/vocabulary").json()["themes"] == []

    response = a.post("/documents", params=DISTINCT, json={**FICHE, "id": "atelier-velo"}, headers=auth)
    assert response.status_code == 201, response.text

    assert _found(b, "atelier vélo") == ["atelier-velo"]
    assert "atelier-velo" in _cited(b, "Comment ouvrir un atelier vélo ?")
    assert "mobilité" in b.get("/vocabulary").json()["themes"]
    assert b.get("/documents/atelier-velo").json()["title"] == FICHE["title"]
    assert b.get("/stats").json()["documents"] == 1

    assert a.delete("/documents/atelier-velo", headers=auth).status_code == 200
    for server in (a, b):
        assert _found(server, "atelier vélo") == []
        assert server.get("/documents/atelier-velo").status_code == 404
        assert server.get("/vocabulary").json()["themes"] == []


def test_one_id_posted_on_two_servers_at_once_is_created_once(two_servers):
    """The id is checked again under the base's writer lock: a fiche of the same id written
    through the other server between the first check and the lock is a 409, not a silent
    replacement."""
    a, b, auth, _ = two_servers
    writer = b.app.state.holder.get().writer
    fiche = {**FICHE, "id": "atelier-velo"}
    on_a: list[int] = []

    def meanwhile_on_a(*_) -> None:  # runs after b's first check, before b takes the lock
        on_a.append(a.post("/documents", params=DISTINCT, json=fiche, headers=auth).status_code)

    submission, _ = writer.from_fiche({**fiche, "title": "Un autre atelier vélo"})
    with pytest.raises(ConflictError, match="existe déjà"):
        writer.submit(submission, "coordinatrice", check=meanwhile_on_a)
    assert on_a == [201]
    assert b.get("/documents/atelier-velo").json()["title"] == FICHE["title"]


def test_a_server_follows_a_reindex_run_by_another_process(two_servers, tmp_path, postgres_url):
    a, b, auth, _ = two_servers
    assert a.post("/documents", params=DISTINCT, json={**FICHE, "id": "atelier-velo"}, headers=auth).status_code == 201
    assert _found(b, "atelier vélo") == ["atelier-velo"]

    # the rebuild reads a's files (same machine here), switches to gen-0002 and drops gen-0001
    report = runtime.reindex(_settings(tmp_path, "a", postgres_url), embedder=ToyEmbedder())
    assert report.ok

    for server in (a, b):
        assert _found(server, "atelier vélo") == ["atelier-velo"]
        assert server.get("/documents/atelier-velo").status_code == 200
        assert server.app.state.holder.kb.index.location.generation == "gen-0002"
        assert server.get("/health").json()["status"] == "ok"

    # a second rebuild: the local cache of the first generation (a's lexical index, saved by
    # its write) goes
    first_cache = a.app.state.holder._retired.index.local_cache
    assert first_cache.exists()
    assert runtime.reindex(_settings(tmp_path, "a", postgres_url), embedder=ToyEmbedder()).ok
    for server in (a, b):
        assert _found(server, "atelier vélo") == ["atelier-velo"]
    assert not first_cache.exists()


def test_the_database_down_is_a_french_503_until_it_is_back(two_servers, postgres_url):
    a, b, auth, _ = two_servers
    assert a.post("/documents", params=DISTINCT, json={**FICHE, "id": "atelier-velo"}, headers=auth).status_code == 201
    admin = _Admin(postgres_url)
    admin.stop()
    try:
        search = b.get("/search", params={"q": "atelier vélo"})
        assert search.status_code == 503
        assert "ne répond pas" in search.json()["detail"]
        assert b.post("/ask", json={"question": "Comment ouvrir un atelier vélo ?"}).status_code == 503
        write = a.post("/documents", params=DISTINCT, json={**FICHE, "id": "autre-atelier"}, headers=auth)
        assert write.status_code == 503
        health = b.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "dégradé"
    finally:
        admin.start()
    _back(b)
    assert _found(b, "atelier vélo") == ["atelier-velo"]
    assert a.get("/documents/autre-atelier").status_code == 404  # the failed write left nothing
    assert a.get("/health").json()["status"] == "ok"


def test_a_read_only_database_refuses_writes_in_french_and_still_answers(two_servers, postgres_url):
    a, b, auth, _ = two_servers
    assert a.post("/documents", params=DISTINCT, json={**FICHE, "id": "atelier-velo"}, headers=auth).status_code == 201
    admin = _Admin(postgres_url)
    admin.read_only(True)
    try:
        write = a.post("/documents", params=DISTINCT, json={**FICHE, "id": "autre-atelier"}, headers=auth)
        assert write.status_code == 503
        assert "lecture seule" in write.json()["detail"]
        assert a.delete("/documents/atelier-velo", headers=auth).status_code == 503
        health = b.get("/health").json()
        assert health["status"] == "dégradé"
        assert health["backends"]["écriture"] == "base PostgreSQL en lecture seule"
        assert _found(b, "atelier vélo") == ["atelier-velo"]
    finally:
        admin.read_only(False)
    assert a.get("/documents/autre-atelier").status_code == 404
    assert a.post("/documents", params=DISTINCT, json={**FICHE, "id": "autre-atelier"}, headers=auth).status_code == 201
    assert sorted(_found(b, "atelier vélo")) == ["atelier-velo", "autre-atelier"]


def test_a_server_started_while_the_database_is_down_opens_it_once_back(tmp_path, postgres_url):
    settings = _settings(tmp_path, "a", postgres_url)
    admin = _Admin(postgres_url)
    admin.stop()
    try:
        with _client(settings) as client:
            refused = client.get("/search", params={"q": "atelier vélo"})
            assert refused.status_code == 503
            assert "ne répond pas" in refused.json()["detail"]
            admin.start()
            _back(client)
            assert _found(client, "atelier vélo") == []
            assert client.get("/health").json()["status"] == "ok"
    finally:
        admin.start()


def test_a_server_started_on_a_read_only_base_serves_its_reads(tmp_path, postgres_url):
    settings = _settings(tmp_path, "a", postgres_url)
    auth = _auth(settings)
    with _client(settings) as client:
        assert (
            client.post("/documents", params=DISTINCT, json={**FICHE, "id": "atelier-velo"}, headers=auth).status_code
            == 201
        )
    admin = _Admin(postgres_url)
    admin.read_only(True)
    try:
        with _client(settings) as client:  # a restart: its start-up reconciliation cannot write
            assert _found(client, "atelier vélo") == ["atelier-velo"]
            write = client.post("/documents", params=DISTINCT, json={**FICHE, "id": "autre-atelier"}, headers=auth)
            assert write.status_code == 503
            assert "lecture seule" in write.json()["detail"]
    finally:
        admin.read_only(False)
