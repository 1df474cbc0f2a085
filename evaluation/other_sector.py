"""What `/ask` lists "in the other sector" (`other_sector`), against evaluation/cross_sector.jsonl:
precision (listed documents a practitioner of the asker's sector would thank us for), recall
(the labelled documents listed) and restraint (questions where the other sector has nothing
that list nothing), by split.

    python -m evaluation.other_sector [--index-dir DIR] [--fit]

``--fit`` refits the told rule (kb/answer/other_sector.py) on the calibration half: among the
rules of ``GRID``, the best precision + recall with at least 75 % restraint (ties: the better
precision, then the first in the grid's order), and prints its figures on both halves.
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from evaluation.datasets import PROJECT_ROOT, Dataset
from evaluation.retrieval import dataset_index
from kb.answer.other_sector import Candidate, OtherSectorParams, choose
from kb.core.settings import Settings
from kb.core.vocabulary import OTHER_SECTOR
from services.knowledge_base import KnowledgeBase

QUESTIONS = PROJECT_ROOT / "evaluation" / "cross_sector.jsonl"


def load(path: Path = QUESTIONS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# the rules the fit chooses among: floor, match, candidates, listed, structure bonus, sentence weight
GRID: dict[str, list[Any]] = {
    "floor": [round(0.9 + 0.0025 * i, 4) for i in range(48)],
    "match": [0.0, 0.05, 0.1, 0.15, 0.2],
    "candidates": [4, 6, 8, 12],
    "listed": [3, 4, 5],
    "structure_bonus": [0.0, 0.02, 0.04, 0.06],
    "sentence_weight": [0.0, 0.5, 1.0, 2.0],
}
RESTRAINT = 0.75


def evaluate(kb: KnowledgeBase, questions: list[dict], told: bool = True) -> dict:
    """``told``: the asker's sector is given to /ask (``from_sector``), else guessed from the
    answer's sources."""
    listed = [
        [
            doc["doc_id"]
            for doc in kb.ask(q["question"], from_sector=q["asker_sector"] if told else None)["other_sector"]
        ]
        for q in questions
    ]
    return figures_of(questions, listed)


def figures_of(questions: list[dict], listings: list[list[str]]) -> dict:
    """Precision, recall and restraint by split of what was listed for each question."""
    figures: dict[str, dict] = {}
    for question, listed in zip(questions, listings, strict=True):
        wanted = set(question["other_sector"])
        split = figures.setdefault(
            question["split"], {"listed": 0, "right": 0, "wanted": 0, "found": 0, "nothing": 0, "restrained": 0}
        )
        if wanted:
            split["listed"] += len(listed)
            split["right"] += sum(doc_id in wanted for doc_id in listed)
            split["wanted"] += len(wanted)
            split["found"] += len(wanted & set(listed))
        else:
            split["nothing"] += 1
            split["restrained"] += not listed
            split["listed"] += len(listed)  # anything listed there is wrong
    return {
        split: {
            "precision": f["right"] / f["listed"] if f["listed"] else None,
            "recall": f["found"] / f["wanted"] if f["wanted"] else None,
            "restraint": f["restrained"] / f["nothing"] if f["nothing"] else None,
            "listed": f["listed"],
        }
        for split, f in sorted(figures.items())
    }


def fit(kb: KnowledgeBase, questions: list[dict], start: OtherSectorParams) -> tuple[OtherSectorParams, dict]:
    """The rule of ``GRID`` chosen on the calibration half, and its figures on both halves."""
    answerer = kb.answerer
    most = max(GRID["candidates"])
    pools: list[list[Candidate]] = [
        answerer.other.candidates(answerer.retriever.query(q["question"]), OTHER_SECTOR[q["asker_sector"]], most)
        for q in questions
    ]
    calibration = [i for i, q in enumerate(questions) if q["split"] == "calibration"]
    best: tuple[tuple[float, float], OtherSectorParams] | None = None
    for values in itertools.product(*GRID.values()):
        params = replace(start, **dict(zip(GRID, values, strict=True)))
        listings = [[c.hit.metadata.doc_id for c in choose(pools[i], params)] for i in calibration]
        f = figures_of([questions[i] for i in calibration], listings)["calibration"]
        if (f["restraint"] or 0.0) < RESTRAINT:
            continue
        key = ((f["precision"] or 0.0) + (f["recall"] or 0.0), f["precision"] or 0.0)
        if best is None or key > best[0]:
            best = (key, params)
    chosen = best[1] if best else start
    listings = [[c.hit.metadata.doc_id for c in choose(pool, chosen)] for pool in pools]
    return chosen, figures_of(questions, listings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, help="keep the sample index here to reuse it")
    parser.add_argument("--fit", action="store_true", help="refit the told rule on the calibration half")
    args = parser.parse_args()
    settings = Settings()
    with dataset_index(Dataset(name="corpus", corpus=PROJECT_ROOT / "corpus"), settings, args.index_dir) as (index, _):
        kb = KnowledgeBase.create(settings, index)
        if args.fit:
            chosen, figures = fit(kb, load(), kb.answerer.params.other)
            fitted = {name: getattr(chosen, name) for name in GRID}
            print(json.dumps({"fitted": fitted, "figures": figures}, indent=2, ensure_ascii=False))
            return
        figures = {"asker's sector given": evaluate(kb, load()), "guessed": evaluate(kb, load(), told=False)}
        print(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
