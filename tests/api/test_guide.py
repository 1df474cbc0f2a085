"""The coordinator's guide and the partner-sites section of the coordination page (HTTP)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from tests.apps import app_over


@pytest.fixture
def client(tmp_path, toy_embedder):
    with TestClient(app_over(Settings(data_dir=tmp_path / "data"), toy_embedder)) as client:
        yield client


def test_the_guide_is_a_french_page_without_script_linked_from_the_coordination_page(client):
    guide = client.get("/coordination/guide")
    assert guide.status_code == 200 and guide.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in guide.text and "<script" not in guide.text
    assert "script-src 'self'" in guide.headers["content-security-policy"]
    assert guide.headers["x-frame-options"] == "DENY"
    for subject in (
        "proposé",
        "à revoir",
        "publié",
        "rejeté",
        "kb keys create NOM --role contributeur",
        "Un doublon fort bloque la publication",
        "Ce que cherchent les praticiens",
        "Sites partenaires",
        "kb export",
        "kb import",
    ):
        assert subject in guide.text, subject
    assert 'href="coordination/guide"' in client.get("/coordination").text


def test_the_partner_section_and_its_script_are_served(client):
    page = client.get("/coordination").text
    assert (
        page.count('<section id="sites-partenaires"') == 1
        and '<script src="coordination/assets/partners.js" defer>' in page
    )
    script = client.get("/coordination/assets/partners.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
    assert "innerHTML" not in script.text
    assert not re.search(r"<script>(?!</script>)", page)  # no inline script
