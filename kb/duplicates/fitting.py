"""The duplicate rule's calibration / held-out split and its fit, from the pairs' signals
(`kb calibrate` computes them with the index's model; evaluation/calibrate_duplicates.py
writes them to ``evaluation/duplicates/signals.jsonl``).

The labelled pairs of ``evaluation/duplicates/pairs.jsonl`` are split by original document:
every pair whose new document is a given corpus document, or a rewrite of it, falls on one side,
so a document's rewrites never help calibrate the rule they are then measured with. The groups
are ordered by the SHA-1 of the original's id and dealt alternately (calibration, held-out, …):
stable, and independent of the order of the file.

The rule fitted is the finder's "rewritten" reason: meaning in common >= ``semantic`` and figures
in common (Jaccard) >= ``shared_figures`` with at least ``min_figures`` of them; the other strong
reasons (near-identical text, the same title) keep their settings. The thresholds are those of
the best F1 on the calibration half, the middle of the best region of the grid when several tie.
``fit_semantic`` fits the meaning threshold alone, the one that depends on the model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kb.duplicates.finder import DuplicateParams, Signals


class Pair(Protocol):
    """A labelled pair (evaluation/calibrate_duplicates.py's ``Pair``, services/calibration.py's)."""

    @property
    def new(self) -> str: ...

    @property
    def existing(self) -> str: ...

    @property
    def duplicate(self) -> bool: ...


CALIBRATION, HELD_OUT = "calibration", "held-out"
# the grid searched: meaning in common 0.85 to 0.99, figures in common 0.30 to 0.95
SEMANTIC_GRID = [round(0.85 + 0.005 * i, 3) for i in range(29)]
FIGURES_GRID = [round(0.30 + 0.05 * i, 2) for i in range(14)]


def original_of(name: str) -> str:
    """The corpus document a pair's new member is (or rewrites)."""
    return re.sub(r"-reecrit(-\d+)?\.md$", "", name.removeprefix("rewrites/"))


def split(pairs: Sequence[Pair]) -> dict[Pair, str]:
    """Each pair's half, by the original document of its new member."""
    groups = sorted({original_of(p.new) for p in pairs}, key=lambda g: hashlib.sha1(g.encode()).hexdigest())
    side = {group: (CALIBRATION, HELD_OUT)[i % 2] for i, group in enumerate(groups)}
    return {p: side[original_of(p.new)] for p in pairs}


def rewritten_rule(semantic: float, shared_figures: float, params: DuplicateParams) -> Callable[[Signals], bool]:
    """The strong decision with these two thresholds, the other strong reasons as configured."""

    def strong(s: Signals) -> bool:
        rewritten = (
            s.semantic >= semantic and s.shared_figures >= shared_figures and s.common_figures >= params.min_figures
        )
        return rewritten or s.text >= params.text_jaccard or s.same_title

    return strong


@dataclass(frozen=True)
class Score:
    duplicates: int
    flagged: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.flagged if self.flagged else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.duplicates if self.duplicates else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(pairs: Sequence[Pair], signals: dict[tuple[str, str], Signals], strong: Callable[[Signals], bool]) -> Score:
    flagged = [p for p in pairs if strong(signals[(p.new, p.existing)])]
    return Score(
        duplicates=sum(p.duplicate for p in pairs),
        flagged=len(flagged),
        true_positives=sum(p.duplicate for p in flagged),
    )


def fit_semantic(pairs: Sequence[Pair], signals: dict[tuple[str, str], Signals], params: DuplicateParams) -> float:
    """The meaning threshold alone (``KB_DUPLICATE_SEMANTIC``, the one that depends on the
    model), the figures thresholds as configured: the best F1 on ``pairs``, the highest such
    threshold when several tie (as ``fit``)."""
    f1 = {sem: score(pairs, signals, rewritten_rule(sem, params.shared_figures, params)).f1 for sem in SEMANTIC_GRID}
    return max(sem for sem, value in f1.items() if value == max(f1.values()))


def fit(pairs: Sequence[Pair], signals: dict[tuple[str, str], Signals], params: DuplicateParams) -> tuple[float, float]:
    """The (semantic, shared figures) thresholds of the best F1 on ``pairs``. Among the grid
    points that reach it, the highest semantic threshold (information warnings start just
    below it, and a lower one only adds them), then the middle figures threshold."""
    f1 = {
        (sem, fig): score(pairs, signals, rewritten_rule(sem, fig, params)).f1
        for sem in SEMANTIC_GRID
        for fig in FIGURES_GRID
    }
    best = [point for point, value in f1.items() if value == max(f1.values())]
    semantic = max(p[0] for p in best)
    figures = sorted(p[1] for p in best if p[0] == semantic)
    return semantic, figures[len(figures) // 2]


def halves(pairs: Sequence[Pair]) -> dict[str, list[Pair]]:
    sides = split(pairs)
    return {side: [p for p in pairs if sides[p] == side] for side in (CALIBRATION, HELD_OUT)}
