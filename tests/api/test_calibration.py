"""An index whose model has no calibration, then calibrated by `kb calibrate`'s service, through
the API (the toy embedder: no threshold was ever fitted on its scores)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.answer.answerer import NOTHING, UNSURE
from kb.core.settings import Settings
from kb.search.calibration import MISSING_MESSAGE
from services import runtime
from services.calibration import calibrate
from tests.apps import app_over, copy_index
from tests.fakes import ToyEmbedder

QUESTIONS = Path(__file__).parents[1] / "fixtures" / "calibration" / "mini-questions.jsonl"
ANSWERABLE = "Comment organiser un transport solidaire avec des chauffeurs bénévoles ?"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def test_without_calibration_nothing_fitted_on_another_model_applies(settings, toy_mini_index):
    with TestClient(app_over(settings, ToyEmbedder(), index=toy_mini_index)) as client:
        calibration = client.get("/health").json()["calibration"]
        assert calibration["source"] == "absente" and calibration["model"] == "toy/vowels-v1"
        assert calibration["message"] == MISSING_MESSAGE
        answer = client.post("/ask", json={"question": ANSWERABLE}).json()
        assert not answer["found"] and answer["uncertain"] and answer["answer"] == UNSURE
        assert answer["nearest"][0]["doc_id"] == "exp-transport-solidaire"
        # an unanswerable question gets the same doubt, never "the base holds nothing"
        far = client.post("/ask", json={"question": "Comment organiser un tournoi de rugby au village ?"}).json()
        assert far["answer"] == UNSURE and far["nearest"]
        # nothing at all matches: then it says so
        assert client.post("/ask", json={"question": "xqzw"}).json()["answer"].startswith(NOTHING)
        # no floor: the list is the ranking's cut, confident, whatever the scores
        listed = client.get("/search", params={"q": "rugby au village"}).json()
        assert listed["confident"] and listed["results"]
        assert client.get("/search", params={"q": "xqzw"}).json()["results"] == []
        # the duplicate check keeps its text and title rules, without the meaning one
        finder = client.app.state.holder.kb.writer.duplicates
        assert finder.params.semantic is None and finder.params.text_jaccard == settings.duplicate_text_jaccard


def test_calibrated_values_are_stored_used_and_shown(settings, toy_mini_index):
    copy_index(toy_mini_index, settings)
    kb = runtime.open_knowledge_base(settings, ToyEmbedder())
    try:
        record = calibrate(kb, QUESTIONS)
    finally:
        kb.close()
    values = record["values"]
    assert set(values) == {"answer_min_score", "answer_unknown_weight", "answer_gap_background", "search_min_evidence"}
    assert record["model"] == "toy/vowels-v1" and record["reranker"] is None
    assert record["questions"] == "mini-questions.jsonl"
    assert record["counts"]["calibration"] == {"answerable": 5, "unanswerable": 5}
    assert set(record["held_out"]) == {"global", "calibrated"}
    with TestClient(app_over(settings, ToyEmbedder())) as client:
        calibration = client.get("/health").json()["calibration"]
        assert calibration["source"] == "index" and calibration["date"] == record["date"]
        assert calibration["missing"] == ["duplicate_semantic"]  # the mini corpus has no labelled pairs
        kb = client.app.state.holder.kb
        assert kb.answerer.params.min_score == values["answer_min_score"]
        assert kb.evidence.params.search_floor == values["search_min_evidence"]
        assert kb.evidence.params.unknown_weight == values["answer_unknown_weight"]
        assert kb.writer.duplicates.params.semantic is None
        # the threshold decides again: an answer, the doubt or "nothing", by the evidence
        for question in (ANSWERABLE, "Comment organiser un tournoi de rugby au village ?"):
            evidence = kb.evidence.of(kb.retriever.query(question))
            answer = client.post("/ask", json={"question": question}).json()
            if evidence < values["answer_min_score"] - kb.answerer.params.grey_margin:
                assert answer["answer"].startswith(NOTHING)
            elif evidence < values["answer_min_score"]:
                assert answer["answer"] == UNSURE
            else:
                assert answer["found"] or answer["answer"] == UNSURE


def test_a_setting_overrides_the_stored_calibration(settings, toy_mini_index):
    copy_index(toy_mini_index, settings)
    kb = runtime.open_knowledge_base(settings, ToyEmbedder())
    try:
        calibrate(kb, QUESTIONS)
    finally:
        kb.close()
    overridden = settings.model_copy(update={"answer_min_score": 9.0})
    with TestClient(app_over(overridden, ToyEmbedder())) as client:
        calibration = client.get("/health").json()["calibration"]
        assert calibration["source"] == "index" and calibration["overrides"] == ["answer_min_score"]
        assert client.app.state.holder.kb.answerer.params.min_score == 9.0
        answer = client.post("/ask", json={"question": ANSWERABLE}).json()
        assert not answer["found"] and answer["answer"].startswith(NOTHING)
