"""The coordination page's "Coordonnées divergentes" in Debian's Chromium, with an axe-core check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.servers import CHROMIUM, CHROMIUM_ARGS, serve_in_thread

CORPUS = Path(__file__).parents[2] / "corpus"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="browser tests need Debian's Chromium at /usr/bin/chromium"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
expect = playwright_api.expect


def test_the_dashboard_lists_the_contacts_to_check(tmp_path, e5_embedder):
    from axe_playwright_python.sync_playwright import Axe

    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ["methodes/meth-monter-dossier-leader.md", "annuaire/annuaire-gal-sucs-et-gorges.md"]:
        shutil.copy(CORPUS / name, folder)
    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    app = app_over(settings, e5_embedder, ingest=[folder])
    with serve_in_thread(app) as api, playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        expect.set_options(timeout=30_000)
        page.goto(api + "/coordination")
        page.fill("#api-key", key)
        page.dispatch_event("#api-key", "change")
        page.locator("#tdb-show").click()
        expect(page.locator("#tdb-status")).to_have_text("Tableau de bord à jour.")
        table = page.get_by_role("table", name="Coordonnées divergentes")
        row = table.locator("tbody tr")
        expect(row).to_have_count(1)
        expect(row.get_by_role("rowheader")).to_have_text("GAL LEADER Sucs et Gorges")
        expect(row).to_contain_text("leader@pays-sucs-gorges.example")
        expect(row).to_contain_text("contact@gal-sucs-et-gorges.example")
        expect(row.get_by_role("link", name="Monter un dossier LEADER", exact=False)).to_have_attribute(
            "href", "/fiches/meth-monter-dossier-leader"
        )
        violations = [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
        assert violations == []
        browser.close()
