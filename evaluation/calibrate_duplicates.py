"""Calibrate the duplicate warning: `python -m evaluation.calibrate_duplicates [--index-dir DIR]`.

Indexes the corpus, then checks every document against all the others as if it were being
added, and prints the similarity figures of the known near-duplicate pairs (ids ending in -v2)
beside the highest figures among distinct documents.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from evaluation.datasets import PROJECT_ROOT, Dataset
from evaluation.retrieval import dataset_index
from kb.duplicates import DuplicateFinder, DuplicateParams, jaccard, shingles
from kb.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    dataset = Dataset(name="corpus", corpus=PROJECT_ROOT / "corpus")
    with dataset_index(dataset, Settings(), args.index_dir) as (index, _):
        # no threshold: report every candidate's figures
        finder = DuplicateFinder(index, DuplicateParams(text_jaccard=0.0, title_jaccard=0.0, semantic=0.0, limit=1000))
        documents = index.documents()
        texts = {d.metadata.doc_id: shingles(index.document_text(d.metadata.doc_id) or "") for d in documents}
        pairs, distinct = [], []
        for stored in documents:
            doc_id = stored.metadata.doc_id
            vectors = index.document_vectors(doc_id)
            semantic = finder._semantic_candidates(vectors)
            for other in documents:
                other_id = other.metadata.doc_id
                if other_id == doc_id:
                    continue
                row = (
                    jaccard(texts[doc_id], texts[other_id]),
                    semantic.get(other_id, 0.0),
                    doc_id,
                    other_id,
                )
                near = doc_id.removesuffix("-v2") == other_id.removesuffix("-v2")
                (pairs if near else distinct).append(row)
    print("near-duplicate pairs (text jaccard, semantic):")
    for text, sem, a, b in pairs:
        print(f"  {text:.3f}  {sem:.3f}  {a} ~ {b}")
    print("distinct documents, highest text jaccard:")
    for text, sem, a, b in sorted(distinct, reverse=True)[:5]:
        print(f"  {text:.3f}  {sem:.3f}  {a} ~ {b}")
    print("distinct documents, highest semantic similarity:")
    for text, sem, a, b in sorted(distinct, key=lambda r: -r[1])[:5]:
        print(f"  {text:.3f}  {sem:.3f}  {a} ~ {b}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
