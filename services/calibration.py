"""`kb calibrate`: fit the abstention thresholds for the model (and reranker) the index uses.

The rules are those the shipped values were fitted with (kb/search/fitting.py,
kb/duplicates/fitting.py), applied to the calibration half of a labelled question file; the
held-out half measures the abstention on its unanswerable questions and the answered rate on
the others, with the global thresholds (fitted on e5-int8) and with the new ones. The record is
stored in the index (kb/search/calibration.py): a server reads it when it opens the index.

The question file (JSONL, one object a line): ``question`` (text), ``relevant`` (the ``doc_id``s
that answer it; empty: a question the base does not answer), optionally ``kind`` (``keyword``
and ``acronym`` questions name their subject: the search floor never hides them) and ``split``
(``calibration`` or ``held_out``). Rows without a split are dealt into the two halves by the
SHA-1 of their text, answerable and unanswerable questions apart: stable, whatever the order.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

from kb.answer.answerer import Answerer
from kb.core.errors import InvalidRequest
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.calibration import (
    ANSWER_VALUES,
    calibration_of,
    reranker_id,
    stored_records,
    with_record,
)
from kb.search.evidence import Evidence, EvidenceParams
from kb.search.fitting import LITERAL_KINDS, calibrate_search_floor, calibrate_threshold, fit_unknown_weight
from kb.search.glossary import Glossary
from kb.search.rerank_fit import fit_rerank_weight
from kb.search.reranking import Reranking
from kb.search.retrieval import Retriever
from services.calibration_duplicates import fit_duplicates

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_QUESTIONS = PROJECT_ROOT / "evaluation" / "questions.jsonl"
CALIBRATION, HELD_OUT = "calibration", "held_out"


@dataclass(frozen=True)
class LabelledQuestion:
    question: str
    relevant: tuple[str, ...]
    kind: str
    split: str


def load_questions(path: Path) -> list[LabelledQuestion]:
    """The labelled questions of ``path`` (format: this module's docstring), split in halves."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidRequest(f"Fichier de questions illisible : {path} ({exc.strerror or exc}).") from exc
    rows: list[tuple[str, tuple[str, ...], str, str | None]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, relevant = row["question"], row.get("relevant", [])
            if not isinstance(text, str) or not text.strip() or not isinstance(relevant, list):
                raise ValueError
            split = row.get("split")
            if split not in (None, CALIBRATION, HELD_OUT):
                raise ValueError
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidRequest(
                f"{path.name}, ligne {number} : attendu un objet JSON avec « question » (texte), "
                "« relevant » (liste d'identifiants, vide pour une question hors base), et en option "
                "« kind » et « split » (calibration ou held_out)."
            ) from exc
        kind = str(row.get("kind") or ("natural" if relevant else "unanswerable"))
        rows.append((text, tuple(str(doc_id) for doc_id in relevant), kind, split))
    dealt = _deal([(text, bool(relevant)) for text, relevant, _, split in rows if split is None])
    return [
        LabelledQuestion(text, relevant, kind, split or dealt[(text, bool(relevant))])
        for text, relevant, kind, split in rows
    ]


def _deal(unsplit: list[tuple[str, bool]]) -> dict[tuple[str, bool], str]:
    """Alternate halves in the order of the texts' SHA-1, each side (answerable or not) apart."""
    halves: dict[tuple[str, bool], str] = {}
    for answerable in (True, False):
        keys = sorted({k for k in unsplit if k[1] is answerable}, key=lambda k: hashlib.sha1(k[0].encode()).hexdigest())
        halves.update({key: (CALIBRATION, HELD_OUT)[i % 2] for i, key in enumerate(keys)})
    return halves


def _global(name: str) -> float:
    """A value as shipped in ``Settings`` (fitted on e5-int8): the "before" of the figures."""
    return float(Settings.model_fields[name].default)


def fit_answers(answerer: Answerer, questions: list[LabelledQuestion]) -> tuple[dict[str, float], dict[str, Any]]:
    """The answer's threshold, its weights and the search floor fitted on the calibration half,
    and the held-out figures before (global thresholds) and after."""
    retriever = answerer.retriever
    base = answerer.evidence.params
    half = [q for q in questions if q.split == CALIBRATION]
    queries = {q.question: retriever.query(q.question) for q in half}
    rankings = {q.question: retriever.search(queries[q.question], k=base.depth) for q in half}
    backgrounds = [r[base.gap_rank - 1].score for r in rankings.values() if len(r) >= base.gap_rank]
    background = round(median(backgrounds), 4) if backgrounds else base.gap_background
    params = replace(base, gap_background=background)
    evidence = Evidence(retriever, params)
    parts = [(evidence.parts(rankings[q.question], queries[q.question]), q) for q in half]
    fitted = [(p, q) for p, q in parts if p is not None]
    unknown = fit_unknown_weight(fitted, params)
    params = replace(params, unknown_weight=base.unknown_weight if unknown is None else unknown)
    sides: dict[str, list[float]] = {"answerable": [], "unanswerable": []}
    literal: list[float] = []
    for p, q in parts:
        score = p.combined(params) if p is not None else 0.0
        sides["answerable" if q.relevant else "unanswerable"].append(score)
        if q.relevant and q.kind in LITERAL_KINDS:
            literal.append(score)
    threshold, _ = calibrate_threshold(sides["answerable"], sides["unanswerable"])
    values = {
        "answer_min_score": threshold,
        "answer_unknown_weight": params.unknown_weight,
        "answer_gap_background": background,
        "search_min_evidence": calibrate_search_floor(sides, literal),
    }
    held = [q for q in questions if q.split == HELD_OUT]
    settings = answerer.index.settings
    before = {name: _global(name) for name in ANSWER_VALUES}
    figures = {
        "global": _held_out(answerer, held, settings, before),
        "calibrated": _held_out(answerer, held, settings, values),
    }
    counts = {
        split: {
            "answerable": sum(1 for q in questions if q.split == split and q.relevant),
            "unanswerable": sum(1 for q in questions if q.split == split and not q.relevant),
        }
        for split in (CALIBRATION, HELD_OUT)
    }
    return values, {"counts": counts, "held_out": figures}


def _held_out(
    answerer: Answerer, held: list[LabelledQuestion], settings: Settings, values: dict[str, float]
) -> dict[str, float | None]:
    """/ask's and /search's outcomes on the held-out half with these values."""
    evidence = replace(
        EvidenceParams.from_settings(settings),
        unknown_weight=values["answer_unknown_weight"],
        gap_background=values["answer_gap_background"],
        search_floor=values["search_min_evidence"],
    )
    params = replace(answerer.params, min_score=values["answer_min_score"], evidence=evidence)
    judge = Answerer(answerer.retriever, params)
    answered, abstained, listed, hidden = [], [], [], []
    for q in held:
        found = judge.answer(q.question)["found"]
        query = judge.retriever.query(q.question)
        confident = judge.evidence.of(query) >= values["search_min_evidence"]
        if q.relevant:
            answered.append(found)
            listed.append(confident)
        else:
            abstained.append(not found)
            hidden.append(not confident)
    return {
        "answered": _rate(answered),
        "abstention": _rate(abstained),
        "search_confident": _rate(listed),
        "search_abstention": _rate(hidden),
    }


def _rate(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def calibrate(kb: Any, questions_file: Path = DEFAULT_QUESTIONS, rerank_weight: float | None = None) -> dict[str, Any]:
    """Fit every value on ``questions_file`` for the index of ``kb`` (a ``KnowledgeBase``) and
    store the record in the index; returns it. ``rerank_weight``: the reranker's share, when
    it was fitted already; otherwise, with a reranker, it is fitted first
    (kb/search/rerank_fit.py: it changes the rankings the thresholds are fitted on) and
    recorded with them."""
    questions = load_questions(questions_file)
    if not any(q.split == CALIBRATION and not q.relevant for q in questions) or not any(
        q.split == CALIBRATION and q.relevant for q in questions
    ):
        raise InvalidRequest(
            f"{questions_file.name} : il faut des questions avec et sans réponse (« relevant » vide) "
            "dans la moitié de calibration."
        )
    index = kb.index
    rerank_fit = None
    if rerank_weight is None and kb.retriever.reranker is not None:
        # first: the thresholds are fitted on the order the fitted weight gives
        rerank_fit = fit_rerank_weight(kb.retriever, questions)
        rerank_weight = rerank_fit.weight
    if rerank_weight is not None and kb.retriever.reranker is not None:
        kb.retriever.reranker = kb.retriever.reranker.with_weight(rerank_weight)
    values, figures = fit_answers(kb.answerer, questions)
    if rerank_fit is not None:
        figures["rerank"] = rerank_fit.payload()
    duplicates = fit_duplicates(index, index.settings)
    if duplicates is not None:
        values["duplicate_semantic"] = duplicates.pop("semantic")
        figures["duplicates"] = duplicates
    if rerank_weight is not None:
        values["rerank_weight"] = rerank_weight
    record = {
        "model": index.embedder.model_id,
        "reranker": reranker_id(kb.retriever),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "questions": questions_file.name,
        "values": values,
        **figures,
    }
    index.registry.set_calibration(with_record(stored_records(index.registry), record))
    return record


def index_status(index: KnowledgeIndex) -> dict[str, Any]:
    """What `kb status` shows of the calibration in use (the same as /health), for the
    reranker the settings configure."""
    reranking = Reranking.from_settings(index.settings)
    retriever = Retriever(index, Glossary.load(index.settings.glossary_file), reranker=reranking)
    try:
        return calibration_of(index, reranker_id(retriever)).summary()
    finally:
        if reranking is not None:
            reranking.close()
