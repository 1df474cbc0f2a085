"""A toy embedder whose vectors can be computed by hand (after simonw/llm's test embedder).

The vector of a text is the count of each vowel a, e, i, o, u (accents folded), L2-normalised.
"aaa" -> (1, 0, 0, 0, 0); "ae" -> (0.7071, 0.7071, 0, 0, 0).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np

VOWELS = "aeiou"


def vowel_vector(text: str) -> np.ndarray:
    folded = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    counts = np.array([folded.count(v) for v in VOWELS], dtype=np.float32)
    norm = np.linalg.norm(counts)
    return counts / norm if norm else np.array([0, 0, 0, 0, 1], dtype=np.float32)


class ToyEmbedder:
    dimension = 5

    def __init__(self, model_id: str = "toy/vowels-v1") -> None:
        self.model_id = model_id
        self.passage_calls = 0
        self.passages_embedded = 0

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passage_calls += 1
        self.passages_embedded += len(texts)
        return np.stack([vowel_vector(t) for t in texts]) if texts else np.zeros((0, 5), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return vowel_vector(text)
