"""The question log's store on every backend (``store_settings``), its retention, and what the
dashboard computes from it."""

from __future__ import annotations

import datetime as dt
import sqlite3

import numpy as np
import pytest

from kb.core.ratelimit import RateLimiter
from kb.records import question_stats
from kb.records.questions import LoggedQuestion, Period
from kb.storage.backend import open_backend
from kb.storage.postgres.database import open_database

START = dt.datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=dt.UTC)
EVERYTHING = Period("2000-01-01", "2100-01-01")


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def settings_30_days(store_settings):
    return store_settings.model_copy(update={"query_log_days": 30})


@pytest.fixture
def log(settings_30_days, clock):
    store = open_backend(settings_30_days).question_log(clock=clock)
    yield store
    store.close()


def test_a_question_is_stored_with_its_time_to_the_second_and_its_context(log):
    log.record(
        "question",
        "  Comment monter une épicerie ?  ",
        {"sector": ["action sociale"]},
        False,
        ["a", "b", "c", "d", "e", "f"],
        "widget",
    )
    [row] = log.questions(EVERYTHING)
    assert row == LoggedQuestion(
        "2026-11-02T09:30:15+00:00",
        "question",
        "Comment monter une épicerie ?",
        {"sector": ["action sociale"]},
        False,
        ("a", "b", "c", "d", "e"),
        "widget",
    )


def test_questions_are_bounded_and_filtered_by_outcome_and_channel(log):
    log.record("recherche", "x" * 5000, {}, True, [], "api")
    log.record("recherche", "vélo", {}, False, [], "site")
    assert len(log.questions(EVERYTHING)[0].question) == 1000
    assert [r.question for r in log.questions(Period("2000-01-01", "2100-01-01", found=False))] == ["vélo"]
    assert [r.channel for r in log.questions(Period("2000-01-01", "2100-01-01", channel="api"))] == ["api"]
    assert log.questions(Period("2026-11-03", "2100-01-01")) == []


def test_a_search_typed_letter_by_letter_is_one_row(log, clock):
    for typed in ("epi", "épicer", "épicerie solid", "épicerie solidaire"):
        log.record("recherche", typed, {}, typed != "epi", ["exp-epicerie"], "widget")
        clock.now += dt.timedelta(seconds=1)
    log.record("recherche", "garage solidaire", {}, True, [], "widget")  # another search
    clock.now += dt.timedelta(seconds=30)
    log.record("recherche", "garage solidaire rural", {}, True, [], "widget")  # too late: a new search
    log.record("question", "garage solidaire rural", {}, True, [], "widget")  # a question is never merged
    rows = [(q.kind, q.question, q.found) for q in log.questions(EVERYTHING)]
    assert rows == [
        ("recherche", "épicerie solidaire", True),
        ("recherche", "garage solidaire", True),
        ("recherche", "garage solidaire rural", True),
        ("question", "garage solidaire rural", True),
    ]


def test_feedback_is_stored_with_the_question(log):
    log.record_feedback("garde d'enfants ?", False, "rien sur les horaires atypiques", ["exp-creche"], "site")
    log.record_feedback("garde d'enfants ?", True, None, [], "widget")
    [not_useful] = log.feedback(EVERYTHING, useful=False)
    assert (not_useful.question, not_useful.comment, not_useful.doc_ids) == (
        "garde d'enfants ?",
        "rien sur les horaires atypiques",
        ("exp-creche",),
    )
    assert len(log.feedback(EVERYTHING)) == 2


def test_rows_past_the_retention_are_purged_on_write_at_most_hourly_and_at_start_up(settings_30_days, log, clock):
    log.record("recherche", "ancienne", {}, True, [], "api")
    log.record_feedback("ancienne", False, None, [], "api")
    clock.now = START + dt.timedelta(days=30, minutes=-10)
    log.record("recherche", "récente", {}, True, [], "api")  # purges: "ancienne" is not yet 30 days old
    clock.now = START + dt.timedelta(days=30, minutes=10)
    log.record("recherche", "plus récente", {}, True, [], "api")  # purged 20 minutes ago: not again
    assert len(log.questions(EVERYTHING)) == 3
    clock.now = START + dt.timedelta(days=30, minutes=50)
    log.record("recherche", "dernière", {}, True, [], "api")
    assert [r.question for r in log.questions(EVERYTHING)] == ["récente", "plus récente", "dernière"]
    assert log.feedback(EVERYTHING) == []

    clock.now = START + dt.timedelta(days=61)
    open_backend(settings_30_days).question_log(clock=clock).close()  # a restart
    assert log.questions(EVERYTHING) == []


def test_nothing_that_identifies_a_person_has_a_column(store_settings, log):
    log.record("recherche", "vélo", {}, True, [], "api")
    if store_settings.database is None:
        with sqlite3.connect(store_settings.data_dir / "questions.sqlite") as db:
            columns = {
                row[1] for table in ("questions", "feedback") for row in db.execute(f"PRAGMA table_info({table})")
            }
    else:
        database = open_database(store_settings.database)
        try:
            columns = {
                row[0]
                for row in database.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name IN ('kb_questions', 'kb_feedback')"
                )
            }
        finally:
            database.close()
    assert columns == {"id", "at", "kind", "question", "filters", "found", "doc_ids", "channel", "useful", "comment"}


def rows(*questions: str | tuple[str, str]) -> list[LoggedQuestion]:
    """Unanswered rows; a tuple gives (question, day)."""
    out = []
    for item in questions:
        text, day = item if isinstance(item, tuple) else (item, "2026-11-02")
        out.append(LoggedQuestion(f"{day}T10:00:00+00:00", "question", text, {}, False, (), "api"))
    return out


# vectors set by hand: two subjects, and a third close to neither
HAND_VECTORS = {
    "garde d'enfants en horaires décalés": [1, 0, 0],
    "faire garder ses enfants le soir": [0.95, 0.31, 0],
    "crèche pour parents en travail de nuit": [0.93, 0.37, 0],
    "aide au permis de conduire": [0, 1, 0],
    "financer le permis des jeunes": [0.1, 0.99, 0],
    "jardins partagés": [0, 0, 1],
    "garde d'enfant en horaire décalé": [0, 0.6, 0.8],  # a typo the embedder places elsewhere
}


def hand_vectors(texts: list[str]) -> np.ndarray:
    return np.array([HAND_VECTORS[t] for t in texts], dtype=np.float32)


def test_unanswered_questions_group_by_meaning_most_asked_first():
    logged = rows(
        "garde d'enfants en horaires décalés",
        "garde d'enfants en horaires décalés",
        ("Garde d'enfants en horaires décalés ?", "2026-11-20"),
        "faire garder ses enfants le soir",
        "crèche pour parents en travail de nuit",
        "aide au permis de conduire",
        "financer le permis des jeunes",
        "financer le permis des jeunes",
        "jardins partagés",
    )
    groups = question_stats.group_questions(logged, hand_vectors, similarity=0.9)
    assert [(g["representative"], g["count"]) for g in groups] == [
        ("garde d'enfants en horaires décalés", 5),
        ("financer le permis des jeunes", 3),
        ("jardins partagés", 1),
    ]
    assert groups[0]["questions"] == [
        "garde d'enfants en horaires décalés",
        "faire garder ses enfants le soir",
        "crèche pour parents en travail de nuit",
    ]
    assert (groups[0]["first_at"], groups[0]["last_at"]) == ("2026-11-02T10:00:00+00:00", "2026-11-20T10:00:00+00:00")


def test_a_typo_joins_its_group_even_when_the_embedder_places_it_elsewhere():
    logged = rows(
        "garde d'enfants en horaires décalés",
        "garde d'enfants en horaires décalés",
        "garde d'enfant en horaire décalé",
        "jardins partagés",
    )
    groups = question_stats.group_questions(logged, hand_vectors, similarity=0.9)
    assert [g["count"] for g in groups] == [3, 1]
    assert "garde d'enfant en horaire décalé" in groups[0]["questions"]


def test_frequent_questions_count_spellings_of_one_question_together():
    logged = rows("Épicerie solidaire ?", "epicerie  solidaire", "épicerie solidaire", "vélo")
    logged[3] = LoggedQuestion(logged[3].at, "recherche", "vélo", {}, True, (), "api")
    assert question_stats.frequent(logged) == [
        {"question": "Épicerie solidaire ?", "count": 3, "found_ratio": 0.0, "last_at": "2026-11-02T10:00:00+00:00"},
        {"question": "vélo", "count": 1, "found_ratio": 1.0, "last_at": "2026-11-02T10:00:00+00:00"},
    ]


def test_weekly_volume_names_every_week_of_the_period_with_zeros():
    logged = rows(("a", "2026-11-23"), ("b", "2026-11-24"), ("c", "2026-12-07"))
    logged[1] = LoggedQuestion(logged[1].at, "question", "b", {}, True, (), "api")
    weeks = question_stats.weekly(logged, dt.date(2026, 11, 20), dt.date(2026, 12, 8))
    assert weeks == [
        {"week": "2026-W47", "questions": 0, "unanswered": 0},
        {"week": "2026-W48", "questions": 2, "unanswered": 1},
        {"week": "2026-W49", "questions": 0, "unanswered": 0},
        {"week": "2026-W50", "questions": 1, "unanswered": 1},
    ]


def test_the_rate_limiter_allows_a_burst_then_says_how_long_to_wait():
    now = [0.0]
    limiter = RateLimiter(2, window=60, clock=lambda: now[0])
    assert limiter.acquire("192.0.2.1") is None and limiter.acquire("192.0.2.1") is None
    now[0] = 20.0
    assert limiter.acquire("192.0.2.1") == 40
    assert limiter.acquire("192.0.2.2") is None  # another client is not held up
    now[0] = 60.0
    assert limiter.acquire("192.0.2.1") is None
