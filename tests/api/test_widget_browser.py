"""The widget in a real browser (Debian's Chromium driven by Playwright).

The API runs as a real uvicorn server on a loopback port, over the mini corpus plus a document
whose title is an HTML injection attempt; the host pages are served by another server on another
port (another origin), as a partner site would. A third server plays a site that is not allowed.
"""

from __future__ import annotations

import asyncio
import functools
import re
import socket
import threading
import time
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

from kb.core.settings import Settings
from tests.apps import app_over
from tests.servers import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini-corpus"
ARTIFACTS = ROOT / "test-artifacts"
XSS_TITLE = "<img src=x onerror=alert(1)>"
QUESTION = "comment d'autres ont monté un transport solidaire avec des chauffeurs bénévoles ?"
OLD_VERSION, NEW_VERSION = "exp-boutique-essai-saint-aubin", "exp-boutique-essai-saint-aubin-v2"
SLOW_MARKER = "lentement"  # queries containing it are answered 1.5 s late (stale-response test)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="browser tests need Debian's Chromium at /usr/bin/chromium: apt-get install chromium",
    ),
]

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
expect = playwright_api.expect

XSS_DOC = f"""---
id: xss-titre
title: '{XSS_TITLE}'
doc_type: fiche expérience
sector: développement local
themes: [mobilité]
territory: "Communauté de communes du Val Fleuri (Drôme)"
---
# Covoiturage des saisonniers agricoles

Les saisonniers agricoles partagent leurs trajets vers les exploitations grâce à une plateforme
de covoiturage <img src=y onerror=alert(2)> animée par la commune. <script>alert(3)</script>
"""

HOSTILE_CSS = """
  * { box-sizing: content-box; }
  body { font: 22px/2 Georgia, serif; letter-spacing: .1em; text-align: justify; color: #c00; }
  p { text-indent: 3em; }
  input, select, button { border: 4px dashed rgb(255, 0, 0); text-transform: uppercase; padding: 20px; }
  ul, ol { list-style: square; padding-left: 60px; }
  mark { background: rgb(0, 0, 0); color: rgb(255, 255, 255); }
  [role="listbox"], [role="status"] { display: none; }
"""

PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Site partenaire de test</title><style>{css}</style></head>
<body>
<h1>Site partenaire</h1>
<div id="passerelles"></div><script src="{script}/widget.js" data-api="{api}" {extra} async></script>
<p><label>Champ du site <input id="host-input"></label> <mark id="host-mark">marque du site</mark></p>
</body></html>
"""


# the page's own globals that a blank window does not have (the widget should add only one)
GLOBALS_ADDED = """() => {
  const frame = document.createElement('iframe');
  document.body.append(frame);
  const blank = new Set(Object.keys(frame.contentWindow));
  frame.remove();
  return Object.keys(window).filter(key => !blank.has(key) && !/^\\d+$/.test(key));
}"""


def _listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def _origin(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


def _static_server(directory: Path) -> ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _slowed(app):
    """Delay the searches that contain SLOW_MARKER, to make a stale response possible."""

    async def wrapped(scope, receive, send):
        if scope["type"] == "http" and SLOW_MARKER in unquote(scope.get("query_string", b"").decode()):
            await asyncio.sleep(1.5)
        await app(scope, receive, send)

    return wrapped


@pytest.fixture(scope="module")
def sites(tmp_path_factory, e5_embedder):
    """API on one port, the partner's pages on another, a stranger site on a third."""
    import uvicorn

    tmp = tmp_path_factory.mktemp("widget-browser")
    extra = tmp / "extra"
    extra.mkdir()
    (extra / "xss-titre.md").write_text(XSS_DOC, encoding="utf-8")
    for name in (OLD_VERSION, NEW_VERSION):  # the second replaces the first
        (extra / f"{name}.md").write_bytes((ROOT / "corpus" / "experiences" / f"{name}.md").read_bytes())

    pages = tmp / "pages"
    pages.mkdir()
    host = _static_server(pages)
    stranger = _static_server(pages)
    host_origin = f"http://127.0.0.1:{host.server_address[1]}"
    stranger_origin = f"http://127.0.0.1:{stranger.server_address[1]}"

    api_socket = _listening_socket()
    api = _origin(api_socket)
    closed = socket.socket()  # bound, never listening: connections are refused
    closed.bind(("127.0.0.1", 0))
    down = f"http://127.0.0.1:{closed.getsockname()[1]}"

    def write_page(name: str, api_url: str, extra_attributes: str = "", css: str = HOSTILE_CSS) -> None:
        (pages / name).write_text(
            PAGE.format(css=css, script=api, api=api_url, extra=extra_attributes), encoding="utf-8"
        )

    write_page("index.html", api)
    write_page("down.html", down)
    write_page("plain.html", api, css="body { margin: 0; }")
    write_page("light.html", api, 'data-accent="#a8e063"', css="body { margin: 0; }")
    write_page("pale.html", api, 'data-accent="#fff3a0"', css="body { margin: 0; }")
    write_page(
        "filtered.html",
        api,
        'data-type="fiche expérience" data-sector="action sociale" data-accent="#aa0000" '
        'data-placeholder="Chercher une fiche expérience"',
    )

    settings = Settings(data_dir=tmp / "data", answer_min_score=0.8, allowed_origins=[host_origin])
    app = app_over(settings, e5_embedder, ingest=[MINI, extra])
    server = uvicorn.Server(uvicorn.Config(_slowed(app), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [api_socket]}, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)

    yield {"api": api, "host": host_origin, "stranger": stranger_origin, "down": down, "app": app}

    server.should_exit = True
    thread.join(timeout=10)
    for static in (host, stranger):
        static.shutdown()
        static.server_close()
    closed.close()
    api_socket.close()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 900, "height": 900},
            locale="fr-FR",
        )
        expect.set_options(timeout=20_000)
        yield context
        context.close()


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    page.dialogs = []
    page.errors = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    page.close()


def _combobox(page):
    return page.get_by_role("combobox", name="Rechercher dans Passerelles")


def _options(page):
    return page.locator("#passerelles [role=option]")


def _status(page):
    return page.locator("#passerelles [role=status]")


def _in_widget(page, script: str):
    """Evaluate ``script`` (a function of the widget's shadow root)."""
    return page.evaluate(f"(({script}))(document.querySelector('#passerelles').shadowRoot)")


def test_typing_shows_results_with_highlighted_snippets(page, sites):
    searches = []
    page.on("request", lambda r: searches.append(r.url) if "/search?" in r.url else None)
    page.goto(sites["host"] + "/index.html")
    query = "chauffeurs bénévoles"
    _combobox(page).press_sequentially(query, delay=40)

    first = _options(page).first
    expect(first.locator(".title")).to_have_text("Un transport solidaire avec des chauffeurs bénévoles")
    expect(_combobox(page)).to_have_attribute("aria-expanded", "true")
    expect(first.locator(".badge")).to_have_text("fiche expérience")
    marks = [m.lower() for m in first.locator("mark").all_text_contents()]
    assert "chauffeurs" in marks and "bénévoles" in marks
    assert first.locator(".title").get_attribute("href") == sites["api"] + "/fiches/exp-transport-solidaire"
    assert first.locator(".title").get_attribute("rel") == "noopener noreferrer"
    expect(_status(page)).to_contain_text("documents trouvés")
    assert 1 <= len(searches) <= 3, searches  # debounced: not one request per key

    # isolation: the host's CSS does not reach the widget, and the widget's does not leak out
    box = _in_widget(
        page,
        "root => { const s = getComputedStyle(root.querySelector('input'));"
        " return [s.borderTopStyle, s.textTransform, getComputedStyle(root.querySelector('mark'))"
        ".backgroundColor, getComputedStyle(root.querySelector('.snip')).textIndent] }",
    )
    assert box[0] != "dashed" and box[1] == "none" and box[2] != "rgb(0, 0, 0)" and box[3] == "0px"
    host_input = page.evaluate(
        "[getComputedStyle(document.getElementById('host-input')).borderTopStyle,"
        " getComputedStyle(document.getElementById('host-mark')).backgroundColor]"
    )
    assert host_input == ["dashed", "rgb(0, 0, 0)"]
    assert page.evaluate(GLOBALS_ADDED) == ["Passerelles"]

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#passerelles").screenshot(path=str(ARTIFACTS / "widget-results.png"))
    assert page.errors == [] and page.dialogs == []


def test_the_versions_of_a_fiche_are_one_result_that_links_the_other(page, sites, browser_context):
    page.goto(sites["host"] + "/index.html")
    _combobox(page).fill("boutique à l'essai")
    first = _options(page).first
    expect(first.locator(".title")).to_contain_text("(mise à jour 2025)")
    expect(first.locator(".versions")).to_have_text(
        "Autre version : Ma Boutique à l'Essai : tester un commerce dans une vitrine vide à "
        "Saint-Aubin-du-Vernay (2023-06-20)"
    )
    titles = _options(page).locator(".title").all_text_contents()
    assert sum(t.startswith("Ma Boutique à l'Essai") for t in titles) == 1, titles
    link = first.locator(".versions a")
    href = sites["api"] + f"/fiches/{OLD_VERSION}"
    assert link.get_attribute("href") == href and link.get_attribute("tabindex") == "-1"
    with browser_context.expect_page() as opened:
        link.click()  # the other version's page, not the result's
    opened.value.wait_for_load_state()
    assert opened.value.url == href
    expect(opened.value.locator(".notice.version")).to_contain_text("Une version plus récente de ce document existe")
    opened.value.close()
    assert page.errors == []


def test_ask_shows_an_answer_whose_markers_match_the_sources(page, sites):
    page.goto(sites["host"] + "/index.html")
    _combobox(page).fill(QUESTION)
    page.get_by_role("button", name="Poser la question").click()

    expect(page.get_by_role("heading", name="Réponse")).to_be_focused()
    answer = page.locator("#passerelles .answer")
    text = "\n".join(answer.locator(".atext").all_text_contents())  # the folded blocks' too
    expect(answer.locator(".block").first.locator("summary")).to_contain_text("Un transport solidaire")
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    sources = {
        int(n) for n in answer.locator(".sources li[data-n]").evaluate_all("items => items.map(i => i.dataset.n)")
    }
    assert markers and markers == sources
    for cite in answer.locator(".atext .cite").all():
        n = cite.get_attribute("data-n")
        source = answer.locator(f".sources li[data-n='{n}']")
        expect(source.locator(".num")).to_have_text(f"[{n}]")
        assert cite.get_attribute("href") == source.locator("a").first.get_attribute("href")
    expect(answer.locator(".sources li").first).to_contain_text("Un transport solidaire")
    expect(answer.get_by_role("heading", name="Structures à contacter")).to_be_visible()
    mail = answer.locator(".contacts a[href='mailto:contact@roule-ensemble.example']")
    expect(mail).to_have_text("contact@roule-ensemble.example")
    expect(_status(page)).to_have_text("Réponse prête.")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#passerelles").screenshot(path=str(ARTIFACTS / "widget-answer.png"))
    assert page.errors == []


def test_a_written_answer_streams_into_the_widget_then_is_replaced_by_the_checked_one(
    page, sites, llm_stub, monkeypatch
):
    """With a language model (the stub process, streaming a word every 0.1 s), the text shows
    as it is written, then the checked answer and its sources replace it."""
    from services.generation import Generator

    kb = sites["app"].state.holder.kb
    llm = kb.index.settings.model_copy(update={"llm_url": llm_stub, "llm_model": "lent"})
    monkeypatch.setattr(kb, "generator", Generator.from_settings(llm, kb.index))
    page.goto(sites["host"] + "/index.html")
    _combobox(page).fill(QUESTION)
    page.get_by_role("button", name="Poser la question").click()
    answer = page.locator("#passerelles .answer")
    expect(answer.locator(".atext.live")).to_be_visible()  # the words as they arrive
    expect(page.get_by_role("heading", name="Réponse")).to_be_focused()
    text = answer.locator(".atext").first.inner_text()
    assert "[" in text and answer.locator(".atext.live").count() == 0
    for cite in answer.locator(".atext").first.locator(".cite").all():
        assert answer.locator(f".sources li[data-n='{cite.get_attribute('data-n')}']").count() == 1
    expect(answer.locator(".block").first).to_be_visible()
    assert page.errors == []


def test_after_an_answer_the_results_stay_reachable_and_sources_open_the_pages(page, sites):
    page.goto(sites["host"] + "/index.html")
    _combobox(page).press_sequentially("chauffeurs bénévoles", delay=30)
    expect(_options(page).first).to_be_visible()
    page.get_by_role("button", name="Poser la question").click()
    answer = page.locator("#passerelles .answer")
    expect(answer.locator(".sources li").first).to_be_visible()
    assert "/fiches/" in answer.locator(".sources a").first.get_attribute("href")
    assert "#passage-" in answer.locator(".sources li[data-n] a").first.get_attribute("href")
    expect(_options(page).first).to_be_hidden()
    page.get_by_role("button", name="Revoir les résultats").click()
    expect(_options(page).first).to_be_visible()
    expect(_combobox(page)).to_have_attribute("aria-expanded", "true")


def test_ask_without_evidence_says_so_and_lists_the_nearest(page, sites, monkeypatch):
    monkeypatch.setattr(
        sites["app"].state.holder.kb.answerer,
        "params",
        replace(sites["app"].state.holder.kb.answerer.params, min_score=9.0),
    )
    page.goto(sites["host"] + "/index.html")
    _combobox(page).fill("élevage de chèvres au village")
    _combobox(page).press("Enter")  # no result chosen: Enter asks
    answer = page.locator("#passerelles .answer")
    expect(answer.locator(".atext").first).to_contain_text("La base ne contient pas de document")
    expect(answer.get_by_role("heading", name="Documents les plus proches")).to_be_visible()
    expect(answer.locator(".refs li").first).to_be_visible()
    expect(answer.locator(".sources")).to_have_count(0)


def test_a_misspelt_query_says_what_was_searched_and_can_be_searched_as_typed(page, sites):
    searches = []
    page.on("request", lambda r: searches.append(unquote(r.url)) if "/search?" in r.url else None)
    page.goto(sites["host"] + "/index.html")
    _combobox(page).fill("covoitturage")
    fix = page.locator("#passerelles .fix")
    expect(fix).to_have_text("Résultats pour « covoiturage » — rechercher plutôt « covoitturage »")
    expect(_options(page).first.locator(".title")).to_have_text(XSS_TITLE)  # the covoiturage fiche
    fix.get_by_role("button", name="« covoitturage »").click()
    expect(fix).to_be_hidden()
    assert "spelling=false" in searches[-1] and "q=covoitturage" in searches[-1]
    expect(_combobox(page)).to_be_focused()
    _combobox(page).press_sequentially(" solidaire", delay=20)  # a new query is corrected again
    expect(fix).to_contain_text("Résultats pour « covoiturage solidaire »")
    assert page.errors == []


def test_a_misspelt_question_says_what_was_asked_and_can_be_asked_as_typed(page, sites):
    bodies = []
    page.on("request", lambda r: bodies.append(r.post_data_json) if "/ask/stream" in r.url else None)
    page.goto(sites["host"] + "/index.html")
    _combobox(page).fill("covoitturage")
    page.get_by_role("button", name="Poser la question").click()
    fix = page.locator("#passerelles .answer .fix")
    expect(fix).to_have_text("Réponse pour « covoiturage » — demander plutôt « covoitturage »")
    assert "spelling" not in bodies[-1]
    fix.get_by_role("button", name="« covoitturage »").click()
    expect(page.locator("#passerelles .answer .fix")).to_have_count(0)
    assert bodies[-1] == {"question": "covoitturage", "spelling": False}
    assert page.errors == []


def test_below_the_floor_the_nearest_documents_are_listed_under_their_heading(page, sites, monkeypatch):
    evidence = sites["app"].state.holder.kb.evidence  # the floor as resolved for the index's model
    monkeypatch.setattr(evidence, "params", replace(evidence.params, search_floor=9.0))
    page.goto(sites["host"] + "/index.html")
    _combobox(page).fill("fibre optique dans les villages")
    near = page.locator("#passerelles .near")
    expect(near).to_have_text("Les documents les plus proches, à vérifier")
    expect(near).to_be_visible()
    count = _options(page).count()
    assert 1 <= count <= 5
    expect(_status(page)).to_have_text(
        f"{count} document{'s' if count > 1 else ''} proche{'s' if count > 1 else ''}, à vérifier."
    )
    expect(page.get_by_role("listbox", name="Les documents les plus proches, à vérifier")).to_be_visible()
    _combobox(page).fill("chauffeurs bénévoles")  # every word in the best document: answered
    expect(near).to_be_hidden()
    expect(_status(page)).to_contain_text("trouvé")


def _focused(page) -> dict:
    return _in_widget(
        page,
        "root => { const e = root.activeElement; if (!e) return {}; const s = getComputedStyle(e);"
        " return {tag: e.tagName, role: e.getAttribute('role'), text: e.textContent,"
        " visible: e.matches(':focus-visible') || e.tagName === 'INPUT',"
        " outline: s.outlineStyle, width: parseFloat(s.outlineWidth)} }",
    )


def test_keyboard_only(page, sites, browser_context):
    page.goto(sites["host"] + "/index.html")
    keyboard = page.keyboard
    keyboard.press("Tab")
    focus = _focused(page)
    assert focus["role"] == "combobox" and focus["outline"] != "none" and focus["width"] >= 2

    keyboard.type("transport solidaire", delay=20)
    combobox = _combobox(page)
    expect(_options(page).first).to_be_visible()
    count = _options(page).count()
    assert count >= 2

    keyboard.press("ArrowDown")
    first_id = _options(page).nth(0).get_attribute("id")
    expect(combobox).to_have_attribute("aria-activedescendant", first_id)
    expect(_options(page).nth(0)).to_have_attribute("aria-selected", "true")
    assert _options(page).nth(0).evaluate("o => getComputedStyle(o).borderTopWidth") == "2px"
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#passerelles").screenshot(path=str(ARTIFACTS / "widget-keyboard.png"))
    keyboard.press("ArrowDown")
    expect(combobox).to_have_attribute("aria-activedescendant", _options(page).nth(1).get_attribute("id"))
    expect(_options(page).nth(0)).to_have_attribute("aria-selected", "false")
    keyboard.press("ArrowUp")
    expect(combobox).to_have_attribute("aria-activedescendant", first_id)

    keyboard.press("Escape")
    expect(combobox).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#passerelles [role=listbox]")).to_be_hidden()
    assert combobox.get_attribute("aria-activedescendant") is None

    keyboard.press("ArrowDown")  # reopens on the first result
    expect(combobox).to_have_attribute("aria-activedescendant", first_id)
    href = _options(page).nth(0).locator("a").get_attribute("href")
    with browser_context.expect_page() as opened:
        keyboard.press("Enter")
    document_page = opened.value
    document_page.wait_for_load_state()
    assert document_page.url == href
    document_page.close()

    keyboard.press("Tab")
    focus = _focused(page)
    assert focus["text"] == "Poser la question" and focus["visible"] and focus["outline"] != "none"
    keyboard.press("Tab")
    assert _focused(page)["tag"] == "SELECT"
    with page.expect_response(lambda r: "type=fiche" in unquote(r.url).replace("+", " ")):
        keyboard.press("ArrowDown")  # first type: fiche expérience
    expect(page.get_by_label("Type")).to_have_value("fiche expérience")
    badges = page.locator("#passerelles .badge")
    expect(badges.filter(has_not_text="fiche expérience")).to_have_count(0)
    expect(badges).not_to_have_count(0)

    keyboard.press("Shift+Tab")
    keyboard.press("Enter")
    heading = page.get_by_role("heading", name="Réponse")
    expect(heading).to_be_focused()
    keyboard.press("Escape")  # closes the answer, back to the search field
    expect(heading).to_have_count(0)
    expect(combobox).to_be_focused()
    keyboard.press("Escape")  # then clears the field
    expect(combobox).to_have_value("")
    assert page.errors == []


def test_a_title_made_of_html_renders_as_text(page, sites):
    page.goto(sites["host"] + "/index.html")
    _combobox(page).fill("covoiturage des saisonniers agricoles")
    title = page.locator("#passerelles [role=option] .title").first
    expect(title).to_have_text(XSS_TITLE)
    expect(page.locator("#passerelles [role=option]").first).to_contain_text("onerror=alert(2)")
    page.get_by_role("button", name="Poser la question").click()
    expect(page.get_by_role("heading", name="Réponse")).to_be_visible()
    expect(page.locator("#passerelles .answer a", has_text=XSS_TITLE).first).to_be_visible()
    page.wait_for_timeout(500)
    assert _in_widget(page, "root => root.querySelectorAll('img, script:not([src])').length") == 0
    assert page.dialogs == [] and page.errors == []


def test_results_follow_the_filters_and_say_when_nothing_is_found(page, sites):
    page.goto(sites["host"] + "/filtered.html")
    combobox = page.get_by_role("combobox", name="Rechercher dans Passerelles")
    expect(combobox).to_have_attribute("placeholder", "Chercher une fiche expérience")
    expect(page.get_by_label("Type")).to_have_value("fiche expérience")
    expect(page.get_by_label("Secteur")).to_have_value("action sociale")
    assert (
        page.get_by_role("button", name="Poser la question").evaluate("b => getComputedStyle(b).backgroundColor")
        == "rgb(170, 0, 0)"
    )
    combobox.fill("transport")
    expect(_options(page)).to_have_count(1)
    expect(_options(page).first.locator(".title")).to_have_text("Un transport solidaire avec des chauffeurs bénévoles")

    page.get_by_label("Secteur").select_option("")
    page.get_by_label("Type").select_option("veille")
    expect(_status(page)).to_have_text(
        "Aucun document ne correspond à « transport ». Essayez d'autres mots ou retirez un filtre."
    )
    expect(_options(page)).to_have_count(0)
    expect(combobox).to_have_attribute("aria-expanded", "false")


def test_stale_responses_are_ignored(page, sites):
    page.goto(sites["host"] + "/index.html")
    combobox = _combobox(page)
    with page.expect_request(lambda r: SLOW_MARKER in unquote(r.url)):
        combobox.fill(f"{SLOW_MARKER} chauffeurs bénévoles")
    combobox.fill("épicerie coopérative")
    title = _options(page).first.locator(".title")
    expect(title).to_have_text("Rouvrir une épicerie de village en coopérative")
    page.wait_for_timeout(2000)  # the slow answer would have arrived by now
    expect(title).to_have_text("Rouvrir une épicerie de village en coopérative")


def test_a_site_that_is_not_allowed_is_refused(page, sites):
    page.goto(sites["stranger"] + "/index.html")
    direct = page.evaluate("api => fetch(api + '/search?q=transport').then(() => 'lu', () => 'refusé')", sites["api"])
    assert direct == "refusé"
    _combobox(page).fill("transport solidaire")
    expect(_status(page)).to_have_text(re.compile("n'est pas autorisée sur ce site"))
    expect(_options(page)).to_have_count(0)


def test_api_down_gives_a_french_message(page, sites):
    page.goto(sites["host"] + "/down.html")
    _combobox(page).fill("transport solidaire")
    expect(_status(page)).to_have_text(re.compile("^Le service Passerelles est injoignable"))
    page.get_by_role("button", name="Poser la question").click()
    expect(_status(page)).to_have_text(re.compile("^Le service Passerelles est injoignable"))
    expect(page.locator("#passerelles .answer")).to_be_hidden()


def test_usable_on_a_360_pixel_screen(page, sites):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(sites["host"] + "/plain.html")
    _combobox(page).fill("chauffeurs bénévoles")
    expect(_options(page).first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for control in (
        _combobox(page),
        page.get_by_role("button", name="Poser la question"),
        page.get_by_label("Secteur"),
        _options(page).first,
    ):
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-360.png"), full_page=True)


def test_a_light_accent_keeps_its_button_text_readable(page, sites):
    page.goto(sites["host"] + "/light.html")
    colours = _in_widget(
        page, "root => { const s = getComputedStyle(root.querySelector('.ask')); return [s.backgroundColor, s.color] }"
    )
    assert colours[0] == "rgb(168, 224, 99)" and colours[1] == "rgb(26, 26, 26)"


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(v) for v in re.findall(r"\d+", css)[:3])


def _contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two computed ``rgb(…)`` colours."""

    def luminance(css: str) -> float:
        c = [v / 255 for v in _rgb(css)]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# the colours the accent paints with: text (titles, badges, the answer's links) and the focus ring
ACCENT_USES = """root => {
  const colour = (selector, property) => getComputedStyle(root.querySelector(selector))[property];
  return {background: colour('.pw', 'backgroundColor'), title: colour('.title', 'color'),
          badge: colour('.badge', 'color'), badgeBorder: colour('.badge', 'borderTopColor'),
          focus: colour('input', 'outlineColor'),
          selected: colour('[role=option][aria-selected=true]', 'borderTopColor')};
}"""


def _contrast_violations(page) -> tuple[list, int]:
    """axe-core's colour-contrast violations inside the widget, and how many of its elements
    (in the shadow root: targets given as a list of selectors) the rule checked and passed."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context="#passerelles", options={"runOnly": ["color-contrast"]}).response
    violations = [(v["id"], [n["target"] for n in v["nodes"]][:5]) for v in results["violations"]]
    checked = sum(isinstance(n["target"][0], list) for v in results["passes"] for n in v["nodes"])
    return violations, checked


@pytest.mark.parametrize(("name", "accent"), [("light.html", "rgb(168, 224, 99)"), ("pale.html", "rgb(255, 243, 160)")])
def test_a_light_accent_keeps_titles_badges_and_the_focus_ring_readable(page, sites, name, accent):
    page.goto(sites["host"] + "/" + name)
    _combobox(page).press_sequentially("chauffeurs bénévoles", delay=30)
    expect(_options(page).first.locator(".badge")).to_be_visible()
    page.keyboard.press("ArrowDown")  # a selected result: greyer background, border in the focus colour
    expect(_options(page).first).to_have_attribute("aria-selected", "true")
    uses = _in_widget(page, ACCENT_USES)
    assert uses["badgeBorder"] == accent  # decoration keeps the site's colour
    assert uses["title"] == uses["badge"] != accent
    assert _contrast(uses["title"], uses["background"]) >= 4.5
    assert uses["focus"] == uses["selected"] and _contrast(uses["focus"], uses["background"]) >= 3
    violations, checked = _contrast_violations(page)
    assert violations == [] and checked >= 5, (violations, checked)
    ARTIFACTS.mkdir(exist_ok=True)
    slug = name.removesuffix(".html")
    page.locator("#passerelles").screenshot(path=str(ARTIFACTS / f"widget-accent-{slug}-results.png"))

    page.get_by_role("button", name="Poser la question").click()
    expect(page.get_by_role("heading", name="Réponse")).to_be_focused()
    expect(page.locator("#passerelles .answer .sources li").first).to_be_visible()
    page.locator("#passerelles .answer .block summary").first.click()  # an opened block's links too
    violations, checked = _contrast_violations(page)
    assert violations == [] and checked >= 5, (violations, checked)
    page.locator("#passerelles").screenshot(path=str(ARTIFACTS / f"widget-accent-{slug}-answer.png"))
    assert page.errors == []


def test_the_default_accent_and_a_site_s_own_link_colour_are_kept(page, sites):
    page.goto(sites["host"] + "/plain.html")
    _combobox(page).fill("chauffeurs bénévoles")
    expect(_options(page).first.locator(".badge")).to_be_visible()
    page.keyboard.press("ArrowDown")
    uses = _in_widget(page, ACCENT_USES)
    default = "rgb(29, 92, 143)"  # #1d5c8f reads on white: nothing is derived from it
    assert uses["title"] == uses["badge"] == uses["badgeBorder"] == uses["focus"] == uses["selected"] == default
    assert page.evaluate("document.querySelector('#passerelles').getAttribute('style')") is None

    # the site's --passerelles-link and --passerelles-focus win over the derived colours
    page.goto(sites["host"] + "/light.html")
    page.evaluate(
        "() => { const host = document.querySelector('#passerelles');"
        " host.style.setProperty('--passerelles-link', '#123456');"
        " host.style.setProperty('--passerelles-focus', '#654321') }"
    )
    _combobox(page).fill("chauffeurs bénévoles")
    expect(_options(page).first.locator(".badge")).to_be_visible()
    page.keyboard.press("ArrowDown")
    uses = _in_widget(page, ACCENT_USES)
    assert uses["title"] == uses["badge"] == "rgb(18, 52, 86)"
    assert uses["focus"] == uses["selected"] == "rgb(101, 67, 33)"


def test_demo_page_embeds_the_widget(page, sites):
    page.goto(sites["api"] + "/demo")
    expect(page.get_by_role("heading", name="Centre de ressources")).to_be_visible()
    _combobox(page).fill("épicerie de village")
    expect(_options(page).first.locator(".title")).to_have_text("Rouvrir une épicerie de village en coopérative")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo.png"), full_page=True)
    assert page.errors == []
