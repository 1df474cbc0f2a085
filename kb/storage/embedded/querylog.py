"""The question log (SQLite, ``data_dir/questions.sqlite``): what practitioners ask and say.

Each row is a question of /search, /ask or the site's search page, with its time (UTC, to the
second), its kind, its filters, whether the base answered it, the top documents and the channel.
Nothing identifies the person asking: no address, no user agent, no key name. Feedback rows
(useful or not, an optional comment) live in the same file. Rows older than the retention are
purged when the log opens and at most once an hour while it is written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kb.core.clock import utc_now
from kb.records.questions import (
    COPIED,
    FEEDBACK_FIELDS,
    FEEDBACK_ORDER,
    QUESTION_FIELDS,
    QUESTION_ORDER,
    Clock,
    Feedback,
    LoggedQuestion,
    Period,
    Retention,
    feedback_from_row,
    feedback_row,
    is_typed,
    logged_question,
    period_filter,
    purge_at_opening,
    question_row,
    refines,
    typing_key,
)
from kb.storage.embedded.sqlite import SqliteStore, storage_errors

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    question TEXT NOT NULL,
    filters TEXT NOT NULL,
    found INTEGER NOT NULL,
    doc_ids TEXT NOT NULL,
    channel TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_at ON questions(at);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    question TEXT NOT NULL,
    useful INTEGER NOT NULL,
    comment TEXT,
    doc_ids TEXT NOT NULL,
    channel TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_at ON feedback(at);
"""


_WHAT = "le journal des questions"


def _storage_errors():
    return storage_errors(what=_WHAT)


class QuestionLog(SqliteStore):
    """The questions asked and the feedback given, in one SQLite file."""

    _COPIED = COPIED

    def __init__(self, path: Path, retention_days: int, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._retention = Retention(retention_days)
        # a short lock wait: a search never waits long on its log line
        super().__init__(path, _SCHEMA, timeout=5, what=_WHAT)
        purge_at_opening(self)

    # -- writes ----------------------------------------------------------------------------

    def record(self, kind: str, question: str, filters: dict, found: bool, doc_ids: list[str], channel: str) -> None:
        """One question (one INSERT; an hourly purge rides along). A search that refines the
        widget's search of a few seconds before (one extends the other: the widget searches while
        a practitioner types) updates that row rather than logging every keystroke."""
        now = self._clock()
        row = question_row(now, kind, question, filters, found, doc_ids, channel)
        with _storage_errors(), self._db:
            typed = self._being_typed(row, now) if is_typed(kind, channel) else None
            if typed is None:
                self._db.execute(
                    "INSERT INTO questions(at, kind, question, filters, found, doc_ids, channel) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
            else:
                self._db.execute(
                    "UPDATE questions SET at = ?, question = ?, found = ?, doc_ids = ? WHERE id = ?",
                    (row[0], row[2], row[4], row[5], typed),
                )
        self._purge_if_due(now)

    def _being_typed(self, row: tuple, now: dt.datetime) -> int | None:
        """The id of the channel's latest search when it is recent and one text extends the other."""
        latest = self._db.execute(
            "SELECT id, question FROM questions WHERE kind = ? AND channel = ? AND filters = ? AND at >= ? "
            "ORDER BY id DESC LIMIT 1",
            typing_key(row, now),
        ).fetchone()
        return latest[0] if latest is not None and refines(latest[1], row[2]) else None

    def record_feedback(
        self, question: str, useful: bool, comment: str | None, doc_ids: list[str], channel: str
    ) -> None:
        now = self._clock()
        with _storage_errors(), self._db:
            self._db.execute(
                "INSERT INTO feedback(at, question, useful, comment, doc_ids, channel) VALUES (?, ?, ?, ?, ?, ?)",
                feedback_row(now, question, useful, comment, doc_ids, channel),
            )
        self._purge_if_due(now)

    def purge(self) -> int:
        """Delete the rows older than the retention; how many went."""
        now = self._clock()
        horizon = self._retention.horizon(now)
        with _storage_errors(), self._db:
            removed = self._db.execute("DELETE FROM questions WHERE at < ?", (horizon,)).rowcount
            removed += self._db.execute("DELETE FROM feedback WHERE at < ?", (horizon,)).rowcount
        self._retention.purged(now)
        return removed

    def _purge_if_due(self, now: dt.datetime) -> None:
        if self._retention.due(now):
            self.purge()

    # -- reads -----------------------------------------------------------------------------

    def questions(self, period: Period) -> list[LoggedQuestion]:
        sql, args = period_filter(period, "found")
        with _storage_errors():
            rows = self._db.execute(f"SELECT {QUESTION_FIELDS} FROM questions {sql} {QUESTION_ORDER}", args).fetchall()
        return [logged_question(row) for row in rows]

    def feedback(self, period: Period, useful: bool | None = None) -> list[Feedback]:
        sql, args = period_filter(period, None, useful=useful)
        with _storage_errors():
            rows = self._db.execute(f"SELECT {FEEDBACK_FIELDS} FROM feedback {sql} {FEEDBACK_ORDER}", args).fetchall()
        return [feedback_from_row(row) for row in rows]
