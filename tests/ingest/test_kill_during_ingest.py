"""Kill a real `kb ingest` process mid-run: no document may be half-indexed or lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb.storage.embedded.registry import Registry

pytestmark = pytest.mark.slow


def _kb(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True, timeout=600
    )


def _live_vectors(data_dir: Path) -> dict[str, set[str]]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    generation = (data_dir / "CURRENT").read_text().strip()
    client = chromadb.PersistentClient(
        path=str(data_dir / generation / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.get_collection(f"passerelles-{generation}")
    found: dict[str, set[str]] = {}
    for chunk in collection.get(include=[])["ids"]:
        found.setdefault(chunk.split("::")[0] + "::" + chunk.split("::")[1], set()).add(chunk)
    return found


def test_sigkill_mid_ingest_leaves_every_document_whole(tmp_path, fixtures_dir):
    folder = tmp_path / "docs"
    folder.mkdir()
    template = (fixtures_dir / "page.html").read_text(encoding="utf-8")
    for n in range(240):
        (folder / f"page-{n:03d}.html").write_text(template.replace("douze", f"{n} fois douze"))
    env = {**os.environ, "KB_DATA_DIR": str(tmp_path / "data")}
    assert _kb("ingest", str(folder), env=env).returncode == 0

    for path in folder.iterdir():
        path.write_text(path.read_text().replace("Résultats", "Résultats révisés"))
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "ingest", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Kill as soon as the first revised documents are committed: mid-run, mid-batch.
    registry_path = tmp_path / "data" / "gen-0001" / "registry.sqlite3"
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        with sqlite3.connect(registry_path, timeout=30) as db:
            done = db.execute("SELECT COUNT(*) FROM documents WHERE text LIKE '%révisés%'").fetchone()[0]
        if done:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()

    data_dir = tmp_path / "data"
    registry = Registry(data_dir / (data_dir / "CURRENT").read_text().strip() / "registry.sqlite3")
    documents = list(registry.documents())
    assert len(documents) == 240, "no acknowledged document is lost"
    live = _live_vectors(data_dir)
    revised = 0
    for stored in documents:
        key = f"{stored.metadata.doc_id}::{stored.version}"
        assert len(live.get(key, ())) == stored.chunk_count, f"{key} is half-indexed"
        text = registry.document_text(stored.metadata.doc_id)
        revised += "Résultats révisés" in text
    registry.close()
    assert 0 < revised < 240, f"the kill should land mid-run (revised: {revised})"

    resumed = _kb("ingest", str(folder), env=env)
    assert resumed.returncode == 0, resumed.stderr
    live = _live_vectors(data_dir)
    registry = Registry(data_dir / (data_dir / "CURRENT").read_text().strip() / "registry.sqlite3")
    versions = registry.versions()
    assert set(live) == {f"{doc}::{version}" for doc, version in versions.items()}, "orphans swept"
    assert all("Résultats révisés" in registry.document_text(doc) for doc in versions)
    registry.close()
