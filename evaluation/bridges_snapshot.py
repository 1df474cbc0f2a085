"""What the bridge view shows, saved and compared: `python -m evaluation.bridges_snapshot
--index-dir DIR (--save FILE | --compare FILE) [--subjects N]`.

Builds ``Bridges.view`` for the subjects ``evaluation/bench_bridges.py`` times (N themes, every
public, N questions, the themes in a département) and saves the page's data as JSON, or
compares it with a saved file: a change that should only make the view faster must leave every
subject's data identical (scores are not part of the page's data; what it lists, in which
order, and whether each list is sure are).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from evaluation.datasets import PROJECT_ROOT, load_questions
from kb.core.settings import Settings
from services.bridges import Bridges
from services.runtime import ingest, open_knowledge_base


def subjects(bridges: Bridges, count: int) -> list[tuple[str, str | None]]:
    choices = bridges.choices()
    themes = choices["themes"][:count]
    dataset = load_questions(PROJECT_ROOT / "evaluation" / "questions.jsonl", PROJECT_ROOT / "corpus")
    questions = list(dict.fromkeys(q.question for q in dataset.questions))[:count]
    place = (choices["departements"] or [None])[0]
    return [
        *((theme, None) for theme in themes),
        *((public, None) for public in choices["publics"]),
        *((question, None) for question in questions),
        *((theme, place) for theme in themes),
    ]


def views(bridges: Bridges, count: int) -> dict[str, dict]:
    return {
        f"{subject} | {territory or ''}": bridges.view(subject, territory)
        for subject, territory in subjects(bridges, count)
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-dir", type=Path, required=True, help="data directory to build or reuse")
    parser.add_argument("--subjects", type=int, default=20, help="themes and questions to view")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--save", type=Path, help="write the views to this JSON file")
    action.add_argument("--compare", type=Path, help="compare the views with this JSON file")
    args = parser.parse_args(argv)
    settings = Settings(data_dir=args.index_dir)
    ingest(settings, [PROJECT_ROOT / "corpus"])
    kb = open_knowledge_base(settings)
    try:
        found = json.loads(json.dumps(views(Bridges(kb), args.subjects), default=str))
    finally:
        kb.close()
    if args.save:
        args.save.write_text(json.dumps(found, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
        print(f"{len(found)} views saved to {args.save}")
        return 0
    saved = json.loads(args.compare.read_text(encoding="utf-8"))
    differing = sorted(key for key in saved.keys() | found.keys() if saved.get(key) != found.get(key))
    for key in differing:
        print(f"differs: {key}")
    print(f"{len(found)} views, {len(differing)} differing")
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
