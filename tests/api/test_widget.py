"""The widget's routes and the CORS policy (no index needed: the lifespan is not run)."""

from __future__ import annotations

import gzip

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.core.settings import Settings

PARTNER = "https://www.cc-haut-vernay.example"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("widget") / "data", allowed_origins=[PARTNER])
    return TestClient(create_app(settings))


def test_widget_js_is_javascript_cached_and_small(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/javascript; charset=utf-8"
    assert "max-age=" in response.headers["cache-control"]
    assert len(gzip.compress(response.content, compresslevel=9)) < 20 * 1024
    again = client.get("/widget.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_widget_never_parses_api_text_as_html(client):
    source = client.get("/widget.js").text
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, sink
    assert "attachShadow" in source and "window.Passerelles =" in source


def test_demo_page_embeds_the_widget_from_the_api_origin(client):
    response = client.get("/demo")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="fr">' in page and "Haut-Vernay" in page
    assert '<script src="http://testserver/widget.js" data-api="http://testserver"' in page
    assert "__PASSERELLES_API__" not in page


def test_widget_routes_are_documented_in_french(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "intégrer" in paths["/widget.js"]["get"]["description"]
    assert "démonstration" in paths["/demo"]["get"]["description"]


def _preflight(client, origin):
    return client.options(
        "/ask",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def test_cors_preflight_is_answered_for_an_allowed_origin(client):
    response = _preflight(client, PARTNER)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == PARTNER
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


def test_cors_refuses_other_origins(client):
    response = _preflight(client, "https://intrus.example")
    assert response.status_code >= 400
    assert "access-control-allow-origin" not in response.headers
    simple = client.get("/widget.js", headers={"Origin": "https://intrus.example"})
    assert "access-control-allow-origin" not in simple.headers
    allowed = client.get("/widget.js", headers={"Origin": PARTNER})
    assert allowed.headers["access-control-allow-origin"] == PARTNER


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("https://a.example, https://b.example/", ["https://a.example", "https://b.example"]),
        ('["https://a.example"]', ["https://a.example"]),
    ],
)
def test_allowed_origins_from_the_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("KB_ALLOWED_ORIGINS", raw)
    assert Settings().allowed_origins == expected


def test_allowed_origins_default_to_the_local_server(monkeypatch):
    monkeypatch.delenv("KB_ALLOWED_ORIGINS", raising=False)
    assert Settings().allowed_origins == ["http://127.0.0.1:8000", "http://localhost:8000"]
