"""`kb eval retrieval` on both dataset formats, with the real pipeline on tiny data."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from evaluation.datasets import load_squad

MINI = Path(__file__).parents[1] / "fixtures" / "mini-corpus"


def test_project_format_gives_figures_per_retriever(tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [
        {
            "id": "1",
            "question": "chauffeurs bénévoles pour les personnes âgées",
            "relevant": ["exp-transport-solidaire"],
            "kind": "natural",
        },
        {
            "id": "2",
            "question": "epicerie cooperative leader",
            "relevant": ["exp-epicerie-village"],
            "kind": "unaccented",
        },
        {"id": "3", "question": "CTG diagnostic", "relevant": ["meth-diagnostic-partage"], "kind": "acronym"},
        {"id": "4", "question": "station de ski", "relevant": [], "kind": "unanswerable"},
    ]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["eval", "retrieval", "--dataset", str(questions), "--corpus", str(MINI), "--json"],
        env={"KB_DATA_DIR": str(tmp_path / "unused")},
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    for mode in ("bm25", "dense", "hybrid"):
        assert set(figures[mode]) >= {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"}
        assert figures[mode]["n"] == 3
    assert figures["hybrid"]["mrr@10"] == 1.0
    assert set(figures["hybrid"]["per_kind"]) == {"natural", "unaccented", "acronym"}
    assert 0.0 <= figures["abstention_unanswerable"] <= 1.0


def test_squad_format_indexes_contexts_never_titles(tmp_path):
    squad = {
        "data": [
            {
                "title": "Comment protéger ses mots de passe ?",
                "id": "7",
                "paragraphs": [
                    {
                        "context": "Utilisez un gestionnaire et des phrases de passe longues.",
                        "qas": [{"question": "Comment protéger ses mots de passe ?"}],
                    }
                ],
            },
            {
                "title": "Vidéosurveillance au travail",
                "id": "7",
                "paragraphs": [
                    {
                        "context": "Un employeur peut filmer les accès mais pas les postes de travail en continu.",
                        "qas": [{"question": "Mon patron peut-il me filmer ?"}],
                    }
                ],
            },
        ]
    }
    path = tmp_path / "set.json"
    path.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    dataset = load_squad(path)
    assert [d.doc_id for d in dataset.documents] == ["art-000", "art-001"], "repeated ids stay distinct"
    assert all("?" not in d.text and d.title == "" for d in dataset.documents)
    assert [q.relevant for q in dataset.questions] == [("art-000",), ("art-001",)]
    result = CliRunner().invoke(app, ["eval", "retrieval", "--dataset", str(path), "--retriever", "dense", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["dense"]["recall@1"] == 1.0


def test_missing_dataset_is_a_clear_message(tmp_path):
    result = CliRunner().invoke(app, ["eval", "retrieval", "--dataset", str(tmp_path / "absent.json")])
    assert result.exit_code == 2 and "Jeu de données absent" in result.output
