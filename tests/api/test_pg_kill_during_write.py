"""Kill a real server, or a real `kb ingest`, during writes on PostgreSQL: nothing acknowledged
is lost, and every document's kept file, registry row and vectors are of one version."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import psycopg
import pytest

from kb.core.settings import Settings
from kb.storage.backend import open_backend
from kb.storage.postgres.database import generation_schema
from tests.api.test_kill_during_write import DISTINCT, _start, big_fiche, kill_during, post_fiches
from tests.ingest.test_kill_during_ingest import _kb
from tests.servers import free_port

pytestmark = pytest.mark.slow
REVISED_FILES = "SELECT COUNT(*) FROM kb_files WHERE convert_from(data, 'UTF8') LIKE '%révisés%'"


def _environment(tmp_path, database_url: str) -> dict:
    return {**os.environ, "KB_DATA_DIR": str(tmp_path / "data"), "KB_DATABASE_URL": database_url}


def _documents(database_url: str) -> dict[str, tuple]:
    """doc_id → (registry version, kept file's version, chunk count, live vectors of the version)."""
    with psycopg.connect(database_url) as conn:
        schema = generation_schema(conn.execute("SELECT current FROM kb_generation").fetchone()[0])
        rows = conn.execute(
            f"SELECT d.doc_id, d.version, f.version, d.chunk_count, (SELECT COUNT(*) FROM {schema}.vectors v "
            f"WHERE v.doc_id = d.doc_id AND v.version = d.version) FROM {schema}.documents d "
            "LEFT JOIN kb_files f ON f.doc_id = d.doc_id"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def _assert_whole(documents: dict[str, tuple]) -> None:
    for doc_id, (version, file_version, chunks, vectors) in documents.items():
        assert file_version == version, f"{doc_id}: the kept file is not the indexed version"
        assert vectors == chunks, f"{doc_id} is half-indexed"


def test_sigkill_of_a_server_during_a_write_on_postgresql(tmp_path, postgres_url):
    keys = open_backend(Settings(data_dir=tmp_path / "data", database_url=postgres_url)).key_store()
    key = keys.create("coordinatrice")
    keys.close()
    auth = {"Authorization": f"Bearer {key}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(tmp_path / "data", port, KB_DATABASE_URL=postgres_url)
    try:
        acknowledged = post_fiches(base, auth, 4)
        replacement = {**big_fiche(), "id": "fiche-0"}
        kill_during(
            server,
            lambda: httpx.put(f"{base}/documents/fiche-0", params=DISTINCT, json=replacement, headers=auth, timeout=60),
        )
    finally:
        if server.poll() is None:
            server.kill()

    _assert_whole(_documents(postgres_url))  # before any reconciliation: atomic by itself
    server = _start(tmp_path / "data", port, KB_DATABASE_URL=postgres_url)
    try:
        documents = _documents(postgres_url)
        assert set(acknowledged) <= set(documents)
        _assert_whole(documents)
        for n, doc_id in enumerate(acknowledged[1:], start=1):
            results = httpx.get(f"{base}/search", params={"q": f"Atelier vélo numéro {n}", "k": 10}).json()["results"]
            assert doc_id in [r["doc_id"] for r in results]
        replaced = httpx.get(f"{base}/documents/fiche-0").json()["text"]
        assert ("Fiche numéro 99" in replaced) != ("Fiche numéro 0" in replaced), "old or new, never a mix"
        status = httpx.get(f"{base}/stats").json()
        assert status["vectors"] == status["chunks"], "orphans swept at start-up"
    finally:
        server.kill()
        server.wait()


def test_sigkill_of_kb_ingest_on_postgresql(tmp_path, postgres_url, fixtures_dir):
    env = _environment(tmp_path, postgres_url)
    folder = tmp_path / "docs"
    folder.mkdir()
    template = (fixtures_dir / "page.html").read_text(encoding="utf-8")
    for n in range(120):
        (folder / f"page-{n:03d}.html").write_text(template.replace("douze", f"{n} fois douze"))
    assert _kb("ingest", str(folder), env=env).returncode == 0
    for path in folder.iterdir():
        path.write_text(path.read_text().replace("Résultats", "Résultats révisés"))
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "ingest", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        while time.time() < deadline and process.poll() is None:
            if conn.execute(REVISED_FILES).fetchone()[0]:
                break
            time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()

    documents = _documents(postgres_url)
    assert len(documents) == 120, "no acknowledged document is lost"
    _assert_whole(documents)
    assert 0 < _revised(postgres_url) < 120, "the kill should land mid-run"
    resumed = _kb("ingest", str(folder), env=env)
    assert resumed.returncode == 0, resumed.stderr
    _assert_whole(_documents(postgres_url))
    assert _revised(postgres_url) == 120


def _revised(database_url: str) -> int:
    """Kept files of the revised version (each kept with its indexed version: _assert_whole)."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(REVISED_FILES).fetchone()[0]
