"""Site page latency: `python -m evaluation.bench_site [--index-dir DIR] [--requests N]`.

Ingests the sample corpus (or reuses `--index-dir`), starts `kb serve` as its own process and
requests, with one client, every document's page (`/fiches/{id}`) and search pages
(`/recherche?q=…`, distinct questions so the query cache never helps, then the catalogue and its
facets; then "Poser la question", `/recherche?q=…&question=1`, on other questions). Prints
p50/p95 per page kind. Goal: a fiche page under 30 ms p95 with one client.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx

from evaluation.bench_api import kb_server, percentile
from evaluation.datasets import PROJECT_ROOT, load_questions
from evaluation.machine import describe_machine
from kb.core.settings import Settings
from services.runtime import ingest, open_index


def timed(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return elapsed


def report(name: str, values: list[float]) -> None:
    print(
        f"{name:<28} {len(values):>4} requests   p50 {percentile(values, 0.5) * 1000:7.1f} ms   "
        f"p95 {percentile(values, 0.95) * 1000:7.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-dir", type=Path, default=None, help="data directory to build or reuse")
    parser.add_argument("--requests", type=int, default=120, help="search pages to request")
    parser.add_argument("--asked", type=int, default=40, help="question pages (question=1) to request")
    args = parser.parse_args(argv)
    print(describe_machine(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.index_dir or Path(tmp) / "data"
        settings = Settings(data_dir=data_dir)
        ingest(settings, [PROJECT_ROOT / "corpus"])
        index = open_index(settings)
        doc_ids = [stored.metadata.doc_id for stored in index.documents()]
        index.close()
        with kb_server(data_dir) as (base, _), httpx.Client(base_url=base, timeout=60) as client:
            for doc_id in doc_ids[:5]:  # warm-up
                timed(client, f"/fiches/{quote(doc_id)}")
            fiches = [timed(client, f"/fiches/{quote(doc_id)}") for doc_id in doc_ids]
            dataset = load_questions(PROJECT_ROOT / "evaluation" / "questions.jsonl", PROJECT_ROOT / "corpus")
            questions = [q.question for q in dataset.questions]
            searches = [timed(client, f"/recherche?q={quote(q)}") for q in questions[: args.requests]]
            others = list(dict.fromkeys(questions[args.requests :]))[: args.asked]
            asked = [timed(client, f"/recherche?q={quote(q)}&question=1") for q in others]
            catalogue = [timed(client, f"/recherche?page={n % 9 + 1}") for n in range(40)]
            filtered = [timed(client, "/recherche?type=fiche%20exp%C3%A9rience&page=2") for _ in range(20)]
            home = [timed(client, "/") for _ in range(20)]
            directory = [timed(client, "/annuaire") for _ in range(20)]
    print(f"documents: {len(doc_ids)}  (sample corpus, one client, server in its own process)")
    report("/fiches/{id}", fiches)
    report("/recherche?q= (fresh)", searches)
    report("/recherche?q=&question=1", asked)
    report("/recherche (catalogue)", catalogue)
    report("/recherche?type=…&page=2", filtered)
    report("/", home)
    report("/annuaire", directory)
    goal = percentile(fiches, 0.95) * 1000
    print(f"goal: /fiches p95 under 30 ms: {'met' if goal < 30 else 'missed'} ({goal:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
