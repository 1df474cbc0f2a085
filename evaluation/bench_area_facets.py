"""What the département and région facets and filters cost, on the sample corpus and on a
synthetic base of many documents (prints figures; no assertion).

    python -m evaluation.bench_area_facets                 # 10,000 documents, 3,000 distinct territories
    python -m evaluation.bench_area_facets --documents 20000 --territories 8000

The facets of /search and /ask count the documents listed (50 at most): one cached ``resolve``
each. The filters (like the ``territory`` filter before them) become a list of allowed
documents: one ``accepts`` per document of the base, each a cached ``resolve`` of its
territory text. Both are timed with the cache warm (the steady state of a server) and cold.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time

from evaluation.datasets import CORPUS
from kb.core import territories
from kb.core.models import DocumentMetadata
from kb.core.territory_table import territory_table
from kb.search.area_facets import area_facets
from kb.search.filters import Filters


def timed(function, repeat: int) -> tuple[float, float]:
    """(median, max) in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def sample_corpus() -> list[DocumentMetadata]:
    documents = []
    for n, path in enumerate(sorted(CORPUS.rglob("*.md"))):
        found = re.search(r'^territory:\s*"?([^"\n]*)"?\s*$', path.read_text(encoding="utf-8"), re.MULTILINE)
        territory = found.group(1) if found else None
        documents.append(DocumentMetadata(doc_id=str(n), title="t", doc_type="fiche expérience", territory=territory))
    return documents


def synthetic(count: int, distinct: int, seed: int = 7) -> list[DocumentMetadata]:
    """Documents located as real ones write it: "Commune (Département)" for real communes."""
    table = territory_table()
    rng = random.Random(seed)
    communes = rng.sample(sorted(table.communes), distinct)
    texts = [f"{table.communes[c].name} ({table.departements[table.communes[c].departement].name})" for c in communes]
    return [
        DocumentMetadata(doc_id=str(n), title="t", doc_type="fiche expérience", territory=rng.choice(texts))
        for n in range(count)
    ]


def report(label: str, documents: list[DocumentMetadata], repeat: int) -> None:
    listed = documents[:50]
    chosen = Filters(departement=("departement:43",), region=("region:84",))
    territories._resolve.cache_clear()
    cold_facets = timed(lambda: area_facets(listed), 1)
    warm_facets = timed(lambda: area_facets(listed), repeat)
    territories._resolve.cache_clear()
    cold_scan = timed(lambda: [meta for meta in documents if chosen.accepts(meta)], 1)
    warm_scan = timed(lambda: [meta for meta in documents if chosen.accepts(meta)], repeat)
    catalogue = timed(lambda: area_facets(documents), repeat)
    print(f"{label}: {len(documents):,} documents, {len({m.territory for m in documents}):,} distinct territories")
    print(f"  facets of 50 listed documents: cold {cold_facets[0]:.2f} ms, warm median {warm_facets[0]:.3f} ms")
    print(
        f"  filter département+région over every document: cold {cold_scan[0]:.1f} ms, warm median {warm_scan[0]:.1f} ms (max {warm_scan[1]:.1f})"
    )
    print(f"  facets over every document (the site's catalogue, no query): warm median {catalogue[0]:.1f} ms")
    print(f"  resolve cache: {territories._resolve.cache_info()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--territories", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    territories.resolve("Haute-Loire")  # load the table once, outside the timings
    report("sample corpus", sample_corpus(), args.repeat)
    report("synthetic", synthetic(args.documents, args.territories), args.repeat)


if __name__ == "__main__":
    main()
