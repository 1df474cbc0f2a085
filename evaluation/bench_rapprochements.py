"""Rapprochements benchmark: ``python -m evaluation.bench_rapprochements [--passages N] [--index-dir DIR]``.

Prints what the coordinator's rapprochements cost (it asserts nothing):

- the one full pass (every document of the two sectors profiled and scored: what a server's
  warm-up does once);
- one write: a document written again (its stored vectors under a new version, through the
  index's write path), then the ranking brought to the new revision: only that document is
  scored again (the count of documents scored is printed);
- the page: ``GET /coordination/rapprochements``'s first page, unfiltered and filtered by a
  département, and the CSV of every open pair.

Without ``--passages``: the sample corpus (corpus/), ingested with the default embedder. With
``--passages N``: the index of ``evaluation/bench_scale.py`` (noisy copies of the sample corpus
and the CNIL contexts, built or reused in ``--index-dir``; copies keep their original's
metadata, so their pairs are many and alike: the figures are about cost, not quality).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from evaluation.datasets import PROJECT_ROOT, Dataset
from evaluation.retrieval import dataset_index
from kb.core.settings import Settings
from kb.index.embeddings import RecordedModel
from kb.index.knowledge_index import KnowledgeIndex
from services.knowledge_base import KnowledgeBase

REPEATS = 5
T = TypeVar("T")


def timed(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def rewrite(index: KnowledgeIndex, doc_id: str, number: int) -> None:
    """``doc_id`` written again under a new version with its own stored vectors (no model call)."""
    stored = index.get(doc_id)
    chunks = index.document_chunks(doc_id)
    vectors = index.document_vectors(doc_id)
    text = index.document_text(doc_id) or ""
    index.upsert(stored.metadata, f"{stored.version}-b{number}", text, chunks, vectors)


def measure(kb: KnowledgeBase) -> None:
    index = kb.index
    documents, passages = index.counts()
    print(f"base : {documents} documents, {passages} passages")
    rapprochements = kb.rapprochements
    full, ranking = timed(rapprochements.ranking)
    print(f"passe complète : {full:.2f} s, {rapprochements.tally.scored} documents notés, {len(ranking.pairs)} paires")
    first, page = timed(lambda: rapprochements.pairs(limit=20))
    print(f"première page (20 paires, raisons et contacts lus) : {first * 1000:.0f} ms, {page['total']} à examiner")
    writes, pages, filtered, scored = [], [], [], []
    target = next(p.a for p in ranking.pairs)
    for number in range(REPEATS):
        before = rapprochements.tally.scored
        rewrite(index, target, number)
        elapsed, _ = timed(rapprochements.ranking)
        writes.append(elapsed)
        scored.append(rapprochements.tally.scored - before)
        pages.append(timed(lambda: rapprochements.pairs(limit=20))[0])
        filtered.append(timed(lambda: rapprochements.pairs(territory="Haute-Loire", limit=20))[0])
    print(
        f"une écriture (« {target} » réécrit) : rapprochements recalculés en "
        f"{statistics.median(writes) * 1000:.0f} ms (médiane de {REPEATS}, max {max(writes) * 1000:.0f} ms), "
        f"{max(scored)} document(s) noté(s)"
    )
    print(f"page après une écriture : {statistics.median(pages) * 1000:.0f} ms (médiane)")
    print(f"page filtrée (territoire Haute-Loire) : {statistics.median(filtered) * 1000:.0f} ms (médiane)")
    csv_s, text = timed(rapprochements.csv)
    print(f"CSV des paires à examiner : {csv_s:.2f} s, {len(text.splitlines()) - 1} lignes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=0, help="0: the sample corpus; else bench_scale's index")
    parser.add_argument("--index-dir", type=Path, help="keep the index here to reuse it")
    parser.add_argument("--no-sentence-vectors", dest="sentence_vectors", action="store_false")
    args = parser.parse_args()
    if not args.passages:
        settings = Settings()
        with dataset_index(Dataset(name="corpus", corpus=PROJECT_ROOT / "corpus"), settings, args.index_dir) as (
            index,
            _,
        ):
            kb = KnowledgeBase.create(settings, index)
            measure(kb)
            kb.rapprochements.close()
        return
    from evaluation.bench_scale import build_index

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.index_dir or Path(tmp) / "data"
        report = build_index(data_dir, args.passages, "e5-int8", 0.006, 7, args.sentence_vectors)
        print(f"index : {report.passages} passages ({'réutilisé' if report.reused else 'construit'})")
        settings = Settings(data_dir=data_dir, embedding_backend="e5-int8", sentence_vectors=args.sentence_vectors)
        # the recorded model: nothing is embedded here (a rewrite reuses the stored vectors)
        index = KnowledgeIndex(settings, _recorded_model(settings), _chunking(settings))
        try:
            kb = KnowledgeBase.create(settings, index)
            measure(kb)
            kb.rapprochements.close()
        finally:
            index.close()


def _recorded_model(settings: Settings) -> RecordedModel:
    from services.migration import recorded_description

    description = recorded_description(settings)
    return RecordedModel(description["embedding_model"], int(description["dimension"]))


def _chunking(settings: Settings) -> dict:
    from services.migration import recorded_description

    description = recorded_description(settings)
    return {key.removeprefix("chunking_"): value for key, value in description.items() if key.startswith("chunking_")}


if __name__ == "__main__":
    main()
