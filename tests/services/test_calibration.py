"""`kb calibrate`'s question file and its duplicate pairs (services/calibration.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.core.errors import InvalidRequest
from kb.core.settings import Settings
from services import runtime
from services.calibration import CALIBRATION, HELD_OUT, calibrate, load_questions
from services.calibration_duplicates import fit_duplicates
from tests.apps import copy_index
from tests.fakes import ToyEmbedder

QUESTIONS = Path(__file__).parents[1] / "fixtures" / "calibration" / "mini-questions.jsonl"


def _write(path, rows):
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8")
    return path


def test_rows_without_split_are_dealt_in_halves_whatever_their_order(tmp_path):
    rows = [{"question": f"question {n} ?", "relevant": ["doc"] if n % 3 else []} for n in range(30)]
    first = load_questions(_write(tmp_path / "a.jsonl", rows))
    second = load_questions(_write(tmp_path / "b.jsonl", rows[::-1]))
    assert {q.question: q.split for q in first} == {q.question: q.split for q in second}
    for answerable in (True, False):
        sides = [q.split for q in first if bool(q.relevant) is answerable]
        assert abs(sides.count(CALIBRATION) - sides.count(HELD_OUT)) <= 1
    assert {q.kind for q in first} == {"natural", "unanswerable"}


def test_a_split_given_is_kept_and_a_wrong_one_refused(tmp_path):
    given = load_questions(_write(tmp_path / "a.jsonl", [{"question": "q ?", "relevant": [], "split": "held_out"}]))
    assert given[0].split == HELD_OUT and given[0].relevant == ()
    with pytest.raises(InvalidRequest, match="ligne 1"):
        load_questions(_write(tmp_path / "b.jsonl", [{"question": "q ?", "relevant": [], "split": "test"}]))


def test_a_file_without_unanswerable_questions_is_refused(tmp_path, toy_mini_index):
    settings = copy_index(toy_mini_index, Settings(data_dir=tmp_path / "data"))
    kb = runtime.open_knowledge_base(settings, ToyEmbedder())
    try:
        rows = [{"question": f"transport {n} ?", "relevant": ["exp-transport-solidaire"]} for n in range(4)]
        with pytest.raises(InvalidRequest, match="avec et sans réponse"):
            calibrate(kb, _write(tmp_path / "q.jsonl", rows))
        # the labelled duplicate pairs name corpus documents this base does not hold
        assert fit_duplicates(kb.index, settings) is None
        assert kb.index.registry.calibration() is None
    finally:
        kb.close()


def test_with_a_reranker_its_weight_is_fitted_first_and_recorded_for_it(tmp_path, toy_mini_index, rerank_stub):
    settings = copy_index(
        toy_mini_index, Settings(data_dir=tmp_path / "data", rerank_url=rerank_stub, rerank_model="reverse")
    )
    kb = runtime.open_knowledge_base(settings, ToyEmbedder())
    try:
        record = calibrate(kb, QUESTIONS)
    finally:
        kb.close()
    # the share with the best MRR@10 on the calibration half; the inverted order alone is worst
    assert record["reranker"] == "rerank/reverse"
    mrr = {float(weight): value for weight, value in record["rerank"]["mrr@10"].items()}
    fitted = record["values"]["rerank_weight"]
    assert mrr[fitted] == max(mrr.values()) and mrr[1.0] < mrr[0.0]
    reopened = runtime.open_knowledge_base(settings, ToyEmbedder())
    try:
        assert reopened.calibration.sources["rerank_weight"] == "index"
        assert reopened.retriever.reranker.weight == fitted
    finally:
        reopened.close()
