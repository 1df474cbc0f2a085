"""The rules that fit the evidence threshold of /ask, its weights and the floor of /search on
labelled questions: `kb calibrate` (services/calibration.py) and `kb eval answers`
(evaluation/answers.py) both use them. Questions are duck-typed: ``relevant`` (the documents
that answer, empty for an unanswerable one) and ``kind``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kb.search.evidence import EvidenceParams, EvidenceParts

# The answer threshold abstains on at least this share of the unanswerable calibration questions
ANSWER_ABSTENTION = 0.95


def calibrate_threshold(
    answerable: list[float], unanswerable: list[float], abstention: float = ANSWER_ABSTENTION
) -> tuple[float, float]:
    """The evidence threshold that answers the most answerable questions while abstaining on at
    least ``abstention`` of the unanswerable ones; returns it with the answer rate it gives.
    The threshold sits halfway between the lowest score it accepts and the next one below."""
    if not answerable or not unanswerable:
        return 0.0, 0.0
    candidates = sorted(set(answerable) | set(unanswerable))
    best: tuple[float, float] | None = None
    for threshold in candidates:
        answered = sum(score >= threshold for score in answerable) / len(answerable)
        abstained = sum(score < threshold for score in unanswerable) / len(unanswerable)
        if abstained >= abstention and (best is None or answered > best[0]):
            best = (answered, threshold)
    if best is None:
        best = (0.0, candidates[-1] + 1e-4)
    below = max([s for s in answerable + unanswerable if s < best[1]], default=best[1])
    return round((best[1] + below) / 2, 4), best[0]


def fit_unknown_weight(calibration: list[tuple[EvidenceParts, Any]], params: EvidenceParams) -> float | None:
    """The weight of the words no document writes (``KB_ANSWER_UNKNOWN_WEIGHT``) that lets the
    threshold fitted by ``calibrate_threshold`` answer the most answerable calibration questions
    (paraphrases aside, then all of them); ties: the middle of the tied weights."""
    if not calibration:
        return None
    scored = []
    for step in range(16):
        weight = step / 100
        weighted = replace(params, unknown_weight=weight)
        sides: dict[str, list[float]] = {"answerable": [], "unanswerable": [], "plain": []}
        for parts, question in calibration:
            value = parts.combined(weighted)
            sides["answerable" if question.relevant else "unanswerable"].append(value)
            if question.relevant and question.kind != "paraphrase":
                sides["plain"].append(value)
        threshold, answered = calibrate_threshold(sides["answerable"], sides["unanswerable"])
        plain = sum(value >= threshold for value in sides["plain"]) / len(sides["plain"]) if sides["plain"] else 0.0
        scored.append(((round(plain, 6), round(answered, 6)), weight))
    best = max(key for key, _ in scored)
    tied = [weight for key, weight in scored if key == best]
    return tied[len(tied) // 2]


# Queries that name their subject: the /search floor must never hide their documents.
LITERAL_KINDS = ("keyword", "acronym")


def calibrate_search_floor(calibration: dict[str, list[float]], literal: list[float]) -> float:
    """The relevance floor of /search: the same rule as the answer's threshold with an
    abstention of 80 % on the unanswerable questions (a list is cheaper to ignore than a wrong
    answer), lowered under the lowest keyword or acronym question if it would hide one."""
    floor, _ = calibrate_threshold(calibration["answerable"], calibration["unanswerable"], abstention=0.8)
    below = [score for score in literal if score < floor]
    if below:
        lowest = min(below)
        under = max([s for s in calibration["answerable"] + calibration["unanswerable"] if s < lowest], default=lowest)
        floor = round((lowest + under) / 2, 4)
    return floor
