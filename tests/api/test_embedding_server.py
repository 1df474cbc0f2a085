"""An index embedded by an OpenAI-compatible server (the stub, a real process): ingestion,
search and answers through the API, and every way the server can fail (issue 30 §1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from cli.main import app as cli_app
from kb.core.errors import BackendUnavailable, IndexMismatchError, IngestInterrupted
from kb.core.settings import Settings
from kb.index.embeddings import RecordedModel
from kb.storage.embedded.keys import KeyStore
from services import runtime
from tests.api.test_coordination import FICHE
from tests.apps import copy_index
from tests.servers import free_port

MINI = Path(__file__).parents[1] / "fixtures" / "mini-corpus"
KEY = "cle-du-serveur-d-embeddings"


def _settings(tmp_path: Path, url: str, **options) -> Settings:
    return Settings(
        **{
            "data_dir": tmp_path / "data",
            "embedding_backend": "openai",
            "embedding_url": url,
            "embedding_model": "ok",
            "embedding_api_key": KEY,
            "embedding_query_prefix": "query: ",
            "embedding_passage_prefix": "passage: ",
            "embedding_batch_size": 4,
            "embedding_concurrency": 2,
            "embedding_retries": 1,
            "embedding_timeout_s": 2.0,
            "warm_up": False,
            **options,
        }
    )


@pytest.fixture(scope="module")
def stub_index(embedding_server, tmp_path_factory) -> Path:
    """The mini corpus ingested once through the stub (model ``ok``, dimension 128): a test
    copies it (``_ingested``)."""
    embedding_server.reset()
    settings = _settings(tmp_path_factory.mktemp("stub-index"), embedding_server.url)
    assert len(runtime.ingest(settings, [MINI]).added) == 4
    return settings.data_dir


def _ingested(index: Path, settings: Settings, stub) -> Settings:
    stub.reset()
    return copy_index(index, settings)


def _unavailable(response, *words: str) -> bool:
    detail = response.json()["detail"]
    return (
        response.status_code == 503
        and detail.startswith("Service momentanément indisponible : Le serveur d'embeddings")
        and all(word in detail for word in words)
        and KEY not in detail
    )


def _state(settings: Settings) -> dict:
    """What a failed write must leave as it was: the stored files and the documents' versions
    (read without the server, which may be down)."""
    index = runtime.open_index(settings, RecordedModel(f"openai/{settings.embedding_model}", 128))
    try:
        versions = {doc.metadata.doc_id: doc.version for doc in index.documents()}
        counts = index.counts()
    finally:
        index.close()
    folder = settings.data_dir / "documents"
    files = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    return {"versions": versions, "counts": counts, "files": files}


def test_ingest_through_the_server_then_search_and_ask_find_the_right_document(tmp_path, embedding_stub):
    settings = _settings(tmp_path, embedding_stub.url)
    report = runtime.ingest(settings, [MINI])
    assert sorted(report.added) == sorted(p.stem for p in MINI.glob("*.md")) and not report.failed

    requests = embedding_stub.requests()
    inputs = [request["body"]["input"] for request in requests]
    assert inputs[0] == ["dimension"]
    assert all(len(batch) <= 4 for batch in inputs) and sum(len(batch) for batch in inputs[1:]) > 8
    assert all(text.startswith("passage: ") for batch in inputs[1:] for text in batch)
    assert {request["headers"]["authorization"] for request in requests} == {f"Bearer {KEY}"}
    assert max(request["in_flight"] for request in requests) <= 2

    index = runtime.open_index(settings)
    try:
        assert index.status()["embedding_model"] == "openai/ok" and index.status()["dimension"] == 128
        dense = index.dense_search("une épicerie de village rouverte en coopérative", 3)
        assert dense[0].metadata.doc_id == "exp-epicerie-village", "the server's vectors are searched"
    finally:
        index.close()

    embedding_stub.reset()
    with TestClient(create_app(settings)) as client:
        found = client.get("/search", params={"q": "chauffeurs bénévoles du transport solidaire"}).json()
        assert found["results"][0]["doc_id"] == "exp-transport-solidaire"
        answer = client.post("/ask", json={"question": "Comment rouvrir une épicerie de village ?"})
        # answered or not depends on the thresholds of this model (calibration), not on the server
        best = (answer.json()["citations"] or answer.json()["nearest"])[0]
        assert answer.status_code == 200 and best["doc_id"] == "exp-epicerie-village"
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["backends"]["embeddings"] == "ok"
        assert client.get("/stats").json()["embedding_model"] == "openai/ok"
    queries = [r["body"]["input"] for r in embedding_stub.requests() if r["body"]["input"] != ["dimension"]]
    assert ["query: chauffeurs bénévoles du transport solidaire"] in queries


@pytest.mark.parametrize(
    ("mode", "words"),
    [("erreur", ["HTTP 500"]), pytest.param("muet", ["délai dépassé"], marks=pytest.mark.slow)],
)
def test_a_server_down_answers_503_changes_nothing_and_recovers(tmp_path, stub_index, embedding_stub, mode, words):
    settings = _settings(tmp_path, embedding_stub.url, embedding_timeout_s=0.5, embedding_retries=0)
    _ingested(stub_index, settings, embedding_stub)
    auth = {"Authorization": f"Bearer {KeyStore(settings.data_dir / 'keys.json').create('coordinatrice')}"}
    audit = settings.data_dir / "audit.jsonl"
    with TestClient(create_app(settings)) as client:
        assert client.get("/search", params={"q": "épicerie"}).status_code == 200
        before = _state(settings)
        embedding_stub.force(mode)

        assert _unavailable(client.get("/search", params={"q": "chauffeurs bénévoles"}), *words)
        assert _unavailable(client.post("/ask", json={"question": "Qui conduit les personnes âgées ?"}), *words)
        posted = client.post("/documents", json={**FICHE, "id": "atelier-velo"}, headers=auth)
        assert _unavailable(posted, *words), posted.text
        assert _state(settings) == before and not audit.exists()

        health = client.get("/health")
        assert health.status_code == 503 and health.json()["backends"]["embeddings"] == "injoignable"
        assert health.json()["backends"]["registre"] == "ok"

        embedding_stub.force(None)  # back up: /health sees it, writes and searches work again
        assert client.get("/health").json()["backends"]["embeddings"] == "ok"
        assert client.post("/documents", json={**FICHE, "id": "atelier-velo"}, headers=auth).status_code == 201
        found = client.get("/search", params={"q": "atelier vélo solidaire bourg"}).json()
        assert found["results"][0]["doc_id"] == "atelier-velo"


def test_the_api_starts_while_the_server_is_down_and_opens_once_it_answers(tmp_path, stub_index, embedding_stub):
    settings = _ingested(stub_index, _settings(tmp_path, embedding_stub.url, backend_retry_s=0.01), embedding_stub)
    embedding_stub.force("erreur")
    with TestClient(create_app(settings)) as client:
        health = client.get("/health")
        assert health.status_code == 503 and "Le serveur d'embeddings" in health.json()["detail"]
        assert _unavailable(client.get("/search", params={"q": "épicerie"}), "HTTP 500")
        embedding_stub.force(None)
        assert client.get("/search", params={"q": "épicerie"}).status_code == 200
        assert client.get("/health").status_code == 200


def _corpus(tmp_path: Path, extra: int) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(MINI, folder)
    for n in range(extra):
        (folder / f"note-{n:02d}.md").write_text(
            f'---\nid: note-{n:02d}\ntitle: "Note de terrain numéro {n}"\ndoc_type: fiche expérience\n'
            "sector: action sociale\n---\n# Note\n\n"
            + "\n\n".join(f"## Partie {p}\n\nLa maison de services {n} accueille les habitants. " * 3 for p in range(3))
        )
    return folder


def test_kb_ingest_stops_cleanly_mid_run_and_a_second_run_completes_it(tmp_path, embedding_stub):
    folder = _corpus(tmp_path, extra=5)
    # a batch of one text, so that passages are stored a few documents at a time (four passages)
    one_by_one = {"embedding_batch_size": 1, "embedding_concurrency": 1}
    complete = _settings(tmp_path / "complete", embedding_stub.url, **one_by_one)
    assert len(runtime.ingest(complete, [folder]).added) == 9
    requests = len(embedding_stub.requests())

    embedding_stub.reset()
    embedding_stub.force("erreur", after=requests // 2)
    settings = _settings(tmp_path, embedding_stub.url, embedding_retries=0, **one_by_one)
    result = CliRunner().invoke(cli_app, ["ingest", str(folder)], env=_env(settings))
    assert result.exit_code == 1, result.output
    assert "Indexation arrêtée : Le serveur d'embeddings" in result.output and "HTTP 500" in result.output
    assert "relancez" in result.output.lower() and KEY not in result.output
    assert "échec" not in result.output, "not one failure line per remaining file"

    embedding_stub.force(None)
    index = runtime.open_index(settings)
    try:
        stored = index.documents()
        assert 0 < len(stored) < 9
        for document in stored:  # each one whole: its passages and their vectors
            chunks = index.document_chunks(document.metadata.doc_id)
            assert len(chunks) == document.chunk_count
            assert len(index.document_vectors(document.metadata.doc_id)) == document.chunk_count
        assert not index.registry.unsettled()
        assert index.lexical_search("maison de services", 50), "what was stored is searchable"
        kept = {document.metadata.doc_id: document.version for document in stored}
    finally:
        index.close()

    again = runtime.ingest(settings, [folder])
    assert sorted(again.unchanged) == sorted(kept) and len(again.added) == 9 - len(kept) and not again.failed


def _env(settings: Settings) -> dict[str, str]:
    return {
        "KB_DATA_DIR": str(settings.data_dir),
        "KB_EMBEDDING_BACKEND": "openai",
        "KB_EMBEDDING_URL": settings.embedding_url,
        "KB_EMBEDDING_MODEL": settings.embedding_model,
        "KB_EMBEDDING_API_KEY": KEY,
        "KB_EMBEDDING_BATCH_SIZE": str(settings.embedding_batch_size),
        "KB_EMBEDDING_CONCURRENCY": str(settings.embedding_concurrency),
        "KB_EMBEDDING_RETRIES": str(settings.embedding_retries),
        "KB_EMBEDDING_TIMEOUT_S": str(settings.embedding_timeout_s),
    }


def test_kb_ingest_with_the_server_down_from_the_start_writes_nothing(tmp_path):
    settings = _settings(tmp_path, f"http://127.0.0.1:{free_port()}/v1", embedding_retries=0)
    result = CliRunner().invoke(cli_app, ["ingest", str(MINI)], env=_env(settings))
    assert result.exit_code == 1
    assert "Erreur : Le serveur d'embeddings" in result.output and "ne répond pas" in result.output
    assert not (settings.data_dir / "documents").exists()
    with pytest.raises(BackendUnavailable):
        runtime.ingest(settings, [MINI])


def test_a_server_now_answering_another_dimension_is_refused_until_kb_reindex(tmp_path, stub_index, embedding_stub):
    settings = _ingested(stub_index, _settings(tmp_path, embedding_stub.url), embedding_stub)
    embedding_stub.set_dimension(64)  # another model served under the same name

    with pytest.raises(IndexMismatchError) as caught:
        runtime.open_index(settings)
    message = str(caught.value)
    assert "dimension 64" in message and "dimension 128" in message and "kb reindex" in message
    with TestClient(create_app(settings)) as client:
        assert client.get("/search", params={"q": "épicerie"}).status_code == 503
        assert "dimension 64" in client.get("/health").json()["detail"]
    result = CliRunner().invoke(cli_app, ["ingest", str(MINI)], env=_env(settings))
    assert result.exit_code == 1 and "dimension 128" in result.output

    result = CliRunner().invoke(cli_app, ["reindex"], env=_env(settings))
    assert result.exit_code == 0, result.output
    status = json.loads(CliRunner().invoke(cli_app, ["status", "--json"], env=_env(settings)).output)
    assert status["dimension"] == 64 and status["documents"] == 4


def test_a_server_changing_dimension_mid_run_writes_nothing(tmp_path, embedding_stub):
    settings = _settings(tmp_path, embedding_stub.url, embedding_model="dimension-changeante")
    with pytest.raises(IngestInterrupted) as caught:
        runtime.ingest(settings, [MINI])
    assert "dimension 136" in str(caught.value) and "0 document(s) indexé(s)" in str(caught.value)
    embedding_stub.reset()  # its first answer has the first dimension again
    index = runtime.open_index(settings)
    try:
        assert index.counts() == (0, 0) and index.vectors.count() == 0
    finally:
        index.close()


def test_kb_reindex_interrupted_keeps_the_current_index(tmp_path, stub_index, embedding_stub):
    settings = _ingested(stub_index, _settings(tmp_path, embedding_stub.url, embedding_retries=0), embedding_stub)
    embedding_stub.force("erreur", after=3)
    with pytest.raises(IngestInterrupted, match="Reconstruction abandonnée : Le serveur d'embeddings"):
        runtime.reindex(settings)
    embedding_stub.force(None)
    assert len(_state(settings)["versions"]) == 4
