"""The QuestionLog contract on every backend (``store_settings``): questions and feedback as
stored, a search typed letter by letter as one row, the retention, and no column that identifies a
person. What the dashboard computes from them: tests/kb/records/test_question_stats.py."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing

import pytest

from kb.records.questions import LoggedQuestion, Period
from kb.storage import protocols
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


def test_each_backend_gives_a_question_log(backend):
    with closing(backend.question_log()) as log:
        assert isinstance(log, protocols.QuestionLog)


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


def test_a_new_log_is_empty(log):
    assert log.questions(EVERYTHING) == [] and log.feedback(EVERYTHING) == []
    assert log.feedback(EVERYTHING, useful=True) == [] and log.purge() == 0


def test_questions_come_in_time_order_and_the_period_excludes_its_end(log, clock):
    for text in ("premier", "deuxième", "troisième"):
        log.record("question", text, {}, True, [], "api")
        clock.now += dt.timedelta(hours=1)
    assert [q.question for q in log.questions(EVERYTHING)] == ["premier", "deuxième", "troisième"]
    assert [q.at for q in log.questions(EVERYTHING)] == [
        "2026-11-02T09:30:15+00:00",
        "2026-11-02T10:30:15+00:00",
        "2026-11-02T11:30:15+00:00",
    ]
    between = Period("2026-11-02T10:30:15+00:00", "2026-11-02T11:30:15+00:00")
    assert [q.question for q in log.questions(between)] == ["deuxième"]
    found_on_site = Period("2000-01-01", "2100-01-01", found=True, channel="site")
    assert log.questions(found_on_site) == []


def test_feedback_is_latest_first_filtered_by_usefulness_and_period(log, clock):
    log.record_feedback("  vélo  ", True, "", ["a"], "api")
    clock.now += dt.timedelta(days=1)
    log.record_feedback("garage", False, "rien trouvé", [], "site")
    clock.now += dt.timedelta(days=1)
    log.record_feedback("épicerie", True, None, ["b", "c"], "widget")
    assert [f.question for f in log.feedback(EVERYTHING)] == ["épicerie", "garage", "vélo"]
    assert [f.question for f in log.feedback(EVERYTHING, useful=True)] == ["épicerie", "vélo"]
    assert [f.question for f in log.feedback(EVERYTHING, useful=False)] == ["garage"]
    assert [f.question for f in log.feedback(Period("2026-11-03", "2026-11-04"))] == ["garage"]
    [oldest] = log.feedback(Period("2000-01-01", "2026-11-03"))
    assert (oldest.at, oldest.comment, oldest.doc_ids, oldest.channel, oldest.useful) == (
        "2026-11-02T09:30:15+00:00",
        None,
        ("a",),
        "api",
        True,
    ), "an empty comment is none"


def test_a_purge_says_how_many_rows_went(log, clock):
    log.record("question", "ancienne", {}, False, [], "api")
    log.record("recherche", "ancienne aussi", {}, True, [], "site")
    log.record_feedback("ancienne", False, None, [], "api")
    clock.now = START + dt.timedelta(days=29)
    log.record("question", "récente", {}, True, [], "api")
    clock.now = START + dt.timedelta(days=31)
    assert log.purge() == 3
    assert log.purge() == 0
    assert [q.question for q in log.questions(EVERYTHING)] == ["récente"] and log.feedback(EVERYTHING) == []


def test_a_question_recorded_by_another_log_of_the_base_is_read_at_once(settings_30_days, log, clock):
    with closing(open_backend(settings_30_days).question_log(clock=clock)) as other:
        other.record("question", "vélo", {"sector": ["mobilité"]}, True, ["a"], "site")
        other.record_feedback("vélo", True, None, ["a"], "site")
    assert [q.question for q in log.questions(EVERYTHING)] == ["vélo"]
    assert [f.question for f in log.feedback(EVERYTHING)] == ["vélo"]
