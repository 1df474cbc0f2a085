"""The OpenAI-compatible embeddings client against the stub server (a real process,
tests/embedding_stub.py) and, for the shapes the stub does not produce, an httpx mock."""

from __future__ import annotations

import email.utils
import time

import httpx
import numpy as np
import pytest

from kb.core.errors import BackendUnavailable, IndexMismatchError, KBError
from kb.core.settings import Settings
from kb.index.embeddings import SentenceTransformerEmbedder, create_embedder
from kb.index.remote_embeddings import OpenAIEmbedder, _read_vectors, _retry_after
from tests.embedding_stub import vector
from tests.servers import free_port

KEY = "cle-secrete-0123456789"


def _embedder(url: str, model: str = "ok", **options) -> OpenAIEmbedder:
    return OpenAIEmbedder(url, model, **{"backoff_s": 0.01, "timeout_s": 5.0, **options})


def _bodies(stub) -> list[dict]:
    return [request["body"] for request in stub.requests()]


def test_batches_in_flight_together_keep_their_order_with_prefixes_and_the_key(embedding_stub):
    embedder = _embedder(
        embedding_stub.url + "/",  # a trailing slash is dropped
        "lent",
        api_key=KEY,
        query_prefix="query: ",
        passage_prefix="passage: ",
        batch_size=3,
        concurrency=2,
    )
    texts = [f"texte numéro {n} sur le transport solidaire {'rural ' * n}" for n in range(10)]
    vectors = embedder.embed_passages(texts)
    expected = np.array([vector("passage: " + text, 128) for text in texts], dtype=np.float32)
    assert vectors.shape == (10, 128) and vectors.dtype == np.float32
    assert np.allclose(vectors, expected, atol=1e-5), "rows read by their index, in input order"
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = embedder.embed_query("transport solidaire")
    assert np.allclose(query, vector("query: transport solidaire", 128), atol=1e-5)

    requests = embedding_stub.requests()
    inputs = [request["body"]["input"] for request in requests]
    assert inputs[0] == ["dimension"], "the dimension is asked once, with one short text"
    assert sorted(len(batch) for batch in inputs[1:-1]) == [1, 3, 3, 3]
    assert sorted(text for batch in inputs[1:-1] for text in batch) == sorted("passage: " + t for t in texts)
    assert inputs[-1] == ["query: transport solidaire"]
    assert all(request["body"]["model"] == "lent" for request in requests)
    assert {request["headers"]["authorization"] for request in requests} == {f"Bearer {KEY}"}
    assert requests[-1]["headers"]["content-type"] == "application/json"
    assert max(request["in_flight"] for request in requests) == 2, "at most KB_EMBEDDING_CONCURRENCY in flight"
    assert embedder.dimension == 128 and embedder.model_id == "openai/lent"
    assert len(embedding_stub.requests()) == len(requests), "the dimension is not asked again"


def test_no_key_no_authorization_header(embedding_stub):
    _embedder(embedding_stub.url).embed_query("bonjour")
    assert all("authorization" not in request["headers"] for request in embedding_stub.requests())


def test_429_then_ok_succeeds_after_retries(embedding_stub):
    embedder = _embedder(embedding_stub.url, "429-3", retries=3)
    assert embedder.embed_query("épicerie").shape == (128,)
    assert len(embedding_stub.requests()) == 5, "three 429s and the dimension, then the query"


@pytest.mark.parametrize(
    ("model", "options", "reason"),
    [
        ("erreur", {"retries": 2}, "ne répond pas : HTTP 500, 3 tentative(s)"),
        ("muet", {"retries": 1, "timeout_s": 0.3}, "ne répond pas : délai dépassé, 2 tentative(s)"),
        ("casse", {"retries": 2}, "répond mal : ce ne sont pas des embeddings"),
    ],
)
def test_a_failing_server_is_the_french_503_without_the_key(embedding_stub, model, options, reason):
    embedder = _embedder(embedding_stub.url, model, api_key=KEY, **options)
    with pytest.raises(BackendUnavailable) as caught:
        embedder.embed_query("épicerie")
    message = str(caught.value)
    assert message.startswith(f"Le serveur d'embeddings ({embedding_stub.url}, modèle « {model} »)")
    assert reason in message and KEY not in message
    assert caught.value.http_status == 503
    assert caught.value.body()["detail"].startswith("Service momentanément indisponible")
    retried = options["retries"] + 1 if model != "casse" else 1  # garbage is not asked again
    assert len(embedding_stub.requests()) == retried
    assert embedder.last_error


def test_a_server_down_is_the_french_503():
    embedder = _embedder(f"http://127.0.0.1:{free_port()}/v1", retries=1)
    with pytest.raises(BackendUnavailable, match="ne répond pas : connexion impossible"):
        _ = embedder.dimension


def test_vectors_of_another_dimension_are_refused(embedding_stub):
    embedder = _embedder(embedding_stub.url, "dimension-changeante")
    assert embedder.dimension == 128
    with pytest.raises(IndexMismatchError) as caught:
        embedder.embed_passages(["un passage", "un autre"])
    assert "dimension 136" in str(caught.value) and "dimension 128" in str(caught.value)
    assert "kb reindex" in str(caught.value)


def _mock(handler, **options) -> OpenAIEmbedder:
    return OpenAIEmbedder(
        "https://alice:motdepasse@albert.example/v1",
        "bge-m3",
        transport=httpx.MockTransport(handler),
        **{"backoff_s": 0.0, **options},
    )


def test_refusals_are_not_retried_and_the_url_password_is_never_shown():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(401, json={"error": {"message": "invalid api key"}})

    with pytest.raises(BackendUnavailable) as caught:
        _mock(handler, retries=3).embed_query("x")
    assert len(calls) == 1
    assert "refuse la requête : clé refusée (HTTP 401" in str(caught.value)
    assert "motdepasse" not in str(caught.value) and "https://albert.example/v1" in str(caught.value)
    assert str(calls[0].url) == "https://alice:motdepasse@albert.example/v1/embeddings"


def test_an_unknown_model_says_what_the_url_should_be():
    embedder = _mock(lambda request: httpx.Response(404, text="Not Found"))
    with pytest.raises(BackendUnavailable, match="sans /embeddings"):
        embedder.embed_query("x")


def test_the_retry_after_of_a_429_is_honoured_and_capped(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr("kb.index.remote_embeddings.time.sleep", waits.append)
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(503, headers={"Retry-After": "3600"}),
            httpx.Response(502),
            httpx.Response(200, json={"data": [{"index": 0, "embedding": [1.0, 0.0]}]}),  # the dimension
            httpx.Response(200, json={"data": [{"index": 0, "embedding": [3.0, 4.0]}]}),
        ]
    )
    embedder = _mock(lambda request: next(answers), retries=3, backoff_s=0.25)
    assert np.allclose(embedder.embed_query("x"), [0.6, 0.8])
    assert waits == [2.0, 10.0, 1.0], "Retry-After, capped, then the exponential back-off"


def test_retry_after_reads_seconds_and_dates():
    assert _retry_after("3") == 3.0
    assert _retry_after(None) is None and _retry_after("bientôt") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (_retry_after(later) or 0) <= 31


@pytest.mark.parametrize(
    "payload",
    [
        {"data": [{"index": 0, "embedding": [1.0, 0.0]}]},  # one vector for two texts
        {"data": [{"index": 0, "embedding": [1.0, 0.0]}, {"index": 0, "embedding": [0.0, 1.0]}]},
        {"data": [{"index": 0, "embedding": [1.0, 0.0]}, {"index": 1, "embedding": [0.0, 1.0, 0.0]}]},
        {"data": [{"index": 0, "embedding": [0.0, 0.0]}, {"index": 1, "embedding": [0.0, 1.0]}]},
        {"data": [{"index": 0, "embedding": "AAAA"}, {"index": 1, "embedding": "AAAA"}]},
        {"error": "nope"},
        ["not", "an", "object"],
    ],
)
def test_answers_that_are_not_embeddings_are_refused(payload):
    embedder = _mock(lambda request: httpx.Response(200, json=payload))
    with pytest.raises(BackendUnavailable, match="répond mal"):
        embedder._request(["un", "deux"])


def test_rows_are_read_by_their_index():
    payload = {"data": [{"index": 1, "embedding": [0.0, 2.0]}, {"index": 0, "embedding": [5.0, 0.0]}]}
    assert np.allclose(_read_vectors(payload, 2), [[1.0, 0.0], [0.0, 1.0]])


def test_create_embedder_openai_sends_nothing_until_an_index_opens():
    url = f"http://127.0.0.1:{free_port()}/v1"
    embedder = create_embedder(
        Settings(
            embedding_backend="openai",
            embedding_url=url,
            embedding_model=" bge-m3 ",
            embedding_api_key=KEY,
            embedding_batch_size=16,
            embedding_concurrency=3,
            embedding_query_prefix="query: ",
        )
    )
    assert isinstance(embedder, OpenAIEmbedder)
    assert embedder.model_id == "openai/bge-m3" and embedder.texts_per_call == 48
    assert embedder._query_prefix == "query: " and embedder._passage_prefix == ""


@pytest.mark.parametrize(
    ("options", "missing"),
    [
        ({}, "KB_EMBEDDING_URL et KB_EMBEDDING_MODEL"),
        ({"embedding_url": "http://localhost:11434/v1"}, "définissez KB_EMBEDDING_MODEL."),
        ({"embedding_model": "bge-m3"}, "définissez KB_EMBEDDING_URL."),
    ],
)
def test_create_embedder_openai_names_what_is_missing(options, missing):
    with pytest.raises(KBError, match=missing):
        create_embedder(Settings(embedding_backend="openai", **options))
    with pytest.raises(KBError, match="http:// ou https://"):
        create_embedder(Settings(embedding_backend="openai", embedding_url="localhost:11434", embedding_model="m"))


def test_sentence_transformers_takes_the_prefix_settings(monkeypatch):
    seen = {}

    def fake_init(self, model_path, query_prefix="", passage_prefix=""):
        seen.update(path=model_path, query=query_prefix, passage=passage_prefix)

    monkeypatch.setattr(SentenceTransformerEmbedder, "__init__", fake_init)
    create_embedder(
        Settings(
            embedding_backend="sentence-transformers",
            embedding_model_path="/modeles/e5",
            embedding_query_prefix="query: ",
            embedding_passage_prefix="passage: ",
        )
    )
    assert (seen["query"], seen["passage"]) == ("query: ", "passage: ")
    create_embedder(Settings(embedding_backend="sentence-transformers", embedding_model_path="/modeles/e5"))
    assert (seen["query"], seen["passage"]) == ("", "")
