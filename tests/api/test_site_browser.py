"""The site in Debian's Chromium: axe-core finds no serious or critical violation, the keyboard
alone works, 360 px wide fits, and screenshots are saved to look at (test-artifacts/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.core.settings import Settings
from tests.apps import app_over
from tests.browser import chromium_serving, serious_violations
from tests.servers import serve_in_thread

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "test-artifacts"
MINI = ROOT / "tests" / "fixtures" / "mini-corpus"
PDF = ROOT / "tests" / "fixtures" / "docs" / "deux-pages.pdf"
DIRECTORY = sorted((ROOT / "corpus" / "annuaire").glob("*.md"))[:9]
# a revised fiche and the one it replaces: one result linking the other, a notice on the old one
VERSIONS = [ROOT / "corpus" / "experiences" / f"exp-boutique-essai-saint-aubin{v}.md" for v in ("", "-v2")]
PAGES = {
    "accueil": "/",
    "resultats": "/recherche?q=transport%20solidaire%20b%C3%A9n%C3%A9voles&question=1",
    "resultats-versions": "/recherche?q=boutique%20%C3%A0%20l%27essai",
    "fiche-remplacee": "/fiches/exp-boutique-essai-saint-aubin",
    "catalogue": "/recherche?type=annuaire",
    "fiche": "/fiches/exp-transport-solidaire",
    "fiche-pdf": "/fiches/deux-pages",
    "annuaire": "/annuaire",
    "introuvable": "/fiches/inconnu",
}


@pytest.fixture(scope="module")
def browser_and_site(tmp_path_factory, e5_embedder):
    settings = Settings(data_dir=tmp_path_factory.mktemp("site-browser") / "data", answer_min_score=0.8)
    app = app_over(settings, e5_embedder, ingest=[MINI, PDF, *DIRECTORY, *VERSIONS])
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_serving(app) as (browser, base):
        yield browser, base


@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_serious_accessibility_violation(browser_and_site, name):
    browser, base = browser_and_site
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(base + PAGES[name])
    serious = serious_violations(page)
    page.screenshot(path=str(ARTIFACTS / f"site-{name}.png"), full_page=True)
    page.close()
    assert serious == []


def test_a_citation_opens_the_fiche_at_its_passage_highlighted(browser_and_site):
    browser, base = browser_and_site
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(base + PAGES["resultats"])
    link = page.locator(".answer .sources .cited a").first
    href = link.get_attribute("href")
    assert "#passage-" in href
    link.click()
    page.wait_for_url("**" + href)
    anchor = href.split("#")[1]
    target = page.locator(f"#{anchor}")
    assert target.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    assert target.evaluate("e => { const r = e.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0 }")
    page.screenshot(path=str(ARTIFACTS / "site-fiche-au-passage.png"))
    page.close()


def test_keyboard_alone_reaches_the_content_and_searches(browser_and_site):
    browser, base = browser_and_site
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(base + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#contenu"
    page.focus("#q")
    page.keyboard.type("épicerie")
    page.keyboard.press("Enter")
    page.wait_for_url("**/recherche?q=*")
    assert "épicerie" in page.inner_text("h1")
    outline = page.evaluate(
        "() => { const a = document.querySelector('.hits a'); a.focus(); return getComputedStyle(a).outlineStyle }"
    )
    assert outline != "none"
    page.close()


@pytest.mark.parametrize("name", ["accueil", "resultats", "fiche", "annuaire", "resultats-versions", "fiche-remplacee"])
def test_usable_at_360_pixels(browser_and_site, name):
    browser, base = browser_and_site
    page = browser.new_page(viewport={"width": 360, "height": 780})
    page.goto(base + PAGES[name])
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(ARTIFACTS / f"site-{name}-360.png"))
    page.close()


def test_with_a_language_model_the_synthesis_is_written_then_checked(browser_and_site, tmp_path, e5_embedder, llm_stub):
    """The page shows the digest at once; its script streams the written synthesis from
    /ask/stream (the stub LLM process) and replaces it with the checked text, whose [n] link
    to the sources listed on the page."""
    from playwright.sync_api import expect

    browser, _ = browser_and_site  # the module's browser: a second sync Playwright cannot start beside it
    settings = Settings(data_dir=tmp_path / "data", answer_min_score=0.8, llm_url=llm_stub, llm_model="bon")
    app = app_over(settings, e5_embedder, ingest=[MINI])
    with serve_in_thread(app) as base:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("response", lambda r: errors.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
        page.goto(base + "/recherche?q=transport+solidaire+b%C3%A9n%C3%A9voles&question=1")
        box = page.locator("#synthese")
        expect(box.locator(".synthese-etat")).to_have_text("Synthèse vérifiée : chaque phrase renvoie à sa source.")
        expect(box.locator(".synthese-texte")).to_contain_text("des chauffeurs bénévoles assurent les trajets")
        cites = box.locator(".synthese-texte a.cite")
        assert cites.count() >= 1
        for cite in cites.all():
            target = cite.get_attribute("href")
            assert page.locator(target).count() == 1  # the source is listed on the page
        expect(page.locator(".answer article.block").first).to_be_visible()  # the digest stays
        serious = serious_violations(page)
        page.close()
        assert serious == [] and errors == []
