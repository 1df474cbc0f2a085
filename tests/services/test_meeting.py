"""The next meeting's agenda as a service: the meetings recorded, the period, what changed, what
practitioners did not find, the rapprochements hook and the most consulted documents."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from kb.core.errors import InvalidRequest
from kb.core.settings import Settings
from services import runtime
from services.catalogue import Catalogue
from services.meeting import MEETING, MeetingAgenda
from tests.apps import copy_index
from tests.fakes import ToyEmbedder

FICHE = {
    "title": "Un atelier vélo solidaire dans un bourg rural",
    "doc_type": "fiche expérience",
    "sector": "action sociale",
    "themes": ["mobilité"],
    "territory": "Communauté de communes du Val Fleuri (Drôme)",
    "porteur": "Centre social du Val Fleuri",
    "summary": "Un atelier d'autoréparation de vélos ouvert deux après-midi par semaine, avec le centre social.",
    "sections": {"résultats": "En un an, 85 vélos remis en état ont été vendus à petit prix."},
}
TODAY = dt.date.today()


@pytest.fixture
def kb(tmp_path, toy_mini_index):
    settings = copy_index(toy_mini_index, Settings(data_dir=tmp_path / "data"))
    base = runtime.open_knowledge_base(settings, ToyEmbedder())
    yield base
    base.close()


def at(day: dt.date):
    return lambda: dt.datetime.combine(day, dt.time(12), dt.UTC)


def test_a_meeting_is_an_audited_entry_and_the_latest_one_starts_the_default_period(kb):
    agenda = MeetingAgenda(kb, clock=at(dt.date(2026, 12, 7)))
    assert agenda.period(None, None, []).basis == "par défaut"
    assert agenda.period(None, None, []).since == dt.date(2026, 11, 8)  # the last 30 days
    agenda.record_meeting(dt.date(2026, 11, 2), "  à Yssingeaux ", "Marie")
    agenda.record_meeting(dt.date(2026, 10, 5), None, "Marie")
    meetings = agenda.meetings()
    assert [(m["date"], m["note"], m["recorded_by"]) for m in meetings] == [
        ("2026-11-02", "à Yssingeaux", "Marie"),
        ("2026-10-05", None, "Marie"),
    ]
    entry = kb.writer.audit.entries("")[0]
    assert entry["action"] == MEETING and entry["actor"] == "Marie" and entry["date"] == "2026-11-02"
    period = agenda.period(None, None, meetings)
    assert (period.since, period.until, period.basis) == (
        dt.date(2026, 11, 2),
        dt.date(2026, 12, 7),
        "dernière réunion",
    )
    # a period that ends before the last meeting starts from the one before it
    assert agenda.period(None, dt.date(2026, 10, 20), meetings).since == dt.date(2026, 10, 5)
    chosen = agenda.period(dt.date(2026, 9, 1), dt.date(2026, 9, 30), meetings)
    assert chosen.basis == "choisie"


def test_a_future_meeting_a_long_note_or_a_reversed_period_are_refused_in_french(kb):
    agenda = MeetingAgenda(kb, clock=at(dt.date(2026, 12, 7)))
    with pytest.raises(InvalidRequest) as refused:
        agenda.record_meeting(dt.date(2026, 12, 8), "x" * 301, "Marie")
    assert {p.field for p in refused.value.problems} == {"date", "note"}
    assert agenda.meetings() == []
    with pytest.raises(InvalidRequest):
        agenda.period(dt.date(2026, 12, 1), dt.date(2026, 11, 1), [])


def test_new_updated_indexed_and_removed_documents_by_sector(kb):
    submission, fiche = kb.writer.from_fiche(FICHE)
    kb.submit(submission, "Marie", filename_hint=fiche.doc_id)
    Catalogue(kb).edit("exp-epicerie-village", {"territory": "Cantal"}, "Marie")
    kb.writer.delete("exp-transport-solidaire", "Marie")
    changes = MeetingAgenda(kb).agenda(base_url="http://testserver/")["documents"]
    by_id = {row["doc_id"]: row for group in changes["sectors"] for row in group["documents"]}
    assert by_id[fiche.doc_id]["change"] == "nouveau" and by_id[fiche.doc_id]["by"] == "Marie"
    assert by_id["exp-epicerie-village"]["change"] == "mis à jour"
    assert by_id["meth-diagnostic-partage"]["change"] == "indexé"  # kb ingest leaves no audit entry
    assert by_id[fiche.doc_id]["url"] == f"http://testserver/fiches/{fiche.doc_id}"
    assert "exp-transport-solidaire" not in by_id
    assert [row["doc_id"] for row in changes["removed"]] == ["exp-transport-solidaire"]
    sectors = [group["sector"] for group in changes["sectors"]]
    assert sectors[:3] == ["action sociale", "développement local", "transversal"]
    social = next(group for group in changes["sectors"] if group["sector"] == "action sociale")
    assert fiche.doc_id in [row["doc_id"] for row in social["documents"]]
    assert changes["total"] == len(by_id) and changes["new"] == 1
    # a period before all of it holds nothing
    old = MeetingAgenda(kb).agenda(dt.date(2020, 1, 1), dt.date(2020, 1, 31))["documents"]
    assert old["total"] == 0 and old["removed"] == []


def test_unanswered_questions_are_grouped_and_consulted_documents_counted_from_found_questions(kb, monkeypatch):
    subjects = ["piscine", "fibre", "rien"]  # one direction per subject: the grouping as a real model would

    def vectors(texts):
        return np.stack([np.eye(3, dtype=np.float32)[subjects.index(t.split()[0].lower())] for t in texts])

    monkeypatch.setattr(kb.questions, "vectors", vectors)
    log = kb.questions.log
    for text in ("piscine intercommunale", "piscine intercommunale", "Piscine intercommunal", "fibre optique"):
        log.record("question", text, {}, False, [], "site")
    log.record(
        "question", "épicerie en coopérative", {}, True, ["exp-epicerie-village", "meth-diagnostic-partage"], "api"
    )
    log.record("recherche", "épicerie", {}, True, ["exp-epicerie-village"], "widget")
    log.record("question", "rien", {}, False, ["meth-diagnostic-partage"], "api")  # not found: not counted
    agenda = MeetingAgenda(kb).agenda()
    unanswered = agenda["unanswered"]
    assert unanswered["total"] == 5
    assert unanswered["groups"][0]["representative"] == "piscine intercommunale"
    assert unanswered["groups"][0]["count"] == 3
    consulted = agenda["most_consulted"]["documents"]
    assert [(row["doc_id"], row["count"]) for row in consulted] == [
        ("exp-epicerie-village", 2),
        ("meth-diagnostic-partage", 1),
    ]
    assert "cinq premiers résultats" in agenda["most_consulted"]["basis"]


def test_the_rapprochements_hook(kb):
    assert MeetingAgenda(kb).agenda()["rapprochements"] == {"available": False, "total": 0, "pairs": []}
    asked = {}

    def pairs(**options):
        asked.update(options)
        side = {
            "doc_id": "exp-epicerie-village",
            "title": "Épicerie",
            "sector": "développement local",
            "territory": "Cantal",
        }
        other = {
            "doc_id": "meth-diagnostic-partage",
            "title": "Diagnostic",
            "sector": "action sociale",
            "territory": None,
        }
        pair = {
            "a": side,
            "b": other,
            "reason": "Les deux parlent d'alimentation.",
            "score": 0.8,
            "same_territory": False,
        }
        return {"pairs": [pair | {"status": "à examiner"}], "total": 12}

    found = MeetingAgenda(kb, pairs).agenda(base_url="http://testserver/")["rapprochements"]
    assert asked == {"status": "à examiner", "limit": 10}
    assert found["available"] and found["total"] == 12
    assert found["pairs"][0]["a"]["url"] == "http://testserver/fiches/exp-epicerie-village"


def test_with_the_question_log_off_the_agenda_says_so(tmp_path, toy_mini_index):
    settings = copy_index(toy_mini_index, Settings(data_dir=tmp_path / "data", query_log=False))
    base = runtime.open_knowledge_base(settings, ToyEmbedder())
    try:
        agenda = MeetingAgenda(base).agenda()
    finally:
        base.close()
    assert agenda["unanswered"]["log_enabled"] is False and agenda["most_consulted"]["documents"] == []
