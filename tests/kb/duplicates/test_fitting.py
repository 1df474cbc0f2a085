"""The meaning threshold alone, as `kb calibrate` fits it for a model (kb/duplicates/fitting.py)."""

from __future__ import annotations

from evaluation.calibrate_duplicates import load_pairs, read_signals
from kb.core.settings import Settings
from kb.duplicates.finder import DuplicateParams
from kb.duplicates.fitting import CALIBRATION, fit, fit_semantic, halves


def test_the_meaning_threshold_fitted_alone_is_the_one_fitted_with_the_figures():
    """On e5's committed signals, with the figures threshold as shipped, the same 0.92."""
    pairs, signals = load_pairs(), read_signals()
    params = DuplicateParams.from_settings(Settings())
    half = halves(pairs)[CALIBRATION]
    assert fit_semantic(half, signals, params) == fit(half, signals, params)[0] == Settings().duplicate_semantic
