"""The duplicate rule's calibration / held-out split and its fit: kb/duplicates/fitting.py (`kb
calibrate` fits the meaning threshold with it too), imported here under its former names."""

from __future__ import annotations

from kb.duplicates.fitting import (
    CALIBRATION,
    FIGURES_GRID,
    HELD_OUT,
    SEMANTIC_GRID,
    Score,
    fit,
    fit_semantic,
    halves,
    original_of,
    rewritten_rule,
    score,
    split,
)

# the rule shipped before the larger set (issue 31): kept to report "before -> after"
FORMER = (0.92, 0.65)

__all__ = [
    "CALIBRATION",
    "FIGURES_GRID",
    "FORMER",
    "HELD_OUT",
    "SEMANTIC_GRID",
    "Score",
    "fit",
    "fit_semantic",
    "halves",
    "original_of",
    "rewritten_rule",
    "score",
    "split",
]
