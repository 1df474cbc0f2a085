"""The figures of evaluation/other_sector.py, on listings given by hand."""

from __future__ import annotations

import pytest

from evaluation.other_sector import QUESTIONS, figures_of, load


def test_precision_recall_and_restraint_by_split():
    questions = [
        {"split": "calibration", "other_sector": ["a", "b"]},
        {"split": "calibration", "other_sector": []},
        {"split": "calibration", "other_sector": []},
        {"split": "held_out", "other_sector": ["c"]},
    ]
    figures = figures_of(questions, [["a", "x"], [], ["y"], []])
    # what is listed where the other sector has nothing counts against precision too
    assert figures["calibration"] == {"precision": pytest.approx(1 / 3), "recall": 0.5, "restraint": 0.5, "listed": 3}
    assert figures["held_out"] == {"precision": None, "recall": 0.0, "restraint": None, "listed": 0}


def test_the_questions_are_labelled_in_two_halves_with_questions_where_the_other_side_has_nothing():
    questions = load(QUESTIONS)
    assert {q["split"] for q in questions} == {"calibration", "held_out"}
    for split in ("calibration", "held_out"):
        half = [q for q in questions if q["split"] == split]
        assert sum(not q["other_sector"] for q in half) >= 7
        assert all(q["asker_sector"] in ("action sociale", "développement local") for q in half)
