"""Bridge view latency: `python -m evaluation.bench_bridges [--index-dir DIR] [--subjects N]`.

Ingests the sample corpus (or reuses `--index-dir`), then builds the /passerelles page's data
in process (``Bridges.view``, what the page renders) for N themes of the base, every public in
use, N questions of evaluation/questions.jsonl (distinct, so no query cache helps) and the same
subjects in a département. Prints p50/p95 per subject kind, after one warm-up view; then N other
questions whose vectors are computed beforehand: the view's own work, without the embedding
(the larger share of a question's view, and the noisiest on a loaded machine).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from evaluation.bench_api import percentile
from evaluation.datasets import PROJECT_ROOT, load_questions
from evaluation.machine import describe_machine
from kb.core.settings import Settings
from services.bridges import Bridges
from services.runtime import ingest, open_knowledge_base


def timed(bridges: Bridges, subject: str, territory: str | None = None) -> float:
    started = time.perf_counter()
    bridges.view(subject, territory)
    return time.perf_counter() - started


def report(name: str, values: list[float]) -> None:
    print(
        f"{name:<30} {len(values):>4} views   p50 {percentile(values, 0.5) * 1000:7.1f} ms   "
        f"p95 {percentile(values, 0.95) * 1000:7.1f} ms",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-dir", type=Path, default=None, help="data directory to build or reuse")
    parser.add_argument("--subjects", type=int, default=20, help="themes and questions to view")
    args = parser.parse_args(argv)
    print(describe_machine(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=args.index_dir or Path(tmp) / "data")
        ingest(settings, [PROJECT_ROOT / "corpus"])
        kb = open_knowledge_base(settings)
        try:
            bridges = Bridges(kb)
            choices = bridges.choices()
            themes = choices["themes"][: args.subjects]
            dataset = load_questions(PROJECT_ROOT / "evaluation" / "questions.jsonl", PROJECT_ROOT / "corpus")
            distinct = list(dict.fromkeys(q.question for q in dataset.questions))
            questions, embedded = distinct[: args.subjects], distinct[args.subjects : 2 * args.subjects]
            place = (choices["departements"] or [None])[0]
            timed(bridges, "passerelles")  # warm-up: the model's first run, the stores' graphs
            report("thème", [timed(bridges, theme) for theme in themes])
            report("public", [timed(bridges, public) for public in choices["publics"]])
            report("question", [timed(bridges, question) for question in questions])
            report(f"thème, territoire {place}", [timed(bridges, theme, place) for theme in themes])
            for question in embedded:
                kb.index.query_vector(kb.retriever.query(question).spelled)
            report("question, vecteur déjà calculé", [timed(bridges, question) for question in embedded])
        finally:
            kb.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
