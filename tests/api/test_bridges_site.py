"""The bridge view /passerelles through HTTP, and the links to it (fiche, answer, annuaire,
/ask's JSON), over a few documents of both sectors with the real model."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from tests.apps import app_over
from tests.services.test_bridges import BRIDGE_FILES


@pytest.fixture(scope="module")
def client(tmp_path_factory, e5_embedder):
    settings = Settings(data_dir=tmp_path_factory.mktemp("bridges-site") / "data", answer_min_score=0.8)
    app = app_over(settings, e5_embedder, ingest=BRIDGE_FILES)
    with TestClient(app) as client:
        yield client


def _column(html: str, slug: str) -> str:
    start = html.index(f'id="cote-{slug}"')
    end = html.find('<section class="side', start)
    return html[start : end if end != -1 else len(html)]


def test_two_columns_with_the_bridges_above(client):
    response = client.get("/passerelles", params={"q": "alimentation"})
    assert response.status_code == 200
    html = unescape(response.text)
    assert (
        html.index("Ce qui relie déjà les deux secteurs")
        < html.index('id="cote-social"')
        < html.index('id="cote-local"')
    )
    assert "exp-cooperation-leader-alimentation-inclusion" in html.split('id="cote-social"')[0]  # transversal: above
    local = _column(html, "local")
    assert "/fiches/exp-legumerie-conserverie-marmite-des-monts" in local
    assert "Financements mobilisés" in local and "#passage-" in local
    assert 'aria-current="page">Passerelles' in html


def test_an_empty_side_says_so_plainly(client):
    html = unescape(client.get("/passerelles", params={"theme": "restauration collective"}).text)
    social = _column(html, "social")
    assert (
        "Aucune expérience de l'action sociale sur ce sujet dans la base — c'est peut-être une passerelle à créer."
        in social
    )
    assert "selected>restauration collective</option>" in html


def test_a_question_far_from_one_side_is_flagged_to_check_or_empty(client):
    html = unescape(client.get("/passerelles", params={"q": "comment réparer une voiture à bas prix ?"}).text)
    for slug in ("social", "local"):
        column = _column(html, slug)
        assert "à vérifier" in column or "passerelle à créer" in column or "/fiches/" in column


def test_a_public_shows_each_result_s_publics(client):
    html = unescape(client.get("/passerelles", params={"public": "personnes âgées"}).text)
    assert "Public « personnes âgées »" in html  # chosen in the publics' list, though a theme too
    assert "selected>personnes âgées</option>" in html
    assert "Publics :" in html


def test_an_unknown_territory_is_a_french_422(client):
    response = client.get("/passerelles", params={"q": "mobilité", "territoire": "Atlantide"})
    assert response.status_code == 422
    assert "territoire inconnu « Atlantide »" in unescape(response.text)


def test_fiche_answer_annuaire_and_ask_link_to_the_bridge_view(client):
    fiche = unescape(client.get("/fiches/exp-epicerie-solidaire-sucs").text)
    link = re.search(r'<a href="(/passerelles\?[^"]+)">Voir ce que fait l\'autre secteur', fiche)
    assert link and "territoire=Haute-Loire" in link.group(1) and "q=aide+alimentaire" in link.group(1)
    assert client.get(link.group(1)).status_code == 200
    asked = client.post("/ask", json={"question": "épicerie solidaire itinérante en camion"}).json()
    assert asked["passerelles_url"].startswith("/passerelles?q=")
    page = unescape(
        client.get("/recherche", params={"q": "épicerie solidaire itinérante en camion", "question": "1"}).text
    )
    if asked["found"]:
        assert "Voir les deux secteurs côte à côte sur ce sujet" in page
    annuaire = unescape(client.get("/annuaire").text)
    assert "/passerelles?territoire=Haute-Loire" in annuaire
