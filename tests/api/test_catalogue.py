"""The coordinator's catalogue through HTTP: edit metadata (PATCH), download the stored file,
read a document's history, and the required fields of an upload. Real app and index (Chroma on
a temp dir), the toy embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.core.errors import BackendUnavailable
from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.fakes import ToyEmbedder

FIXTURES = Path(__file__).parents[1] / "fixtures"
PDF = FIXTURES / "docs" / "deux-pages.pdf"
FIELDS = {
    "title": "Un compte rendu de comité de pilotage",
    "doc_type": "compte rendu",
    "sector": "développement local",
    "themes": "mobilité, gouvernance",
    "territory": "Pays du Haut Val",
}


def _api(tmp_path, embedder, index):
    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    with TestClient(app_over(settings, embedder, index=index)) as client:
        yield client, {"Authorization": f"Bearer {key}"}, settings


@pytest.fixture
def api(tmp_path, toy_mini_index):
    yield from _api(tmp_path, ToyEmbedder(), toy_mini_index)


@pytest.fixture
def e5_api(tmp_path, e5_embedder, mini_index):
    """Where ranking matters: a real model (the toy one ranks by vowels)."""
    yield from _api(tmp_path, e5_embedder, mini_index)


def search_ids(client, q):
    return [r["doc_id"] for r in client.get("/search", params={"q": q}).json()["results"]]


def problem_fields(response) -> set[str]:
    return {p["field"] for p in response.json()["problems"]}


# -- PATCH /documents/{id} --------------------------------------------------------------------


def test_a_new_title_is_searchable_at_once(e5_api):
    client, auth, settings = e5_api
    assert "exp-epicerie-village" not in search_ids(client, "zorglubette quarkinou")
    response = client.patch(
        "/documents/exp-epicerie-village", json={"title": "La zorglubette quarkinou du bourg"}, headers=auth
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["doc_id"] == "exp-epicerie-village" and body["status"] == "replaced" and body["fields"] == ["title"]
    assert search_ids(client, "zorglubette quarkinou")[0] == "exp-epicerie-village"
    detail = client.get("/documents/exp-epicerie-village").json()
    assert detail["title"] == "La zorglubette quarkinou du bourg"
    # nothing else changed, and the file is still Markdown whose front matter says the new title
    assert detail["porteur"] == "SCIC L'Épicerie du Bourg" and detail["themes"] == ["commerce", "alimentation"]
    stored = (settings.data_dir / "documents" / "exp-epicerie-village.md").read_text(encoding="utf-8")
    assert stored.startswith("---\n") and "title: La zorglubette quarkinou du bourg" in stored
    assert "épicerie" in detail["text"] and not list((settings.data_dir / "documents").glob("*.meta.yaml"))


def test_each_kind_of_field_is_edited_and_normalised(api):
    client, auth, _ = api
    changes = {
        "themes": ["Mobilité", "Covoiturage"],
        "doc_type": "retour d'expérience",
        "sector": "Developpement LOCAL",
        "territory": "Pays de Die",
        "porteur": None,
        "partners": ["Mairie de Die", "Département"],
        "date": "2024-06",
        "source_url": "https://exemple.org/transport",
    }
    response = client.patch("/documents/exp-transport-solidaire", json=changes, headers=auth)
    assert response.status_code == 200, response.json()
    detail = client.get("/documents/exp-transport-solidaire").json()
    assert detail["themes"] == ["mobilité", "covoiturage"]
    assert (detail["doc_type"], detail["sector"], detail["territory"]) == (
        "fiche expérience",
        "développement local",
        "Pays de Die",
    )
    assert detail["porteur"] is None and detail["extra"]["partners"] == ["Mairie de Die", "Département"]
    assert (detail["date"], detail["source_url"]) == ("2024-06", "https://exemple.org/transport")
    assert set(response.json()["fields"]) == {
        "themes",
        "sector",
        "territory",
        "porteur",
        "partners",
        "date",
        "source_url",
    }


def test_a_fiche_summary_is_rewritten_in_its_section(api):
    client, auth, _ = api
    created = client.post("/documents", json=_fiche(), headers=auth)
    assert created.status_code == 201, created.json()
    summary = "Un atelier zeppelin de réparation ouvert le samedi matin, avec des bénévoles formés."
    response = client.patch(f"/documents/{created.json()['doc_id']}", json={"summary": summary}, headers=auth)
    assert response.status_code == 200, response.json()
    text = client.get(f"/documents/{created.json()['doc_id']}").json()["text"]
    assert f"## En bref\n\n{summary}\n\n## Contexte" in text and "deux après-midi" not in text


def test_a_pdf_keeps_its_bytes_and_format_and_gets_a_sidecar(api):
    client, auth, settings = api
    data = PDF.read_bytes()
    created = client.post("/documents", files={"file": ("cr.pdf", data)}, data=FIELDS, headers=auth)
    assert created.status_code == 201, created.json()
    doc_id = created.json()["doc_id"]
    response = client.patch(f"/documents/{doc_id}", json={"title": "Le comité de pilotage de juin"}, headers=auth)
    assert response.status_code == 200, response.json()
    folder = settings.data_dir / "documents"
    assert (folder / f"{doc_id}.pdf").read_bytes() == data
    assert "Le comité de pilotage de juin" in (folder / f"{doc_id}.pdf.meta.yaml").read_text(encoding="utf-8")
    detail = client.get(f"/documents/{doc_id}").json()
    assert detail["title"] == "Le comité de pilotage de juin" and detail["source"] == f"{doc_id}.pdf"
    assert detail["territory"] == "Pays du Haut Val"
    assert client.patch(f"/documents/{doc_id}", json={"summary": "x" * 50}, headers=auth).status_code == 422


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"doc_type": "roman", "sector": "agriculture"}, {"doc_type", "sector"}),
        ({"title": "abc", "themes": [], "territory": ""}, {"title", "themes", "territory"}),
        ({"date": "31/02/2024", "source_url": "javascript:alert(1)"}, {"date", "source_url"}),
        ({"title": None}, {"title"}),
        ({"couleur": "bleu"}, {"couleur"}),
        ({"themes": "mobilité"}, {"themes"}),
        ({}, {None}),
    ],
)
def test_invalid_edits_are_french_422s_and_change_nothing(api, body, fields):
    client, auth, _ = api
    before = client.get("/documents/exp-epicerie-village").json()
    response = client.patch("/documents/exp-epicerie-village", json=body, headers=auth)
    assert response.status_code == 422, response.json()
    assert problem_fields(response) == fields and all(p["message"] for p in response.json()["problems"])
    assert client.get("/documents/exp-epicerie-village").json() == before


def test_unknown_document_and_missing_key(api):
    client, auth, _ = api
    assert client.patch("/documents/inconnu", json={"title": "Un titre correct"}, headers=auth).status_code == 404
    assert client.patch("/documents/exp-epicerie-village", json={"title": "Un titre correct"}).status_code == 401


def test_vector_store_down_is_a_503_and_changes_nothing(api, monkeypatch):
    client, auth, settings = api
    holder = client.app.state.holder
    index = holder.get().index

    def down(*args, **kwargs):
        raise BackendUnavailable("le stockage des vecteurs ne répond pas.")

    before = client.get("/documents/exp-epicerie-village").json()
    client.patch("/documents/exp-transport-solidaire", json={"territory": "Pays de Die"}, headers=auth)
    stored = (settings.data_dir / "documents" / "exp-transport-solidaire.md").read_bytes()
    monkeypatch.setattr(index, "upsert", down)
    for doc_id in ("exp-epicerie-village", "exp-transport-solidaire"):
        response = client.patch(f"/documents/{doc_id}", json={"title": "Un titre qui ne passera pas"}, headers=auth)
        assert response.status_code == 503 and "indisponible" in response.json()["detail"]
    monkeypatch.undo()
    assert client.get("/documents/exp-epicerie-village").json() == before
    assert (settings.data_dir / "documents" / "exp-transport-solidaire.md").read_bytes() == stored
    assert (
        client.get("/documents/exp-transport-solidaire").json()["title"]
        == "Un transport solidaire avec des chauffeurs bénévoles"
    )
    assert not (settings.data_dir / "stash" / "exp-transport-solidaire").exists()
    actions = [
        e["action"] for e in client.get("/documents/exp-transport-solidaire/history", headers=auth).json()["entries"]
    ]
    assert actions == ["modification"]


# -- GET /documents/{id}/file, PUT file-only ---------------------------------------------------


def test_the_stored_file_downloads_as_uploaded(api):
    client, auth, _ = api
    data = PDF.read_bytes()
    doc_id = client.post("/documents", files={"file": ("cr.pdf", data)}, data=FIELDS, headers=auth).json()["doc_id"]
    response = client.get(f"/documents/{doc_id}/file", headers=auth)
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="{doc_id}.pdf"'
    assert client.get(f"/documents/{doc_id}/file").status_code == 401
    assert client.get("/documents/inconnu/file", headers=auth).status_code == 404


def test_replacing_the_file_alone_keeps_the_metadata_and_given_fields_win(api):
    client, auth, _ = api
    before = client.get("/documents/exp-epicerie-village").json()
    bare = "# Nouvelle version\n\nL'épicerie compte désormais 200 sociétaires et un rayon vrac.\n"
    response = client.put("/documents/exp-epicerie-village", files={"file": ("v2.md", bare.encode())}, headers=auth)
    assert response.status_code == 200, response.json()
    after = client.get("/documents/exp-epicerie-village").json()
    kept = ("title", "doc_type", "sector", "themes", "territory", "porteur", "date")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert "200 sociétaires" in after["text"]
    response = client.put(
        "/documents/exp-epicerie-village",
        files={"file": ("v3.md", bare.encode())},
        data={"territory": "Cantal"},
        headers=auth,
    )
    assert response.status_code == 200 and client.get("/documents/exp-epicerie-village").json()["territory"] == "Cantal"


# -- GET /documents/{id}/history --------------------------------------------------------------


def test_history_after_add_edit_replace_and_delete(api):
    client, auth, _ = api
    doc_id = client.post("/documents", json=_fiche(), headers=auth).json()["doc_id"]
    client.patch(f"/documents/{doc_id}", json={"territory": "Pays de Die", "themes": ["mobilité"]}, headers=auth)
    client.put(f"/documents/{doc_id}", json=_fiche(), headers=auth)
    client.delete(f"/documents/{doc_id}", headers=auth)
    response = client.get(f"/documents/{doc_id}/history", headers=auth)
    assert response.status_code == 200
    entries = response.json()["entries"]
    assert [e["action"] for e in entries] == ["suppression", "remplacement", "modification", "ajout"]
    assert all(e["actor"] == "coordinatrice" and e["at"] for e in entries)
    edit = entries[2]["details"]
    assert edit["fields"] == ["themes", "territory"]
    assert edit["changes"]["territory"] == {"from": "Communauté de communes du Val Fleuri (Drôme)", "to": "Pays de Die"}
    assert edit["changes"]["themes"] == {"from": ["mobilité", "réemploi"], "to": ["mobilité"]}


def test_history_of_an_ingested_document_is_empty_and_unknown_ids_are_404(api):
    client, auth, _ = api
    assert client.get("/documents/exp-epicerie-village/history", headers=auth).json() == {
        "doc_id": "exp-epicerie-village",
        "entries": [],
    }
    assert client.get("/documents/jamais-vu/history", headers=auth).status_code == 404
    assert client.get("/documents/exp-epicerie-village/history").status_code == 401


def test_history_reads_a_long_log(api):
    client, auth, settings = api
    lines = [
        {
            "at": f"2024-01-01T00:{n // 60:02d}:{n % 60:02d}+00:00",
            "actor": "a",
            "action": "ajout",
            "doc_id": f"doc-{n % 7}",
            "n": n,
        }
        for n in range(700)
    ]
    with open(settings.data_dir / "audit.jsonl", "a", encoding="utf-8") as log:
        log.writelines(json.dumps(line) + "\n" for line in lines)
    entries = client.get("/documents/doc-3/history", headers=auth).json()["entries"]
    assert [e["details"]["n"] for e in entries] == [n for n in reversed(range(700)) if n % 7 == 3]


# -- strict upload fields -----------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [("post", "/documents"), ("put", "/documents/exp-epicerie-village")])
def test_unknown_type_or_sector_of_an_upload_is_refused_with_the_accepted_values(api, method, path):
    client, auth, _ = api
    fields = {**FIELDS, "doc_type": "roman", "sector": "agriculture"}
    response = getattr(client, method)(
        path, files={"file": ("a.md", b"# Un titre\n\nUn texte.\n")}, data=fields, headers=auth
    )
    assert response.status_code == 422
    problems = {p["field"]: p["message"] for p in response.json()["problems"]}
    assert set(problems) == {"doc_type", "sector"}
    assert "fiche méthode" in problems["doc_type"] and "action sociale" in problems["sector"]


def test_an_upload_without_the_required_fields_names_each_one(api):
    client, auth, _ = api
    response = client.post(
        "/documents", files={"file": ("a.md", b"# Un titre\n\nUn texte.\n")}, data={"sector": "social"}, headers=auth
    )
    assert response.status_code == 422
    assert problem_fields(response) == {"title", "doc_type", "themes", "territory"}
    assert client.get("/documents", params={"limit": 100}).json()["total"] == 4


def test_a_markdown_upload_whose_front_matter_has_the_fields_is_accepted(api):
    client, auth, _ = api
    text = (
        "---\ntitre: Un guide du diagnostic en marchant\ntype: guide\nsecteur: transversal\n"
        "thèmes: diagnostic, participation\nterritoire: Pays de Die\n---\n# Guide\n\nMarcher ensemble dans le bourg.\n"
    )
    response = client.post("/documents", files={"file": ("guide.md", text.encode())}, headers=auth)
    assert response.status_code == 201, response.json()
    assert (response.json()["doc_type"], response.json()["sector"]) == ("fiche méthode", "transversal")


def test_vocabulary_names_the_required_fields(api):
    client, _, _ = api
    assert client.get("/vocabulary").json()["required_fields"] == ["title", "doc_type", "sector", "themes", "territory"]


def _fiche() -> dict:
    from tests.api.test_coordination import FICHE

    return dict(FICHE)
