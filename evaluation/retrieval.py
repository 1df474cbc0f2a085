"""Retrieval evaluation: index a dataset with the normal ingestion code, run every question.

What is measured is what ships: same readers, chunking, embeddings, lexical index and fusion.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evaluation.datasets import PROJECT_ROOT, Dataset, Question, load_dataset
from evaluation.metrics import summarise
from kb.answer.answerer import Answerer, AnswerParams
from kb.core.settings import Settings
from kb.search.glossary import Glossary
from kb.search.retrieval import MODES, Mode, Retriever
from services.runtime import ingest, open_index


def write_dataset_as_files(dataset: Dataset, folder: Path) -> None:
    """One Markdown file per document, so that the very pipeline that ships is measured."""
    folder.mkdir(parents=True, exist_ok=True)
    for document in dataset.documents:
        title = json.dumps(document.title or document.doc_id, ensure_ascii=False)
        front = f"---\nid: {document.doc_id}\ntitle: {title}\n---\n"
        (folder / f"{document.doc_id}.md").write_text(front + document.text, encoding="utf-8")


@contextmanager
def dataset_index(dataset: Dataset, settings: Settings, index_dir: Path | None = None) -> Iterator:
    """An index of the dataset's documents (or of its corpus folder), reused from index_dir."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = index_dir or Path(tmp) / "data"
        eval_settings = settings.model_copy(update={"data_dir": data_dir, "chroma_url": None})
        sources: list[Path] = []
        if dataset.corpus is not None:
            sources.append(dataset.corpus)
        if dataset.documents:
            folder = Path(tmp) / "documents"
            write_dataset_as_files(dataset, folder)
            sources.append(folder)
        report = ingest(eval_settings, sources, prune=index_dir is not None)
        index = open_index(eval_settings)
        try:
            yield index, report
        finally:
            index.close()


def rank_documents(retriever: Retriever, question: Question, mode: Mode, k: int = 10) -> list[str]:
    return [hit.metadata.doc_id for hit in retriever.search(question.question, k=k, mode=mode)]


def evaluate_retrieval(
    retriever: Retriever, questions: list[Question], modes: tuple[Mode, ...] = MODES, k: int = 10
) -> tuple[dict, dict[str, list[tuple[list[str], set[str]]]]]:
    """Figures per retriever, and the rankings they come from (for plots)."""
    results: dict[str, dict] = {}
    all_rankings: dict[str, list[tuple[list[str], set[str]]]] = {}
    for mode in modes:
        started = time.perf_counter()
        rankings = [(q, rank_documents(retriever, q, mode, k)) for q in questions]
        elapsed = time.perf_counter() - started
        all_rankings[mode] = [(ranked, set(q.relevant)) for q, ranked in rankings]
        overall = summarise((ranked, set(q.relevant)) for q, ranked in rankings)
        kinds = sorted({q.kind for q in questions if q.relevant})
        per_kind = {
            kind: summarise((ranked, set(q.relevant)) for q, ranked in rankings if q.kind == kind) for kind in kinds
        }
        results[mode] = {
            **overall,
            "per_kind": per_kind,
            "ms_per_query": 1000 * elapsed / max(1, len(questions)),
        }
    return results, all_rankings


def run(
    dataset_path: Path,
    modes: tuple[Mode, ...],
    settings: Settings,
    corpus: Path | None = None,
    index_dir: Path | None = None,
    limit: int | None = None,
) -> dict:
    dataset = load_dataset(dataset_path, corpus or PROJECT_ROOT / "corpus")
    questions = dataset.questions[:limit] if limit else dataset.questions
    glossary = Glossary.load(settings.glossary_file)
    with dataset_index(dataset, settings, index_dir) as (index, report):
        retriever = Retriever(index, glossary)
        figures, _ = evaluate_retrieval(retriever, questions, modes)
        unanswerable = [q for q in questions if not q.relevant]
        if unanswerable:
            answerer = Answerer(retriever, AnswerParams.from_settings(settings))
            abstained = sum(
                answerer.evidence.of(retriever.query(q.question)) < settings.answer_min_score for q in unanswerable
            )
            figures["abstention_unanswerable"] = abstained / len(unanswerable)
        figures["dataset"] = dataset.name
        figures["questions"] = len(questions)
        figures["documents"] = index.counts()[0]
        figures["ingest_failures"] = len(report.failed)
        figures["embedding_model"] = index.embedder.model_id
    return figures
