"""The answer's layout, without a browser: the short answer of /ask, the page's folded blocks,
one source entry per document, the nearest documents when nothing answers, escaping."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from api.schemas import AskResponse
from kb.core.settings import Settings
from tests.apps import app_over

ROOT = Path(__file__).parents[2]
CORPUS = ROOT / "corpus"
# four documents on volunteer transport: one answer of four blocks, with several citations each
TRANSPORT = [
    CORPUS / "questions-reponses" / "qr-transport-solidaire-assurance-indemnites.md",
    CORPUS / "experiences" / "exp-transport-solidaire-familles-rurales-lizon.md",
    CORPUS / "comptes-rendus" / "cr-asdl-seance-3-mobilite-alimentation.md",
    CORPUS / "experiences" / "exp-garage-solidaire-roue-libre-brevenne.md",
]
QUESTION = (
    "Qui a déjà fait un transport solidaire avec des chauffeurs bénévoles, et combien paie la personne transportée ?"
)
HOSTILE_QUESTION = "navette des marchés du samedi pour les hameaux"
HOSTILE = """---
id: fiche-navette
title: 'Navette des marchés <img src=x onerror=alert(1)>'
doc_type: fiche expérience
sector: développement local
themes: [mobilité]
territory: "Communauté de communes du Val Fleuri (Drôme)"
---
# Navette des marchés

## Contexte

La navette des marchés <img src=y onerror=alert(2)> emmène chaque samedi les habitants des hameaux vers le
marché du bourg. <script>alert(3)</script> Les chauffeurs de la navette sont des retraités bénévoles du club
des aînés.
"""


@pytest.fixture(scope="module")
def layout(tmp_path_factory, e5_embedder, mini_index):
    root = tmp_path_factory.mktemp("answer-layout")
    extra = root / "extra"
    extra.mkdir()
    (extra / "fiche-navette.md").write_text(HOSTILE, encoding="utf-8")
    settings = Settings(data_dir=root / "data", answer_min_score=0.8)
    app = app_over(settings, e5_embedder, ingest=[*TRANSPORT, extra], index=mini_index)
    with TestClient(app) as client:
        yield client, app


@pytest.fixture
def nothing_answers(layout, monkeypatch):
    """The evidence threshold out of reach: every question gets "nothing found"."""
    kb = layout[1].state.holder.kb
    monkeypatch.setattr(kb.answerer, "params", replace(kb.answerer.params, min_score=9.0))


def _letters(text: str) -> str:
    return re.sub(r"\W", "", text)


def _answer_section(html: str) -> str:
    return re.search(r'<section class="answer".*?</section>', html, re.DOTALL).group(0)


def test_ask_gives_two_or_three_cited_sentences_to_read_first(layout, monkeypatch):
    client, _ = layout
    answerer = client.app.state.holder.kb.answerer
    # every document near the top gets a block: the short answer is drawn from several
    monkeypatch.setattr(answerer, "params", replace(answerer.params, block_gap=1.0, block_match_ratio=0.0))
    body = client.post("/ask", json={"question": QUESTION}).json()
    AskResponse.model_validate(body)
    assert body["found"] and len(body["sources"]) >= 2
    summary = body["summary"]
    assert 2 <= len(summary) <= 3
    quotes = {c["n"]: c["quote"] for c in body["citations"]}
    quoted = {(s["text"], s["n"]) for source in body["sources"] for s in source["sentences"]}
    for sentence in summary:
        assert (sentence["text"], sentence["n"]) in quoted  # a sentence a block quotes, with its [n]
        assert _letters(sentence["text"]) in _letters(quotes[sentence["n"]])  # the quote holds it
    assert summary[0] == body["sources"][0]["sentences"][0]  # the best-ranked document speaks first


def test_the_openapi_document_describes_the_short_answer(layout):
    client, _ = layout
    schema = client.get("/openapi.json").json()["components"]["schemas"]["AskResponse"]["properties"]
    assert "réponse courte" in schema["summary"]["description"]
    assert "plus proches" in schema["nearest"]["description"]


def test_the_page_gives_the_short_answer_then_the_blocks_folded(layout):
    client, _ = layout
    body = client.post("/ask", json={"question": QUESTION}).json()
    html = client.get("/recherche", params={"q": QUESTION, "question": "1"}).text
    section = _answer_section(html)
    short = re.search(r'<p class="short">(.*?)</p>', section, re.DOTALL)
    assert short and section.index('<p class="short">') < section.index('<h3 id="detail">')
    assert [int(n) for n in re.findall(r'href="#source-(\d+)"', short.group(1))] == [s["n"] for s in body["summary"]]
    details = re.findall(r"<details(?: open)?>", section)
    assert len(details) == len(body["sources"]) and "<details open>" not in details  # closed
    for number, source in enumerate(body["sources"], 1):
        summary = re.search(
            rf'<summary><span class="block-title" id="bloc-{number}">(.*?)</summary>', section, re.DOTALL
        )
        assert summary and str(escape(source["title"])) in summary.group(1) and source["doc_type"] in summary.group(1)
    assert 'aria-labelledby="bloc-1"' in section


def test_the_sources_are_one_entry_per_document_and_every_marker_finds_its_anchor(layout):
    client, _ = layout
    body = client.post("/ask", json={"question": QUESTION}).json()
    html = client.get("/recherche", params={"q": QUESTION, "question": "1"}).text
    section = _answer_section(html)
    sources = section.split('<h3 id="sources">Sources</h3>')[1].split("<h3")[0]
    entries = re.findall(r'<li><a href="([^"]+)">([^<]+)</a>\s*<ul class="cited">', sources)
    documents = list(dict.fromkeys(c["doc_id"] for c in body["citations"]))
    assert len(body["citations"]) > len(documents)  # some documents are cited several times
    assert [href for href, _ in entries] == [f"/fiches/{doc_id}" for doc_id in documents]
    assert len({title for _, title in entries}) == len(entries)  # no title twice
    assert [title for _, title in entries] == [str(escape(c["title"])) for c in _firsts(body["citations"])]
    for citation in body["citations"]:
        anchor = re.search(rf'<li id="source-{citation["n"]}"><a href="([^"]+)">', sources)
        assert anchor and anchor.group(1) == citation["url"]  # the passage, on its document's page
    for n in set(re.findall(r'class="cite" href="#source-(\d+)"', section)):
        assert section.count(f'id="source-{n}"') == 1


def _firsts(citations: list[dict]) -> list[dict]:
    """The first citation of each document, in order."""
    firsts: dict[str, dict] = {}
    for citation in citations:
        firsts.setdefault(citation["doc_id"], citation)
    return list(firsts.values())


def test_nothing_found_lists_the_nearest_documents_as_links(layout, nothing_answers):
    """A question the search lists documents for, but that the answer's evidence does not reach."""
    client, _ = layout
    body = client.post("/ask", json={"question": QUESTION}).json()
    assert not body["found"] and 1 <= len(body["nearest"]) <= 3
    html = client.get("/recherche", params={"q": QUESTION, "question": "1"}).text
    section = _answer_section(html)
    assert "Les documents les plus proches, à vérifier</h3>" in section
    links = re.findall(r'<li><a href="([^"]+)">', re.search(r'<ul class="nearest">(.*?)</ul>', section).group(1))
    assert links == [d["url"] for d in body["nearest"]]
    assert "Documents les plus proches, à vérifier :" not in section  # listed once, as links


def test_document_text_is_escaped_in_the_short_answer_and_the_folded_blocks(layout):
    client, _ = layout
    body = client.post("/ask", json={"question": HOSTILE_QUESTION}).json()
    assert "<img src=y" in body["summary"][0]["text"]
    section = _answer_section(client.get("/recherche", params={"q": HOSTILE_QUESTION, "question": "1"}).text)
    assert "&lt;img src=y onerror=alert(2)&gt;" in section and "&lt;script&gt;" in section
    assert "<img" not in section and "<script>" not in section


def test_nearest_titles_are_escaped(layout, nothing_answers):
    client, _ = layout
    section = _answer_section(client.get("/recherche", params={"q": HOSTILE_QUESTION, "question": "1"}).text)
    assert "Navette des marchés &lt;img src=x onerror=alert(1)&gt;" in section
    assert "<img" not in section
