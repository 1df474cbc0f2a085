"""The inference evaluation (evaluation/sector_inference.py): its labels and its arithmetic.
The figures themselves are in docs/evaluation.md (``python -m evaluation.sector_inference``)."""

from __future__ import annotations

from pathlib import Path

from evaluation.sector_inference import Sample, _accuracy, publics_figures, read_labels, sector_figures
from kb.core.models import DocumentMetadata
from kb.core.publics import PUBLIC_LABELS
from tests.ingest.test_inference_pipeline import LABELLED

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def test_the_publics_labels_name_corpus_documents_and_known_publics():
    rows = read_labels()
    assert len(rows) >= 30
    corpus_ids = {path.name.split(".")[0] for path in CORPUS.rglob("*") if path.is_file()}
    assert len({row["doc_id"] for row in rows}) == len(rows)
    for row in rows:
        assert row["doc_id"] in corpus_ids, row
        assert row["publics"] and set(row["publics"]) <= set(PUBLIC_LABELS), row
    assert {row["split"] for row in rows} == {"calibration", "held_out"}


def test_accuracy_overall_by_sector_and_confusion():
    figures = _accuracy([("action sociale", "action sociale"), ("transversal", "action sociale")])
    assert (figures["justes"], figures["exactitude"]) == (1, 0.5)
    assert figures["par_secteur"]["transversal"] == {"documents": 1, "justes": 0}
    assert figures["confusion"]["transversal -> action sociale"] == 1


def _samples() -> list[Sample]:
    return [
        Sample(DocumentMetadata(doc_id=f"{sector[:5]}-{n}", title=title, sector=sector), text)
        for sector, documents in LABELLED.items()
        for n, (title, text) in enumerate(documents)
    ]


def test_sector_figures_hide_each_documents_own_label():
    """Leave-one-out on nine documents: every setting is computed, none sees its own label."""
    figures = sector_figures(_samples())
    assert set(figures) == {
        "texte seul",
        "sans secteur",
        "texte seul, moitiés",
        "plus proche centroïde, texte seul",
        "règles seules (vocabulaire)",
    }
    assert all(row["documents"] == 9 for row in figures.values())
    # with two labelled documents left per sector the classifier is not ready: the rules decide
    assert figures["texte seul"]["justes"] == figures["règles seules (vocabulaire)"]["justes"]


def test_publics_figures_count_true_and_false_positives():
    samples = [Sample(DocumentMetadata(doc_id="doc", title="Doc"), "Public : jeunes et familles.")]
    figures = publics_figures(samples, [{"doc_id": "doc", "publics": ["jeunes", "enfants"], "split": "held_out"}])
    assert (figures["held_out"]["vp"], figures["held_out"]["fp"], figures["held_out"]["fn"]) == (1, 1, 1)
    assert figures["par_public"]["familles"] == {"fp": 1}
