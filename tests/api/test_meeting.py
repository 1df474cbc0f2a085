"""The next meeting's agenda through HTTP: JSON with its model, Markdown and ODT downloads, the
meetings recorded, the page (toy embedder, mini corpus)."""

from __future__ import annotations

import datetime as dt
import io

import odfdo
import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from kb.records.keys import CONTRIBUTOR
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over
from tests.fakes import ToyEmbedder


@pytest.fixture
def api(tmp_path, toy_mini_index):
    settings = Settings(data_dir=tmp_path / "data")
    keys = KeyStore(settings.data_dir / "keys.json")
    coordination = {"Authorization": f"Bearer {keys.create('Marie')}"}
    contributor = {"Authorization": f"Bearer {keys.create('Aline', role=CONTRIBUTOR)}"}
    with TestClient(app_over(settings, ToyEmbedder(), index=toy_mini_index)) as client:
        yield client, coordination, contributor


def test_the_agenda_needs_a_coordination_key(api):
    client, _, contributor = api
    assert client.get("/coordination/meeting").status_code == 401
    assert client.get("/coordination/meeting", headers=contributor).status_code == 403
    assert client.post("/coordination/meetings", json={"date": "2026-01-05"}, headers=contributor).status_code == 403


def test_a_recorded_meeting_starts_the_default_period(api):
    client, auth, _ = api
    before = client.get("/coordination/meeting", headers=auth).json()
    assert before["basis"] == "par défaut" and before["last_meeting"] is None
    assert before["documents"]["total"] == 4  # the mini corpus, indexed today
    day = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    recorded = client.post("/coordination/meetings", json={"date": day, "note": "à Yssingeaux"}, headers=auth)
    assert recorded.status_code == 201 and recorded.json()["recorded_by"] == "Marie"
    after = client.get("/coordination/meeting", headers=auth).json()
    assert (after["since"], after["basis"]) == (day, "dernière réunion")
    assert after["last_meeting"]["note"] == "à Yssingeaux" and after["meetings"][0]["date"] == day
    assert after["rapprochements"]["available"] in (True, False)
    assert after["documents"]["sectors"][0]["documents"][0]["url"].startswith("http://testserver/fiches/")


def test_periods_and_meetings_are_checked_in_french(api):
    client, auth, _ = api
    reversed_period = client.get(
        "/coordination/meeting", params={"since": "2026-12-01", "until": "2026-11-01"}, headers=auth
    )
    assert reversed_period.status_code == 422 and "Période invalide" in reversed_period.json()["detail"]
    not_a_day = client.get("/coordination/meeting", params={"since": "2026-02-30"}, headers=auth)
    assert not_a_day.status_code == 422 and "n'est pas une date du calendrier" in not_a_day.text
    future = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    refused = client.post("/coordination/meetings", json={"date": future}, headers=auth)
    assert refused.status_code == 422 and refused.json()["problems"][0]["field"] == "date"
    assert (
        client.post("/coordination/meetings", json={"date": "2026-01-05", "lieu": "x"}, headers=auth).status_code == 422
    )


def test_markdown_and_odt_downloads(api):
    client, auth, _ = api
    params = {"since": "2026-01-01", "until": dt.date.today().isoformat()}
    md = client.get("/coordination/meeting", params={**params, "format": "markdown"}, headers=auth)
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert md.headers["content-disposition"] == f'attachment; filename="reunion-2026-01-01-{params["until"]}.md"'
    assert md.text.startswith("# Réunion du groupe de travail : ordre du jour") and "du 1er janvier 2026" in md.text
    assert "## 2. Questions restées sans réponse" in md.text
    opened = client.get("/coordination/meeting", params={**params, "format": "odt"}, headers=auth)
    assert opened.headers["content-type"] == "application/vnd.oasis.opendocument.text"
    document = odfdo.Document(io.BytesIO(opened.content))
    assert "4. Documents les plus consultés" in [h.text for h in document.body.get_headers()]
    assert client.get("/coordination/meeting", params={"format": "pdf"}, headers=auth).status_code == 422


def test_the_page_is_served_without_inline_script(api):
    client, _, _ = api
    page = client.get("/coordination/reunion")
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert "<script>" not in page.text and 'src="assets/meeting.js"' in page.text
    for asset in ("meeting.js", "meeting.css"):
        assert client.get(f"/coordination/assets/{asset}").status_code == 200
    assert 'href="coordination/reunion"' in client.get("/coordination").text
