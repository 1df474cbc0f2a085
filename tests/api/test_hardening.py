"""Defects found by probing the running product, each reproduced first (see issue "Hardening").

Real app, real index (Chroma on a temp dir), the toy embedder (vectors computable by hand) or a
deliberately slow one where the point is timing structure, not speed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from kb.keys import KeyStore
from kb.settings import Settings
from tests.apps import app_over
from tests.fakes import ToyEmbedder
from tests.servers import serve_in_thread

MINI = Path(__file__).parents[1] / "fixtures" / "mini-corpus"
FICHE = {
    "title": "Un atelier vélo solidaire dans un bourg rural",
    "doc_type": "fiche expérience",
    "sector": "développement local",
    "themes": ["mobilité"],
    "territory": "Communauté de communes du Val Fleuri (Drôme)",
    "porteur": "Association Biclou Rural",
    "summary": "Un atelier d'autoréparation de vélos ouvert deux après-midi par semaine dans l'ancienne poste.",
    "sections": {"résultats": "En un an, 85 vélos remis en état ont été vendus à petit prix."},
}


class SlowEmbedder(ToyEmbedder):
    """Each batch of passages takes ``seconds`` (sleeping, as a busy model would hold a lock)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def embed_passages(self, texts):
        time.sleep(self.seconds)
        return super().embed_passages(texts)


@pytest.fixture
def toy_api(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    with TestClient(app_over(settings, ToyEmbedder(), ingest=[MINI])) as client:
        yield client, {"Authorization": f"Bearer {key}"}, settings


def test_a_long_write_never_makes_readers_wait_for_its_embedding(tmp_path):
    """Defect 1: searches waited for the embedding lock a write held (12 s for /search and
    /health during a 12.5 s write). Each passage batch here takes 0.6 s: a search that queued
    behind one would take that long; a search that does not takes milliseconds."""
    settings = Settings(data_dir=tmp_path / "data", embedding_batch_size=2)
    ingest_model = ToyEmbedder()
    app = app_over(settings, ingest_model, ingest=[MINI])
    slow = SlowEmbedder(0.6)
    app.dependency_overrides.clear()
    from api.deps import get_embedder

    app.dependency_overrides[get_embedder] = lambda: slow
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    long_fiche = {**FICHE, "id": "atelier-long", "sections": {"étapes": "Une étape détaillée du projet. " * 400}}
    with serve_in_thread(app) as base:
        with httpx.Client(base_url=base, timeout=60) as reader:
            baseline = []
            for _ in range(5):
                started = time.perf_counter()
                assert reader.get("/search", params={"q": "épicerie"}).status_code == 200
                baseline.append(time.perf_counter() - started)
            during: list[float] = []
            write: dict = {}

            def writer():
                started = time.perf_counter()
                write["response"] = httpx.post(
                    f"{base}/documents", json=long_fiche, headers={"Authorization": f"Bearer {key}"}, timeout=120
                )
                write["seconds"] = time.perf_counter() - started

            thread = threading.Thread(target=writer)
            thread.start()
            time.sleep(0.3)
            while thread.is_alive():
                for path, params in (("/search", {"q": "transport solidaire"}), ("/health", None)):
                    started = time.perf_counter()
                    assert reader.get(path, params=params).status_code == 200
                    during.append(time.perf_counter() - started)
                time.sleep(0.05)
            thread.join()
    assert write["response"].status_code == 201, write["response"].text
    assert write["seconds"] > 3 and len(during) >= 10
    # structural, not a speed figure: nothing waited for a one-second batch
    assert max(during) < 0.4, (max(during), sorted(baseline))
