"""What one model call embeds for a batch of documents: each passage's text and, when the index
keeps sentence vectors, the sentences of that passage (kb/index/sentence_vectors.py).

Embedding the sentences with their passages, instead of one document at a time while it is
stored, batches them across documents, counts their time in ``IngestReport.embed_seconds`` and
lets the progress of an ingestion (in passages) include them: a passage is done once its
sentences are. A sentence repeated within the batch (a boilerplate line) is embedded once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ingest.chunking import embedding_text
from kb.core.models import Chunk
from kb.index.embeddings import Vectors
from kb.index.sentence_vectors import passage_sentences


@dataclass
class BatchTexts:
    texts: list[str] = field(default_factory=list)  # what the model embeds, in order
    texts_per_passage: list[int] = field(default_factory=list)  # new texts each passage adds
    _passage_rows: list[list[int]] = field(default_factory=list)  # per document
    _sentence_rows: list[list[int] | None] = field(default_factory=list)  # per document

    @classmethod
    def of(cls, documents: Sequence[tuple[str, Sequence[Chunk]]], with_sentences: bool) -> BatchTexts:
        """``documents``: (title, chunks) of each document of the batch, in order."""
        plan = cls()
        seen: dict[str, int] = {}
        for title, chunks in documents:
            passages: list[int] = []
            sentences: list[int] = []
            for chunk in chunks:
                before = len(plan.texts)
                passages.append(before)
                plan.texts.append(embedding_text(title, chunk))
                for sentence in passage_sentences(chunk.text) if with_sentences else ():
                    row = seen.get(sentence)
                    if row is None:
                        row = seen[sentence] = len(plan.texts)
                        plan.texts.append(sentence)
                    sentences.append(row)
                plan.texts_per_passage.append(len(plan.texts) - before)
            plan._passage_rows.append(passages)
            plan._sentence_rows.append(sentences if with_sentences else None)
        return plan

    def passage_vectors(self, vectors: Vectors, document: int) -> Vectors:
        """The passage vectors of the ``document``-th document, in chunk order."""
        return vectors[self._passage_rows[document]]

    def sentence_vectors(self, vectors: Vectors, document: int) -> Vectors | None:
        """Its sentence vectors, in the sentence store's id order (None: not embedded here)."""
        rows = self._sentence_rows[document]
        if rows is None:
            return None
        return vectors[rows]
