"""What `/ask` lists "in the other sector" (`other_sector`), against evaluation/cross_sector.jsonl:
precision (listed documents a practitioner of the asker's sector would thank us for), recall
(the labelled documents listed) and restraint (questions where the other sector has nothing
that list nothing), by split.

    python -m evaluation.other_sector [--index-dir DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from evaluation.datasets import PROJECT_ROOT, Dataset
from evaluation.retrieval import dataset_index
from kb.core.settings import Settings
from services.knowledge_base import KnowledgeBase

QUESTIONS = PROJECT_ROOT / "evaluation" / "cross_sector.jsonl"


def load(path: Path = QUESTIONS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(kb: KnowledgeBase, questions: list[dict], told: bool = True) -> dict:
    """``told``: the asker's sector is given to /ask (``from_sector``), else guessed from the
    answer's sources."""
    figures: dict[str, dict] = {}
    for question in questions:
        answer = kb.ask(question["question"], from_sector=question["asker_sector"] if told else None)
        listed = [doc["doc_id"] for doc in answer.get("other_sector", [])]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, help="keep the sample index here to reuse it")
    args = parser.parse_args()
    settings = Settings()
    with dataset_index(Dataset(name="corpus", corpus=PROJECT_ROOT / "corpus"), settings, args.index_dir) as (index, _):
        kb = KnowledgeBase.create(settings, index)
        figures = {"asker's sector given": evaluate(kb, load()), "guessed": evaluate(kb, load(), told=False)}
        print(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
