"""The theme vocabulary through HTTP: French order wherever themes are listed, capitals from
the glossary, near-duplicate suggestions, and the coordinator's merge (preview, rewrite through
the catalogue's write path, audit). Real app and index, the toy embedder."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from kb.core.text import collation_key
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.fakes import ToyEmbedder

DOCUMENTS = {
    "meth-ecologie": ("Une démarche d'écologie au quotidien", "développement local", ["écologie", "mobilité"]),
    "exp-navette": ("Une navette solidaire", "action sociale", ["mobilité solidaire", "caf"]),
    "exp-centre": ("Le centre social des Combes", "action sociale", ["centres sociaux", "Emploi"]),
    "exp-foyer": ("Un foyer rural devenu centre social", "action sociale", ["centre social", "zones rurales"]),
    "exp-leader": ("Un projet coopération LEADER", "développement local", ["coopération leader", "eau"]),
    "annuaire-combes": ("Association des Combes", "action sociale", ["zones rurales", "écologie", "caf", "emploi"]),
}


def _markdown(doc_id: str, title: str, sector: str, themes: list[str]) -> str:
    doc_type = "annuaire" if doc_id.startswith("annuaire") else "fiche expérience"
    listed = ", ".join(themes)
    return (
        f'---\nid: {doc_id}\ntitle: "{title}"\ndoc_type: {doc_type}\nsector: {sector}\n'
        f'themes: [{listed}]\nterritory: Cantal\nporteur: "Association {doc_id}"\n---\n'
        f"# {title}\n\n## En bref\n\nUne action menée dans le Cantal avec les habitants et les partenaires.\n"
    )


@pytest.fixture
def api(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for doc_id, (title, sector, themes) in DOCUMENTS.items():
        (corpus / f"{doc_id}.md").write_text(_markdown(doc_id, title, sector, themes), encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    with TestClient(app_over(settings, ToyEmbedder(), ingest=[corpus])) as client:
        yield client, {"Authorization": f"Bearer {key}"}


def test_collation_sorts_accented_words_with_their_letter():
    words = ["zones rurales", "économie", "eau", "Emploi", "écologie", "centre-bourg", "centre social", "côte", "cote"]
    assert sorted(words, key=collation_key) == [
        "centre-bourg",
        "centre social",
        "cote",
        "côte",
        "eau",
        "écologie",
        "économie",
        "Emploi",
        "zones rurales",
    ]
    assert sorted(["Cote", "cote"], key=collation_key) == ["cote", "Cote"]  # never a tie


def test_vocabulary_lists_themes_in_french_order_with_their_labels(api):
    client, _ = api
    vocabulary = client.get("/vocabulary").json()
    themes = vocabulary["themes"]
    assert themes.index("écologie") < themes.index("emploi") < themes.index("mobilité") < themes.index("zones rurales")
    assert themes == sorted(themes, key=collation_key)
    assert vocabulary["theme_labels"] == {"caf": "CAF", "coopération leader": "coopération LEADER"}


def test_site_selects_and_pages_show_the_french_order_and_the_capitals(api):
    client, _ = api
    page = client.get("/annuaire").text
    assert page.index(">CAF<") < page.index(">écologie<") < page.index(">emploi<") < page.index(">zones rurales<")
    assert "zones rurales, écologie, CAF, emploi" in page
    fiche = client.get("/fiches/exp-navette").text
    assert ">CAF</a>" in fiche and "?theme=caf" in fiche  # shown in capitals, filtered as stored
    passerelles = client.get("/passerelles").text
    assert passerelles.index(">écologie<") < passerelles.index(">emploi<")
    assert ">CAF<" in passerelles


def test_overview_suggests_near_duplicates_and_merges_nothing(api):
    client, auth = api
    overview = client.get("/coordination/themes", headers=auth).json()
    listed = [row["theme"] for row in overview["themes"]]
    assert listed == sorted(listed, key=collation_key) and listed[0] == "caf"
    assert {"theme": "caf", "label": "CAF", "documents": 2} in overview["themes"]
    pairs = {(s["source"], s["target"]): s["reason"] for s in overview["suggestions"]}
    assert pairs[("centres sociaux", "centre social")] == "singulier et pluriel"
    assert ("mobilité", "mobilité solidaire") in pairs or ("mobilité solidaire", "mobilité") in pairs
    assert client.get("/vocabulary").json()["themes"].count("centres sociaux") == 1  # still there


def test_merge_is_previewed_then_rewrites_each_document_and_is_audited(api):
    client, auth = api
    body = {"source": "centres sociaux", "target": "centre social"}
    preview = client.post("/coordination/themes/merge", params={"dry_run": "true"}, json=body, headers=auth)
    assert preview.status_code == 200
    assert preview.json()["documents"] == [
        {
            "doc_id": "exp-centre",
            "title": "Le centre social des Combes",
            "before": ["centres sociaux", "emploi"],
            "after": ["centre social", "emploi"],
        }
    ]
    assert preview.json()["merged"] == [] and "centres sociaux" in client.get("/vocabulary").json()["themes"]

    done = client.post("/coordination/themes/merge", json=body, headers=auth).json()
    assert done["merged"] == ["exp-centre"] and done["failed"] == []
    assert client.get("/documents/exp-centre").json()["themes"] == ["centre social", "emploi"]
    themes = client.get("/vocabulary").json()["themes"]
    assert "centres sociaux" not in themes and "centre social" in themes
    results = client.get("/search", params={"q": "centre social", "theme": "centre social"}).json()["results"]
    assert {r["doc_id"] for r in results} == {"exp-centre", "exp-foyer"}
    history = client.get("/documents/exp-centre/history", headers=auth).json()["entries"]
    assert history[0]["action"] == "modification"
    assert history[0]["details"]["fusion"] == {"de": "centres sociaux", "vers": "centre social"}
    again = client.post("/coordination/themes/merge", json=body, headers=auth)
    assert again.status_code == 404 and "centres sociaux" in again.json()["detail"]


def test_merging_into_a_theme_the_document_has_keeps_it_once(api):
    client, auth = api
    done = client.post(
        "/coordination/themes/merge", json={"source": "mobilité", "target": "mobilité solidaire"}, headers=auth
    ).json()
    assert done["documents"][0]["after"] == ["écologie", "mobilité solidaire"]
    client.post("/coordination/themes/merge", json={"source": "écologie", "target": "mobilité solidaire"}, headers=auth)
    assert client.get("/documents/meth-ecologie").json()["themes"] == ["mobilité solidaire"]


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"source": "caf", "target": "caf"}, 422, "target"),
        ({"source": "caf", "target": "CAF"}, 422, "target"),
        ({"source": "caf", "target": "a, b"}, 422, "target"),
        ({"source": "inconnu", "target": "caf"}, 404, None),
        ({"source": "caf"}, 422, None),
    ],
)
def test_invalid_merges_are_french_errors_and_change_nothing(api, body, status, field):
    client, auth = api
    response = client.post("/coordination/themes/merge", json=body, headers=auth)
    assert response.status_code == status
    if field:
        assert [p["field"] for p in response.json()["problems"]] == [field]
    assert "caf" in client.get("/vocabulary").json()["themes"]


def test_the_theme_routes_need_a_coordination_key(api, tmp_path):
    client, _ = api
    assert client.get("/coordination/themes").status_code == 401
    assert client.post("/coordination/themes/merge", json={"source": "caf", "target": "x"}).status_code == 401
