"""What /openapi.json says is what the API returns: every JSON route has a response schema and
documents its errors, and real responses validate against the declared models."""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.schemas import (
    AskResponse,
    Deleted,
    DocumentDetail,
    DocumentPage,
    ErrorBody,
    Health,
    History,
    MetadataEdited,
    SearchResponse,
    Stats,
    Vocabulary,
    WriteResult,
)
from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over


@pytest.fixture(scope="module")
def api(tmp_path_factory, e5_embedder, mini_index):
    settings = Settings(data_dir=tmp_path_factory.mktemp("openapi") / "data", answer_min_score=0.8)
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    with TestClient(app_over(settings, e5_embedder, index=mini_index)) as client:
        yield client, {"Authorization": f"Bearer {key}"}


def _resolve(spec: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_every_json_route_declares_its_response_and_errors(api):
    client, _ = api
    spec = client.get("/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if not any("application/json" in r.get("content", {}) for r in responses.values()):
                continue  # the widget's script, the demo page
            success = [code for code in responses if code.startswith("2")]
            assert success, (path, method)
            for code in success:
                if (
                    "application/json" not in responses[code]["content"]
                ):  # /ask/stream's events, a file, /flux.atom, a CSV export
                    content = list(responses[code]["content"])
                    files = path == "/documents/{doc_id}/file" and "application/octet-stream" in content
                    assert files or content in (["text/event-stream"], ["application/atom+xml"], ["text/csv"]), (
                        path,
                        method,
                        code,
                    )
                    continue
                schema = _resolve(spec, responses[code]["content"]["application/json"]["schema"])
                assert schema.get("properties"), (path, method, code)
            errors = [code for code in responses if code.startswith(("4", "5"))]
            assert errors, (path, method)
            for code in errors:
                schema = responses[code]["content"]["application/json"]["schema"]
                expected = "Health" if path == "/health" else "ErrorBody"  # a degraded health is a 503
                assert schema == {"$ref": f"#/components/schemas/{expected}"}, (path, method, code)
            checked += 1
    assert checked >= 10


def test_every_operation_has_exactly_one_described_tag(tmp_path):
    """/docs groups the operations by tag: each operation in one section, each section
    described in French, none empty."""
    spec = create_app(Settings(data_dir=tmp_path / "data")).openapi()
    declared = [tag["name"] for tag in spec["tags"]]
    assert declared == ["recherche", "documents", "coordination", "widget", "service"]
    assert all(tag["description"].strip() for tag in spec["tags"])
    used = Counter()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            tags = operation.get("tags", [])
            assert len(tags) == 1 and tags[0] in declared, (method, path, tags)
            used[tags[0]] += 1
    assert set(used) == set(declared), "a declared section without any operation"
    assert sum(used.values()) >= 29
    assert spec["paths"]["/health"]["get"]["tags"] == ["service"]
    assert spec["paths"]["/ask/stream"]["post"]["tags"] == ["recherche"]
    assert spec["paths"]["/flux.atom"]["get"]["tags"] == ["documents"]
    assert spec["paths"]["/documents"]["post"]["tags"] == ["coordination"]
    assert spec["paths"]["/documents/{doc_id}"]["get"]["tags"] == ["documents"]
    assert spec["paths"]["/documents/{doc_id}"]["patch"]["tags"] == ["coordination"]


def test_reads_validate_against_their_models(api):
    client, _ = api
    Health.model_validate(client.get("/health").json())
    Stats.model_validate(client.get("/stats").json())
    vocabulary = Vocabulary.model_validate(client.get("/vocabulary").json())
    assert "fiche expérience" in vocabulary.doc_types and "mobilité" in vocabulary.themes
    search = SearchResponse.model_validate(client.get("/search", params={"q": "chauffeurs bénévoles"}).json())
    assert search.results and search.results[0].passages
    found = AskResponse.model_validate(
        client.post("/ask", json={"question": "transport solidaire avec des bénévoles"}).json()
    )
    assert found.found and found.citations
    missing = AskResponse.model_validate(client.post("/ask", json={"question": "élevage de chèvres angora"}).json())
    assert missing.found or missing.nearest is not None
    page = DocumentPage.model_validate(client.get("/documents", params={"limit": 2}).json())
    DocumentDetail.model_validate(client.get(f"/documents/{page.documents[0].doc_id}").json())


@pytest.mark.parametrize(
    "method, path, kwargs, status",
    [
        ("get", "/documents/inconnu", {}, 404),
        ("get", "/search", {"params": {"q": "x", "type": "roman"}}, 422),
        ("get", "/search", {"params": {"k": "beaucoup"}}, 422),
        ("post", "/ask", {"json": {"question": "   "}}, 422),
        ("post", "/ask", {"content": b"{", "headers": {"content-type": "application/json"}}, 422),
        ("post", "/documents", {"json": {"title": "x"}}, 401),
        ("get", "/nulle-part", {}, 404),
        ("delete", "/widget.js", {}, 405),
    ],
)
def test_errors_have_the_declared_body(api, method, path, kwargs, status):
    client, _ = api
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    body = ErrorBody.model_validate(response.json())
    assert body.detail and all(problem.message for problem in body.problems)


def test_writes_validate_against_their_models(api):
    client, auth = api
    fiche = {
        "title": "Une navette solidaire pour les rendez-vous médicaux",
        "doc_type": "fiche expérience",
        "sector": "action sociale",
        "themes": ["mobilité", "santé"],
        "territory": "Cantal",
        "porteur": "Association Roule Ensemble",
        "summary": "Des bénévoles conduisent les habitants sans voiture vers les consultations médicales.",
        "sections": {"résultats": "En 2024, 300 trajets ont été faits par 12 chauffeurs bénévoles."},
    }
    checked = client.post("/documents", params={"dry_run": "true"}, json=fiche, headers=auth)
    assert checked.status_code == 200 and WriteResult.model_validate(checked.json()).stored is False
    created = client.post("/documents", json=fiche, headers=auth)
    assert created.status_code == 201
    doc_id = WriteResult.model_validate(created.json()).doc_id
    invalid = client.post("/documents", json={**fiche, "sector": "agriculture"}, headers=auth)
    assert invalid.status_code == 422
    assert [p.field for p in ErrorBody.model_validate(invalid.json()).problems] == ["sector"]
    assert client.post("/documents", json=fiche, headers=auth).status_code == 409
    edited = client.patch(f"/documents/{doc_id}", json={"territory": "Aurillac"}, headers=auth)
    assert MetadataEdited.model_validate(edited.json()).fields == ["territory"]
    history = History.model_validate(client.get(f"/documents/{doc_id}/history", headers=auth).json())
    assert [entry.action for entry in history.entries] == ["modification", "ajout"]
    Deleted.model_validate(client.delete(f"/documents/{doc_id}", headers=auth).json())


def test_a_vector_store_that_is_down_is_a_french_503(api, monkeypatch):
    client, _ = api

    def refuse(*args, **kwargs):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(client.app.state.holder.kb.index.vectors._collection, "query", refuse)
    response = client.get("/search", params={"q": "épicerie itinérante dans les hameaux"})
    assert response.status_code == 503
    assert ErrorBody.model_validate(response.json()).detail.startswith("Service momentanément indisponible")


def test_every_operation_has_a_french_summary(tmp_path):
    """/docs lists each operation by its summary: written in French, not FastAPI's Title Case of
    the function's name ("Add Document"), and no two alike."""
    spec = create_app(Settings(data_dir=tmp_path / "data")).openapi()
    summaries = [
        operation.get("summary", "") for operations in spec["paths"].values() for operation in operations.values()
    ]
    for summary in summaries:
        words = summary.split()
        assert len(words) >= 2 and not all(word[:1].isupper() for word in words), summary
    assert len(set(summaries)) == len(summaries)
    assert spec["paths"]["/documents"]["post"]["summary"] == "Ajouter ou proposer un document"


def test_the_bearer_key_is_declared_where_it_is_needed(tmp_path):
    """The "Authorize" button of /docs: one bearer scheme; the coordination's operations require
    it, the public reads do not, /stats and /documents take it optionally; with
    KB_PUBLIC_READ=false every read requires it (/health never)."""
    spec = create_app(Settings(data_dir=tmp_path / "public")).openapi()
    schemes = spec["components"]["securitySchemes"]
    assert list(schemes) == ["cleAcces"]
    assert schemes["cleAcces"]["type"] == "http" and schemes["cleAcces"]["scheme"] == "bearer"
    paths = spec["paths"]
    required, optional = [{"cleAcces": []}], [{}, {"cleAcces": []}]
    for path, method in [("/documents", "post"), ("/documents/{doc_id}", "patch"), ("/coordination/catalogue", "get")]:
        assert paths[path][method]["security"] == required, (method, path)
    assert paths["/stats"]["get"]["security"] == optional and paths["/documents"]["get"]["security"] == optional
    for path, method in [("/search", "get"), ("/ask", "post"), ("/health", "get"), ("/widget.js", "get")]:
        assert "security" not in paths[path][method], (method, path)
    closed = create_app(Settings(data_dir=tmp_path / "closed", public_read=False)).openapi()["paths"]
    assert closed["/search"]["get"]["security"] == required and closed["/stats"]["get"]["security"] == required
    assert "security" not in closed["/health"]["get"]
    for path, operations in closed.items():
        for method, operation in operations.items():
            if path not in ("/health", "/widget.js", "/demo"):
                assert operation.get("security") == required, (method, path)


@pytest.mark.parametrize(
    "header, message",
    [
        (None, "Clé d'accès manquante"),
        ("Basic dXNlcjpwYXNz", "Clé d'accès manquante"),
        ("Bearer", "Clé d'accès manquante"),
        ("Bearer    ", "Clé d'accès manquante"),
        ("Bearer pas-une-cle", "Clé d'accès invalide ou révoquée."),
    ],
)
def test_a_missing_or_wrong_key_is_the_same_french_401(api, header, message):
    client, _ = api
    headers = {} if header is None else {"Authorization": header}
    response = client.get("/coordination/catalogue", headers=headers)
    assert response.status_code == 401
    assert ErrorBody.model_validate(response.json()).detail.startswith(message)


def test_the_key_is_read_whatever_the_case_of_its_scheme(api):
    client, auth = api
    key = auth["Authorization"].split(" ", 1)[1]
    assert client.get("/coordination/catalogue", headers={"Authorization": f"bearer  {key} "}).status_code == 200
    assert client.get("/stats", headers=auth).json()["index_path"]  # shown to a coordination key only
    assert client.get("/stats").json().get("index_path") is None
