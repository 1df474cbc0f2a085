"""A small evaluation on real components: a floor the real system clears with margin."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evaluation.answers import evaluate_answers
from evaluation.datasets import Dataset, Question
from evaluation.retrieval import dataset_index, evaluate_retrieval
from kb.core.settings import Settings
from kb.search.glossary import Glossary
from kb.search.retrieval import Retriever
from services.knowledge_base import KnowledgeBase

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]


def _questions() -> list[Question]:
    rows = [json.loads(line) for line in (ROOT / "evaluation" / "questions.jsonl").read_text().splitlines() if line]
    chosen = [r for r in rows if r["kind"] == "natural"][:8] + [r for r in rows if r["kind"] == "unanswerable"][:3]
    return [
        Question(r["id"], r["question"], tuple(r["relevant"]), r["kind"], tuple(r.get("key_facts", []))) for r in chosen
    ]


def test_smoke_evaluation_clears_its_floor(tmp_path):
    questions = _questions()
    wanted = {doc for q in questions for doc in q.relevant}
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    # the relevant documents plus every fiche méthode as distractors
    for path in sorted((ROOT / "corpus").glob("*/*")):
        doc_id = path.name.split(".")[0]
        if doc_id in wanted or path.parent.name == "methodes":
            shutil.copy(path, corpus / path.name)
    settings = Settings(data_dir=tmp_path / "data")
    with dataset_index(Dataset("smoke", corpus=corpus), settings) as (index, report):
        assert report.failed == []
        retriever = Retriever(index, Glossary.load(settings.glossary_file))
        figures, _ = evaluate_retrieval(retriever, questions, ("hybrid",))
        assert figures["hybrid"]["mrr@10"] >= 0.6, figures
        answers = evaluate_answers(KnowledgeBase.create(settings, index).answerer, questions)
        assert answers["citation_validity"] == 1.0
        assert answers["answers_without_citation"] == 0.0
