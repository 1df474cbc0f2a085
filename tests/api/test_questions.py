"""The question log, feedback and the dashboard's data through HTTP (toy embedder, mini corpus)."""

from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.fakes import ToyEmbedder

WIDGET = {"X-Passerelles-Canal": "widget"}


def open_api(tmp_path: Path, index: Path, **options):
    """The app over a copy of the session's mini corpus (``toy_mini_index``)."""
    settings = Settings(data_dir=tmp_path / "data", **options)
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    return settings, TestClient(app_over(settings, ToyEmbedder(), index=index)), {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api(tmp_path, toy_mini_index):
    settings, client, auth = open_api(tmp_path, toy_mini_index, feedback_per_minute=3)
    with client:
        yield client, auth, settings


def logged(settings: Settings) -> list[tuple]:
    with sqlite3.connect(settings.data_dir / "questions.sqlite") as db:
        return db.execute(
            "SELECT kind, question, found, channel, filters, doc_ids FROM questions ORDER BY id"
        ).fetchall()


def test_each_channel_is_logged_with_its_kind_and_outcome(api):
    client, _, settings = api
    found = client.get("/search", params={"q": "épicerie", "sector": "développement local"}).json()["results"]
    client.post("/ask", json={"question": "comment organiser un transport solidaire ?"}, headers=WIDGET)
    client.post("/ask/stream", json={"question": "un diagnostic partagé ?"})
    client.get("/recherche", params={"q": "transport solidaire", "question": "1"})
    client.get("/recherche", params={"q": "transport solidaire", "page": "2"})  # same search, next page
    rows = logged(settings)
    assert [(kind, question, channel) for kind, question, _, channel, _, _ in rows] == [
        ("recherche", "épicerie", "api"),
        ("question", "comment organiser un transport solidaire ?", "widget"),
        ("question", "un diagnostic partagé ?", "api"),
        ("question", "transport solidaire", "site"),
    ]
    kind, _, was_found, _, filters, doc_ids = rows[0]
    assert filters == '{"sector": ["développement local"]}'
    assert bool(was_found) == bool(found) and doc_ids == str([r["doc_id"] for r in found][:5]).replace("'", '"')


def test_a_search_listing_only_the_nearest_documents_is_logged_as_not_found(api, monkeypatch):
    client, _, settings = api
    evidence = client.app.state.holder.kb.evidence  # the floor as resolved for the index's model
    monkeypatch.setattr(evidence, "params", replace(evidence.params, search_floor=9.0))
    body = client.get("/search", params={"q": "fibre optique dans les villages"}).json()
    client.get("/recherche", params={"q": "fibre optique dans les villages"})
    assert body["results"] and body["confident"] is False
    assert [(kind, bool(found)) for kind, _, found, *_ in logged(settings)] == [("recherche", False)] * 2


def test_the_sites_synthesis_request_is_not_logged_twice(api):
    client, _, settings = api
    client.post("/ask/stream", json={"question": "transport solidaire"}, headers={"X-Passerelles-Canal": "site"})
    assert logged(settings) == []


def test_no_address_agent_or_key_is_stored(api):
    client, auth, settings = api
    headers = {**auth, "User-Agent": "Navigateur-Temoin/1.0", "X-Forwarded-For": "203.0.113.77"}
    client.get("/search", params={"q": "épicerie"}, headers=headers)
    client.post("/feedback", json={"question": "épicerie", "useful": True}, headers=headers)
    stored = (settings.data_dir / "questions.sqlite").read_bytes()
    for wal in settings.data_dir.glob("questions.sqlite-wal"):
        stored += wal.read_bytes()
    for secret in (b"testclient", b"203.0.113.77", b"Navigateur-Temoin", b"coordinatrice", b"psl_"):
        assert secret not in stored


def test_a_log_that_cannot_be_written_never_fails_a_search(api, monkeypatch, caplog):
    from kb.core.errors import StorageReadOnly
    from kb.storage.embedded.querylog import QuestionLog

    def refuse(*args, **kwargs):
        raise StorageReadOnly("le journal des questions est en lecture seule.")

    client, _, settings = api
    monkeypatch.setattr(QuestionLog, "record", refuse)
    assert client.get("/search", params={"q": "épicerie"}).status_code == 200
    assert client.post("/ask", json={"question": "épicerie"}).status_code == 200
    assert client.get("/recherche", params={"q": "épicerie"}).status_code == 200
    assert logged(settings) == [] and "question non journalisée" in caplog.text


def test_the_widget_may_send_its_channel_header_across_origins(api):
    client, _, _ = api
    preflight = client.options(
        "/ask",
        headers={
            "Origin": "http://localhost:8000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-passerelles-canal",
        },
    )
    assert preflight.status_code == 200
    assert "x-passerelles-canal" in preflight.headers["access-control-allow-headers"].lower()


def test_nothing_is_logged_when_the_log_is_off(tmp_path, toy_mini_index):
    settings, client, auth = open_api(tmp_path, toy_mini_index, query_log=False)
    with client:
        client.get("/search", params={"q": "épicerie"})
        client.get("/recherche", params={"q": "épicerie"})
        assert client.post("/feedback", json={"question": "épicerie", "useful": False}).json() == {"status": "ignoré"}
        dashboard = client.get("/coordination/questions", headers=auth).json()
    assert not (settings.data_dir / "questions.sqlite").exists()
    assert dashboard["log_enabled"] is False and dashboard["total"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": "", "useful": True}, "question"),
        ({"question": "x" * 1001, "useful": True}, "question"),
        ({"question": "épicerie", "useful": True, "comment": "c" * 1001}, "comment"),
        ({"question": "épicerie", "useful": True, "doc_ids": ["d"] * 11}, "doc_ids"),
        ({"question": "épicerie"}, "useful"),
    ],
)
def test_feedback_out_of_bounds_is_refused_in_french(api, body, field):
    client, _, _ = api
    response = client.post("/feedback", json=body)
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["problems"]] == [field]


def test_feedback_is_stored_then_rate_limited_per_client(api):
    client, auth, settings = api
    body = {
        "question": "garde d'enfants la nuit ?",
        "useful": False,
        "comment": "rien sur le travail de nuit",
        "doc_ids": ["exp-epicerie-village"],
    }
    for _ in range(3):
        response = client.post("/feedback", json=body, headers=WIDGET)
        assert response.status_code == 201 and response.json() == {"status": "enregistré"}
    refused = client.post("/feedback", json=body)
    assert refused.status_code == 429
    assert "Trop d'avis" in refused.json()["detail"] and int(refused.headers["retry-after"]) > 0
    with sqlite3.connect(settings.data_dir / "questions.sqlite") as db:
        rows = db.execute("SELECT question, useful, comment, doc_ids, channel FROM feedback").fetchall()
    assert (
        rows
        == [("garde d'enfants la nuit ?", 0, "rien sur le travail de nuit", '["exp-epicerie-village"]', "widget")] * 3
    )
    not_useful = client.get("/coordination/questions", headers=auth).json()["not_useful"]
    assert not_useful[0]["comment"] == "rien sur le travail de nuit"


def test_the_sites_feedback_form_posts_and_comes_back_with_thanks(api):
    client, _, settings = api
    page = client.get("/recherche", params={"q": "épicerie", "question": "1"}).text
    assert 'action="/avis"' in page and 'maxlength="1000"' in page
    response = client.post(
        "/avis",
        data={
            "question": "épicerie",
            "utile": "non",
            "commentaire": "trop vague",
            "retour": "q=%C3%A9picerie&question=1&evil=1",
            "doc": ["exp-epicerie-village"],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/recherche?q=%C3%A9picerie&question=1&avis=merci#avis"
    thanked = client.get(response.headers["location"]).text
    assert "Merci pour votre retour." in thanked and 'action="/avis"' not in thanked
    assert len(logged(settings)) == 1  # the page shown after the feedback is not a new question
    with sqlite3.connect(settings.data_dir / "questions.sqlite") as db:
        assert db.execute("SELECT useful, comment, channel FROM feedback").fetchall() == [(0, "trop vague", "site")]


def test_the_sites_feedback_form_refuses_another_sites_post(api):
    client, _, _ = api
    response = client.post(
        "/avis",
        data={"question": "épicerie", "utile": "oui"},
        headers={"Origin": "https://ailleurs.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    response = client.post(
        "/avis",
        data={"question": "épicerie", "utile": "oui"},
        headers={"Referer": "https://ailleurs.example/page"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    same_site = client.post(
        "/avis",
        data={"question": "épicerie", "utile": "oui"},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same_site.status_code == 303


def test_the_dashboard_needs_a_key(api):
    client, _, _ = api
    assert client.get("/coordination/questions").status_code == 401
    assert client.get("/coordination/questions.csv").status_code == 401


def test_the_dashboard_counts_groups_and_covers(tmp_path, toy_mini_index):
    # a floor no evidence reaches: only questions naming every word of a document are answered
    _, client, auth = open_api(tmp_path, toy_mini_index, search_min_evidence=3.0)
    with client:
        check_dashboard(client, auth)


def check_dashboard(client, auth):
    for question in [
        "Crèche en horaires décalés ?",
        "creche en horaires decales",
        "crèche en horaire décalés",
        "Épicerie",
        "épicerie",
    ]:
        client.get("/search", params={"q": question})
    client.get("/search", params={"q": "épicerie"}, headers=WIDGET)
    body = client.get("/coordination/questions", headers=auth).json()
    assert body["log_enabled"] is True and body["total"] == 6
    assert body["frequent"][0]["question"] == "épicerie" and body["frequent"][0]["count"] == 3
    unanswered = [
        g for g in body["unanswered_groups"] if "rèche" in g["representative"] or "reche" in g["representative"]
    ]
    assert len(unanswered) == 1 and unanswered[0]["count"] == 3  # two spellings and a typo: one subject
    assert sum(week["questions"] for week in body["weekly"]) == 6
    coverage = body["coverage"]
    assert "action sociale" in coverage["sectors"] and coverage["counts"]
    assert all(theme in coverage["counts"] for theme in coverage["themes"])
    widget_only = client.get("/coordination/questions", params={"channel": "widget"}, headers=auth).json()
    assert widget_only["total"] == 1
    assert client.get("/coordination/questions", params={"since": "2026-13-01"}, headers=auth).status_code == 422
    reversed_period = client.get(
        "/coordination/questions", params={"since": "2026-12-02", "until": "2026-12-01"}, headers=auth
    )
    assert reversed_period.status_code == 422 and "Période invalide" in reversed_period.json()["detail"]


def test_the_csv_opens_in_a_french_spreadsheet(api):
    client, auth, _ = api
    client.get("/search", params={"q": '=HYPERLINK("http://x")'})
    client.get("/search", params={"q": "épicerie"})
    response = client.get("/coordination/questions.csv", headers=auth)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == ["date", "type", "question", "filtres", "trouvé", "documents", "canal"]
    assert [row[2] for row in table[1:]] == ['\'=HYPERLINK("http://x")', "épicerie"]
    assert {row[4] for row in table[1:]} <= {"oui", "non"} and table[1][6] == "api"
