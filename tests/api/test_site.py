"""The practitioners' site through HTTP, on a small committed corpus with the real model."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import replace
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from services.site import PER_PAGE, Site
from tests.apps import app_over

ROOT = Path(__file__).parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini-corpus"
PDF = ROOT / "tests" / "fixtures" / "docs" / "deux-pages.pdf"
DIRECTORY = sorted((ROOT / "corpus" / "annuaire").glob("*.md"))[:9]
HOSTILE = """---
id: fiche-piegee
title: "Une fiche <script>alert('titre')</script> piégée"
doc_type: fiche méthode
sector: transversal
themes: [sécurité]
---
# Une fiche piégée

Un paragraphe <script>alert('corps')</script> avec une image <img src=x onerror=alert(1)>.

Un [lien piégé](javascript:alert(2)) et un dessin <svg onload=alert(3)><circle r="4"/></svg>.

<iframe src="https://ailleurs.example"></iframe>
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, e5_embedder):
    root = tmp_path_factory.mktemp("site")
    extra = root / "extra"
    extra.mkdir()
    (extra / "fiche-piegee.md").write_text(HOSTILE, encoding="utf-8")
    settings = Settings(data_dir=root / "data", answer_min_score=0.8)
    app = app_over(settings, e5_embedder, ingest=[MINI, PDF, *DIRECTORY, extra])
    with TestClient(app) as client:
        yield client, settings


def test_home_shows_the_base_and_its_entry_points(site):
    client, _ = site
    response = client.get("/")
    assert response.status_code == 200 and '<html lang="fr">' in response.text
    assert "<title>Accueil — Passerelles</title>" in response.text
    assert 'href="/annuaire"' in response.text and 'href="/recherche?type=annuaire"' in response.text
    assert "Un transport solidaire avec des chauffeurs bénévoles" in response.text


def test_results_highlight_the_matched_terms_and_stay_on_subject(site):
    client, _ = site
    page = client.get("/recherche", params={"q": "chauffeurs bénévoles"}).text
    assert re.search(r'<a href="/fiches/exp-transport-solidaire">', page)
    assert "<mark>chauffeurs</mark>" in page
    count = int(re.search(r'<h2 id="resultats">(\d+) document', page).group(1))
    assert count <= PER_PAGE, "a query's page lists the documents that answer, not the whole base"


def test_a_misspelt_query_is_searched_corrected_with_a_link_to_search_it_as_typed(site):
    client, _ = site
    page = client.get("/recherche", params={"q": "tranport solidaire"}).text
    exact = "/recherche?q=tranport+solidaire&amp;orthographe=exacte"
    assert (
        '<p class="correction">Résultats pour « <strong>transport solidaire</strong> » — rechercher plutôt '
        f'<a href="{exact}">« tranport solidaire »</a></p>'
    ) in page
    assert re.search(r'<a href="/fiches/exp-transport-solidaire">', page)
    typed = client.get(exact.replace("&amp;", "&")).text
    assert 'class="correction"' not in typed and "Recherche : « tranport solidaire »" in typed
    assert '<input type="hidden" name="orthographe" value="exacte">' in typed  # the filters keep it
    assert 'class="correction"' not in client.get("/recherche", params={"q": "transport solidaire"}).text


def test_below_the_floor_the_nearest_documents_are_listed_and_said_to_be(site, monkeypatch):
    client, _ = site
    evidence = client.app.state.holder.kb.evidence  # the floor as resolved for the index's model
    monkeypatch.setattr(evidence, "params", replace(evidence.params, search_floor=9.0))
    page = client.get("/recherche", params={"q": "fibre optique dans les villages"}).text
    count = int(re.search(r'<h2 id="resultats">(\d+) documents? proches?, à vérifier</h2>', page).group(1))
    assert 1 <= count <= 5 and len(re.findall(r'<li class="card">', page)) == count
    assert "Les documents les plus proches, à vérifier" in page
    confident = client.get("/recherche", params={"q": "chauffeurs bénévoles"}).text
    assert re.search(r'<h2 id="resultats">\d+ documents?</h2>', confident)
    assert "à vérifier" not in confident.split('id="resultats"')[1].split("</h2>")[0]
    nothing = client.get("/recherche", params={"q": "xqzw"}).text
    assert '<h2 id="resultats">Aucun document</h2>' in nothing and "Aucun document ne correspond" in nothing


def test_facet_counts_match_the_documents_listed(site):
    client, _ = site
    kb = client.app.state.holder.kb
    everything = Site(kb).results("", {}, 1, ask=False)
    total = everything["total"]
    for facet in everything["facets"]:
        for choice in facet["choices"]:
            narrowed = Site(kb).results("", {facet["name"]: [choice.value]}, 1, ask=False)
            assert narrowed["total"] == choice.count, (facet["name"], choice.value)
    assert total == 15
    page = client.get("/recherche", params={"type": "annuaire"}).text
    assert re.search(r"annuaire <span class=\"count\">(\d+)</span>", page).group(1) == str(
        Site(kb).results("", {"type": ["annuaire"]}, 1, ask=False)["total"]
    )


def test_the_catalogue_pages_beyond_the_first(site):
    client, _ = site
    first = client.get("/recherche").text
    second = client.get("/recherche", params={"page": 2}).text
    titles = lambda html: re.findall(r'<li class="card">\s*<h3><a href="([^"]+)"', html)  # noqa: E731
    assert len(titles(first)) == PER_PAGE and titles(second) and not set(titles(first)) & set(titles(second))
    assert 'aria-current="page" href="/recherche?q=&amp;page=2"' in second


def test_asking_shows_the_cited_answer_and_its_anchors_exist(site):
    client, _ = site
    answer = client.post("/ask", json={"question": "comment monter un transport solidaire avec des bénévoles ?"}).json()
    assert answer["found"]
    for citation in answer["citations"]:
        page, _, anchor = citation["url"].partition("#")
        assert page == f"/fiches/{citation['doc_id']}" and anchor.startswith("passage-")
        assert f'id="{anchor}"' in client.get(page).text
    html = client.get("/recherche", params={"q": "transport solidaire bénévoles", "question": "1"}).text
    assert '<h2 id="reponse">Réponse</h2>' in html and "#passage-" in html
    # the digest: the lead, one block per source whose [n] links to its listed source
    assert re.search(r'<p class="lead">[^<]+ à votre question\.</p>', html)
    blocks = re.findall(r'<article class="block"', html)
    numbers = set(re.findall(r'<a class="cite" href="#source-(\d+)"', html))
    assert blocks and numbers and all(f'id="source-{n}"' in html for n in numbers)


def test_search_and_ask_link_to_the_pages(site):
    client, _ = site
    result = client.get("/search", params={"q": "épicerie"}).json()["results"][0]
    assert result["url"] == f"/fiches/{result['doc_id']}" and "source_url" in result
    assert client.get(result["url"]).status_code == 200
    assert result["passages"][0]["url"].startswith(result["url"] + "#passage-")


def test_a_fiche_shows_its_card_passages_contacts_and_neighbours(site):
    client, _ = site
    html = client.get("/fiches/exp-transport-solidaire").text
    assert "<h1>Un transport solidaire avec des chauffeurs bénévoles</h1>" in html
    assert html.count("<h1") == 1
    assert 'id="passage-0"' in html and "Qui contacter" in html and "Documents proches" in html
    assert 'href="/fiches/exp-transport-solidaire/original"' in html
    pdf = client.get("/fiches/deux-pages").text
    assert "Page 1" in pdf and "Page 2" in pdf


def test_the_original_is_the_file_as_ingested(site):
    client, _ = site
    response = client.get("/fiches/deux-pages/original")
    assert response.status_code == 200 and response.content == PDF.read_bytes()
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="deux-pages.pdf"'


def _structures(html: str) -> set[str]:
    return set(re.findall(r'<article class="card">\s*<h3><a href="(/fiches/[^"]+)"', html))


def test_the_directory_groups_structures_by_departement(site):
    client, _ = site
    html = client.get("/annuaire").text
    assert "Qui fait quoi" in html and "10 structures" in html and len(_structures(html)) == 10
    headings = re.findall(r'<h2 id="t-\d+">([^<]+)</h2>', html)
    assert "Haute-Loire" in headings and "Drôme" in headings and "Ardèche" in headings
    assert not any("CC " in heading or "(" in heading for heading in headings)  # places, not texts
    # a structure of "Drôme et Ardèche" is listed under both; each group counts its sectors
    assert re.search(r"\d+ structures? : \d+ (action sociale|développement local|transversal)", html)
    narrowed = client.get("/annuaire", params={"territoire": "Drôme"}).text
    assert 0 < len(_structures(narrowed)) < 10 and '<p class="meta">CC Vercors-Roubion' in narrowed
    # a département holds the structures of its intercommunalities
    ardeche = client.get("/annuaire", params={"territoire": "Ardèche"}).text
    assert "CC du Haut-Vernay (Ardèche)" in ardeche and "Drôme et Ardèche (territoires ruraux)" in ardeche
    assert '<p class="meta">CC Vercors-Roubion' not in ardeche
    assert '<optgroup label="Départements">' in html and '<option value="Haute-Loire"' in html


def test_unknown_pages_are_french_html_404s_and_json_clients_keep_json(site):
    client, _ = site
    page = client.get("/fiches/inconnu")
    assert page.status_code == 404 and "Document introuvable" in page.text
    browser = client.get("/nulle-part", headers={"Accept": "text/html"})
    assert browser.status_code == 404 and "text/html" in browser.headers["content-type"]
    assert client.get("/nulle-part").json() == {"detail": "Ressource introuvable."}


def test_hostile_document_content_is_harmless_everywhere(site):
    client, _ = site
    pages = [client.get("/fiches/fiche-piegee").text, client.get("/recherche", params={"q": "fiche piégée"}).text]
    pages.append(client.get("/recherche", params={"q": "paragraphe image dessin", "question": "1"}).text)
    for html in pages:  # as text, escaped, they are harmless; as markup, never
        assert not re.search(r"<(script|svg|iframe|img)\b", html, re.IGNORECASE)
        assert not re.search(r"<[^>]*\son\w+\s*=", html, re.IGNORECASE)
        assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript:""", html, re.IGNORECASE)
    assert "&lt;script&gt;alert(&#39;titre&#39;)&lt;/script&gt;" in pages[0]


def test_a_crawl_of_the_site_finds_every_link_alive_and_no_server_path(site):
    client, settings = site
    roots = [str(settings.data_dir.resolve()), str(ROOT), "/tmp/"]
    seen, queue, checked = set(), deque(["/"]), 0
    while queue and checked < 150:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        checked += 1
        assert response.status_code == 200, url
        assert not any(root in response.text for root in roots), url
        if "text/html" not in response.headers["content-type"]:
            continue
        for link in re.findall(r'href="([^"#]+)', response.text):
            target = urljoin(url, link.replace("&amp;", "&"))
            if urlparse(target).netloc or target.startswith(("/docs", "/redoc")):
                continue  # pages of other sites (source_url), the API's own documentation
            if target not in seen:
                queue.append(target)
    assert checked >= 60


def test_a_scanned_document_says_its_text_was_recognised(tmp_path):
    import shutil

    from tests.fakes import ToyEmbedder

    if shutil.which("tesseract") is None:
        pytest.skip("Tesseract absent : apt-get install tesseract-ocr tesseract-ocr-fra")
    scan = ROOT / "tests" / "fixtures" / "docs" / "scan-mixte.pdf"
    app = app_over(Settings(data_dir=tmp_path / "data"), ToyEmbedder(), ingest=[scan])
    with TestClient(app) as client:
        html = client.get("/fiches/scan-mixte").text
    assert "Texte reconnu automatiquement" in html


OLD = "exp-boutique-essai-saint-aubin"
NEW = "exp-boutique-essai-saint-aubin-v2"  # front matter: replaces the fiche above
TRAP = """---
id: {doc_id}
title: "Une version <script>alert('{doc_id}')</script> piégée"
doc_type: fiche méthode
sector: transversal
themes: [sécurité]
date: {date}
{replaces}
---
# Une version piégée

Le texte d'une version de fiche dont le titre contient du balisage.
"""


@pytest.fixture(scope="module")
def versions_site(tmp_path_factory, e5_embedder):
    root = tmp_path_factory.mktemp("versions-site")
    extra = root / "extra"
    extra.mkdir()
    (extra / "piege-v1.md").write_text(TRAP.format(doc_id="piege-v1", date="2022", replaces=""), encoding="utf-8")
    (extra / "piege-v2.md").write_text(
        TRAP.format(doc_id="piege-v2", date="2024", replaces="remplace: piege-v1"), encoding="utf-8"
    )
    boutique = [ROOT / "corpus" / "experiences" / f"{doc_id}.md" for doc_id in (OLD, NEW)]
    settings = Settings(data_dir=root / "data", answer_min_score=0.8)
    with TestClient(app_over(settings, e5_embedder, ingest=[MINI, *boutique, extra])) as client:
        yield client


def test_a_result_card_links_the_other_version_of_its_document(versions_site):
    page = versions_site.get("/recherche", params={"q": "boutique à l'essai"}).text
    cards = re.findall(r'<li class="card">.*?</li>', page, re.DOTALL)
    assert f'<h3><a href="/fiches/{NEW}">' in cards[0]
    assert (
        f'<p class="meta versions">Autre version : <a href="/fiches/{OLD}">Ma Boutique à l&#39;Essai : tester un '
        "commerce dans une vitrine vide à Saint-Aubin-du-Vernay</a> (2023-06-20)</p>"
    ) in cards[0]
    assert not any(f'<h3><a href="/fiches/{OLD}">' in card for card in cards), "one result per family"
    asked = versions_site.get(
        "/recherche", params={"q": "comment tester un commerce dans une vitrine vide ?", "question": "1"}
    ).text
    block = re.search(r'<article class="block".*?</article>', asked, re.DOTALL).group(0)
    assert f'href="/fiches/{NEW}"' in block and f'Autre version : <a href="/fiches/{OLD}">' in block


def test_a_replaced_fiche_says_at_its_top_that_a_newer_version_exists(versions_site):
    old = versions_site.get(f"/fiches/{OLD}").text
    notice = re.search(r'<p class="notice version" role="note">(.*?)</p>', old, re.DOTALL)
    assert notice and old.index(notice.group(0)) < old.index('<dl class="metacard">')
    assert "Une version plus récente de ce document existe :" in notice.group(1)
    assert f'<a href="/fiches/{NEW}">' in notice.group(1) and "(2025-06-20)" in notice.group(1)
    assert "Remplace :" not in old
    new = versions_site.get(f"/fiches/{NEW}").text
    assert f'<p class="meta version">Remplace : <a href="/fiches/{OLD}">' in new
    assert "Une version plus récente" not in new
    related = re.search(r'<section aria-labelledby="proches">.*?</section>', new, re.DOTALL)
    assert related is None or f"/fiches/{OLD}" not in related.group(0), "a version is not a neighbour"


def test_version_links_escape_the_titles(versions_site):
    for page in (versions_site.get("/fiches/piege-v1").text, versions_site.get("/fiches/piege-v2").text):
        assert "Une version plus récente" in page or "Remplace :" in page
        assert not re.search(r"<script\b", page, re.IGNORECASE)
        assert "&lt;script&gt;alert(&#39;piege-v" in page
    results = versions_site.get("/recherche", params={"q": "version piégée balisage"}).text
    assert 'Autre version : <a href="/fiches/piege-v1">Une version &lt;script&gt;' in results
    assert not re.search(r"<script\b", results, re.IGNORECASE)
