"""Editing a document's text through HTTP (issue 31): by template section or as one Markdown body,
a sanitised preview, the save (published by coordination, proposed by a contributor), version
conflicts, a proposal's page, the history in French and the catalogue's real last actor. Real
app and index (Chroma on a temp dir), the toy embedder."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.schemas import History, ProposalPage
from kb.core.settings import Settings
from kb.records.keys import CONTRIBUTOR
from kb.storage.embedded.keys import KeyStore
from tests.api.test_coordination import FICHE
from tests.apps import app_over
from tests.fakes import ToyEmbedder

DOC_ID = "atelier-velo-bourg"
NEW_CONTEXT = "Les jeunes du bourg, sans voiture, manquaient le car de 7 h 10 pour le lycée agricole zanzibarique."


@pytest.fixture
def api(tmp_path, toy_mini_index):
    settings = Settings(data_dir=tmp_path / "data")
    keys = KeyStore(settings.data_dir / "keys.json")
    auth = {
        name: {"Authorization": f"Bearer {keys.create(name, role)}"}
        for name, role in (("coordinatrice", "coordination"), ("Aline", CONTRIBUTOR))
    }
    with TestClient(app_over(settings, ToyEmbedder(), index=toy_mini_index)) as client:
        response = client.post("/documents", json={**FICHE, "id": DOC_ID}, headers=auth["coordinatrice"])
        assert response.status_code == 201, response.json()
        yield client, auth, settings


def sections(text: dict) -> dict[str, str]:
    return {s["key"]: s["text"] for s in text["sections"] if s["text"]}


def save(client, auth, text: dict, **changes):
    body = {"version": text["version"], "summary": text["summary"], "sections": sections(text)} | changes
    return client.put(f"/documents/{DOC_ID}/text", json=body, headers=auth)


def test_a_template_fiche_is_read_by_section(api):
    client, auth, _ = api
    response = client.get(f"/documents/{DOC_ID}/text", headers=auth["coordinatrice"])
    assert response.status_code == 200, response.json()
    text = response.json()
    assert text["form"] == "modèle" and text["body"] is None and text["version"]
    assert text["summary"] == FICHE["summary"]
    assert sections(text) == {
        "contexte": FICHE["sections"]["contexte"],
        "etapes": FICHE["sections"]["étapes"],
        "resultats": FICHE["sections"]["résultats"],
    }
    assert [s["label"] for s in text["sections"]][:3] == ["Contexte", "Objectifs", "Public"]


def test_a_coordinator_saves_a_section_published_and_searchable_at_once(api):
    client, auth, settings = api
    text = client.get(f"/documents/{DOC_ID}/text", headers=auth["coordinatrice"]).json()
    response = save(client, auth["coordinatrice"], text, sections=sections(text) | {"contexte": NEW_CONTEXT})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "replaced" and response.json()["fields"] == ["contexte"]
    assert "zanzibarique" in client.get(f"/documents/{DOC_ID}").json()["text"]
    found = client.get("/search", params={"q": "zanzibarique"}).json()["results"]
    assert found and found[0]["doc_id"] == DOC_ID
    stored = (settings.data_dir / "documents" / f"{DOC_ID}.md").read_text(encoding="utf-8")
    # the metadata are untouched, the sections in the template's order
    assert "porteur: Association Biclou Rural" in stored and f"## Contexte\n\n{NEW_CONTEXT}" in stored
    assert stored.index("## En bref") < stored.index("## Contexte") < stored.index("## Étapes")
    again = client.get(f"/documents/{DOC_ID}/text", headers=auth["coordinatrice"]).json()
    assert again["version"] != text["version"] and sections(again)["contexte"] == NEW_CONTEXT


def test_a_stale_version_is_a_french_409_and_changes_nothing(api):
    client, auth, _ = api
    text = client.get(f"/documents/{DOC_ID}/text", headers=auth["coordinatrice"]).json()
    first = save(client, auth["coordinatrice"], text, summary=FICHE["summary"] + " Ouvert aussi le samedi.")
    assert first.status_code == 200, first.json()
    late = save(client, auth["coordinatrice"], text, sections=sections(text) | {"contexte": NEW_CONTEXT})
    assert late.status_code == 409
    assert late.json()["conflict"] == "version" and "modifié par quelqu'un d'autre" in late.json()["detail"]
    current = client.get(f"/documents/{DOC_ID}/text", headers=auth["coordinatrice"]).json()
    assert current["summary"].endswith("Ouvert aussi le samedi.") and "zanzibarique" not in str(current)
    # a contributor's proposal is checked against the version too
    assert save(client, auth["Aline"], text, summary=FICHE["summary"] + " Autre.").status_code == 409


def test_the_preview_is_the_page_sanitised(api):
    client, auth, _ = api
    hostile = "Voir **ceci** <script>alert(1)</script> [lien](javascript:alert(1)) <img src=x onerror=alert(1)>"
    text = client.get(f"/documents/{DOC_ID}/text", headers=auth["coordinatrice"]).json()
    body = {"summary": text["summary"], "sections": sections(text) | {"contexte": hostile}}
    response = client.post(f"/documents/{DOC_ID}/text/preview", json=body, headers=auth["coordinatrice"])
    assert response.status_code == 200, response.json()
    html = response.json()["html"]
    assert "<strong>ceci</strong>" in html and "<h3>Contexte</h3>" in html
    # the raw HTML is shown as text, the javascript: link is not a link
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html and "Association Biclou Rural" in html and "obilité" in html
    # nothing was stored
    assert "ceci" not in client.get(f"/documents/{DOC_ID}").json()["text"]


def test_invalid_text_is_a_french_422_field_by_field(api):
    client, auth, _ = api
    text = client.get(f"/documents/{DOC_ID}/text", headers=auth["coordinatrice"]).json()
    response = save(
        client, auth["coordinatrice"], text, summary="trop court", sections={"contexte": "a\n## Nouveau\nb", "x": "y"}
    )
    assert response.status_code == 422
    fields = {p["field"]: p["message"] for p in response.json()["problems"]}
    assert set(fields) == {"summary", "sections.contexte", "sections.x"}
    assert "###" in fields["sections.contexte"]
    unchanged = save(client, auth["coordinatrice"], text)
    assert unchanged.status_code == 422 and "n'a pas changé" in unchanged.json()["problems"][0]["message"]


def test_another_markdown_document_is_edited_as_one_body(api):
    client, auth, settings = api
    text = client.get("/documents/annuaire-roule-ensemble/text", headers=auth["coordinatrice"]).json()
    assert text["form"] == "markdown" and text["sections"] == [] and "## Services proposés" in text["body"]
    body = text["body"] + "\n\n## Horaires\n\nDu lundi au vendredi."
    response = client.put(
        "/documents/annuaire-roule-ensemble/text",
        json={"version": text["version"], "body": body},
        headers=auth["coordinatrice"],
    )
    assert response.status_code == 200, response.json()
    stored = (settings.data_dir / "documents" / "annuaire-roule-ensemble.md").read_text(encoding="utf-8")
    assert stored.startswith("---\n") and "doc_type: annuaire" in stored and stored.endswith("Du lundi au vendredi.\n")


def test_a_pdf_has_no_text_to_edit_here(api):
    client, auth, _ = api
    from tests.api.test_catalogue import FIELDS, PDF

    client.post("/documents", files={"file": ("cr.pdf", PDF.read_bytes())}, data=FIELDS, headers=auth["coordinatrice"])
    doc_id = "un-compte-rendu-de-comite-de-pilotage"
    read = client.get(f"/documents/{doc_id}/text", headers=auth["coordinatrice"])
    # opening it is no error: the page says why its text is not edited here
    assert read.status_code == 200
    assert read.json()["form"] == "fichier" and "remplacez le fichier" in read.json()["reason"]
    saved = client.put(
        f"/documents/{doc_id}/text",
        json={"version": read.json()["version"], "body": "Un autre texte du compte rendu."},
        headers=auth["coordinatrice"],
    )
    assert saved.status_code == 422 and "remplacez le fichier" in saved.json()["problems"][0]["message"]


def test_a_contributor_proposes_and_review_shows_the_page(api):
    client, auth, _ = api
    text = client.get(f"/documents/{DOC_ID}/text", headers=auth["Aline"]).json()
    response = save(
        client, auth["Aline"], text, sections=sections(text) | {"contexte": NEW_CONTEXT + " **Important.**"}
    )
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "proposé"
    assert "zanzibarique" not in client.get(f"/documents/{DOC_ID}").json()["text"]  # not public yet
    page = client.get(f"/documents/{DOC_ID}/proposal/page", headers=auth["coordinatrice"])
    assert page.status_code == 200, page.json()
    html = page.json()["html"]
    assert "<strong>Important.</strong>" in html and "## " not in html and "---" not in html
    assert client.get(f"/documents/{DOC_ID}/proposal/page").status_code == 401
    published = client.post(f"/documents/{DOC_ID}/publish", headers=auth["coordinatrice"])
    assert published.status_code == 200, published.json()
    assert "zanzibarique" in client.get(f"/documents/{DOC_ID}").json()["text"]


def test_history_names_fields_in_french(api):
    client, auth, _ = api
    edit = {"title": "Un atelier vélo solidaire au bourg", "themes": ["mobilité"], "sector": "transversal"}
    assert client.patch(f"/documents/{DOC_ID}", json=edit, headers=auth["coordinatrice"]).status_code == 200
    text = client.get(f"/documents/{DOC_ID}/text", headers=auth["coordinatrice"]).json()
    assert (
        save(client, auth["coordinatrice"], text, sections=sections(text) | {"contexte": NEW_CONTEXT}).status_code
        == 200
    )
    history = History.model_validate(client.get(f"/documents/{DOC_ID}/history", headers=auth["coordinatrice"]).json())
    text_edit, metadata_edit = history.entries[0].summary, history.entries[1].summary
    assert text_edit == "modification du texte : section « Contexte »"
    assert metadata_edit.startswith("modification : titre (« Un atelier vélo solidaire dans un bourg rural » → ")
    assert "secteur (« développement local » → « transversal »)" in metadata_edit and "thèmes" in metadata_edit
    for raw in ("doc_type", "themes", "sector", "title"):
        assert raw not in text_edit + metadata_edit


def test_the_last_change_names_who_really_acted(api):
    client, auth, _ = api
    text = client.get(f"/documents/{DOC_ID}/text", headers=auth["Aline"]).json()
    assert save(client, auth["Aline"], text, summary=FICHE["summary"] + " Ouvert le samedi.").status_code == 202
    asked = client.post(
        f"/documents/{DOC_ID}/request-changes",
        json={"comment": "Précisez les horaires."},
        headers=auth["coordinatrice"],
    )
    assert asked.status_code == 200, asked.json()
    # the contributor's own list: the request is the coordinator's act, not hers
    own = ProposalPage.model_validate(client.get("/documents?status=à revoir", headers=auth["Aline"]).json())
    change = own.documents[0].last_change
    assert change is not None and (change.actor, change.action) == ("coordinatrice", "demande de modifications")
    row = next(
        r
        for r in client.get("/coordination/catalogue", headers=auth["coordinatrice"]).json()["documents"]
        if r["doc_id"] == DOC_ID
    )
    assert (row["last_change"]["actor"], row["last_change"]["action"]) == ("coordinatrice", "demande de modifications")
