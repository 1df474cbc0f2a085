"""Partner sites through HTTP: managed by the coordination, effective at once for CORS."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over

BASE = "https://base.exemple.org"
PARTNER = "https://mairie-val-fleuri.fr"


@pytest.fixture
def api(tmp_path, toy_embedder):
    settings = Settings(data_dir=tmp_path / "data", allowed_origins=[BASE])
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    with TestClient(app_over(settings, toy_embedder)) as client:
        yield client, {"Authorization": f"Bearer {key}"}, settings


def preflight(client, origin):
    return client.options(
        "/ask",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def cross_origin_get(client, origin):
    return client.get("/vocabulary", headers={"Origin": origin})


def test_a_partner_added_through_the_api_is_allowed_at_once_and_refused_after_removal(api):
    client, auth, settings = api
    assert preflight(client, PARTNER).status_code == 400
    assert "access-control-allow-origin" not in cross_origin_get(client, PARTNER).headers

    added = client.post("/coordination/partners", json={"origin": PARTNER + "/", "name": "Mairie"}, headers=auth)
    assert added.status_code == 201, added.json()
    assert added.json()["origin"] == PARTNER and added.json()["added_by"] == "coordinatrice"
    allowed = preflight(client, PARTNER)
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == PARTNER
    assert cross_origin_get(client, PARTNER).headers["access-control-allow-origin"] == PARTNER
    assert PARTNER in client.get("/", headers={"Accept": "text/html"}).headers["content-security-policy"]

    listing = client.get("/coordination/partners", headers=auth).json()
    assert listing["base"] == [BASE] and [p["origin"] for p in listing["partners"]] == [PARTNER]

    removed = client.delete("/coordination/partners", params={"origin": PARTNER}, headers=auth)
    assert removed.status_code == 200 and removed.json()["name"] == "Mairie"
    assert preflight(client, PARTNER).status_code == 400
    assert "access-control-allow-origin" not in cross_origin_get(client, PARTNER).headers
    assert client.get("/coordination/partners", headers=auth).json()["partners"] == []

    audit = [json.loads(line) for line in (settings.data_dir / "audit.jsonl").read_text().splitlines()]
    assert [(a["action"], a["origin"], a["doc_id"]) for a in audit] == [
        ("site partenaire ajouté", PARTNER, ""),
        ("site partenaire retiré", PARTNER, ""),
    ]


def test_the_base_list_still_works_and_cannot_be_removed_from_the_page(api):
    client, auth, _ = api
    assert preflight(client, BASE).headers["access-control-allow-origin"] == BASE
    refused = client.delete("/coordination/partners", params={"origin": BASE}, headers=auth)
    assert refused.status_code == 422 and "KB_ALLOWED_ORIGINS" in refused.json()["problems"][0]["message"]
    again = client.post("/coordination/partners", json={"origin": BASE, "name": "Base"}, headers=auth)
    assert again.status_code == 409
    assert preflight(client, BASE).status_code == 200


@pytest.mark.parametrize(
    "origin",
    [
        "https://*.exemple.org",
        "https://exemple.org/widget",
        "http://exemple.org",
        "ftp://exemple.org",
        "exemple.org",
        "https://exemple.org:99999",
        "https://user@exemple.org",
        "",
        "https://exemple.org?x=1",
    ],
)
def test_an_invalid_origin_is_refused_in_french(api, origin):
    client, auth, settings = api
    response = client.post("/coordination/partners", json={"origin": origin, "name": "Site"}, headers=auth)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Site partenaire invalide." and body["problems"][0]["field"] == "origin"
    assert not (settings.data_dir / "partners.json").exists()


def test_local_origins_and_ports_are_accepted_and_a_second_add_is_a_conflict(api):
    client, auth, _ = api
    for origin in ("http://localhost:5173", "https://site.exemple.org:8443"):
        assert (
            client.post("/coordination/partners", json={"origin": origin, "name": "Essai"}, headers=auth).status_code
            == 201
        )
    again = client.post(
        "/coordination/partners", json={"origin": "HTTP://LOCALHOST:5173", "name": "Essai"}, headers=auth
    )
    assert again.status_code == 409 and "déjà" in again.json()["detail"]


def test_partner_routes_need_a_key_and_unknown_removal_is_a_404(api):
    client, auth, _ = api
    assert client.get("/coordination/partners").status_code == 401
    assert client.post("/coordination/partners", json={"origin": PARTNER, "name": "M"}).status_code == 401
    missing = client.delete("/coordination/partners", params={"origin": PARTNER}, headers=auth)
    assert missing.status_code == 404 and "Aucun site partenaire" in missing.json()["detail"]
