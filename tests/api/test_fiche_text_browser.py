"""Editing a fiche's text in headless Chromium: open a published fiche from the catalogue, change a
section with the keyboard, preview the page, save; the history names the section in French; a
stale save keeps the text typed and shows the version saved meanwhile; axe-core finds no serious
or critical violation, wide and at 360 px. Screenshots in test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.core.settings import Settings
from kb.records.keys import COORDINATOR, Actor
from kb.storage.embedded.keys import KeyStore
from tests.api.test_coordination import FICHE
from tests.apps import app_over
from tests.browser import chromium_serving, serious_violations

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
MINI = Path(__file__).parents[1] / "fixtures" / "mini-corpus"
TIMEOUT = 60_000
DOC_ID = "atelier-velo-bourg"


@pytest.fixture
def site(tmp_path, toy_embedder):
    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    app = app_over(settings, toy_embedder, ingest=[MINI])
    with chromium_serving(app) as (browser, base):
        kb = app.state.holder.kb  # set once the app has started
        kb.review.write(kb.writer.from_fiche({**FICHE, "id": DOC_ID})[0], _coordinator(kb), replace=None)
        yield browser, base, key, kb


def _coordinator(kb) -> Actor:
    return Actor("coordinatrice", COORDINATOR)


def _open(browser, base, key, width=1200):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{base}/coordination")
    page.fill("#api-key", key)
    page.dispatch_event("#api-key", "change")
    page.fill("#c-q", "atelier velo")
    page.click("#c-show")
    page.click(f"[data-doc='{DOC_ID}']", timeout=TIMEOUT)
    return page, errors


def test_edit_a_section_preview_and_save(site):
    from playwright.sync_api import expect

    browser, base, key, kb = site
    page, errors = _open(browser, base, key)
    expect(page.locator("#t-section-contexte")).to_have_value(FICHE["sections"]["contexte"], timeout=TIMEOUT)
    expect(page.locator("#text-intro")).to_contain_text("modèle de capitalisation")

    # the keyboard alone: into the section, type, on to the preview button
    page.focus("#t-section-contexte")
    page.keyboard.press("Control+End")
    page.keyboard.type(" **Le car de 7 h 10** ne passe plus.")
    page.focus("#text-preview")
    page.keyboard.press("Enter")
    preview = page.locator("#text-preview-page")
    expect(preview.locator("strong")).to_have_text("Le car de 7 h 10", timeout=TIMEOUT)
    expect(preview).to_contain_text("Association Biclou Rural")
    expect(page.locator("#text-preview-page")).to_be_focused()
    assert serious_violations(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#text-form").screenshot(path=str(ARTIFACTS / "coordination-texte-apercu.png"))

    page.focus("#text-save")
    page.keyboard.press("Enter")
    expect(page.locator("#detail-message")).to_contain_text("Texte enregistré", timeout=TIMEOUT)
    assert "Le car de 7 h 10" in kb.index.document_text(DOC_ID)
    expect(page.locator("#detail-history")).to_contain_text("modification du texte", timeout=TIMEOUT)
    expect(page.locator("#detail-history")).to_contain_text("section « Contexte »")
    assert errors == []


def test_a_stale_save_keeps_the_text_and_shows_the_saved_version(site):
    from playwright.sync_api import expect

    browser, base, key, kb = site
    page, _ = _open(browser, base, key, width=360)
    expect(page.locator("#t-summary")).to_have_value(FICHE["summary"], timeout=TIMEOUT)
    # meanwhile, someone else saves the document
    stored = kb.index.get(DOC_ID)
    fiche = {**FICHE, "id": DOC_ID, "summary": FICHE["summary"] + " Ouvert aussi le samedi matin."}
    kb.review.write(kb.writer.from_fiche(fiche)[0], _coordinator(kb), replace=DOC_ID)
    assert kb.index.get(DOC_ID).version != stored.version

    page.fill("#t-section-resultats", "Mon texte à ne pas perdre.")
    page.click("#text-save")
    expect(page.locator("#text-message")).to_contain_text("modifié par quelqu'un d'autre", timeout=TIMEOUT)
    expect(page.locator("#text-current-page")).to_contain_text("samedi matin", timeout=TIMEOUT)
    expect(page.locator("#t-section-resultats")).to_have_value("Mon texte à ne pas perdre.")
    assert "Mon texte" not in kb.index.document_text(DOC_ID)
    assert serious_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("#text-form").screenshot(path=str(ARTIFACTS / "coordination-texte-conflit-360.png"))

    page.click("#text-save")  # a conscious second save replaces the version seen
    expect(page.locator("#detail-message")).to_contain_text("Texte enregistré", timeout=TIMEOUT)
    assert "Mon texte à ne pas perdre." in kb.index.document_text(DOC_ID)
