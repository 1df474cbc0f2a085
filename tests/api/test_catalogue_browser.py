"""The coordinator's loop in headless Chromium: a contributor proposes, the coordinator finds the
proposal in the catalogue, asks for changes, publishes; then edits, deletes (with confirmation)
and reads the history of a published document."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kb.core.settings import Settings
from kb.records.keys import CONTRIBUTOR
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.coordination_page import fill_repair_cafe
from tests.servers import CHROMIUM, CHROMIUM_ARGS, serve_in_thread

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
MINI = Path(__file__).parents[1] / "fixtures" / "mini-corpus"
TIMEOUT = 60_000


@pytest.fixture
def browser_and_site(tmp_path, toy_embedder):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium")
    from playwright.sync_api import sync_playwright

    settings = Settings(data_dir=tmp_path / "data")
    keys = KeyStore(settings.data_dir / "keys.json")
    coordinator = keys.create("coordinatrice")
    contributor = keys.create("Léa, animatrice", role=CONTRIBUTOR)
    app = app_over(settings, toy_embedder, ingest=[MINI])
    with serve_in_thread(app) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser, url, coordinator, contributor, app.state.holder.kb
        browser.close()


def _open_with_key(browser, url, key):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on(
        "response",
        lambda response: errors.append(f"{response.status} {response.url}") if response.status >= 400 else None,
    )
    page.goto(f"{url}/coordination")
    page.fill("#api-key", key)
    page.dispatch_event("#api-key", "change")
    return page, errors


def _propose(page, contact=""):
    fill_repair_cafe(page, contact)
    page.fill("#f-id", "exp-repair-cafe-val-fleuri")
    page.click("#publish")


def test_a_proposal_is_reviewed_and_published(browser_and_site):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    browser, url, coordinator, contributor, kb = browser_and_site

    page, errors = _open_with_key(browser, url, contributor)
    expect(page.locator("#catalogue-intro")).to_contain_text("Vos propositions", timeout=TIMEOUT)
    _propose(page)
    expect(page.locator("#status")).to_contain_text("Proposition enregistrée", timeout=TIMEOUT)
    expect(page.locator("#catalogue-list")).to_contain_text("Un repair café itinérant", timeout=TIMEOUT)
    assert kb.index.find("exp-repair-cafe-val-fleuri") is None  # not public before review
    page.close()

    page, errors = _open_with_key(browser, url, coordinator)
    expect(page.locator("#catalogue-list caption")).to_contain_text("5 documents", timeout=TIMEOUT)
    page.select_option("#c-status", "proposé")
    page.click("#c-show")
    expect(page.locator("#catalogue-list caption")).to_contain_text("1 document", timeout=TIMEOUT)
    page.click("[data-doc='exp-repair-cafe-val-fleuri']")
    expect(page.locator("#review-text")).to_contain_text("310 objets", timeout=TIMEOUT)

    page.click("#review-changes")  # a request for changes needs a comment
    expect(page.locator("#detail-message")).to_contain_text("Écrivez un commentaire", timeout=TIMEOUT)
    page.fill("#review-comment", "Ajoutez le contact du porteur, s'il vous plaît.")
    page.click("#review-changes")
    expect(page.locator("#detail-message")).to_contain_text("Demande de modifications envoyée", timeout=TIMEOUT)
    expect(page.locator("#detail-summary")).to_contain_text("à revoir", timeout=TIMEOUT)
    expect(page.locator("#detail-history")).to_contain_text("Ajoutez le contact", timeout=TIMEOUT)

    expect(page.locator("#review-publish")).to_be_hidden()  # it waits for its author now
    page.close()

    page, errors = _open_with_key(browser, url, contributor)  # she sees the comment, sends again
    page.click("[data-doc='exp-repair-cafe-val-fleuri']")
    expect(page.locator("#review-meta")).to_contain_text("Ajoutez le contact", timeout=TIMEOUT)
    _propose(page, contact="Atelier Répar'Tout, 04 75 00 00 00")
    expect(page.locator("#status")).to_contain_text("Proposition enregistrée", timeout=TIMEOUT)
    page.close()

    page, errors = _open_with_key(browser, url, coordinator)
    page.click("[data-doc='exp-repair-cafe-val-fleuri']")
    expect(page.locator("#detail-summary")).to_contain_text("proposé", timeout=TIMEOUT)
    page.click("#review-publish")
    expect(page.locator("#detail-message")).to_contain_text("Document publié", timeout=TIMEOUT)
    assert kb.index.find("exp-repair-cafe-val-fleuri") is not None
    results = Axe().run(page).response["violations"]
    serious = [
        (v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results if v["impact"] in ("serious", "critical")
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "coordination-catalogue.png"), full_page=True)
    assert serious == [] and errors == []


def test_edit_then_delete_with_confirmation(browser_and_site):
    from playwright.sync_api import expect

    browser, url, coordinator, _, kb = browser_and_site
    page, errors = _open_with_key(browser, url, coordinator)
    page.fill("#c-q", "epicerie")  # folded: matches « Épicerie »
    page.click("#c-show")
    expect(page.locator("#catalogue-list caption")).to_contain_text("1 document", timeout=TIMEOUT)
    doc_id = page.get_attribute("#catalogue-list [data-doc]", "data-doc")
    page.click(f"[data-doc='{doc_id}']")
    expect(page.locator("#e-title")).not_to_have_value("", timeout=TIMEOUT)

    page.fill("#e-territory", "Pays des Sucs (Haute-Loire)")
    page.click("#edit-save")
    expect(page.locator("#detail-message")).to_contain_text("Métadonnées enregistrées", timeout=TIMEOUT)
    assert kb.index.get(doc_id).metadata.territory == "Pays des Sucs (Haute-Loire)"
    expect(page.locator("#detail-history")).to_contain_text("territoire (« ", timeout=TIMEOUT)
    expect(page.locator("#detail-history")).not_to_contain_text("territory")

    page.click("#delete-ask")
    expect(page.locator("#delete-confirm")).to_be_visible()
    page.click("#delete-no")  # cancelling keeps the document
    expect(page.locator("#delete-confirm")).to_be_hidden()
    assert kb.index.find(doc_id) is not None
    page.click("#delete-ask")
    page.click("#delete-yes")
    expect(page.locator("#catalogue-message")).to_contain_text("a été supprimé", timeout=TIMEOUT)
    assert kb.index.find(doc_id) is None
    assert errors == []
