"""Preparing the next meeting in Debian's Chromium: the agenda, a meeting recorded, the
downloads, keyboard use, 360 px, print media, axe-core."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import httpx
import odfdo
import pytest

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.browser import serious_violations
from tests.fakes import ToyEmbedder
from tests.servers import CHROMIUM, CHROMIUM_ARGS, serve_in_thread

ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "test-artifacts"
HOSTILE = "Un atelier vélo <img src=x onerror=alert(1)> au bourg"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="browser tests need Debian's Chromium at /usr/bin/chromium"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
expect = playwright_api.expect


@pytest.fixture(scope="module")
def world(tmp_path_factory, toy_mini_index):
    tmp = tmp_path_factory.mktemp("meeting-browser")
    settings = Settings(data_dir=tmp / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("Marie")
    app = app_over(settings, ToyEmbedder(), index=toy_mini_index)
    with serve_in_thread(app) as api, playwright_api.sync_playwright() as playwright:
        auth = {"Authorization": f"Bearer {key}"}
        fiche = {
            "title": HOSTILE,
            "doc_type": "fiche expérience",
            "sector": "action sociale",
            "themes": ["mobilité"],
            "territory": "Communauté de communes du Val Fleuri (Drôme)",
            "porteur": "Centre social du Val Fleuri",
            "summary": "Un atelier d'autoréparation de vélos ouvert deux après-midi par semaine au centre social.",
            "sections": {"résultats": "En un an, 85 vélos remis en état ont été vendus à petit prix."},
        }
        assert httpx.post(api + "/documents", json=fiche, headers=auth, timeout=60).status_code == 201
        for question in ("une piscine intercommunale ?", "épicerie en coopérative"):
            httpx.post(api + "/ask", json={"question": question}, timeout=60)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
        expect.set_options(timeout=30_000)
        yield {"api": api, "key": key, "context": context}
        browser.close()


def test_the_coordinator_prepares_records_and_exports_the_agenda(world):
    ARTIFACTS.mkdir(exist_ok=True)
    page = world["context"].new_page()
    page.goto(world["api"] + "/coordination")
    page.get_by_role("link", name="Préparer la prochaine réunion").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Préparer la prochaine réunion du groupe de travail")
    page.fill("#api-key", world["key"])
    page.dispatch_event("#api-key", "change")
    expect(page.locator("#status")).to_have_text("Ordre du jour à jour.")
    expect(page.locator("#agenda-period")).to_contain_text("aucune réunion enregistrée")
    for title in (
        "1. Nouvelles fiches et fiches mises à jour",
        "2. Questions restées sans réponse",
        "3. Rapprochements à examiner",
        "4. Documents les plus consultés",
    ):
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    # a title from a document is text, never markup
    expect(page.locator("#documents a", has_text="<img src=x")).to_have_count(1)
    assert page.locator("#documents img").count() == 0
    expect(page.locator("#documents")).to_contain_text(": nouveau, le ")
    expect(page.locator("#unanswered, #consulted")).to_have_count(2)

    # a meeting recorded from the keyboard (the date field's own keys depend on the locale: filled)
    day = dt.date.today() - dt.timedelta(days=2)
    page.fill("#meeting-date", day.isoformat())
    page.locator("#meeting-note").focus()
    page.keyboard.type("à Yssingeaux")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "meeting-save"
    page.keyboard.press("Enter")
    expect(page.locator("#meeting-status")).to_contain_text(
        "enregistrée : la prochaine préparation partira de cette date"
    )
    expect(page.locator("#agenda-period")).to_contain_text("depuis la dernière réunion")
    expect(page.locator("#meeting-list li").first).to_contain_text("à Yssingeaux (enregistrée par Marie)")
    assert page.locator("#since").input_value() == day.isoformat()
    assert serious_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "coordination-reunion.png"), full_page=True)

    with page.expect_download() as markdown:
        page.get_by_role("button", name="Télécharger en Markdown").click()
    text = Path(markdown.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# Réunion du groupe de travail : ordre du jour") and "depuis la dernière réunion" in text
    with page.expect_download() as odt:
        page.get_by_role("button", name="Télécharger en ODT (traitement de texte)").click()
    assert odt.value.suggested_filename == f"reunion-{day.isoformat()}-{dt.date.today().isoformat()}.odt"
    document = odfdo.Document(io.BytesIO(Path(odt.value.path()).read_bytes()))
    assert "1. Nouvelles fiches et fiches mises à jour" in [h.text for h in document.body.get_headers()]

    # on paper: the agenda alone, links written out
    page.emulate_media(media="print")
    for hidden in ("header", "main > h1", "#print", "#period-form", "#meetings", "#api-key"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.locator("#agenda")).to_be_visible()
    after = page.evaluate(
        "(() => { const a = document.querySelector('#documents a'); return [getComputedStyle(a, '::after').content, a.href]; })()"
    )
    assert after[0] == f'" ({after[1]})"'
    page.screenshot(path=str(ARTIFACTS / "coordination-reunion-impression.png"), full_page=True)
    page.close()


def test_the_page_works_at_360_px(world):
    page = world["context"].new_page()
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(world["api"] + "/coordination/reunion")
    page.fill("#api-key", world["key"])
    page.dispatch_event("#api-key", "change")
    expect(page.locator("#status")).to_have_text("Ordre du jour à jour.")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert serious_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "coordination-reunion-360.png"), full_page=True)
    page.close()


def test_a_wrong_key_is_said(world):
    page = world["context"].new_page()
    page.goto(world["api"] + "/coordination/reunion")
    page.fill("#api-key", "psl_mauvaise")
    page.dispatch_event("#api-key", "change")
    expect(page.locator("#status")).to_contain_text("Clé d'accès invalide ou révoquée")
    page.close()
