"""The per-request work of `/search` outside the model: `python -m evaluation.bench_search_work
[--data-dir DIR] [--rounds N] [--top N] [--ask] [--fresh]`.

Opens the knowledge base of ``--data-dir`` (by default the sample corpus ingested into a
temporary directory with the default model) as `kb serve` does, embeds the evaluation's
questions once (so that every timed search finds its question's vector in the query cache:
what is left is the work that does not depend on the model), then runs ``KnowledgeBase.search``
on every question ``--rounds`` times and prints the mean and the percentiles per search, the
share of the time in each part (snippets, vector queries, lexical scoring, evidence, listing),
and a cProfile of the whole. Figures only, nothing asserted (issue 27: the repeated-question
measure, 9.5 to 11.5 ms a request at 100k passages, snippets about 44 % of it).

``--fresh`` leaves the query cache empty instead: one round, each question embedded inside its
timed call, so the profile also gives the model's share of a fresh question.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import tempfile
import time
from pathlib import Path

from evaluation.datasets import CORPUS, PROJECT_ROOT, load_questions
from evaluation.machine import describe_machine
from kb.core.settings import Settings
from services import runtime

# (label, the functions whose cumulative time it is: file suffix, function name)
PARTS = [
    ("embedding the question", ("kb/index/knowledge_index.py", "query_vector")),
    ("snippets (passage views)", ("kb/search/views.py", "passage_views")),
    ("passage vector query", ("kb/index/knowledge_index.py", "dense_hits")),
    ("sentence vector query", ("kb/index/knowledge_index.py", "sentence_hits")),
    ("reading the passages kept", ("kb/index/knowledge_index.py", "read_passages")),
    ("lexical scoring", ("kb/index/lexical_index.py", "search")),
    ("evidence", ("kb/search/evidence.py", "of")),
    ("area facets", ("kb/search/area_facets.py", "area_facets")),
    ("answer digest (/ask)", ("kb/answer/digest.py", "block")),
]


def part_times(stats: pstats.Stats) -> dict[str, float]:
    """Cumulative seconds of each part, from the profile (its outermost calls only)."""
    found = dict.fromkeys((label for label, _ in PARTS), 0.0)
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for label, (suffix, function) in PARTS:
            if filename.endswith(suffix) and name == function:
                found[label] = max(found[label], cumulative)
    return found


def measure(data_dir: Path, rounds: int, top: int, ask: bool = False, fresh: bool = False) -> None:
    settings = Settings(data_dir=data_dir)
    kb = runtime.open_knowledge_base(settings, serving=True)
    try:
        questions = [
            q.question for q in load_questions(PROJECT_ROOT / "evaluation" / "questions.jsonl", CORPUS).questions
        ]
        run = kb.ask if ask else kb.search
        if fresh:
            rounds = 1
        else:
            for question in questions:  # the query cache holds every question's vector from here
                run(question)
        times: list[float] = []
        profile = cProfile.Profile()
        for _ in range(rounds):
            for question in questions:
                started = time.perf_counter()
                profile.enable()
                run(question)
                profile.disable()
                times.append(time.perf_counter() - started)
    finally:
        kb.close()
    ordered = sorted(times)
    total = sum(times)
    cached = "question embarquée à chaque appel" if fresh else "vecteur de la question en cache"
    print(f"base : {data_dir} ; {len(questions)} questions × {rounds} tours, {cached}")
    print(
        f"{'/ask' if ask else '/search'} en processus, {'modèle compris' if fresh else 'hors modèle'} : moyenne {1000 * statistics.mean(times):.2f} ms, "
        f"p50 {1000 * ordered[len(ordered) // 2]:.2f} ms, p95 {1000 * ordered[int(0.95 * (len(ordered) - 1))]:.2f} ms"
    )
    stats = pstats.Stats(profile)
    for label, seconds in part_times(stats).items():
        if seconds:
            print(f"  {label} : {1000 * seconds / len(times):.2f} ms par requête ({100 * seconds / total:.0f} %)")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="an ingested base (default: the sample corpus)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top", type=int, default=30, help="functions listed, by cumulative time")
    parser.add_argument("--ask", action="store_true", help="KnowledgeBase.ask (/ask) instead of search")
    parser.add_argument("--fresh", action="store_true", help="each question embedded in its timed call (one round)")
    args = parser.parse_args(argv)
    print(describe_machine())
    if args.data_dir:
        measure(args.data_dir, args.rounds, args.top, args.ask, args.fresh)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        started = time.perf_counter()
        runtime.ingest(Settings(data_dir=data_dir), [CORPUS])
        print(f"ingestion du corpus d'exemple : {time.perf_counter() - started:.1f} s")
        measure(data_dir, args.rounds, args.top, args.ask, args.fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
