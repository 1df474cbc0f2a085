"""POST /ask and POST /ask/stream with and without an LLM (the stub process of tests/llm_stub.py),
over the mini corpus with the toy embedder (the generation, not the retrieval, is under test)."""

from __future__ import annotations

import dataclasses
import json
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from api.deps import get_knowledge_base
from api.schemas import AskResponse
from kb.core.errors import BackendUnavailable
from kb.core.settings import Settings
from services.generation import Generator
from tests.apps import app_over
from tests.fakes import ToyEmbedder
from tests.llm_stub import GOOD, INVENTED
from tests.servers import serve_in_thread

QUESTION = "comment d'autres ont monté un transport solidaire avec des chauffeurs bénévoles ?"


def events_of(response) -> list[tuple[str, dict]]:
    """The (event, JSON data) pairs of a text/event-stream body."""
    events = []
    for block in response.text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def stream(client, body: dict) -> list[tuple[str, dict]]:
    response = client.post("/ask/stream", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return events_of(response)


@pytest.fixture(scope="module")
def extractive_client(tmp_path_factory, toy_mini_index):
    settings = Settings(data_dir=tmp_path_factory.mktemp("stream-x") / "data", answer_min_score=0.0)
    with TestClient(app_over(settings, ToyEmbedder(), index=toy_mini_index)) as client:
        yield client


@pytest.fixture(scope="module")
def llm_client(tmp_path_factory, llm_stub, toy_mini_index):
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("stream-llm") / "data",
        answer_min_score=0.0,
        llm_url=llm_stub,
        llm_model="bon",
        llm_timeout_s=1.0,
    )
    with TestClient(app_over(settings, ToyEmbedder(), index=toy_mini_index)) as client:
        yield client


@pytest.fixture
def mode(llm_client):
    """Switch the stub's mode (the model name) for one test."""
    kb = llm_client.app.state.holder.kb
    original = kb.generator

    def switch(name: str) -> None:
        settings = llm_client.app.state.settings.model_copy(update={"llm_model": name})
        kb.generator = Generator.from_settings(settings, kb.index)

    yield switch
    kb.generator = original


def test_extractive_stream_is_one_answer_event(extractive_client):
    expected = extractive_client.post("/ask", json={"question": QUESTION}).json()
    events = stream(extractive_client, {"question": QUESTION})
    assert events == [("answer", expected), ("end", {})]
    assert expected["mode"] == "extractive" and expected["found"]
    AskResponse.model_validate(expected)


def test_ask_with_an_llm_gives_its_checked_answer(llm_client):
    body = llm_client.post("/ask", json={"question": QUESTION}).json()
    AskResponse.model_validate(body)
    cited = [c["n"] for c in body["citations"]]
    assert body["mode"] == "llm"
    assert body["answer"] == " ".join(GOOD).format(first=cited[0], last=cited[-1])


def test_llm_stream_sends_sources_deltas_answer_end(llm_client, mode):
    mode("mixte")
    events = stream(llm_client, {"question": QUESTION})
    names = [name for name, _ in events]
    assert names[0] == "sources" and names[-2:] == ["answer", "end"] and set(names[1:-2]) == {"delta"}
    final = events[-2][1]
    AskResponse.model_validate(final)
    assert events[0][1] == {"sources": final.get("sources", []), "citations": final["citations"]}
    streamed = "".join(data["text"] for name, data in events if name == "delta")
    assert streamed.startswith(GOOD[0].format(first=final["citations"][0]["n"]))
    assert INVENTED.format(invented=9) in streamed  # shown while written…
    assert final["mode"] == "llm" and final["answer"] == GOOD[0].format(
        first=final["citations"][0]["n"]
    )  # …then replaced


def test_a_silent_llm_stream_ends_with_the_extractive_answer(llm_client, extractive_client, mode):
    mode("muet")
    events = stream(llm_client, {"question": QUESTION})
    assert [name for name, _ in events] == ["sources", "answer", "end"]
    assert events[1][1]["mode"] == "extractive"
    assert events[1][1]["answer"] == extractive_client.post("/ask", json={"question": QUESTION}).json()["answer"]


def test_an_abstention_streams_without_the_llm(llm_client):
    kb = llm_client.app.state.holder.kb
    params = kb.answerer.params
    kb.answerer.params = dataclasses.replace(params, min_score=5.0)
    try:
        events = stream(llm_client, {"question": QUESTION})
    finally:
        kb.answerer.params = params
    assert [name for name, _ in events] == ["answer", "end"]
    assert events[0][1]["found"] is False and events[0][1]["mode"] == "extractive"


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ({"question": ""}, 422, "ne doit pas être vide"),
        ({"question": "   "}, 422, "La question est vide"),
        ({"question": "x", "filters": {"type": "roman"}}, 422, "type inconnu « roman »"),
        ({"question": "x", "extra": 1}, 422, "champ inconnu"),
    ],
)
def test_bad_stream_requests_get_a_french_json_error(llm_client, body, status, fragment):
    response = llm_client.post("/ask/stream", json=body)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert fragment in json.dumps(response.json(), ensure_ascii=False)


def test_stream_needs_the_base_and_the_read_rights(llm_client, monkeypatch):
    def down():
        raise BackendUnavailable("le serveur de vecteurs ne répond pas.")

    llm_client.app.dependency_overrides[get_knowledge_base] = down
    try:
        response = llm_client.post("/ask/stream", json={"question": QUESTION})
    finally:
        del llm_client.app.dependency_overrides[get_knowledge_base]
    assert response.status_code == 503 and response.json()["detail"].startswith("Service momentanément indisponible")
    private = llm_client.app.state.settings.model_copy(update={"public_read": False})
    monkeypatch.setattr(llm_client.app.state, "settings", private)
    response = llm_client.post("/ask/stream", json={"question": QUESTION})
    assert response.status_code == 401 and "Clé d'accès manquante" in response.json()["detail"]


def test_the_stream_is_documented(llm_client):
    operation = llm_client.get("/openapi.json").json()["paths"]["/ask/stream"]["post"]
    assert set(operation["responses"]) >= {"200", "401", "422", "503"}
    success = operation["responses"]["200"]
    assert list(success["content"]) == ["text/event-stream"]
    events = success["content"]["text/event-stream"]["schema"]["oneOf"]  # each event, by its name
    assert [e["properties"]["event"]["const"] for e in events] == ["sources", "delta", "answer", "end"]
    answer = events[2]["properties"]["data"]
    assert answer["contentMediaType"] == "application/json"
    assert answer["contentSchema"] == {"$ref": "#/components/schemas/AskResponse"}
    assert "`delta`" in success["description"] and "`answer`" in success["description"]
    assert operation["description"].startswith("La réponse de `POST /ask`, envoyée au fil de sa rédaction")
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AskRequest"
    }


def test_deltas_reach_a_real_client_as_they_are_written(tmp_path, llm_stub, toy_mini_index):
    """Over a real server (uvicorn) and a slow LLM (a word every 0.1 s): the first delta
    arrives well before the final answer, nothing is buffered on the way."""
    settings = Settings(data_dir=tmp_path / "data", answer_min_score=0.0, llm_url=llm_stub, llm_model="lent")
    app = app_over(settings, ToyEmbedder(), index=toy_mini_index)
    arrivals: list[tuple[str, float]] = []
    with (
        serve_in_thread(app) as url,
        httpx.stream("POST", f"{url}/ask/stream", json={"question": QUESTION}, timeout=30) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event:"):
                arrivals.append((line[6:].strip(), time.monotonic()))
    names = [name for name, _ in arrivals]
    assert names[0] == "sources" and names[-2:] == ["answer", "end"] and names.count("delta") >= 10
    first_delta = next(at for name, at in arrivals if name == "delta")
    answer = next(at for name, at in arrivals if name == "answer")
    assert answer - first_delta > 0.5
