"""One model call per batch embeds its passages and their sentences: what goes where."""

from __future__ import annotations

import numpy as np

from ingest.batch_texts import BatchTexts
from ingest.chunking import embedding_text
from ingest.progress import PassageProgress
from kb.core.models import Chunk, DocumentMetadata
from kb.index.sentence_vectors import SentenceVectors


def _chunks(doc_id: str, texts: list[str]) -> list[Chunk]:
    return [Chunk(doc_id, i, t, 0, len(t)) for i, t in enumerate(texts)]


def test_passages_and_their_sentences_are_planned_in_order_with_repeats_embedded_once():
    first = _chunks("a", ["Une crèche ouvre. Elle accueille dix enfants.", "Contact : la mairie."])
    second = _chunks("b", ["Contact : la mairie. Un garage solidaire."])
    plan = BatchTexts.of([("A", first), ("B", second)], with_sentences=True)
    assert plan.texts == [
        embedding_text("A", first[0]),
        "Une crèche ouvre.",
        "Elle accueille dix enfants.",
        embedding_text("A", first[1]),
        "Contact : la mairie.",
        embedding_text("B", second[0]),
        "Un garage solidaire.",  # "Contact : la mairie." again: not re-embedded
    ]
    assert plan.texts_per_passage == [3, 2, 2]
    vectors = np.arange(len(plan.texts), dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    assert plan.passage_vectors(vectors, 0)[:, 0].tolist() == [0, 3]
    assert plan.passage_vectors(vectors, 1)[:, 0].tolist() == [5]
    assert plan.sentence_vectors(vectors, 0)[:, 0].tolist() == [1, 2, 4]
    assert plan.sentence_vectors(vectors, 1)[:, 0].tolist() == [4, 6]


def test_the_sentence_rows_follow_the_sentence_stores_id_order():
    chunks = _chunks("a", ["Premier point. Second point.", "Un seul."])
    plan = BatchTexts.of([("A", chunks)], with_sentences=True)
    metadata = DocumentMetadata(doc_id="a", title="A", doc_type="fiche")
    _, texts, _ = SentenceVectors(None, None).rows(metadata, "v1", chunks)
    vectors = np.eye(len(plan.texts), dtype=np.float32)
    assert [plan.texts[int(np.argmax(row))] for row in plan.sentence_vectors(vectors, 0)] == texts


def test_without_sentence_vectors_only_passages_are_planned():
    chunks = _chunks("a", ["Une phrase. Une autre."])
    plan = BatchTexts.of([("A", chunks)], with_sentences=False)
    assert plan.texts == [embedding_text("A", chunks[0])] and plan.texts_per_passage == [1]
    assert plan.sentence_vectors(np.zeros((1, 3), np.float32), 0) is None


class _Item:
    def __init__(self, label: str, passages: int) -> None:
        self.path_label, self.chunks = label, [None] * passages


def test_a_passage_counts_as_done_once_its_sentences_are_embedded():
    seen = []
    progress = PassageProgress(lambda done, total, label: seen.append((done, label)))
    progress.read(3)
    report = progress.batch([_Item("a.md", 2), _Item("b.md", 1)], texts_per_passage=[4, 1, 5])
    for embedded in (3, 4, 5, 9, 10):
        report(embedded)
    assert seen == [(0, "a.md"), (0, "a.md"), (1, "a.md"), (2, "b.md"), (2, "b.md"), (3, "b.md")]
