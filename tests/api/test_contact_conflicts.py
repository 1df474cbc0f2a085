"""The coordination page's "Coordonnées divergentes": GET /coordination/contacts over sample
documents whose contacts disagree (a coordination key required), and its place on the page; what
/ask gives of the same documents (a method's steps, the directory's contact)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over

ROOT = Path(__file__).parents[2]
CORPUS = ROOT / "corpus"
STATIC = ROOT / "api" / "coordination" / "static"


@pytest.fixture(scope="module")
def api(tmp_path_factory, e5_embedder):
    folder = tmp_path_factory.mktemp("contacts-docs")
    for name in ["methodes/meth-monter-dossier-leader.md", "annuaire/annuaire-gal-sucs-et-gorges.md"]:
        shutil.copy(CORPUS / name, folder)
    # a base of two documents: the answer's threshold lowered, so that /ask answers
    settings = Settings(data_dir=tmp_path_factory.mktemp("contacts") / "data", answer_min_score=0.0)
    keys = KeyStore(settings.data_dir / "keys.json")
    coordination, contributor = keys.create("coordinatrice"), keys.create("contributrice", role="contributeur")
    with TestClient(app_over(settings, e5_embedder, ingest=[folder])) as client:
        yield client, coordination, contributor


def test_the_coordinator_sees_where_a_fiche_and_the_directory_disagree(api):
    client, key, _ = api
    response = client.get("/coordination/contacts", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert response.json() == {
        "conflicts": [
            {
                "structure": "GAL LEADER Sucs et Gorges",
                "doc_id": "meth-monter-dossier-leader",
                "title": "Monter un dossier LEADER : du premier contact avec le GAL au versement de l'aide",
                "url": "/fiches/meth-monter-dossier-leader",
                "fiche": "équipe d'animation du GAL LEADER Sucs et Gorges — leader@pays-sucs-gorges.example",
                "entry_id": "annuaire-gal-sucs-et-gorges",
                "entry_title": "GAL LEADER Sucs et Gorges : l'équipe d'animation LEADER du PETR du Pays des Sucs et Gorges",
                "entry_url": "/fiches/annuaire-gal-sucs-et-gorges",
                "annuaire": "Animateur du GAL LEADER — contact@gal-sucs-et-gorges.example",
                "differs": ["courriel"],
            }
        ]
    }


def test_the_list_needs_a_coordination_key(api):
    client, _, contributor = api
    assert client.get("/coordination/contacts").status_code == 401
    response = client.get("/coordination/contacts", headers={"Authorization": f"Bearer {contributor}"})
    assert response.status_code == 403
    assert "coordination" in response.json()["detail"]


def test_the_dashboard_has_the_section_and_reads_the_route():
    page = (STATIC / "coordination.html").read_text(encoding="utf-8")
    assert '<h3 id="tdb-contacts-title">Coordonnées divergentes</h3>' in page
    assert 'id="tdb-contacts"' in page
    script = (STATIC / "dashboard.js").read_text(encoding="utf-8")
    assert 'get("coordination/contacts")' in script


def test_ask_gives_the_steps_and_the_directorys_contact(api):
    client, _, _ = api
    body = client.post("/ask", json={"question": "comment monter un dossier LEADER"}).json()
    sheet = body["sources"][0]
    assert sheet["doc_id"] == "meth-monter-dossier-leader"
    assert len(sheet["steps"]) == 8
    assert sheet["steps"][0]["text"] == "Premier contact avec l'équipe d'animation du GAL, avant toute dépense."
    assert sheet["contact"]["contact"] == "Animateur du GAL LEADER — contact@gal-sucs-et-gorges.example"
    assert [c["contact"] for c in body["contacts"]] == [sheet["contact"]["contact"]]
