"""Answer evaluation: key facts, citation validity, fragments, abstention, unaccented variants.

Pure functions score one answer; ``evaluate_answers`` runs a question set through the same
``Answerer`` that /ask uses, and ``calibrate_threshold`` picks the evidence threshold. With
questions split into ``calibration`` and ``held_out`` halves, the threshold is calibrated on the
first and the answer and abstention rates are reported on the second (not in-sample).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from statistics import median

from evaluation.datasets import Question
from kb.core.text import fold
from kb.search.evidence import EvidenceParts

# the fitting rules live in kb/ (`kb calibrate` uses them too), imported here under their names
from kb.search.fitting import (
    ANSWER_ABSTENTION,
    LITERAL_KINDS,
    calibrate_search_floor,
    calibrate_threshold,
    fit_unknown_weight,
)

__all__ = ["ANSWER_ABSTENTION", "calibrate_threshold", "evaluate_answers", "fit_unknown_weight"]

_MARKER = re.compile(r"\[(\d+)\]")
_WORD = re.compile(r"[a-z0-9]+")
# function words a reworded answer may drop without losing the fact
_STOP = frozenset(
    [
        "a",
        "au",
        "aux",
        "avec",
        "ce",
        "ces",
        "d",
        "de",
        "des",
        "du",
        "en",
        "et",
        "l",
        "la",
        "le",
        "les",
        "leur",
        "leurs",
        "n",
        "ne",
        "par",
        "pas",
        "pour",
        "qu",
        "que",
        "qui",
        "sa",
        "se",
        "ses",
        "son",
        "sur",
        "un",
        "une",
        "y",
        "est",
        "sont",
        "ou",
        "dans",
        "il",
        "elle",
        "ils",
        "elles",
        "on",
        "au",
        "tous",
        "tout",
        "toute",
        "toutes",
        "plus",
    ]
)
_TERMINAL = tuple(".!…»)")


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text.replace("**", ""))).strip()


def _letters(text: str) -> str:
    """Letters and digits only: a sentence whose wrapped lines were joined still matches."""
    return re.sub(r"[^a-z0-9]", "", fold(text))


def key_fact_coverage(answer: str, key_facts: Iterable[str]) -> float:
    """Exact measure: the share of facts found verbatim (accents and case folded)."""
    facts = list(key_facts)
    if not facts:
        return 0.0
    text = _normalise(answer)
    return sum(1 for fact in facts if _normalise(fact) in text) / len(facts)


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(fold(text)) if w not in _STOP]


def tolerant_key_fact_coverage(answer: str, key_facts: Iterable[str]) -> float:
    """Rewording-tolerant measure: a fact counts when at least half of its content words are
    in the answer (accents folded)."""
    facts = list(key_facts)
    if not facts:
        return 0.0
    present = set(_WORD.findall(fold(answer)))
    found = 0
    for fact in facts:
        words = content_words(fact) or _WORD.findall(fold(fact))
        if words and sum(word in present for word in words) * 2 >= len(words):
            found += 1
    return found / len(facts)


def cited_sentences(result: dict) -> list[tuple[str, int]]:
    """(sentence, n) for every cited sentence and figure of an answer's sources."""
    pairs = []
    for source in result.get("sources") or []:
        for entry in list(source.get("sentences", [])) + list(source.get("figures", [])):
            pairs.append((entry["text"], entry["n"]))
    return pairs


def citation_validity(result: dict) -> tuple[int, int]:
    """(valid, checked): a cited sentence is valid when its citation exists and the quote holds
    it; every ``[n]`` of the answer's text must name an existing citation too."""
    quotes = {c["n"]: _letters(c.get("quote") or "") for c in result.get("citations", [])}
    pairs = cited_sentences(result)
    valid = sum(1 for sentence, n in pairs if n in quotes and _letters(sentence) in quotes[n])
    markers = [int(m) for m in _MARKER.findall(result.get("answer", ""))]
    valid += sum(1 for n in markers if n in quotes)
    return valid, len(pairs) + len(markers)


def fragments(result: dict) -> int:
    """Cited sentences (not figure lines) that do not end as a sentence ends."""
    return sum(
        1
        for source in result.get("sources") or []
        for entry in source.get("sentences", [])
        if not entry["text"].rstrip().endswith(_TERMINAL)
    )


def strip_accents(question: str) -> str:
    """The question as typed on a phone: no accents, no hyphens, plain apostrophes."""
    text = unicodedata.normalize("NFKD", question.replace("œ", "oe").replace("’", "'"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.replace("-", " ")


def _rate(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def evaluate_answers(
    answerer, questions: list[Question], search_floor: float | None = None, search: Callable | None = None
) -> dict:
    """``search_floor``: the relevance floor of /search, whose abstention is measured too;
    ``search``: the /search of the same base (``KnowledgeBase.search``), to check that no
    misspelt query ends in an empty list."""
    exact: list[float] = []
    tolerant: list[float] = []
    valid_markers = markers = fragment_count = cited = 0
    answered_without_citation = answered = 0
    evidence: dict[str, dict[str, list[float]]] = {}
    literal: dict[str, list[float]] = {}  # the evidence of the keyword and acronym questions
    outcomes: dict[str, dict[str, list[bool]]] = {}
    unaccented: list[tuple[bool, bool]] = []
    other_listed = other_relevant = cross_questions = cross_with_other = 0
    kinds: dict[str, dict[str, list]] = {}
    held_out_kinds: dict[str, list[bool]] = {}
    searches: dict[str, dict[str, list[bool]]] = {}
    fitted: list[tuple[EvidenceParts, Question]] = []  # the calibration half's evidence parts
    backgrounds: list[float] = []  # the gap_rank-th score of the calibration questions
    blocks = BlockFigures()
    typo_listed: list[bool] = []
    for question in questions:
        result = answerer.answer(question.question)
        query = answerer.retriever.query(question.question)
        parts = answerer.evidence.parts(answerer.evidence.judged_hits(query, None, None), query)
        score = parts.combined(answerer.evidence.params) if parts is not None else 0.0
        if parts is not None and (question.split or "calibration") == "calibration":
            fitted.append((parts, question))
        if (question.split or "calibration") == "calibration":
            ranked = answerer.retriever.search(question.question, k=answerer.evidence.params.gap_rank)
            if len(ranked) >= answerer.evidence.params.gap_rank:
                backgrounds.append(ranked[-1].score)
        blocks.add(question, result)
        if search is not None and question.kind == "typo":
            typo_listed.append(bool(search(question.question)["results"]))
        side = "answerable" if question.relevant else "unanswerable"
        split = question.split or "calibration"
        evidence.setdefault(split, {"answerable": [], "unanswerable": []})[side].append(score)
        if question.relevant and question.kind in LITERAL_KINDS:
            literal.setdefault(split, []).append(score)
        if search_floor is not None:
            listed = score >= search_floor
            searches.setdefault(split, {"answerable": [], "unanswerable": []})[side].append(
                listed if question.relevant else not listed
            )
        outcomes.setdefault(split, {"answerable": [], "unanswerable": []})[side].append(
            result["found"] if question.relevant else not result["found"]
        )
        if question.relevant:
            plain = strip_accents(question.question)
            if plain != question.question:
                unaccented.append((result["found"], answerer.answer(plain)["found"]))
        if question.kind == "cross_sector":
            listed = [doc["doc_id"] for doc in result.get("other_sector", [])]
            cross_questions += 1
            cross_with_other += bool(listed)
            other_listed += len(listed)
            other_relevant += sum(doc_id in question.relevant for doc_id in listed)
        if result["found"]:
            answered += 1
            answered_without_citation += not result["citations"]
            valid, total = citation_validity(result)
            valid_markers += valid
            markers += total
            fragment_count += fragments(result)
            cited += sum(len(s.get("sentences", [])) for s in result.get("sources", []))
        kind = kinds.setdefault(question.kind, {"answered": [], "key_facts": []})
        kind["answered"].append(result["found"])
        if question.split == "held_out":
            held_out_kinds.setdefault(question.kind, []).append(result["found"])
        if question.key_facts:
            exact.append(key_fact_coverage(result["answer"], question.key_facts))
            tolerant.append(tolerant_key_fact_coverage(result["answer"], question.key_facts))
            kind["key_facts"].append(tolerant[-1])
    calibration = evidence.get("calibration", {"answerable": [], "unanswerable": []})
    threshold, balanced = calibrate_threshold(calibration["answerable"], calibration["unanswerable"])
    search_floor_fit = calibrate_search_floor(calibration, literal.get("calibration", []))
    held_out = outcomes.get("held_out") or outcomes.get("calibration", {"answerable": [], "unanswerable": []})
    every = {side: sum((o[side] for o in outcomes.values()), []) for side in ("answerable", "unanswerable")}
    originals = sum(found for found, _ in unaccented)
    return {
        "key_fact_coverage": _mean(tolerant),
        "key_fact_coverage_exact": _mean(exact),
        "questions_with_key_facts": len(exact),
        "citation_validity": valid_markers / markers if markers else None,
        "fragments": fragment_count / cited if cited else None,
        "answers_without_citation": answered_without_citation / answered if answered else None,
        "answer_rate_answerable": _rate(every["answerable"]),
        "abstention_unanswerable": _rate(every["unanswerable"]),
        "held_out_answer_rate": _rate(held_out["answerable"]),
        "held_out_abstention": _rate(held_out["unanswerable"]),
        "held_out_answer_rate_without_paraphrases": _rate(
            [found for kind, v in held_out_kinds.items() if kind not in ("paraphrase", "unanswerable") for found in v]
        ),
        "held_out_by_kind": {
            name: {"questions": len(v), "answered": _rate(v)} for name, v in sorted(held_out_kinds.items())
        },
        "unaccented_answer_ratio": sum(found for _, found in unaccented) / originals if originals else None,
        "other_sector_precision": other_relevant / other_listed if other_listed else None,
        "other_sector_shown": cross_with_other / cross_questions if cross_questions else None,
        "search_held_out_abstention": _rate(searches.get("held_out", {}).get("unanswerable", [])),
        "search_held_out_listed": _rate(searches.get("held_out", {}).get("answerable", [])),
        "by_kind": {
            name: {
                "questions": len(v["answered"]),
                "answered": _rate(v["answered"]),
                "key_facts": _mean(v["key_facts"]),
            }
            for name, v in sorted(kinds.items())
        },
        **blocks.figures(),
        "typo_never_empty": _rate(typo_listed),
        "gap_background_in_use": answerer.evidence.params.gap_background,
        "calibrated_gap_background": round(median(backgrounds), 4) if backgrounds else None,
        "threshold_in_use": answerer.params.min_score,
        "calibrated_threshold": threshold,
        "calibrated_unknown_weight": fit_unknown_weight(fitted, answerer.evidence.params),
        "calibrated_answer_rate": balanced,
        "search_floor_in_use": search_floor,
        "calibrated_search_floor": search_floor_fit,
    }


class BlockFigures:
    """Whether the blocks of an answer belong (labelled ``answer_sources``) and whether the
    documents labelled ``essential`` are shown, by split."""

    def __init__(self) -> None:
        self.shown: dict[str, list[bool]] = {}  # per shown block: does it belong?
        self.essential: dict[str, list[bool]] = {}  # per essential document: is it shown?

    def add(self, question: Question, result: dict) -> None:
        belongs = set(getattr(question, "answer_sources", ()) or ())
        if not belongs:
            return
        split = question.split or "calibration"
        shown = [source["doc_id"] for source in result.get("sources", [])] if result["found"] else []
        self.shown.setdefault(split, []).extend(doc_id in belongs for doc_id in shown)
        essential = getattr(question, "essential", ()) or ()
        self.essential.setdefault(split, []).extend(doc_id in shown for doc_id in essential)

    def figures(self) -> dict:
        return {
            "block_precision": {split: _rate(v) for split, v in sorted(self.shown.items())},
            "blocks_shown": {split: len(v) for split, v in sorted(self.shown.items())},
            "essential_shown": {split: _rate(v) for split, v in sorted(self.essential.items())},
        }


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
