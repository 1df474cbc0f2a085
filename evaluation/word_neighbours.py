"""The shipped word neighbours (kb/search/word_neighbours.py, ``KB_WORD_NEIGHBOURS``) measured
off and on, with the shipped code and data file (issue 30 §5).

    python -m evaluation.word_neighbours [--index-dir DIR] [--cnil] [--cnil-index-dir DIR]

Project questions: MRR@10 per kind on both halves and abstention, with the issue's rule
(evaluation/synonym_expansion.py's tables); CNIL FAQ (``--cnil``): MRR@10 on its 512 questions.
Then the cost: the expansion's time per query (warm, the median and the 95th centile over the
questions, and the first query's, which loads the file and builds the base's matrix) and the
memory of the file's arrays and of the base's matrix.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evaluation.datasets import CNIL_PATH, PROJECT_ROOT, Question, load_dataset
from evaluation.metrics import reciprocal_rank
from evaluation.retrieval import dataset_index
from evaluation.synonym_expansion import measure, report
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.glossary import Glossary
from kb.search.retrieval import Retriever
from kb.search.word_neighbours import WordNeighbours, word_vectors


@contextmanager
def neighbours(index: KnowledgeIndex, on: bool) -> Iterator[None]:
    previous = index.settings.word_neighbours
    index.settings.word_neighbours = on
    try:
        yield
    finally:
        index.settings.word_neighbours = previous


def cost(index: KnowledgeIndex, glossary: Glossary, questions: list[Question]) -> None:
    texts = [q.question for q in questions]
    word_vectors.cache_clear()  # the first query of a process: the file loaded, the matrix built
    expansion = WordNeighbours(index.lexical)
    start = time.perf_counter()
    word_vectors()
    expansion.base()
    first = (time.perf_counter() - start) * 1000
    times, expanded = [], 0
    for text in texts:
        start = time.perf_counter()
        added = expansion.expansion(index.lexical.correct(text, keep=glossary.knows), keep=glossary.knows)
        times.append((time.perf_counter() - start) * 1000)
        expanded += bool(added)
    times.sort()
    print(
        f"\nexpansion per query: median {statistics.median(times):.2f} ms, p95 {times[int(0.95 * len(times))]:.2f} ms, "
        f"max {times[-1]:.2f} ms ({expanded}/{len(texts)} questions expanded); first one {first:.0f} ms more "
        "(the file loaded, the base's matrix built)"
    )
    base = expansion.base()
    print(
        f"memory: data file arrays {word_vectors().nbytes / 1e6:.1f} MB, base matrix {base.nbytes / 1e6:.1f} MB "
        f"({len(base.words)} vectors, {sum(map(len, base.words))} written words)"
    )


def cnil(settings: Settings, index_dir: Path) -> None:
    dataset = load_dataset(CNIL_PATH, PROJECT_ROOT / "corpus")
    with dataset_index(dataset, settings, index_dir) as (index, _):
        retriever = Retriever(index, Glossary.load(settings.glossary_file))
        for on in (False, True):
            with neighbours(index, on):
                ranks = [
                    reciprocal_rank(
                        [h.metadata.doc_id for h in retriever.search(q.question, k=10)], set(q.relevant), 10
                    )
                    for q in dataset.questions
                ]
            print(
                f"CNIL ({len(ranks)} q.), word neighbours {'on' if on else 'off'}: MRR@10 {sum(ranks) / len(ranks):.3f}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/word-neighbours/index"))
    parser.add_argument("--cnil", action="store_true")
    parser.add_argument("--cnil-index-dir", type=Path, default=Path("/tmp/word-neighbours/cnil-index"))
    args = parser.parse_args(argv)
    settings = Settings()
    dataset = load_dataset(PROJECT_ROOT / "evaluation" / "questions.jsonl", PROJECT_ROOT / "corpus")
    glossary = Glossary.load(settings.glossary_file)
    args.index_dir.parent.mkdir(parents=True, exist_ok=True)
    with dataset_index(dataset, settings, args.index_dir) as (index, _):
        print(f"index: {index.counts()[0]} documents, {index.embedder.model_id}", flush=True)
        retriever = Retriever(index, glossary)
        results = {}
        for on in (False, True):
            with neighbours(index, on):
                results[f"word neighbours {'on' if on else 'off'}"] = measure(retriever, dataset.questions, settings)
                added = {q.id: list(retriever.query(q.question).neighbours) for q in dataset.questions}
        report(results, "word neighbours off", {"word neighbours on": added})
        cost(index, glossary, dataset.questions)
    if args.cnil:
        cnil(settings, args.cnil_index_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
