"""`kb calibrate`'s records survive `kb reindex` and an export/import round trip; an archive's
malformed records are dropped."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import pytest

from kb.core.settings import Settings
from kb.search.calibration import stored_records, valid_records
from kb.storage.embedded.backend import REGISTRY_FILE
from kb.storage.embedded.registry import Registry
from services import runtime
from services.portability import export_base, import_base

MINI = Path(__file__).parents[1] / "fixtures" / "mini-corpus"
RECORD = {
    "model": "toy",
    "reranker": None,
    "date": "2026-12-07",
    "questions": 12,
    "values": {"answer_min_score": 0.91, "search_min_evidence": 0.88, "duplicate_semantic": 0.93},
}
OTHER_MODEL = {**RECORD, "model": "openai/bge-m3", "values": {"answer_min_score": 0.55}}


def _registry(settings: Settings) -> Registry:
    from kb.storage.backend import open_backend

    return Registry(open_backend(settings).current_location().directory / REGISTRY_FILE)


def _calibrated(tmp_path: Path, toy_embedder) -> Settings:
    settings = Settings(data_dir=tmp_path / "source")
    runtime.ingest(settings, [MINI], embedder=toy_embedder)
    registry = _registry(settings)
    try:
        registry.set_calibration([RECORD, OTHER_MODEL])
    finally:
        registry.close()
    return settings


def _records(settings: Settings) -> list:
    registry = _registry(settings)
    try:
        return stored_records(registry)
    finally:
        registry.close()


def test_reindex_carries_the_records_to_the_new_generation(tmp_path, toy_embedder):
    settings = _calibrated(tmp_path, toy_embedder)
    own = {**RECORD, "model": toy_embedder.model_id}
    registry = _registry(settings)
    try:
        registry.set_calibration([own, OTHER_MODEL])
    finally:
        registry.close()
    from kb.storage.backend import open_backend

    generation = open_backend(settings).current_location().generation
    runtime.reindex(settings, embedder=toy_embedder)
    assert open_backend(settings).current_location().generation != generation
    assert _records(settings) == [own, OTHER_MODEL]
    index = runtime.open_index(settings, toy_embedder)
    try:
        from kb.search.calibration import calibration_of

        calibration = calibration_of(index)
        assert calibration.source == "index" and calibration.get("answer_min_score") == 0.91
    finally:
        index.close()


def test_an_export_carries_them_and_an_import_restores_them(tmp_path, toy_embedder):
    settings = _calibrated(tmp_path, toy_embedder)
    archive = tmp_path / "base.zip"
    export_base(settings, archive)
    with zipfile.ZipFile(archive) as opened:
        assert json.loads(opened.read("manifest.json"))["calibration"] == [RECORD, OTHER_MODEL]
    target = Settings(data_dir=tmp_path / "target")
    import_base(target, archive, embedder=toy_embedder)
    assert _records(target) == [RECORD, OTHER_MODEL]


def test_a_base_without_records_exports_none_and_imports_none(tmp_path, toy_embedder):
    settings = Settings(data_dir=tmp_path / "plain")
    runtime.ingest(settings, [MINI], embedder=toy_embedder)
    archive = tmp_path / "plain.zip"
    export_base(settings, archive)
    target = Settings(data_dir=tmp_path / "target")
    import_base(target, archive, embedder=toy_embedder)
    assert _records(target) == []


@pytest.mark.parametrize(
    "record",
    [
        {**RECORD, "values": {"answer_min_score": math.inf}},
        {**RECORD, "values": {"answer_min_score": -5}},
        {**RECORD, "values": {"answer_min_score": True}},
        {**RECORD, "values": {"answer_min_score": "0.9"}},
        {**RECORD, "values": {"unknown_threshold": 0.5}},
        {**RECORD, "values": {}},
        {**RECORD, "model": 3},
        {**RECORD, "reranker": ["x"]},
        "not a record",
    ],
)
def test_malformed_records_are_dropped(record):
    assert valid_records([record, RECORD]) == [RECORD]
    assert valid_records({"model": "toy"}) == []
    assert valid_records(None) == []
