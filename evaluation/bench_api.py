"""API latency benchmark: `python -m evaluation.bench_api [--index-dir DIR] [--requests N]`.

Builds (or reuses) an index of about 10,000 passages (the sample corpus plus the CNIL FAQ
contexts, repeated under new ids to reach the size), starts `kb serve` as its own process, and
sends /search and /ask requests from this process with 8 concurrent clients. Prints p50, p95,
p99 latency, requests/s, and the server's memory.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from evaluation.datasets import CNIL_PATH, PROJECT_ROOT, Dataset, DatasetDocument, load_questions, load_squad
from evaluation.machine import describe_machine
from evaluation.retrieval import write_dataset_as_files
from kb.core.settings import Settings
from services.runtime import ingest, open_index


def build_index(data_dir: Path, target_passages: int) -> int:
    settings = Settings(data_dir=data_dir)
    index = open_index(settings)
    passages = index.counts()[1]
    index.close()
    if passages >= target_passages:
        return passages
    sources = [PROJECT_ROOT / "corpus"]
    if CNIL_PATH.exists():
        cnil = load_squad(CNIL_PATH)
        copies = max(1, round((target_passages - 800) / 690))
        repeated = Dataset(
            name="cnil-repeated",
            documents=[
                DatasetDocument(f"{d.doc_id}-r{n}", d.text, d.title) for n in range(copies) for d in cnil.documents
            ],
        )
        folder = data_dir.parent / "cnil-documents"
        write_dataset_as_files(repeated, folder)
        sources.append(folder)
    ingest(settings, sources)
    index = open_index(settings)
    passages = index.counts()[1]
    index.close()
    return passages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def kb_server(data_dir: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`kb serve` on a free loopback port as its own process, once /health answers; stopped
    on exit. ``env``: more environment variables (e.g. KB_EMBEDDING_BACKEND)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
        env={**os.environ, "KB_DATA_DIR": str(data_dir), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 300
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.3)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=180)  # it finishes its background warm-up first (most of a minute at 100k)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def load(base: str | list[str], path: str, queries: list[str], requests: int, clients: int) -> dict:
    """``requests`` requests from ``clients`` threads; each query is sent once when there are
    enough of them (the server caches query embeddings: repeats would flatter the figures).
    ``base``: one server, or several that the clients are spread over."""
    bases = [base] if isinstance(base, str) else base
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(requests))

    def client(base: str) -> None:
        nonlocal errors
        with httpx.Client(base_url=base, timeout=30) as http:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                query = queries[n % len(queries)]
                started = time.perf_counter()
                if path == "/search":
                    response = http.get("/search", params={"q": query, "k": 10})
                else:
                    response = http.post("/ask", json={"question": query})
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    errors += response.status_code != 200

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(bases[n % len(bases)],)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "p50_ms": 1000 * statistics.median(latencies),
        "mean_ms": 1000 * statistics.fmean(latencies),
        "p95_ms": 1000 * percentile(latencies, 0.95),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "rps": len(latencies) / wall,
        "errors": errors,
        "requests": len(latencies),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-dir", type=Path, default=None, help="keep the index here and reuse it")
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=160, help="per phase, distinct queries")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    print(describe_machine(), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.index_dir or Path(tmp) / "data"
        started = time.perf_counter()
        passages = build_index(data_dir, args.passages)
        print(f"index: {passages} passages ({time.perf_counter() - started:.0f} s to build or open)")

        queries = (
            [
                q.question
                for q in load_questions(
                    PROJECT_ROOT / "evaluation" / "questions.jsonl", PROJECT_ROOT / "corpus"
                ).questions
            ]
            if (PROJECT_ROOT / "evaluation" / "questions.jsonl").exists()
            else []
        )
        if CNIL_PATH.exists():
            queries += [q.question for q in load_squad(CNIL_PATH).questions]
        random.Random(7).shuffle(queries)

        with kb_server(data_dir) as (base, server):
            process = psutil.Process(server.pid)
            idle_rss = process.memory_info().rss / 2**20
            load(base, "/search", ["échauffement"], 20, 2)  # warm-up (lexical index, caches)
            phases = (("/search", 1), ("/search", args.clients), ("/ask", 1), ("/ask", args.clients))
            for number, (path, clients) in enumerate(phases):
                fresh = queries[number * args.requests : (number + 1) * args.requests] or queries
                before = process.cpu_times()
                figures = load(base, path, fresh, args.requests, clients)
                after = process.cpu_times()
                cpu_ms = 1000 * (after.user + after.system - before.user - before.system) / figures["requests"]
                print(
                    f"{path:8} {clients} client(s), {figures['requests']} requests: "
                    f"p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms, "
                    f"p99 {figures['p99_ms']:.0f} ms, {figures['rps']:.1f} req/s, errors {figures['errors']}, "
                    f"server CPU {cpu_ms:.1f} ms/request"
                )
            print(
                f"server memory: {idle_rss:.0f} MB after start-up, {process.memory_info().rss / 2**20:.0f} MB after the load"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
