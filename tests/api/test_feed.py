"""The Atom feed: newest first publication first, filters, only public documents, escaped text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over

ATOM = "{http://www.w3.org/2005/Atom}"
# the fiches share their text on purpose: published as distinct documents despite the likeness
DISTINCT = {"duplicate_reason": "fiches de test au texte commun"}
HOSTILE_TITLE = "Un atelier <script>alert('x')</script> & des vélos"


def fiche(title: str, doc_type: str = "fiche expérience") -> dict:
    return {
        "title": title,
        "doc_type": doc_type,
        "sector": "développement local",
        "themes": ["mobilité"],
        "territory": "Communauté de communes du Val Fleuri (Drôme)",
        "porteur": "Association Biclou Rural",
        "summary": "Un atelier d'autoréparation de vélos ouvert deux après-midi par semaine dans le bourg.",
        "sections": {"résultats": "En un an, 85 vélos remis en état ont été vendus à petit prix."},
    }


@pytest.fixture
def api(tmp_path, toy_embedder, toy_mini_index):
    settings = Settings(data_dir=tmp_path / "data", public_url="https://passerelles.exemple.org")
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    with TestClient(app_over(settings, toy_embedder, index=toy_mini_index)) as client:
        yield client, {"Authorization": f"Bearer {key}"}


def entries(client, **params) -> list[ET.Element]:
    response = client.get("/flux.atom", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return root.findall(f"{ATOM}entry")


def ids(found: list[ET.Element]) -> list[str]:
    return [entry.find(f"{ATOM}id").text.rsplit(":", 1)[1] for entry in found]


def test_newest_first_publication_first_with_every_field(api):
    client, auth = api
    # (ids in the reverse order of publication: the order is not the ids')
    first = client.post(
        "/documents", params=DISTINCT, json=fiche("Une méthode pour animer un atelier", "fiche méthode"), headers=auth
    ).json()["doc_id"]
    second = client.post(
        "/documents", params=DISTINCT, json=fiche("Un atelier vélo dans un bourg rural"), headers=auth
    ).json()["doc_id"]
    # replacing the first changes its indexed_at, not its place: the feed follows first publications
    assert (
        client.put(
            f"/documents/{first}",
            params=DISTINCT,
            json=fiche("Une méthode pour animer un atelier", "fiche méthode"),
            headers=auth,
        ).status_code
        == 200
    )

    found = entries(client)
    assert ids(found)[:2] == [second, first]
    assert set(ids(found)[2:]) == {"exp-epicerie-village", "exp-transport-solidaire", "meth-diagnostic-partage"}
    entry = found[1]
    assert entry.find(f"{ATOM}title").text == "Une méthode pour animer un atelier"
    assert entry.find(f"{ATOM}link").get("href") == f"https://passerelles.exemple.org/fiches/{first}"
    assert entry.find(f"{ATOM}summary").text.startswith("Un atelier d'autoréparation de vélos")
    assert {c.get("term") for c in entry.findall(f"{ATOM}category")} == {
        "fiche méthode",
        "développement local",
        "mobilité",
    }
    assert entry.find(f"{ATOM}author/{ATOM}name").text == "Association Biclou Rural"
    assert entry.find(f"{ATOM}updated").text >= entry.find(f"{ATOM}published").text


def test_filters_by_type_and_sector_and_refuses_unknown_values_in_french(api):
    client, _ = api
    assert ids(entries(client, type="fiche méthode")) == ["meth-diagnostic-partage"]
    assert ids(entries(client, type="fiche expérience", secteur="développement local")) == ["exp-epicerie-village"]
    assert set(ids(entries(client, secteur="action sociale"))) == {"exp-transport-solidaire"}
    assert ids(entries(client, type="annuaire")) == ["annuaire-roule-ensemble"]  # only when asked for
    refused = client.get("/flux.atom", params={"secteur": "pêche en haute mer"})
    assert refused.status_code == 422 and refused.json()["detail"] == "Filtres invalides."


def test_a_deleted_document_leaves_the_feed(api):
    client, auth = api
    assert client.delete("/documents/exp-epicerie-village", headers=auth).status_code == 200
    assert "exp-epicerie-village" not in ids(entries(client))


def test_a_hostile_title_is_text_not_markup(api):
    client, auth = api
    response = client.post("/documents", params=DISTINCT, json=fiche(HOSTILE_TITLE), headers=auth)
    assert response.status_code == 201, response.json()
    raw = client.get("/flux.atom").text
    assert "<script" not in raw
    assert entries(client)[0].find(f"{ATOM}title").text == HOSTILE_TITLE


def test_the_site_pages_link_the_feed(api):
    client, _ = api
    home = client.get("/").text
    assert '<link rel="alternate" type="application/atom+xml"' in home and 'href="/flux.atom"' in home
    assert "S'abonner au flux des nouvelles fiches" in home
