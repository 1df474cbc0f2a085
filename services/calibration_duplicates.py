"""The duplicate check's meaning threshold for the index's model (`kb calibrate`).

The labelled pairs of ``evaluation/duplicates/pairs.jsonl`` name corpus documents and rewrites
of them (``evaluation/duplicates/rewrites/``): when the index holds the corpus documents they
name (the sample corpus), each rewrite is cut and embedded by the index's model as a new
submission would be, every pair's signals are measured by the finder, and the threshold is
fitted on the calibration half (kb/duplicates/fitting.py) and measured on the other. Any other
base has no labelled pairs: the threshold is left as it is (a setting, else none).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.chunking import chunk_document, embedding_text
from ingest.loading import chunking_params, load_document
from kb.core.settings import Settings
from kb.duplicates.finder import DuplicateFinder, DuplicateParams, NewDocument, Signals
from kb.duplicates.fitting import CALIBRATION, HELD_OUT, fit_semantic, halves, rewritten_rule, score
from kb.index.knowledge_index import KnowledgeIndex

PAIRS_DIR = Path(__file__).resolve().parents[1] / "evaluation" / "duplicates"


@dataclass(frozen=True)
class Pair:
    new: str  # a rewrite file (relative to PAIRS_DIR) or a corpus doc_id
    existing: str
    duplicate: bool


def load_pairs(directory: Path = PAIRS_DIR) -> list[Pair]:
    path = directory / "pairs.jsonl"
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Pair(r["a"], r["b"], bool(r["duplicate"])) for r in rows]


def new_document(index: KnowledgeIndex, settings: Settings, name: str, directory: Path = PAIRS_DIR) -> NewDocument:
    """A pair's first member as the writer would see it being added: a stored document, or a
    Markdown file of ``directory`` read, cut and embedded."""
    if not name.endswith(".md"):
        stored = index.get(name)
        return NewDocument(stored.metadata, index.document_text(name) or "", index.document_vectors(name))
    path = directory / name
    loaded = load_document(path, path.read_bytes())
    chunks = chunk_document(loaded.metadata.doc_id, loaded.parsed, chunking_params(settings))
    vectors = index.embed_passages([embedding_text(loaded.metadata.title, c) for c in chunks])
    return NewDocument(loaded.metadata, loaded.parsed.text, vectors)


def fit_duplicates(index: KnowledgeIndex, settings: Settings, directory: Path = PAIRS_DIR) -> dict[str, Any] | None:
    """``semantic`` (the fitted threshold) and the held-out figures; None when the index does
    not hold the documents the labelled pairs name."""
    pairs = load_pairs(directory)
    named = {p.existing for p in pairs} | {p.new for p in pairs if not p.new.endswith(".md")}
    if not pairs or any(index.find(doc_id) is None for doc_id in named):
        return None
    params = DuplicateParams.from_settings(settings)  # the other reasons as configured
    finder = DuplicateFinder(index, params)
    documents = {name: new_document(index, settings, name, directory) for name in sorted({p.new for p in pairs})}
    signals: dict[tuple[str, str], Signals] = {}
    for pair in pairs:
        found = finder.compare(documents[pair.new], pair.existing)
        if found is None:
            return None
        signals[(pair.new, pair.existing)] = found
    sides = halves(pairs)
    semantic = fit_semantic(sides[CALIBRATION], signals, params)
    shipped = float(Settings.model_fields["duplicate_semantic"].default)
    held = sides[HELD_OUT]
    figures = {}
    for name, threshold in (("global", shipped), ("calibrated", semantic)):
        s = score(held, signals, rewritten_rule(threshold, params.shared_figures, params))
        figures[name] = {"precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4)}
    return {"semantic": semantic, "pairs": len(pairs), "held_out": figures}
