"""Evaluation datasets: the project's questions.jsonl and SQuAD-like JSON (e.g. the CNIL FAQ)."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CNIL_PATH = PROJECT_ROOT.parent / "shared" / "datasets" / "cnil-faq-fr" / "cnil_faq_fr.squad.json"
CORPUS = PROJECT_ROOT / "corpus"


def corpus_build() -> ModuleType:
    """``corpus/build.py`` (a script, not a package): its sources and the text its scans print."""
    spec = importlib.util.spec_from_file_location("corpus_build", CORPUS / "build.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {CORPUS / 'build.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scanned_sources() -> list[tuple[Path, Path]]:
    """(source, generated PDF) of every scanned document of the corpus."""
    build = corpus_build()
    found = []
    for source in sorted((CORPUS / "_sources").glob("*/*.md")):
        meta, _ = build.parse_source(source)
        if meta.get("format") == "scan":
            found.append((source, CORPUS / source.parent.name / f"{source.stem}.pdf"))
    return found


@dataclass(frozen=True)
class DatasetDocument:
    doc_id: str
    text: str
    title: str


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    relevant: tuple[str, ...]
    kind: str = "natural"
    key_facts: tuple[str, ...] = ()
    split: str | None = None  # "calibration" or "held_out" (thresholds are fitted on the first)
    # Documents whose text answers the question (a block from them belongs in the answer; a
    # directory entry only for "who" questions), and the 1 or 2 of them a practitioner must see.
    # Empty when the question is not labelled.
    answer_sources: tuple[str, ...] = ()
    essential: tuple[str, ...] = ()


@dataclass
class Dataset:
    name: str
    documents: list[DatasetDocument] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    corpus: Path | None = None  # a folder to ingest as is (the project's own corpus)


def load_questions(path: Path, corpus: Path) -> Dataset:
    """The project's format: one JSON object a line, answered by the documents of ``corpus``."""
    dataset = Dataset(name=path.stem, corpus=corpus)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        dataset.questions.append(
            Question(
                id=str(row.get("id", number)),
                question=row["question"],
                relevant=tuple(row.get("relevant", [])),
                kind=row.get("kind", "natural"),
                key_facts=tuple(row.get("key_facts", [])),
                split=row.get("split"),
                answer_sources=tuple(row.get("answer_sources", [])),
                essential=tuple(row.get("essential", [])),
            )
        )
    return dataset


def load_dataset(path: Path, corpus: Path) -> Dataset:
    if path.suffix == ".jsonl":
        return load_questions(path, corpus)
    return load_squad(path)


def load_squad(path: Path) -> Dataset:
    """SQuAD-like JSON: each article's contexts are its document (titles are never indexed:
    in FAQ sets the title is the question itself); each question's gold is its article."""
    data = json.loads(path.read_text(encoding="utf-8"))
    dataset = Dataset(name=path.stem)
    for number, article in enumerate(data["data"]):
        doc_id = f"art-{number:03d}"  # article ids repeat in some sets (CNIL: 258, 259, 343)
        contexts = [p["context"].strip() for p in article.get("paragraphs", []) if p.get("context")]
        if not contexts:
            continue
        # The title is the question itself in FAQ sets: never indexed. The theme is metadata.
        label = " / ".join(str(article[key]) for key in ("theme", "sous_theme") if article.get(key))
        dataset.documents.append(DatasetDocument(doc_id, "\n\n".join(contexts), label))
        for paragraph in article.get("paragraphs", []):
            for qa in paragraph.get("qas", []):
                dataset.questions.append(Question(str(qa.get("id", len(dataset.questions))), qa["question"], (doc_id,)))
    return dataset


def missing_dataset_message(path: Path) -> str:
    return f"Jeu de données absent : {path} (ignoré)."
