"""Feedback buttons (widget on a partner page, site results page) and the coordinator's
dashboard in Debian's Chromium, with an axe-core check of each."""

from __future__ import annotations

import functools
import sqlite3
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.servers import CHROMIUM, CHROMIUM_ARGS, serve_in_thread

ROOT = Path(__file__).parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini-corpus"
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="browser tests need Debian's Chromium at /usr/bin/chromium"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
expect = playwright_api.expect

HOST_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Site partenaire</title></head>
<body><main><h1>Site partenaire</h1><div id="passerelles"></div>
<script src="{api}/widget.js" data-api="{api}" async></script></main></body></html>"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def world(tmp_path_factory, e5_embedder):
    """The API (real server) and a partner site on another origin that embeds the widget."""
    tmp = tmp_path_factory.mktemp("questions-browser")
    pages = tmp / "pages"
    pages.mkdir()
    host = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(pages)))
    threading.Thread(target=host.serve_forever, daemon=True).start()
    host_origin = f"http://127.0.0.1:{host.server_address[1]}"
    settings = Settings(data_dir=tmp / "data", allowed_origins=[host_origin])
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    app = app_over(settings, e5_embedder, ingest=[MINI])
    with serve_in_thread(app) as api, playwright_api.sync_playwright() as playwright:
        (pages / "index.html").write_text(HOST_PAGE.format(api=api), encoding="utf-8")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
        expect.set_options(timeout=30_000)
        yield {"api": api, "host": host_origin, "key": key, "settings": settings, "context": context}
        browser.close()
    host.shutdown()
    host.server_close()


def serious_violations(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def rows(settings: Settings, sql: str) -> list[tuple]:
    with sqlite3.connect(settings.data_dir / "questions.sqlite") as db:
        return db.execute(sql).fetchall()


def test_the_widget_asks_for_feedback_under_its_answer(world):
    page = world["context"].new_page()
    page.goto(world["host"] + "/index.html")
    question = "comment organiser un transport solidaire avec des bénévoles ?"
    page.get_by_role("combobox", name="Rechercher dans Passerelles").fill(question)
    page.get_by_role("button", name="Poser la question").click()
    group = page.get_by_role("group", name="Cette réponse vous a-t-elle aidé ?")
    expect(group).to_be_visible()
    group.get_by_label("Un commentaire (facultatif)").fill("Il manque les assurances des chauffeurs.")
    assert serious_violations(page) == []
    group.get_by_role("button", name="Non").click()
    expect(page.locator("#passerelles .fbdone")).to_have_text("Merci pour votre retour.")
    page.locator("#passerelles").screenshot(path=str(ARTIFACTS / "widget-avis.png"))
    page.close()
    assert ("question", question, "widget") in rows(world["settings"], "SELECT kind, question, channel FROM questions")
    assert rows(
        world["settings"], "SELECT question, useful, comment, channel FROM feedback WHERE channel = 'widget'"
    ) == [(question, 0, "Il manque les assurances des chauffeurs.", "widget")]


def test_the_site_results_page_takes_feedback_without_script(world):
    page = world["context"].new_page()
    page.goto(world["api"] + "/recherche?q=%C3%A9picerie+solidaire&question=1")
    form = page.locator("#avis")
    expect(form.get_by_role("heading", name="Cette réponse vous a-t-elle aidé ?")).to_be_visible()
    assert serious_violations(page) == []
    form.get_by_label("Un commentaire (facultatif)").fill("Très utile, merci.")
    form.get_by_role("button", name="Oui").click()
    page.wait_for_url("**avis=merci*")
    expect(page.locator("#avis [role=status]")).to_have_text("Merci pour votre retour.")
    assert page.locator("#avis form").count() == 0
    page.close()
    assert rows(world["settings"], "SELECT question, useful, comment FROM feedback WHERE channel = 'site'") == [
        ("épicerie solidaire", 1, "Très utile, merci.")
    ]


def test_the_dashboard_shows_what_practitioners_ask(world):
    api = world["api"]
    for question in [
        "garde d'enfants en horaires décalés",
        "garde d'enfant en horaire décalé",
        "faire garder ses enfants tard le soir",
        "épicerie solidaire",
    ]:
        httpx.post(api + "/ask", json={"question": question}, timeout=60)
    page = world["context"].new_page()
    page.goto(api + "/coordination")
    page.fill("#api-key", world["key"])
    page.dispatch_event("#api-key", "change")
    page.locator("#tdb-show").click()
    expect(page.locator("#tdb-status")).to_have_text("Tableau de bord à jour.")
    frequent = page.get_by_role("table", name="Questions les plus fréquentes")
    expect(frequent.locator("tbody tr").first).to_be_visible()
    groups = page.locator("#tdb-groups .tdb-group")
    expect(groups.first).to_contain_text("garde d'enfant")
    assert page.locator("#tdb-weekly svg rect").count() >= 2
    expect(page.get_by_role("img", name="Questions et questions sans réponse par semaine")).to_be_visible()
    expect(page.locator("#tdb-coverage caption")).to_have_text("Documents par thème et par secteur")
    assert page.locator("#tdb-coverage td.thin0").count() > 0
    assert serious_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "coordination-tableau-de-bord.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger le CSV").click()
    content = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    assert content.splitlines()[0] == "date;type;question;filtres;trouvé;documents;canal"
    assert "garde d'enfants en horaires décalés" in content
    page.close()


def test_the_dashboard_says_when_the_key_is_wrong(world):
    page = world["context"].new_page()
    page.goto(world["api"] + "/coordination")
    page.fill("#api-key", "psl_mauvaise")
    page.dispatch_event("#api-key", "change")
    page.locator("#tdb-show").click()
    expect(page.locator("#tdb-status")).to_contain_text("Clé d'accès invalide ou révoquée")
    page.close()
