"""The catalogue's theme section in a real browser: a suggested pair, its preview, the merge;
axe-core finds no serious or critical violation in the section; a screenshot in test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.api.test_themes import DOCUMENTS, _markdown
from tests.apps import app_over
from tests.browser import chromium_serving, serious_violations

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"


@pytest.fixture
def browser_page(tmp_path, toy_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for doc_id, (title, sector, themes) in DOCUMENTS.items():
        (corpus / f"{doc_id}.md").write_text(_markdown(doc_id, title, sector, themes), encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    app = app_over(settings, toy_embedder, ingest=[corpus])
    with chromium_serving(app) as (browser, url):
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        yield page, url, key, app


def test_a_suggested_pair_is_previewed_then_merged(browser_page):
    from playwright.sync_api import expect

    page, url, key, app = browser_page
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{url}/coordination")
    page.fill("#api-key", key)
    page.dispatch_event("#api-key", "change")
    pair = page.get_by_role("button", name="Préparer la fusion de « centres sociaux » dans « centre social »")
    expect(pair).to_be_visible()
    pair.click()
    expect(page.locator("#themes-preview-list li")).to_have_text(
        ["Le centre social des Combes (exp-centre) : centres sociaux, emploi → centre social, emploi"]
    )
    expect(page.locator("#t-merge")).to_be_focused()
    page.locator("#themes").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "themes-preview.png"), full_page=False)
    serious = serious_violations(page, context="#themes")
    assert serious == []

    page.click("#t-merge")
    expect(page.locator("#themes-message")).to_contain_text("1 document réécrit")
    expect(
        page.get_by_role("button", name="Préparer la fusion de « centres sociaux » dans « centre social »")
    ).to_have_count(0)
    kb = app.state.holder.kb
    assert kb.index.get("exp-centre").metadata.themes == ("centre social", "emploi")
    page.set_viewport_size({"width": 360, "height": 800})
    page.locator("#themes").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "themes-merged-360.png"), full_page=False)
    assert errors == []
