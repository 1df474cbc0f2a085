"""The annuaire's map and the search page's département facets in Debian's Chromium: axe-core
finds no serious or critical violation at 360 px, nothing overflows, the keyboard alone reaches
the map's links and follows one; screenshots go to test-artifacts/ to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.core.settings import Settings
from tests.apps import app_over
from tests.browser import chromium_serving, serious_violations
from tests.fakes import ToyEmbedder

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "test-artifacts"
MINI = ROOT / "tests" / "fixtures" / "mini-corpus"
DIRECTORY = ROOT / "corpus" / "annuaire"
PAGES = {
    "annuaire": "/annuaire",
    "annuaire-departement": "/annuaire?departement=43",
    "recherche-departement": "/recherche?type=annuaire&departement=Haute-Loire",
}


@pytest.fixture(scope="module")
def browser_and_site(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("map-browser") / "data")
    app = app_over(settings, ToyEmbedder(), ingest=[MINI, DIRECTORY])
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_serving(app) as (browser, base):
        yield browser, base


@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_serious_violation_and_nothing_overflows_at_360_px(browser_and_site, name):
    browser, base = browser_and_site
    page = browser.new_page(viewport={"width": 360, "height": 800})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(base + PAGES[name])
    serious = serious_violations(page)
    page.screenshot(path=str(ARTIFACTS / f"carte-{name}-360.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert errors == []  # a CSP refusal (inline style or script) is logged as an error
    page.close()
    assert serious == []


def test_the_map_is_scaled_to_the_screen_and_its_departements_carry_counts(browser_and_site):
    browser, base = browser_and_site
    page = browser.new_page(viewport={"width": 360, "height": 800})
    page.goto(base + "/annuaire")
    width = page.locator(".carte-svg").evaluate("e => e.getBoundingClientRect().width")
    assert 300 <= width <= 360
    label = page.locator('.carte-svg a[href="/annuaire?departement=43"]').get_attribute("aria-label")
    assert label and label.startswith("Haute-Loire : ") and "structures" in label
    # a département with structures is filled darker than one without
    filled = page.locator('.carte-svg a[href="/annuaire?departement=43"] path.dep')
    empty = page.locator(".carte-svg g path.d0").first
    assert filled.evaluate("e => getComputedStyle(e).fill") != empty.evaluate("e => getComputedStyle(e).fill")
    page.close()


def test_the_keyboard_reaches_the_map_links_and_follows_one(browser_and_site):
    browser, base = browser_and_site
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(base + "/annuaire")
    reached = None
    for _ in range(40):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.getAttribute('href')")
        if page.evaluate("document.activeElement.closest('.carte-svg') !== null"):
            reached = href
            break
    assert reached and reached.startswith("/annuaire?departement=")
    outline = page.evaluate("getComputedStyle(document.activeElement.querySelector('path.dep')).strokeWidth")
    assert outline == "4px"  # the focused département is drawn with a thick outline
    page.screenshot(path=str(ARTIFACTS / "carte-focus.png"))
    page.keyboard.press("Enter")
    page.wait_for_url("**" + reached)
    assert "dans le département" in page.locator('p[role="status"]').inner_text()
    page.close()
