"""Kill a real server process during a write: no acknowledged document may be lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from kb.storage.embedded.keys import KeyStore
from tests.api.test_coordination import FICHE
from tests.servers import free_port

pytestmark = pytest.mark.slow


# the fiches share most of their text on purpose: published as distinct despite the likeness
DISTINCT = {"duplicate_reason": "fiches de test au texte commun"}


def _start(data_dir, port: int, **settings: str) -> subprocess.Popen:
    """``kb serve`` on ``data_dir`` (``settings``: more ``KB_`` variables), once it answers."""
    env = {**os.environ, "KB_DATA_DIR": str(data_dir), **settings}
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def _fiche(n: int) -> dict:
    return {
        **FICHE,
        "id": f"fiche-{n}",
        "title": f"Atelier vélo numéro {n} dans un bourg rural",
        "summary": FICHE["summary"] + f" Fiche numéro {n}. " + "Le détail des étapes suit. " * (3 + n),
    }


def big_fiche() -> dict:
    """A long fiche (about 60 passages to embed): a kill lands in the middle of its write."""
    long_text = "Les bénévoles réparent des vélos et accueillent les habitants chaque semaine. " * 180
    return {**_fiche(99), "sections": {name: long_text for name in ("contexte", "étapes", "résultats", "suites")}}


def post_fiches(base: str, auth: dict, count: int) -> list[str]:
    """Publish ``count`` fiches, each acknowledged (201): their ids."""
    acknowledged = []
    for n in range(count):
        response = httpx.post(f"{base}/documents", params=DISTINCT, json=_fiche(n), headers=auth, timeout=60)
        assert response.status_code == 201
        acknowledged.append(response.json()["doc_id"])
    return acknowledged


def kill_during(server: subprocess.Popen, write) -> None:
    """SIGKILL ``server`` a second into ``write()`` (an HTTP request, run in a thread)."""

    def in_flight():
        try:
            write()
        except httpx.HTTPError:
            pass  # the server dies under it

    writer = threading.Thread(target=in_flight)
    writer.start()
    time.sleep(1.0)
    server.send_signal(signal.SIGKILL)
    server.wait()
    writer.join()


def test_sigkill_during_a_write_loses_no_acknowledged_document(tmp_path):
    data_dir = tmp_path / "data"
    key = KeyStore(data_dir / "keys.json").create("coordinatrice")
    auth = {"Authorization": f"Bearer {key}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(data_dir, port)
    try:
        acknowledged = post_fiches(base, auth, 5)
        # a long fiche (about 60 passages to embed): the kill lands in the middle of its write
        kill_during(
            server, lambda: httpx.post(f"{base}/documents", params=DISTINCT, json=big_fiche(), headers=auth, timeout=60)
        )
    finally:
        if server.poll() is None:
            server.kill()

    server = _start(data_dir, port)
    try:
        for doc_id in acknowledged:
            assert httpx.get(f"{base}/documents/{doc_id}").status_code == 200, doc_id
        for n, doc_id in enumerate(acknowledged):
            results = httpx.get(f"{base}/search", params={"q": f"Atelier vélo numéro {n}", "k": 10}).json()["results"]
            assert doc_id in [r["doc_id"] for r in results]
        in_flight_doc = httpx.get(f"{base}/documents/fiche-99")
        if in_flight_doc.status_code == 200:  # written before the kill: then whole and searchable
            assert "Fiche numéro 99" in in_flight_doc.json()["text"]
        status = httpx.get(f"{base}/stats").json()
        assert status["vectors"] == status["chunks"], "no orphan or missing vector"
    finally:
        server.kill()
        server.wait()
