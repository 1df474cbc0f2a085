"""The agenda as Markdown and as an ODT that odfdo opens again, with French headings and dates."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import odfdo

from services.meeting_export import SECTIONS, french_date, markdown, odt

HOSTILE = "Épicerie <script>alert(1)</script> [lien](javascript:x) *gras*"


def agenda(**changes) -> dict:
    row = {
        "doc_id": "exp-epicerie",
        "title": HOSTILE,
        "doc_type": "fiche expérience",
        "sector": "développement local",
        "territory": "Cantal",
        "change": "nouveau",
        "at": "2026-12-01T09:00:00+00:00",
        "by": "Marie",
        "url": "http://site/fiches/exp-epicerie",
    }
    side = {
        "doc_id": "exp-epicerie",
        "title": "Épicerie",
        "sector": "développement local",
        "url": "http://site/fiches/a",
    }
    other = {"doc_id": "meth-diag", "title": "Diagnostic", "sector": "action sociale", "url": "http://site/fiches/b"}
    base = {
        "since": "2026-11-02",
        "until": "2026-12-07",
        "basis": "dernière réunion",
        "last_meeting": {"date": "2026-11-02"},
        "meetings": [],
        "documents": {
            "total": 1,
            "new": 1,
            "sectors": [
                {"sector": "action sociale", "documents": []},
                {"sector": "développement local", "documents": [row]},
            ],
            "removed": [{"doc_id": "old", "title": "Une fiche retirée", "at": "2026-11-20T10:00:00+00:00"}],
        },
        "unanswered": {
            "log_enabled": True,
            "total": 4,
            "groups": [
                {
                    "representative": "piscine intercommunale",
                    "count": 3,
                    "first_at": "",
                    "last_at": "",
                    "questions": ["piscine intercommunale", "piscine intercomunale"],
                }
            ],
            "more_groups": 2,
        },
        "rapprochements": {
            "available": True,
            "total": 1,
            "pairs": [{"a": side, "b": other, "reason": "Tous deux parlent d'alimentation.", "status": "à examiner"}],
        },
        "most_consulted": {
            "basis": "Documents le plus souvent proposés.",
            "documents": [
                {
                    "doc_id": "exp-epicerie",
                    "title": "Épicerie",
                    "sector": "développement local",
                    "count": 7,
                    "url": "http://site/fiches/exp-epicerie",
                }
            ],
        },
    }
    return base | changes


def test_dates_are_written_in_french():
    assert french_date("2026-12-07") == "7 décembre 2026"
    assert french_date("2027-03-01T08:00:00+00:00") == "1er mars 2027"
    assert french_date(dt.date(2026, 8, 15)) == "15 août 2026"


def test_markdown_has_the_four_sections_in_french_and_escapes_what_documents_say():
    text = markdown(agenda())
    assert text.startswith("# Réunion du groupe de travail : ordre du jour\n")
    assert "Période : du 2 novembre 2026 au 7 décembre 2026, depuis la dernière réunion." in text
    for number, title in enumerate(SECTIONS, 1):
        assert f"\n## {number}. {title}\n" in text
    assert "### Développement local (1)" in text and "### Action sociale" not in text  # empty sectors left out
    assert "<script>" not in text and "\\<script\\>" in text and "\\[lien\\](javascript:x)" in text
    assert (
        "[Épicerie \\<script\\>" in text
        and "(<http://site/fiches/exp-epicerie>) (fiche expérience, Cantal) : nouveau, le 1er décembre 2026" in text
    )
    assert "Une fiche retirée, retiré le 20 novembre 2026" in text
    assert "- « piscine intercommunale » : 3 fois ; aussi : « piscine intercomunale »" in text
    assert "Et 2 autres sujets" in text
    assert (
        "[Épicerie](<http://site/fiches/a>) (développement local) et [Diagnostic](<http://site/fiches/b>) (action sociale) : Tous deux"
        in text
    )
    assert "[Épicerie](<http://site/fiches/exp-epicerie>) (développement local) : 7 fois" in text


def test_markdown_says_what_is_missing():
    empty = agenda(
        basis="par défaut",
        documents={"total": 0, "new": 0, "sectors": [], "removed": []},
        unanswered={"log_enabled": False, "total": 0, "groups": [], "more_groups": 0},
        rapprochements={"available": False, "total": 0, "pairs": []},
        most_consulted={"basis": "…", "documents": []},
    )
    text = markdown(empty)
    assert "aucune réunion enregistrée" in text
    assert "Aucun document ajouté ni modifié sur la période." in text
    assert "Le journal des questions est désactivé" in text
    assert "Les rapprochements ne sont pas encore disponibles." in text
    assert "Aucun document proposé sur la période." in text


def test_the_odt_opens_with_odfdo_and_holds_headings_lists_and_links():
    data = odt(agenda())
    document = odfdo.Document(io.BytesIO(data))
    assert document.get_type() == "text"
    headers = [(int(h.level), h.text, h.style) for h in document.body.get_headers()]
    assert headers[0] == (1, "Réunion du groupe de travail : ordre du jour", "Heading_20_1")
    assert [text for level, text, _ in headers if level == 2] == [f"{n}. {t}" for n, t in enumerate(SECTIONS, 1)]
    assert (3, "Développement local (1)", "Heading_20_3") in headers
    items = [str(item) for item in document.body.get_elements("//text:list-item")]
    assert any(HOSTILE in item and "le 1er décembre 2026" in item for item in items)
    assert any("piscine intercommunale" in item for item in items)
    assert [link.url for link in document.body.get_links()][:1] == ["http://site/fiches/exp-epicerie"]
    with zipfile.ZipFile(io.BytesIO(data)) as opened:  # written as text: escaped in the XML
        assert "<script>" not in opened.read("content.xml").decode("utf-8")
    assert (
        document.meta.get_title()
        == "Réunion du groupe de travail : ordre du jour, du 2 novembre 2026 au 7 décembre 2026"
    )
