"""Rapprochements through HTTP: listed for a coordination key, marked (audited, kept), reopened,
proposed again once a document changes, exported as CSV."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from kb.records.keys import CONTRIBUTOR
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.rapprochement_corpus import write_corpus

PAIR = "epicerie-solidaire~projet-alimentaire"


@pytest.fixture
def api(tmp_path, toy_embedder):
    settings = Settings(data_dir=tmp_path / "data")
    keys = KeyStore(settings.data_dir / "keys.json")
    coordinator, contributor = keys.create("coordinatrice"), keys.create("Aline", CONTRIBUTOR)
    app = app_over(settings, toy_embedder, ingest=[write_corpus(tmp_path / "corpus")])
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {coordinator}"}, {"Authorization": f"Bearer {contributor}"}, settings


def listed(client, auth, **params):
    response = client.get("/coordination/rapprochements", params=params, headers=auth)
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_pairs_join_the_two_sectors_best_first_with_their_reason_pages_and_contacts(api):
    client, auth, _, _ = api
    listing = listed(client, auth)
    ids = [p["id"] for p in listing["pairs"]]
    assert ids[0] == PAIR, "same territory, same publics, one names the other: first"
    assert all("groupe-de-travail" not in i for i in ids), "a transversal document already bridges"
    assert listing["total"] == len(ids) and listing["counts"]["à examiner"] == len(ids)
    best = listing["pairs"][0]
    assert {best["a"]["sector"], best["b"]["sector"]} == {"action sociale", "développement local"}
    assert best["same_territory"] and best["named"] and best["publics"] == ["familles"]
    assert best["reason"].startswith(
        "Même territoire (CC des Plateaux du Lizon (Haute-Loire)), mêmes publics (familles)"
    )
    assert "« " in best["reason"] and best["reason"].endswith("».")
    assert best["a"]["url"] == "/fiches/epicerie-solidaire"
    assert best["a"]["contact"]["contact"] == "Responsable de l'épicerie — epicerie@plateau.example"
    assert best["b"]["contact"] == {
        "name": "Projet alimentaire du Lizon",
        "contact": "Coordinatrice du projet alimentaire — pat@lizon.example",
        "doc_id": "projet-alimentaire",
    }
    assert best["status"] == "à examiner" and best["marked_by"] is None


def test_filters_by_place_theme_and_paging(api):
    client, auth, _, _ = api
    assert [p["id"] for p in listed(client, auth, territory="Haute-Loire")["pairs"]][0] == PAIR
    assert listed(client, auth, territory="Plateaux du Lizon")["total"] >= 1
    assert listed(client, auth, theme="commerce")["pairs"][0]["id"] != PAIR
    page = listed(client, auth, limit=1, offset=0)
    assert len(page["pairs"]) == 1 and page["limit"] == 1
    refused = client.get("/coordination/rapprochements", params={"territory": "Atlantide"}, headers=auth)
    assert refused.status_code == 422


def test_a_mark_is_audited_kept_across_a_restart_and_hidden_from_the_open_list(api, toy_embedder):
    client, auth, _, settings = api
    marked = client.put(f"/coordination/rapprochements/{PAIR}", json={"status": "mis en relation"}, headers=auth)
    assert marked.status_code == 200, marked.json()
    assert marked.json()["status"] == "mis en relation" and marked.json()["marked_by"] == "coordinatrice"
    assert PAIR not in [p["id"] for p in listed(client, auth)["pairs"]]
    assert [p["id"] for p in listed(client, auth, status="mis en relation")["pairs"]] == [PAIR]
    assert listed(client, auth)["counts"]["mis en relation"] == 1

    with TestClient(app_over(settings, toy_embedder)) as again:  # a restart
        assert [p["id"] for p in listed(again, auth, status="mis en relation")["pairs"]] == [PAIR]
        reopened = again.put(f"/coordination/rapprochements/{PAIR}", json={"status": "à examiner"}, headers=auth)
        assert reopened.json()["status"] == "à examiner"
        assert PAIR in [p["id"] for p in listed(again, auth)["pairs"]]

    audit = [json.loads(line) for line in (settings.data_dir / "audit.jsonl").read_text().splitlines()]
    entries = [(a["action"], a.get("rapprochement"), a.get("statut")) for a in audit if "rapprochement" in a]
    assert entries == [("rapprochement marqué", PAIR, "mis en relation"), ("rapprochement rouvert", PAIR, None)]


def test_a_marked_pair_is_proposed_again_once_one_of_its_documents_changes(api):
    client, auth, _, _ = api
    client.put(f"/coordination/rapprochements/{PAIR}", json={"status": "non pertinent"}, headers=auth)
    assert PAIR not in [p["id"] for p in listed(client, auth)["pairs"]]
    edited = client.patch(
        "/documents/projet-alimentaire",
        json={"title": "Le projet alimentaire territorial du plateau du Lizon"},
        headers=auth,
    )
    assert edited.status_code == 200, edited.json()
    again = [p for p in listed(client, auth)["pairs"] if p["id"] == PAIR]
    assert again and again[0]["status"] == "à examiner"


def test_unknown_pairs_and_statuses_are_refused_in_french(api):
    client, auth, contributor, _ = api
    unknown = client.put(
        "/coordination/rapprochements/boutique-essai~groupe-de-travail", json={"status": "non pertinent"}, headers=auth
    )
    assert unknown.status_code == 404 and "Aucun rapprochement" in unknown.json()["detail"]
    bad = client.put(f"/coordination/rapprochements/{PAIR}", json={"status": "fini"}, headers=auth)
    assert bad.status_code == 422 and "« déjà en lien »" in bad.json()["problems"][0]["message"]
    assert client.get("/coordination/rapprochements", params={"status": "fini"}, headers=auth).status_code == 422
    assert client.get("/coordination/rapprochements").status_code == 401
    assert client.get("/coordination/rapprochements", headers=contributor).status_code == 403


def test_the_csv_opens_in_a_spreadsheet_with_french_headers(api):
    client, auth, _, _ = api
    response = client.get("/coordination/rapprochements.csv", headers=auth)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "rapprochements-passerelles.csv" in response.headers["content-disposition"]
    assert response.content.startswith("\ufeff".encode())
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Statut;Score;Même territoire;Ce qu'ils partagent;Document A")
    assert (
        "à examiner" in lines[1] and "/fiches/epicerie-solidaire" in lines[1] and "epicerie@plateau.example" in lines[1]
    )
    first = client.get("/coordination/rapprochements.csv", params={"limit": 1}, headers=auth)
    assert len(first.content.decode("utf-8-sig").splitlines()) == 2
