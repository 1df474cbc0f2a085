"""Backend faults get clear French answers and change nothing (issue "Hardening", defects 6-7):
a real `chroma run` server is stopped under a running app, then started again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from services import runtime
from tests.api.test_coordination import FICHE
from tests.apps import app_over
from tests.conftest import start_chroma_server, stop_process
from tests.fakes import ToyEmbedder
from tests.servers import free_port

pytestmark = pytest.mark.slow
MINI = Path(__file__).parents[1] / "fixtures" / "mini-corpus"


@pytest.fixture
def chroma(tmp_path):
    port = free_port()
    path = tmp_path / "chroma"
    holder = {"process": start_chroma_server(path, port), "url": f"http://127.0.0.1:{port}"}

    def restart():
        holder["process"] = start_chroma_server(path, port)

    def stop():
        stop_process(holder["process"])

    holder["restart"], holder["stop"] = restart, stop
    yield holder
    if holder["process"].poll() is None:
        stop_process(holder["process"])


def _unavailable(response) -> bool:
    return response.status_code == 503 and response.json()["detail"].startswith("Service momentanément indisponible")


def test_chroma_down_gives_503s_changes_nothing_and_recovers(tmp_path, chroma):
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma["url"])
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    auth = {"Authorization": f"Bearer {key}"}
    audit = settings.data_dir / "audit.jsonl"
    with TestClient(app_over(settings, ToyEmbedder(), ingest=[MINI])) as client:
        assert client.post("/documents", json={**FICHE, "id": "atelier"}, headers=auth).status_code == 201
        audit_before = audit.read_text()
        files_before = sorted(p.name for p in (settings.data_dir / "documents").iterdir())
        chroma["stop"]()

        health = client.get("/health")
        assert health.status_code == 503 and health.json()["backends"]["vecteurs"] != "ok"
        assert _unavailable(client.get("/search", params={"q": "épicerie"}))
        assert _unavailable(client.post("/ask", json={"question": "comment monter une épicerie ?"}))
        assert client.get("/stats").status_code == 503
        # a write that fails changes nothing: no new file, no audit line, the old version stays
        assert _unavailable(client.post("/documents", json={**FICHE, "id": "autre"}, headers=auth))
        changed = {**FICHE, "id": "atelier", "summary": FICHE["summary"] + " Nouvelle version."}
        assert _unavailable(client.put("/documents/atelier", json=changed, headers=auth))
        assert sorted(p.name for p in (settings.data_dir / "documents").iterdir()) == files_before
        assert audit.read_text() == audit_before
        assert "Nouvelle version" not in client.get("/documents/atelier").json()["text"]
        # a delete is applied (the registry is the truth); its vectors go with the next sweep
        assert client.delete("/documents/atelier", headers=auth).status_code == 200
        assert client.get("/documents/atelier").status_code == 404
        assert json.loads(audit.read_text().splitlines()[-1])["action"] == "suppression"

        chroma["restart"]()
        assert client.get("/health").status_code == 200
        assert client.get("/search", params={"q": "épicerie"}).status_code == 200
        assert client.post("/documents", json={**FICHE, "id": "autre"}, headers=auth).status_code == 201
        kb = client.app.state.holder.kb
        versions = kb.index.registry.versions()
        stored = kb.index.vectors.versions_by_chunk().values()
        assert all(versions.get(doc) == version for doc, version in stored), "orphans swept"


def test_serve_with_chroma_down_starts_degraded_and_recovers(tmp_path, chroma):
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma["url"])
    runtime.ingest(settings, [MINI], embedder=ToyEmbedder())
    chroma["stop"]()
    app = app_over(settings, ToyEmbedder())
    app.state.retry_seconds = 0
    with TestClient(app) as client:
        app.state.holder.retry_seconds = 0
        health = client.get("/health")
        assert health.status_code == 503 and "Chroma" in health.json()["detail"]
        assert _unavailable(client.get("/search", params={"q": "épicerie"}))
        chroma["restart"]()
        assert client.get("/health").status_code == 200
        assert client.get("/search", params={"q": "épicerie"}).json()["results"]


def test_cli_with_chroma_down_prints_one_french_line(tmp_path, chroma):
    env = {"KB_DATA_DIR": str(tmp_path / "data"), "KB_CHROMA_URL": chroma["url"], "PATH": "/usr/bin:/bin"}
    chroma["stop"]()
    for args in (["status"], ["search", "épicerie"], ["ingest", str(MINI)]):
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode != 0, args
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) <= 2 and lines[0].startswith("Erreur :") and "Chroma" in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
