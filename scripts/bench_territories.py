"""How fast territory texts resolve (kb/core/territories.py): figures printed, nothing asserted.

    python scripts/bench_territories.py [--runs 5]

- cold start, in fresh processes: importing the module, then the first ``resolve`` (which loads
  the table from kb/resources/territoires/decoupage.json.gz and builds its indexes);
- one ``resolve`` once loaded, uncached, over the spellings of tests/kb/core/test_territories.py
  and the sample corpus's territories; a cached one; one ``contains``;
- the accuracy on the test table, and the process's memory before and after loading.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLD = """
import time
start = time.perf_counter()
from kb.core.territories import resolve
imported = time.perf_counter()
resolve("Yssingeaux (43)")
print(imported - start, time.perf_counter() - imported)
"""


def corpus_territories() -> list[str]:
    found = set()
    for path in (ROOT / "corpus").rglob("*.md"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[:30]:
            if line.startswith("territory:"):
                found.add(line.partition(":")[2].strip().strip('"'))
    return sorted(found)


def rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes for the cold start (default 5)")
    args = parser.parse_args(argv)

    from kb.core.territory_table import DATA

    print(f"data: {DATA.relative_to(ROOT)}, {DATA.stat().st_size / 1024:.0f} KiB")
    cold = [
        tuple(
            float(x)
            for x in subprocess.run(
                [sys.executable, "-c", COLD], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.split()
        )
        for _ in range(args.runs)
    ]
    imports, loads = zip(*cold, strict=True)
    print(
        f"cold start ({args.runs} processes): import {statistics.median(imports) * 1000:.0f} ms, "
        f"first resolve (table loaded) {statistics.median(loads) * 1000:.0f} ms median "
        f"(min {min(loads) * 1000:.0f}, max {max(loads) * 1000:.0f})"
    )

    before = rss_mib()
    from kb.core import territories
    from kb.core.territory_table import territory_table

    territory_table()
    print(f"memory: +{rss_mib() - before:.0f} MiB resident for the table")

    from tests.kb.core.test_territories import CASES

    texts = [text for text, _, _ in CASES] + corpus_territories()
    uncached = territories._resolve.__wrapped__  # type: ignore[attr-defined]
    timings = []
    for _ in range(20):
        for text in texts:
            start = time.perf_counter()
            uncached(text)
            timings.append(time.perf_counter() - start)
    timings.sort()
    print(
        f"resolve, uncached, {len(texts)} texts × 20: mean {statistics.mean(timings) * 1e6:.0f} µs, "
        f"p50 {timings[len(timings) // 2] * 1e6:.0f} µs, p95 {timings[int(len(timings) * 0.95)] * 1e6:.0f} µs, "
        f"max {timings[-1] * 1e6:.0f} µs"
    )
    territories.resolve("Yssingeaux (43)")
    count = 100_000
    start = time.perf_counter()
    for _ in range(count):
        territories.resolve("Yssingeaux (43)")
    print(f"resolve, cached: {(time.perf_counter() - start) / count * 1e6:.2f} µs")
    document = territories.resolve("Communauté de communes du Haut-Lignon").territory_codes
    start = time.perf_counter()
    for _ in range(count):
        territories.contains("Haute-Loire", document)
    print(f"contains, area cached: {(time.perf_counter() - start) / count * 1e6:.2f} µs")

    right = sum(
        (territories.resolve(text).level, " ".join(territories.resolve(text).territory_codes)) == (level, codes)
        for text, level, codes in CASES
    )
    print(f"accuracy on the test table: {right}/{len(CASES)} ({right / len(CASES):.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
