"""The catalogue in headless Chromium: a field inferred from the text is said so next to it,
and the coordinator corrects it (and the publics) from the form."""

from __future__ import annotations

import os

import pytest

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.ingest.test_inference_pipeline import write_base
from tests.servers import CHROMIUM, CHROMIUM_ARGS, serve_in_thread

pytestmark = pytest.mark.slow
TIMEOUT = 60_000
DOC = "a-compte-rendu-ccas"


def test_an_inferred_sector_is_corrected_from_the_catalogue(tmp_path, toy_embedder):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium")
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect, sync_playwright

    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    app = app_over(settings, toy_embedder, ingest=[write_base(tmp_path / "base")])
    with serve_in_thread(app) as url, sync_playwright() as playwright:
        kb = app.state.holder.kb  # opened by the server's start-up
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"{url}/coordination")
        page.fill("#api-key", key)
        page.dispatch_event("#api-key", "change")
        page.fill("#c-q", "CCAS de Tence")
        page.click("#c-show")
        page.click(f"[data-doc='{DOC}']")
        expect(page.locator("#e-sector")).to_have_value("action sociale", timeout=TIMEOUT)
        hints = page.locator(".inferred-hint")
        expect(hints).to_have_count(3)  # the sector, the territory and the publics
        expect(hints.nth(0)).to_contain_text("Secteur déduit du texte")
        expect(hints.nth(1)).to_contain_text("Territoire déduit du texte")
        expect(hints.nth(2)).to_contain_text("Publics déduits du texte")

        page.select_option("#e-sector", "transversal")
        page.fill("#e-publics", "seniors, RSA")
        page.fill("#e-themes", "aides facultatives")  # the form requires themes, which the file had none of
        page.click("#edit-save")
        expect(page.locator("#detail-message")).to_contain_text("Métadonnées enregistrées", timeout=TIMEOUT)
        meta = kb.index.get(DOC).metadata
        assert meta.sector == "transversal" and meta.inferred("sector") is None
        assert meta.publics == ("personnes âgées", "allocataires du RSA") and meta.inferred("publics") is None
        # the form sends every field it shows: the inferred territory, saved as it was, is confirmed
        assert meta.territory == "Tence (Haute-Loire)" and meta.inferred("territory") is None
        expect(page.locator(".inferred-hint")).to_have_count(0, timeout=TIMEOUT)
        violations = [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
        browser.close()
    assert violations == [] and errors == []
