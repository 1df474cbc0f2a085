"""Reranking through the API: /search and /ask over the mini corpus with a real reranking stub
process (tests/rerank_stub.py): the top reordered, the fallback flagged (and noted on the site's
search page), and a local cross-encoder."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from kb.search.rerank import HttpReranker
from kb.search.reranking import Reranking, document_text
from tests.apps import app_over
from tests.fakes import ToyEmbedder

QUERY = "habitants"  # the toy base lists three documents for it
QUESTION = "Comment organiser un transport solidaire avec des chauffeurs bénévoles ?"


@pytest.fixture(scope="module")
def client(tmp_path_factory, toy_mini_index, rerank_stub):
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("rerank-api") / "data",
        rerank_url=rerank_stub,
        rerank_model="reverse",
        rerank_top_n=2,
        rerank_weight=1.0,
        rerank_timeout_s=0.5,
    )
    with TestClient(app_over(settings, ToyEmbedder(), index=toy_mini_index)) as client:
        yield client


@pytest.fixture
def use(client, rerank_stub):
    """Give the app another reranker for one test (None: none)."""
    kb = client.app.state.holder.kb
    original = kb.retriever.reranker

    def switch(model: str | None, weight: float = 1.0, top_n: int = 2) -> None:
        kb.retriever.reranker = (
            Reranking(HttpReranker(rerank_stub, model, timeout_s=0.5), top_n, weight) if model else None
        )

    yield switch
    kb.retriever.reranker = original


def search(client: TestClient, query: str = QUERY) -> tuple[list[tuple[str, float]], dict | None]:
    response = client.get("/search", params={"q": query, "k": 10})
    assert response.status_code == 200, response.text
    body = response.json()
    return [(r["doc_id"], r["score"]) for r in body["results"]], body["rerank"]


def test_the_configured_reranker_serves_the_search(client):
    kb = client.app.state.holder.kb
    assert kb.retriever.reranker.model_id == "rerank/reverse" and kb.retriever.reranker.weight == 1.0


@pytest.mark.parametrize("shape", ["cohere", "tei"])
def test_weight_one_reverses_the_top_n_and_leaves_the_rest(client, use, shape):
    use(None)
    fused, flag = search(client)
    assert flag is None and len(fused) >= 3
    use(f"reverse/{shape}")
    reranked, flag = search(client)
    assert flag == {"applied": True, "fallback": False, "message": None}
    ids = [doc for doc, _ in fused]
    assert [doc for doc, _ in reranked] == [ids[1], ids[0], *ids[2:]]
    assert [score for _, score in reranked] == [score for _, score in fused]  # thresholds read the same scores


def test_weight_zero_keeps_the_fused_order(client, use):
    use(None)
    fused, _ = search(client)
    use("reverse", weight=0.0)
    kept, flag = search(client)
    assert kept == fused and flag == {"applied": False, "fallback": False, "message": None}


@pytest.mark.parametrize("model", ["error", "hang"])
def test_a_failing_or_hanging_reranker_gives_the_fused_ranking_flagged(client, use, model):
    use(None)
    fused, _ = search(client)
    use(model)
    started = time.monotonic()
    kept, flag = search(client)
    # the stub hangs 20 s: the search answered at the reranker's timeout, not the server's
    assert time.monotonic() - started < 10
    assert kept == fused
    assert flag["fallback"] and not flag["applied"]
    reason = "délai de 0.5 s dépassé" if model == "hang" else "le serveur a répondu 500"
    assert flag["message"] == (
        f"Le reclassement a échoué ({reason}) : les résultats gardent l'ordre habituel de la recherche."
    )


def test_ask_says_what_reranking_did(client, use):
    use("error")
    answer = client.post("/ask", json={"question": QUESTION}).json()
    assert answer["rerank"]["fallback"] and "Le reclassement a échoué" in answer["rerank"]["message"]
    use("reverse")
    answer = client.post("/ask", json={"question": QUESTION}).json()
    assert answer["rerank"] == {"applied": True, "fallback": False, "message": None}
    use(None)
    assert client.post("/ask", json={"question": QUESTION}).json()["rerank"] is None


SEARCH_NOTE = "Classement affiné indisponible pour cette recherche : résultats dans l'ordre habituel."
ANSWER_NOTE = "Classement affiné indisponible pour cette question"


def site_page(client: TestClient, query: str = QUERY, **params: str) -> str:
    response = client.get("/recherche", params={"q": query, **params})
    assert response.status_code == 200, response.text
    return response.text


def test_the_search_page_notes_a_failing_reranker_above_the_results(client, use):
    use("error")
    html = site_page(client)
    assert html.count(SEARCH_NOTE) == 1 and ANSWER_NOTE not in html
    assert html.index(SEARCH_NOTE) < html.index('<ol class="hits"')
    # the reason, from our code, autoescaped like any text of the page
    assert "Le reclassement a échoué (le serveur a répondu 500) : les résultats gardent l&#39;ordre" in html
    assert '<p class="meta rerank-note">' in html
    for model in ("reverse", None):  # applied, or no reranker: nothing said
        use(model)
        assert "rerank-note" not in site_page(client) and "Classement affiné" not in site_page(client)


def test_the_answer_on_the_search_page_notes_a_failing_reranker(client, use):
    use("error")
    html = site_page(client, QUESTION, question="1")
    assert 'id="reponse"' in html and html.count(ANSWER_NOTE) == 1 and html.count(SEARCH_NOTE) == 1
    assert html.index(ANSWER_NOTE) < html.index(SEARCH_NOTE)
    for model in ("reverse", None):
        use(model)
        html = site_page(client, QUESTION, question="1")
        assert 'id="reponse"' in html and "rerank-note" not in html


def test_the_openapi_schema_documents_the_flag(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "rerank" in schemas["SearchResponse"]["properties"] and "rerank" in schemas["AskResponse"]["properties"]
    assert set(schemas["RerankState"]["properties"]) == {"applied", "fallback", "message"}


@pytest.mark.slow
def test_a_local_cross_encoder_reranks_through_the_api(tmp_path, toy_mini_index, cross_encoder_dir):
    settings = Settings(data_dir=tmp_path / "data", rerank_model_path=cross_encoder_dir, rerank_weight=1.0)
    with TestClient(app_over(settings, ToyEmbedder(), index=toy_mini_index)) as client:
        kb = client.app.state.holder.kb
        reranker = kb.retriever.reranker
        assert reranker.model_id == "cross-encoder/tiny"
        kb.retriever.reranker = None
        fused = kb.retriever.search(QUERY, k=10)
        kb.retriever.reranker = reranker
        scores = reranker.reranker.scores(QUERY, [document_text(hit) for hit in fused[: reranker.top_n]])
        expected = sorted(range(len(scores)), key=lambda i: -scores[i])
        listed, flag = search(client)
    assert flag == {"applied": True, "fallback": False, "message": None}
    assert [doc for doc, _ in listed] == [fused[i].metadata.doc_id for i in expected][: len(listed)]
