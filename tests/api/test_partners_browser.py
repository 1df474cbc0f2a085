"""The partner-sites section of the coordination page and the guide in headless Chromium."""

from __future__ import annotations

import os

import pytest

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.servers import CHROMIUM, CHROMIUM_ARGS, serve_in_thread

pytestmark = pytest.mark.slow
BASE = "https://base.exemple.org"
HOSTILE_NAME = "<img src=x onerror=alert(1)>Mairie"


@pytest.fixture
def browser_page(tmp_path, toy_embedder):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium")
    from playwright.sync_api import sync_playwright

    settings = Settings(data_dir=tmp_path / "data", allowed_origins=[BASE])
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    app = app_over(settings, toy_embedder)
    with serve_in_thread(app) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        yield page, url, key, app
        browser.close()


def serious_violations(page, context=None) -> list:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    return [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_the_section_lists_adds_and_removes_partner_sites(browser_page):
    from playwright.sync_api import expect

    page, url, key, app = browser_page
    page.goto(f"{url}/coordination")
    page.fill("#api-key", key)
    page.dispatch_event("#api-key", "change")
    expect(page.locator("#partners-base li")).to_have_text([BASE])
    expect(page.locator("#partners-empty")).to_be_visible()

    page.fill("#partner-origin", "https://*.exemple.org")
    page.fill("#partner-name", "Joker")
    page.click("#partner-add")
    expect(page.locator("#partners-status")).to_contain_text("pas de joker")
    assert page.get_attribute("#partner-origin", "aria-invalid") == "true"

    page.fill("#partner-origin", "https://mairie.exemple.fr")
    page.fill("#partner-name", HOSTILE_NAME)
    page.click("#partner-add")
    expect(page.locator("#partners-status")).to_contain_text("Site ajouté : https://mairie.exemple.fr")
    rows = page.locator("#partners-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").nth(1)).to_have_text(HOSTILE_NAME)  # text, not markup
    assert page.locator("#partners-table img").count() == 0
    assert app.state.partner_sites.allows("https://mairie.exemple.fr")
    assert serious_violations(page, "#sites-partenaires") == []

    page.once("dialog", lambda dialog: dialog.accept())
    rows.first.get_by_role("button", name="Retirer le site https://mairie.exemple.fr").click()
    expect(page.locator("#partners-status")).to_contain_text("Site retiré")
    expect(rows).to_have_count(0)
    assert not app.state.partner_sites.allows("https://mairie.exemple.fr")


def test_the_guide_is_linked_and_accessible(browser_page):
    page, url, *_ = browser_page
    page.goto(f"{url}/coordination")
    page.click("text=Guide de la coordination")
    page.wait_for_url(f"{url}/coordination/guide")
    assert page.locator("h1").inner_text() == "Guide de la coordination"
    assert serious_violations(page) == []
