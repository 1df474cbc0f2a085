"""A few documents of the sample corpus (corpus/), ingested once per session with e5-int8: the
LEADER method sheet and the GAL's directory entry and fiches (their contacts disagree), a Q&A
fiche in plain text, a minute, slides with speaker notes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.core.settings import Settings
from services import runtime
from services.knowledge_base import KnowledgeBase

CORPUS = Path(__file__).parents[3] / "corpus"
SAMPLE = [
    "methodes/meth-monter-dossier-leader.md",
    "annuaire/annuaire-gal-sucs-et-gorges.md",
    "financements/fin-leader-gal-sucs-et-gorges.md",
    "experiences/exp-cooperation-leader-alimentation-inclusion.md",
    "experiences/exp-epicerie-solidaire-sucs.md",
    "annuaire/annuaire-panier-des-sucs.md",
    "questions-reponses/qr-financer-poste-animateur-tiers-lieu.txt",
    "comptes-rendus/cr-asdl-seance-3-mobilite-alimentation.md",
    "methodes/meth-aide-demarches-en-ligne-mairie-diaporama.pptx",
]


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory, e5_embedder) -> Path:
    """The data directory of the sample documents, ingested with the default settings; tests
    open it read-only (``sample_kb``)."""
    folder = tmp_path_factory.mktemp("sample-corpus")
    for name in SAMPLE:
        for path in [CORPUS / name, CORPUS / f"{name}.meta.yaml"]:
            if path.exists():
                shutil.copy(path, folder / path.name)
    data_dir = tmp_path_factory.mktemp("sample-index") / "data"
    report = runtime.ingest(Settings(data_dir=data_dir), [folder], embedder=e5_embedder)
    assert len(report.added) == len(SAMPLE) and not report.failed, report
    return data_dir


@pytest.fixture(scope="module")
def sample_kb(sample_data, e5_embedder):
    """The sample documents' knowledge base; its answer threshold lowered, so that a base of a
    few documents answers and the tests read what the answers quote."""
    settings = Settings(data_dir=sample_data, answer_min_score=0.0)
    kb = KnowledgeBase.create(settings, runtime.open_index(settings, embedder=e5_embedder))
    yield kb
    kb.close()
