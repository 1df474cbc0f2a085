"""/passerelles in Debian's Chromium: no serious or critical axe-core violation, wide and at
360 px; the keyboard alone chooses a theme and reaches both columns; screenshots saved to look
at (test-artifacts/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.core.settings import Settings
from tests.apps import app_over
from tests.browser import chromium_serving, serious_violations
from tests.services.test_bridges import BRIDGE_FILES

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
PAGES = {
    "passerelles-formulaire": "/passerelles",
    "passerelles-theme": "/passerelles?q=alimentation",
    "passerelles-vide": "/passerelles?theme=restauration%20collective",
    "passerelles-question": "/passerelles?q=transport%20solidaire%20pour%20les%20personnes%20%C3%A2g%C3%A9es",
}


@pytest.fixture(scope="module")
def browser_and_site(tmp_path_factory, e5_embedder):
    settings = Settings(data_dir=tmp_path_factory.mktemp("bridges-browser") / "data", answer_min_score=0.8)
    app = app_over(settings, e5_embedder, ingest=BRIDGE_FILES)
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_serving(app) as (browser, base):
        yield browser, base


@pytest.mark.parametrize("width", [1200, 360])
@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_serious_violation_and_fits_360_pixels(browser_and_site, name, width):
    browser, base = browser_and_site
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(base + PAGES[name])
    serious = serious_violations(page)
    page.screenshot(path=str(ARTIFACTS / f"site-{name}-{width}.png"), full_page=True)
    if width == 360:
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.close()
    assert serious == []


def test_keyboard_alone_chooses_a_theme_and_reaches_both_columns(browser_and_site):
    browser, base = browser_and_site
    page = browser.new_page(viewport={"width": 360, "height": 780})
    page.goto(base + "/passerelles")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    for _ in range(20):  # through the navigation to the form's theme list
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "theme":
            break
    assert page.evaluate("document.activeElement.id") == "theme"
    page.select_option("#theme", "alimentation")  # what the arrow keys do on a focused list
    for _ in range(3):  # the public's list, the territory's, the button
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Voir les deux secteurs"
    page.keyboard.press("Enter")
    page.wait_for_url("**/passerelles?*theme=alimentation*")
    assert "alimentation" in page.inner_text("h1")
    links = page.evaluate(
        "[...document.querySelectorAll('.side a')].map(a => a.closest('.side').id || a.closest('.side').className)"
    )
    assert any("social" in side for side in links) and any("local" in side for side in links)
    outline = page.evaluate(
        "() => { const a = document.querySelector('.side a'); a.focus(); return getComputedStyle(a).outlineStyle }"
    )
    assert outline != "none"
    page.close()
