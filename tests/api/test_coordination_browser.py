"""The coordinator page in headless Chromium: fill in the template, see errors, publish."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.coordination_page import fill_repair_cafe
from tests.servers import CHROMIUM, CHROMIUM_ARGS, serve_in_thread

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"


@pytest.fixture
def page_and_server(tmp_path, e5_embedder):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium")
    from playwright.sync_api import sync_playwright

    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    app = app_over(settings, e5_embedder)
    with serve_in_thread(app) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{url}/coordination")
        yield page, url, key, app.state.holder.kb
        browser.close()


def test_errors_are_shown_field_by_field_then_the_fiche_is_published(page_and_server):
    from playwright.sync_api import expect

    page, url, key, kb = page_and_server
    page.fill("#api-key", key)
    page.dispatch_event("#api-key", "change")
    page.fill("#f-title", "Une")
    page.fill("#f-replaces", "Ancienne Fiche")
    page.click("#check")
    page.wait_for_selector(".field-error")
    assert page.get_attribute("#f-title", "aria-invalid") == "true"
    assert "entre 5 et 200 caractères" in page.inner_text("#f-title-error")
    assert "le secteur est obligatoire" in page.inner_text("#f-sector-error")
    assert "minuscules, chiffres et tirets" in page.inner_text("#f-replaces-error")
    page.fill("#f-replaces", "exp-repair-cafe-2022, exp-repair-cafe-2020")  # need not exist yet

    fill_repair_cafe(page)
    page.click("#check")
    page.wait_for_selector("#status.ok")
    assert "La fiche est valide" in page.inner_text("#status")
    assert kb.index.counts()[0] == 0
    page.click("#publish")
    # (a string predicate would be eval'd in the page, which its Content-Security-Policy forbids)
    expect(page.locator("#status")).to_contain_text("Fiche publiée", timeout=60_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "coordination.png"), full_page=True)
    assert kb.index.counts()[0] == 1
    stored = kb.index.documents()[0].metadata
    assert stored.replaces == ("exp-repair-cafe-2022", "exp-repair-cafe-2020")


def test_wrong_key_is_reported_in_french(page_and_server):
    page, *_ = page_and_server
    page.fill("#api-key", "psl_mauvaise")
    page.dispatch_event("#api-key", "change")
    page.click("#tab-file")
    page.set_input_files("#u-file", str(Path(__file__).parents[1] / "fixtures" / "docs" / "fiche.md"))
    page.click("#publish")
    page.wait_for_selector("#status.error")
    assert "Clé d'accès invalide ou révoquée" in page.inner_text("#status")
