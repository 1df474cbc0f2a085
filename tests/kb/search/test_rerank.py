"""Reranking: the server client against a real stub process (tests/rerank_stub.py), its response
shapes and failures, the combination with the fused ranking, the cache, and the weight's fit."""

from __future__ import annotations

import httpx
import pytest

from evaluation.datasets import Question
from kb.core.errors import KBError
from kb.core.settings import Settings
from kb.search.glossary import Glossary
from kb.search.hits import DocumentHit
from kb.search.rerank import CrossEncoderReranker, HttpReranker, RerankError, create_reranker, parse_scores
from kb.search.rerank_fit import fit_rerank_weight
from kb.search.reranking import Reranking, combine
from kb.search.retrieval import Retriever
from services.runtime import open_index
from tests.apps import copy_index
from tests.fakes import ToyEmbedder

TEXTS = ["un transport solidaire", "une épicerie de village", "un diagnostic partagé"]
QUESTIONS = [
    Question(
        "m1", "transport solidaire avec des chauffeurs bénévoles", ("exp-transport-solidaire",), split="calibration"
    ),
    Question("m2", "rouvrir une épicerie de village en coopérative", ("exp-epicerie-village",), split="calibration"),
    Question("m3", "conduire un diagnostic partagé", ("meth-diagnostic-partage",), split="calibration"),
    Question("m4", "une question gardée pour la mesure", ("annuaire-roule-ensemble",), split="held_out"),
]


def requests_seen(url: str) -> list[dict]:
    return httpx.get(f"{url}/_requests").json()


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, toy_mini_index):
    settings = copy_index(toy_mini_index, Settings(data_dir=tmp_path_factory.mktemp("rerank") / "data"))
    index = open_index(settings, embedder=ToyEmbedder())
    yield Retriever(index, Glossary.load(settings.glossary_file))
    index.close()


def with_reranker(retriever: Retriever, reranking: Reranking | None) -> Retriever:
    return Retriever(retriever.index, retriever.glossary, retriever.fusion, reranker=reranking)


# -- the client and its shapes --------------------------------------------------------------


@pytest.mark.parametrize("shape", ["cohere", "tei", "albert-legacy"])
def test_every_response_shape_gives_one_score_per_text_in_the_given_order(rerank_stub, shape):
    reranker = HttpReranker(rerank_stub + "/", f"reverse/{shape}", timeout_s=5)
    assert reranker.scores("transport", TEXTS) == [0.0, 1.0, 2.0]
    assert reranker.model_id == f"rerank/reverse/{shape}"


def test_the_request_carries_both_spellings_of_the_texts_the_model_and_the_key(rerank_stub):
    reranker = HttpReranker(rerank_stub + "/", "overlap", api_key="secret", timeout_s=5)
    scores = reranker.scores("transport solidaire", TEXTS)
    assert scores[0] == 1.0 and scores[1] == scores[2] == 0.0
    seen = requests_seen(rerank_stub)[-1]
    assert seen["path"] == "/rerank"  # the base URL's trailing slash is not doubled
    assert seen["authorization"] == "Bearer secret"
    body = seen["body"]
    assert body["documents"] == body["texts"] == TEXTS
    assert body["top_n"] == 3 and body["model"] == "overlap" and body["query"] == "transport solidaire"


def test_a_server_of_the_earlier_albert_shape_is_asked_again_and_remembered(rerank_stub):
    reranker = HttpReranker(rerank_stub, "reverse/albert-legacy", timeout_s=5)
    reranker.scores("q", TEXTS)
    reranker.scores("q", TEXTS)
    bodies = [seen["body"] for seen in requests_seen(rerank_stub)[-4:]]
    assert ["prompt" in body for body in bodies] == [False, False, True, True]  # refused twice, then kept
    assert bodies[-1] == {"prompt": "q", "input": TEXTS, "model": "reverse/albert-legacy"}


@pytest.mark.parametrize("model", ["error", "garbage"])
def test_a_failing_server_raises_a_french_reason(rerank_stub, model):
    with pytest.raises(RerankError, match="serveur|JSON"):
        HttpReranker(rerank_stub, model, timeout_s=5).scores("q", TEXTS)


def test_a_hanging_server_raises_at_its_timeout(rerank_stub):
    with pytest.raises(RerankError, match="délai de 0.3 s dépassé"):
        HttpReranker(rerank_stub, "hang", timeout_s=0.3).scores("q", TEXTS)


def test_a_server_that_is_down_raises():
    from tests.servers import free_port

    with pytest.raises(RerankError, match="injoignable"):
        HttpReranker(f"http://127.0.0.1:{free_port()}", timeout_s=2).scores("q", TEXTS)


@pytest.mark.parametrize(
    "payload",
    [
        {"results": [{"index": 0, "relevance_score": 1.0}]},  # a text without score
        [{"index": 5, "score": 1.0}, {"index": 1, "score": 0.0}],
        [{"index": 0, "score": "haut"}, {"index": 1, "score": 0.0}],
        {"object": "error"},
    ],
)
def test_malformed_answers_are_refused(payload):
    with pytest.raises(RerankError):
        parse_scores(payload, 2)


def test_no_reranker_without_a_setting(tmp_path):
    assert create_reranker(Settings(data_dir=tmp_path)) is None
    with pytest.raises(KBError, match="KB_RERANK_MODEL_PATH"):
        create_reranker(Settings(data_dir=tmp_path, rerank_model_path=tmp_path / "absent"))


# -- the combination ------------------------------------------------------------------------


def hits(*scores: float) -> list[DocumentHit]:
    from kb.core.models import DocumentMetadata

    return [DocumentHit(DocumentMetadata(doc_id=f"d{i}", title=f"D{i}"), score) for i, score in enumerate(scores)]


def test_weight_one_is_the_rerankers_order_weight_zero_the_fusions_and_scores_stay_on_the_fused_scale():
    ranked = hits(0.9, 0.8, 0.5)
    reranked = combine(ranked, [0.1, 0.2, 0.9], 1.0)
    assert [h.metadata.doc_id for h in reranked] == ["d2", "d1", "d0"]
    assert [h.score for h in reranked] == [0.9, 0.8, 0.5]
    assert [h.metadata.doc_id for h in combine(ranked, [0.1, 0.2, 0.9], 0.0)] == ["d0", "d1", "d2"]
    # half and half: the last document the reranker puts first meets the others halfway
    halfway = combine(hits(0.9, 0.8, 0.7, 0.6, 0.5), [0.8, 0.7, 0.6, 0.5, 0.9], 0.5)
    assert [h.metadata.doc_id for h in halfway] == ["d0", "d1", "d4", "d2", "d3"]


# -- through the retriever -------------------------------------------------------------------


def test_the_top_n_is_reordered_and_the_rest_kept(retriever, rerank_stub):
    fused = retriever.search("transport solidaire", k=4)
    assert len(fused) == 4
    reranked_retriever = with_reranker(retriever, Reranking(HttpReranker(rerank_stub, "reverse"), 3, 1.0))
    query = reranked_retriever.query("transport solidaire")
    reranked = reranked_retriever.search(query, k=4)
    ids = [h.metadata.doc_id for h in fused]
    assert [h.metadata.doc_id for h in reranked] == [ids[2], ids[1], ids[0], ids[3]]
    assert [h.score for h in reranked] == [h.score for h in fused]
    assert query.rerank.payload() == {"applied": True, "fallback": False, "message": None}


def test_one_request_asks_the_reranker_once_whatever_it_searches(retriever, rerank_stub):
    reranking = Reranking(HttpReranker(rerank_stub, "overlap"), 3, 0.5)
    reranked = with_reranker(retriever, reranking)
    before = len(requests_seen(rerank_stub))
    query = reranked.query("un diagnostic partagé avec les habitants")
    first = [h.metadata.doc_id for h in reranked.search(query, k=1)]
    again = [h.metadata.doc_id for h in reranked.search(query, k=4)]
    assert first == again[:1]  # a short search sees the same order as a long one
    with_reranker(retriever, reranking.with_weight(1.0)).search("un diagnostic partagé avec les habitants", k=2)
    assert len(requests_seen(rerank_stub)) == before + 1


def test_a_failure_keeps_the_fused_ranking_flagged_and_suspends_the_reranker(retriever, rerank_stub):
    fused = [h.metadata.doc_id for h in retriever.search("épicerie", k=4)]
    reranked = with_reranker(retriever, Reranking(HttpReranker(rerank_stub, "error"), 3, 1.0))
    query = reranked.query("épicerie")
    assert [h.metadata.doc_id for h in reranked.search(query, k=4)] == fused
    assert query.rerank.fallback and not query.rerank.applied
    assert "Le reclassement a échoué (le serveur a répondu 500)" in query.rerank.message
    before = len(requests_seen(rerank_stub))
    later = reranked.query("transport")
    reranked.search(later, k=4)
    assert later.rerank.fallback and "suspendu" in later.rerank.message
    assert len(requests_seen(rerank_stub)) == before  # not asked again during the cooldown


# -- fitting the weight ------------------------------------------------------------------------


def test_the_fit_picks_zero_for_a_reranker_that_reverses_the_order(retriever, rerank_stub):
    fit = fit_rerank_weight(
        with_reranker(retriever, Reranking(HttpReranker(rerank_stub, "reverse"), 4, 0.5)), QUESTIONS
    )
    assert fit.weight == 0.0 and fit.questions == 3
    assert set(fit.mrr) == {0.0, 0.25, 0.5, 0.75, 1.0}
    assert fit.mrr[1.0] < fit.mrr[0.0]


def test_the_fit_needs_a_reranker_that_answers(retriever, rerank_stub):
    with pytest.raises(KBError, match="Aucun modèle de reclassement"):
        fit_rerank_weight(retriever, QUESTIONS)
    failing = with_reranker(retriever, Reranking(HttpReranker(rerank_stub, "error"), 4, 0.5))
    with pytest.raises(KBError, match="interrompu"):
        fit_rerank_weight(failing, QUESTIONS)


# -- a local cross-encoder ---------------------------------------------------------------------


@pytest.mark.slow
def test_a_local_cross_encoder_scores_from_its_directory(cross_encoder_dir):
    reranker = CrossEncoderReranker(cross_encoder_dir)
    assert reranker.model_id == "cross-encoder/tiny"
    scores = reranker.scores("transport solidaire", TEXTS)
    assert len(scores) == 3 and len(set(scores)) == 3
    assert reranker.scores("transport solidaire", TEXTS) == scores
