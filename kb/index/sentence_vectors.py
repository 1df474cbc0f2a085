"""Sentence vectors: each passage's sentences embedded on their own, in a second vector store
of the index (a Chroma collection, or a table beside the passages' on PostgreSQL).

A question often matches one sentence of a passage better than the passage's single vector,
whose meaning is averaged over every sentence; the hybrid fusion adds a share of a document's
best sentence cosine (kb/search/retrieval.py, measured with evaluation/tune_retrieval.py).

A sentence is named after its passage, ``<chunk id>~<number>`` (zero-padded, so that id order
is chunk order then sentence order), and carries its passage's metadata (document, version,
type, sector), so scopes and version switches apply to it as to passages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from kb.core.models import Chunk, DocumentMetadata, chunk_id
from kb.core.sentences import document_sentences
from kb.index.embeddings import Vectors

MIN_SENTENCE_CHARS = 4  # shorter "sentences" (a stray number, a bullet) are not embedded


def passage_sentences(text: str) -> list[str]:
    """The sentences of a passage's text, embedded one by one (the whole text when it has none).
    Their numbers name the stored vectors: a change of this split needs a new
    ``SENTENCE_VECTORS_FORMAT`` (kb/index/knowledge_index.py)."""
    found = [s.text for s in document_sentences(text) if len(s.text) >= MIN_SENTENCE_CHARS]
    return found or [text]


def sentence_id(chunk: str, number: int) -> str:
    return f"{chunk}~{number:03d}"


def chunk_of(sentence: str) -> str:
    """The chunk id a sentence id belongs to."""
    return sentence.rsplit("~", 1)[0]


def sentence_ids(chunks: Mapping[str, Chunk]) -> list[str]:
    """The ids of the stored sentences of some passages (chunk id → its chunk): the split that
    named them when they were written, redone on the registry's text."""
    return [
        sentence_id(owner, n) for owner, chunk in chunks.items() for n, _ in enumerate(passage_sentences(chunk.text))
    ]


def best_by_chunk(hits: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """(chunk id, its best sentence's score) from sentence hits, best first."""
    best: dict[str, float] = {}
    for sentence, score in hits:
        chunk = chunk_of(sentence)
        if score > best.get(chunk, float("-inf")):
            best[chunk] = score
    return sorted(best.items(), key=lambda hit: hit[1], reverse=True)


class SentenceVectors:
    """The sentences of every current passage, stored and searched beside the passages."""

    def __init__(self, store, embed: Callable[[list[str]], Vectors]) -> None:
        self.store = store
        self._embed = embed

    def rows(
        self, metadata: DocumentMetadata, version: str, chunks: Sequence[Chunk]
    ) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """(ids, texts, metadata) of a document version's sentences, in id order."""
        ids, texts, records = [], [], []
        for chunk in chunks:
            owner = chunk_id(metadata.doc_id, version, chunk.index)
            for number, text in enumerate(passage_sentences(chunk.text)):
                ids.append(sentence_id(owner, number))
                texts.append(text)
                records.append(
                    {
                        "doc_id": metadata.doc_id,
                        "version": version,
                        "chunk_index": chunk.index,
                        "doc_type": metadata.doc_type,
                        "sector": metadata.sector,
                    }
                )
        return ids, texts, records

    def add(
        self,
        documents: Sequence[tuple[DocumentMetadata, str, Sequence[Chunk]]],
        stored: Sequence[Vectors | None] | None = None,
    ) -> None:
        """Store the sentences of several document versions; ``stored``: their vectors when
        already known (a copy of a base), else (None) they are embedded here."""
        known = list(stored) if stored is not None else [None] * len(documents)
        rows = [self.rows(metadata, version, chunks) for metadata, version, chunks in documents]
        # a sentence repeated (a boilerplate line, a list's refrain) is embedded once
        missing = list(
            dict.fromkeys(
                text for (_, texts, _), given in zip(rows, known, strict=True) if given is None for text in texts
            )
        )
        embedded = dict(zip(missing, self._embed(missing), strict=True)) if missing else {}
        ids, texts, records, vectors = [], [], [], []
        for (doc_ids, doc_texts, doc_records), given, (metadata, *_) in zip(rows, known, documents, strict=True):
            if given is not None and len(given) != len(doc_ids):
                raise ValueError(f"{metadata.doc_id}: {len(given)} sentence vectors for {len(doc_ids)} sentences")
            ids += doc_ids
            texts += doc_texts
            records += doc_records
            vectors += [embedded[text] for text in doc_texts] if given is None else list(given)
        if ids:
            self.store.add(ids, np.asarray(vectors, dtype=np.float32), texts, records)
