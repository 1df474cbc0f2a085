"""The rapprochements section of the coordination page in headless Chromium: listed with their
reason, links and contacts, marked from the keyboard, axe-core clean, usable at 360 px."""

from __future__ import annotations

import os

import pytest

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.browser import chromium_serving, serious_violations
from tests.rapprochement_corpus import write_corpus

pytestmark = pytest.mark.slow
# a server round trip on 2 loaded cores (a CI running beside) can pass the 5 s default
TIMEOUT = 30_000
SCREENSHOTS = os.environ.get("KB_SCREENSHOTS")  # a folder to keep the screenshots in, to look at them


@pytest.fixture
def browser_page(tmp_path, toy_embedder):
    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    app = app_over(settings, toy_embedder, ingest=[write_corpus(tmp_path / "corpus")])
    with chromium_serving(app) as (browser, url):
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        yield page, url, key


def test_the_pairs_are_listed_and_marked_from_the_keyboard(browser_page):
    from playwright.sync_api import expect

    page, url, key = browser_page
    page.goto(f"{url}/coordination#rapprochements")
    page.fill("#api-key", key)
    page.dispatch_event("#api-key", "change")
    pairs = page.locator("#rapprochements-list > li")
    expect(pairs.first).to_be_visible(timeout=TIMEOUT)
    first = pairs.first
    expect(first.locator("h3")).to_have_text("Épicerie solidaire Le Panier du Plateau et Projet alimentaire du Lizon")
    expect(first.locator(".reason")).to_contain_text("Même territoire (CC des Plateaux du Lizon (Haute-Loire))")
    expect(first.locator("a").first).to_have_attribute("href", "fiches/epicerie-solidaire")
    expect(first).to_contain_text("Contact : Projet alimentaire du Lizon — Coordinatrice du projet alimentaire")
    assert serious_violations(page, "#rapprochements") == []
    if SCREENSHOTS:
        page.locator("#rapprochements").screenshot(path=os.path.join(SCREENSHOTS, "rapprochements-1200.png"))

    button = first.get_by_role("button", name="Mis en relation")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#rapprochements-message")).to_contain_text(
        "Mis en relation : Épicerie solidaire", timeout=TIMEOUT
    )
    expect(page.locator("#rapprochements-list h3", has_text="Projet alimentaire du Lizon et")).to_have_count(0)
    expect(page.locator("#rapprochements-titre")).to_be_focused()

    page.select_option("#r-status", "mis en relation")
    page.click("#r-show")
    expect(pairs).to_have_count(1, timeout=TIMEOUT)
    expect(pairs.first.get_by_role("button", name="Mis en relation")).to_have_attribute("aria-pressed", "true")
    expect(pairs.first).to_contain_text("par coordinatrice")
    assert serious_violations(page, "#rapprochements") == []


def test_the_section_works_at_360_px(browser_page):
    from playwright.sync_api import expect

    page, url, key = browser_page
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{url}/coordination#rapprochements")
    page.fill("#api-key", key)
    page.dispatch_event("#api-key", "change")
    expect(page.locator("#rapprochements-list > li").first).to_be_visible(timeout=TIMEOUT)
    overflow = page.evaluate("document.querySelector('#rapprochements').scrollWidth > window.innerWidth")
    assert not overflow
    if SCREENSHOTS:
        page.locator("#rapprochements").screenshot(path=os.path.join(SCREENSHOTS, "rapprochements-360.png"))
    page.fill("#r-territory", "Atlantide")
    page.click("#r-show")
    expect(page.locator("#rapprochements-message")).to_contain_text("Atlantide", timeout=TIMEOUT)
