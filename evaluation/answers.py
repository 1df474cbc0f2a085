"""Answer evaluation: key facts, citation validity, answers without citation, abstention.

Pure functions score one answer; ``evaluate_answers`` runs a question set through the same
``Answerer`` that /ask uses, and ``calibrate_threshold`` picks the evidence threshold.
"""

from __future__ import annotations

import re
from typing import Iterable

from evaluation.datasets import Question
from kb.text import fold

_MARKER = re.compile(r"\[(\d+)\]")


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text.replace("**", ""))).strip()


def key_fact_coverage(answer: str, key_facts: Iterable[str]) -> float:
    facts = list(key_facts)
    if not facts:
        return 0.0
    text = _normalise(answer)
    return sum(1 for fact in facts if _normalise(fact) in text) / len(facts)


def cited_sentences(answer: str) -> list[tuple[str, int]]:
    """(sentence, n) for each ``sentence [n]`` of an extractive answer."""
    pairs = []
    position = 0
    for match in _MARKER.finditer(answer):
        sentence = answer[position : match.start()].strip()
        pairs.append((sentence, int(match.group(1))))
        position = match.end()
    return pairs


def citation_validity(answer: str, citations: list[dict]) -> tuple[int, int]:
    """(valid markers, markers): a marker is valid when its citation exists and the quote
    contains the sentence it follows."""
    quotes = {c["n"]: _normalise(c.get("quote") or "") for c in citations}
    pairs = cited_sentences(answer)
    valid = sum(1 for sentence, n in pairs if n in quotes and _normalise(sentence) in quotes[n])
    return valid, len(pairs)


def calibrate_threshold(answerable: list[float], unanswerable: list[float]) -> tuple[float, float]:
    """The threshold on the best document score that maximises balanced accuracy
    (mean of the answer rate on answerable questions and the abstention rate on the others)."""
    if not answerable or not unanswerable:
        return 0.0, 0.0
    candidates = sorted(set(answerable) | set(unanswerable))
    best = (0.0, candidates[0])
    for threshold in candidates:
        answered = sum(score >= threshold for score in answerable) / len(answerable)
        abstained = sum(score < threshold for score in unanswerable) / len(unanswerable)
        balanced = (answered + abstained) / 2
        if balanced > best[0]:
            best = (balanced, threshold)
    below = max([s for s in answerable + unanswerable if s < best[1]], default=best[1])
    # halfway to the next lower score: the margin is shared on both sides
    return round((best[1] + below) / 2, 4), best[0]


def evaluate_answers(answerer, questions: list[Question]) -> dict:
    coverage: list[float] = []
    valid_markers = markers = 0
    answered_without_citation = answered = 0
    abstained_right = unanswerable = answered_right = answerable = 0
    top_scores: dict[str, list[float]] = {"answerable": [], "unanswerable": []}
    for question in questions:
        top = answerer.evidence(question.question)
        result = answerer.answer(question.question)
        if question.relevant:
            answerable += 1
            answered_right += result["found"]
            top_scores["answerable"].append(top)
        else:
            unanswerable += 1
            abstained_right += not result["found"]
            top_scores["unanswerable"].append(top)
        if result["found"]:
            answered += 1
            answered_without_citation += not result["citations"]
            valid, total = citation_validity(result["answer"], result["citations"])
            valid_markers += valid
            markers += total
        if question.key_facts:
            coverage.append(key_fact_coverage(result["answer"], question.key_facts))
    threshold, balanced = calibrate_threshold(top_scores["answerable"], top_scores["unanswerable"])
    return {
        "key_fact_coverage": sum(coverage) / len(coverage) if coverage else None,
        "questions_with_key_facts": len(coverage),
        "citation_validity": valid_markers / markers if markers else None,
        "answers_without_citation": answered_without_citation / answered if answered else None,
        "answer_rate_answerable": answered_right / answerable if answerable else None,
        "abstention_unanswerable": abstained_right / unanswerable if unanswerable else None,
        "threshold_in_use": answerer.params.min_score,
        "calibrated_threshold": threshold,
        "calibrated_balanced_accuracy": balanced,
    }
