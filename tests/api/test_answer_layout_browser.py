"""The answer's layout in Debian's Chromium: the short answer is read without scrolling, the
blocks are folded (native details/summary, opened with Enter or Space), the sources are one entry
per document, "nothing found" lists the nearest documents; axe-core finds no serious or critical
violation, on the site and in the widget. Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from kb.core.settings import Settings
from tests.api.test_answer_layout import HOSTILE, HOSTILE_QUESTION, QUESTION, TRANSPORT
from tests.apps import app_over
from tests.servers import CHROMIUM, CHROMIUM_ARGS, serve_in_thread

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
PAGE = "/recherche?q={q}&question=1"

# Tabbing until the focus is on a block's summary: (in the document or a shadow root)
FOCUSED = """root => { const e = root.activeElement; if (!e) return {};
  return {tag: e.tagName, open: e.parentElement.open, index: [...root.querySelectorAll('.block summary')].indexOf(e),
          outline: getComputedStyle(e).outlineStyle} }"""
# Where an element ends and starts in the window
IN_WINDOW = "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight }"


@pytest.fixture(scope="module")
def served(tmp_path_factory, e5_embedder, mini_index):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium")
    from playwright.sync_api import expect, sync_playwright

    root = tmp_path_factory.mktemp("answer-layout-browser")
    extra = root / "extra"
    extra.mkdir()
    (extra / "fiche-navette.md").write_text(HOSTILE, encoding="utf-8")
    settings = Settings(data_dir=root / "data", answer_min_score=0.8)
    app = app_over(settings, e5_embedder, ingest=[*TRANSPORT, extra], index=mini_index)
    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=20_000)
    with serve_in_thread(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser, base, app
        browser.close()


@pytest.fixture
def several_blocks(served, monkeypatch):
    """Every document near the top gets a block: the layout of an answer of several documents
    (which documents get one is measured elsewhere, docs/answers.md)."""
    kb = served[2].state.holder.kb
    monkeypatch.setattr(kb.answerer, "params", replace(kb.answerer.params, block_gap=1.0, block_match_ratio=0.0))


@pytest.fixture
def nothing_answers(served, monkeypatch):
    kb = served[2].state.holder.kb
    monkeypatch.setattr(kb.answerer, "params", replace(kb.answerer.params, min_score=9.0))


def _serious(page, context=None) -> list:
    from axe_playwright_python.sync_playwright import Axe

    return [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in Axe().run(page, context=context).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _tab_to_summary(page, root_js: str = "document", presses: int = 40) -> dict:
    """Tab until a block's summary has the focus (``root_js``: where ``activeElement`` is read)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(f"({FOCUSED})({root_js})")
        if focused.get("tag") == "SUMMARY":
            return focused
    raise AssertionError("no block summary reached with Tab")


def _page_of(served, width: int, height: int):
    browser, base, _ = served
    page = browser.new_page(viewport={"width": width, "height": height}, locale="fr-FR")
    page.errors = []
    page.dialogs = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    return page, base


# ---- the site -------------------------------------------------------------------------------


def test_the_short_answer_is_read_without_scrolling_and_the_blocks_are_folded(served, several_blocks):
    from playwright.sync_api import expect

    page, base = _page_of(served, 1280, 800)
    page.goto(base + PAGE.format(q=QUESTION))
    short = page.locator(".answer .short")
    expect(short).to_be_visible()
    assert short.evaluate(IN_WINDOW)  # the whole short answer, at the top of the page
    assert 2 <= short.locator(".cite").count() <= 3
    blocks = page.locator(".answer article.block")
    assert blocks.count() == 4
    assert page.locator(".answer details[open]").count() == 0
    expect(blocks.first.locator("summary")).to_be_visible()
    expect(blocks.first.locator("details > p").first).to_be_hidden()
    # one entry per document, every [n] of the page pointing at an anchor inside its entry
    entries = page.locator(".answer .sources > li")
    assert entries.count() == 4
    titles = entries.locator("> a").all_text_contents()
    assert len(set(titles)) == len(titles)
    for href in set(page.locator(".answer a.cite").evaluate_all("links => links.map(a => a.getAttribute('href'))")):
        assert page.locator(f".answer .sources > li .cited li{href}").count() == 1
    page.screenshot(path=str(ARTIFACTS / "answer-site-folded.png"))
    assert _serious(page) == []
    page.close()


def test_the_keyboard_opens_and_closes_the_blocks(served, several_blocks):
    from playwright.sync_api import expect

    page, base = _page_of(served, 1280, 800)
    page.goto(base + PAGE.format(q=QUESTION))
    focused = _tab_to_summary(page)
    assert focused["index"] == 0 and not focused["open"]
    assert focused["outline"] != "none"  # the focus is seen
    first = page.locator(".answer details").first
    page.keyboard.press("Enter")
    expect(first).to_have_attribute("open", "")
    expect(first.locator("> p").first).to_be_visible()
    page.keyboard.press("Enter")
    expect(first).not_to_have_attribute("open", "")
    page.keyboard.press("Space")
    expect(first).to_have_attribute("open", "")
    focused = _tab_to_summary(page)  # past the open block's links, the next block
    assert focused["index"] == 1
    page.keyboard.press("Space")
    expect(page.locator(".answer details").nth(1)).to_have_attribute("open", "")
    page.screenshot(path=str(ARTIFACTS / "answer-site-open.png"), full_page=True)
    assert _serious(page) == []  # open blocks too
    page.close()


def test_a_marker_leads_to_its_entry_in_the_sources(served):
    page, base = _page_of(served, 1280, 800)
    page.goto(base + PAGE.format(q=QUESTION))
    cite = page.locator(".answer .short .cite").last
    href = cite.get_attribute("href")
    cite.click()
    assert page.evaluate("location.hash") == href
    target = page.locator(href)
    assert target.evaluate(IN_WINDOW)
    assert target.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"  # :target marked
    page.close()


def test_the_folded_answer_fits_360_pixels(served):
    page, base = _page_of(served, 360, 780)
    page.goto(base + PAGE.format(q=QUESTION))
    page.locator(".answer details").first.evaluate("d => d.open = true")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(ARTIFACTS / "answer-site-360.png"), full_page=True)
    page.close()


def test_nothing_found_shows_the_nearest_documents(served, nothing_answers):
    from playwright.sync_api import expect

    page, base = _page_of(served, 1280, 800)
    page.goto(base + PAGE.format(q=QUESTION))
    answer = page.locator(".answer")
    expect(answer.get_by_role("heading", name="Les documents les plus proches, à vérifier")).to_be_visible()
    links = answer.locator(".nearest a")
    assert 1 <= links.count() <= 3 and all("/fiches/" in h for h in links.evaluate_all("a => a.map(l => l.href)"))
    page.screenshot(path=str(ARTIFACTS / "answer-site-nearest.png"))
    assert _serious(page) == []
    page.close()


# ---- the widget (the API's demo page embeds it) ---------------------------------------------

WIDGET = "document.querySelector('#passerelles').shadowRoot"


def _ask_widget(page, base: str, question: str):
    from playwright.sync_api import expect

    page.goto(base + "/demo")
    page.get_by_role("combobox", name="Rechercher dans Passerelles").fill(question)
    page.get_by_role("button", name="Poser la question").click()
    expect(page.locator("#passerelles [role=status]")).to_have_text("Réponse prête.")
    return page.locator("#passerelles section.answer")


def test_the_widget_shows_its_short_answer_first_and_folds_the_blocks(served):
    from playwright.sync_api import expect

    page, base = _page_of(served, 360, 740)
    body = page.request.post(base + "/ask", data={"question": QUESTION}).json()
    answer = _ask_widget(page, base, QUESTION)
    short = answer.locator(".short")
    expect(short).to_be_visible()
    assert short.evaluate(IN_WINDOW)  # brought into view when the answer came
    assert [int(n) for n in short.locator(".cite").evaluate_all("a => a.map(l => l.dataset.n)")] == [
        s["n"] for s in body["summary"]
    ]
    assert answer.locator(".block details").count() == len(body["sources"])
    assert answer.locator(".block details[open]").count() == 0
    documents = list(dict.fromkeys(c["doc_id"] for c in body["citations"]))
    assert answer.locator(".sources > li").count() == len(documents) < len(body["citations"])
    assert answer.locator(".sources li[data-n]").count() == len(body["citations"])
    page.locator("#passerelles").screenshot(path=str(ARTIFACTS / "answer-widget-folded.png"))
    assert _serious(page, "#passerelles") == []

    # the keyboard alone: from the answer's heading to the first block, Enter and Space
    focused = _tab_to_summary(page, WIDGET)
    assert focused["index"] == 0 and focused["outline"] != "none"
    first = answer.locator(".block details").first
    page.keyboard.press("Enter")
    expect(first).to_have_attribute("open", "")
    expect(first.locator(".atext")).to_be_visible()
    page.keyboard.press("Space")
    expect(first).not_to_have_attribute("open", "")
    page.keyboard.press("Space")
    expect(first).to_have_attribute("open", "")
    page.locator("#passerelles").screenshot(path=str(ARTIFACTS / "answer-widget-open.png"))
    assert _serious(page, "#passerelles") == []
    assert page.errors == []
    page.close()


def test_the_widget_lists_the_nearest_documents_when_nothing_answers(served, nothing_answers):
    from playwright.sync_api import expect

    page, base = _page_of(served, 360, 740)
    answer = _ask_widget(page, base, QUESTION)
    expect(answer.get_by_role("heading", name="Les documents les plus proches, à vérifier")).to_be_visible()
    links = answer.locator(".nearest a")
    assert 1 <= links.count() <= 3
    assert "Documents les plus proches, à vérifier :" not in answer.locator(".atext").first.inner_text()
    page.locator("#passerelles").screenshot(path=str(ARTIFACTS / "answer-widget-nearest.png"))
    assert _serious(page, "#passerelles") == []
    page.close()


def test_the_widget_inserts_document_text_as_text(served):
    from playwright.sync_api import expect

    page, base = _page_of(served, 360, 740)
    answer = _ask_widget(page, base, HOSTILE_QUESTION)
    expect(answer.locator(".short")).to_contain_text("<img src=y onerror=alert(2)>")
    expect(answer.locator(".block summary").first).to_contain_text("<img src=x onerror=alert(1)>")
    page.wait_for_timeout(300)  # an injected image would have fired its handler by now
    assert page.evaluate(f"{WIDGET}.querySelectorAll('img, script').length") == 0
    assert page.dialogs == [] and page.errors == []
    page.close()
