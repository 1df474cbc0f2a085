"""The question log (SQLite, ``data_dir/questions.sqlite``): what practitioners ask and say.

Each row is a question of /search, /ask or the site's search page, with its time (UTC, to the
second), its kind, its filters, whether the base answered it, the top documents and the channel.
Nothing identifies the person asking: no address, no user agent, no key name. Feedback rows
(useful or not, an optional comment) live in the same file. Rows older than the retention are
purged when the log opens and at most once an hour while it is written.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kb.clock import timestamp, utc_now
from kb.errors import ServiceUnavailable
from kb.sqlite import SqliteStore, storage_errors
from kb.text import fold

logger = logging.getLogger("passerelles.querylog")

SEARCH = "recherche"
TYPED = "widget"  # the channel that searches as one types
KINDS = (SEARCH, "question")
CHANNELS = ("widget", "site", "api")
MAX_QUESTION_CHARS = 1000
MAX_LOGGED_DOCUMENTS = 5
PURGE_INTERVAL = dt.timedelta(hours=1)
# searches of one channel this close, one extending the other, are one practitioner typing
TYPING_WINDOW = dt.timedelta(seconds=20)

Clock = Callable[[], dt.datetime]

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

QUESTION_FIELDS = "at, kind, question, filters, found, doc_ids, channel"
QUESTION_ORDER = "ORDER BY at, id"
FEEDBACK_FIELDS = "at, question, useful, comment, doc_ids, channel"
FEEDBACK_ORDER = "ORDER BY at DESC, id DESC"
# what `kb migrate` copies (kb/store_copy.py): both tables in the order rows were written
COPIED = {"questions": (QUESTION_FIELDS, "id"), "feedback": (FEEDBACK_FIELDS, "id")}


@dataclass(frozen=True)
class LoggedQuestion:
    at: str
    kind: str
    question: str
    filters: dict
    found: bool
    doc_ids: tuple[str, ...]
    channel: str


@dataclass(frozen=True)
class Feedback:
    at: str
    question: str
    useful: bool
    comment: str | None
    doc_ids: tuple[str, ...]
    channel: str


@dataclass(frozen=True)
class Period:
    """Rows between two instants (``until`` excluded), optionally of one outcome or channel."""

    since: str
    until: str
    found: bool | None = None
    channel: str | None = None


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


# -- what the SQLite and the PostgreSQL logs share (kb/pg_querylog.py) ------------------------


class Retention:
    """How long rows are kept, and when this process purges next (at most hourly)."""

    def __init__(self, days: int) -> None:
        self.period = dt.timedelta(days=days)
        self._last_purge: dt.datetime | None = None

    def horizon(self, now: dt.datetime) -> str:
        """The instant before which rows go."""
        return timestamp(now - self.period)

    def purged(self, now: dt.datetime) -> None:
        self._last_purge = now

    def due(self, now: dt.datetime) -> bool:
        return self._last_purge is None or now - self._last_purge >= PURGE_INTERVAL


def purge_at_opening(log) -> None:
    """The purge of a log being opened: a store that refuses writes still lets the dashboard read."""
    try:
        log.purge()
    except ServiceUnavailable as exc:
        logger.warning("journal des questions non purgé : %s", exc)


def question_row(
    now: dt.datetime, kind: str, question: str, filters: dict, found: bool, doc_ids: list[str], channel: str
) -> tuple:
    """A question as both logs store it (``QUESTION_FIELDS``): text and documents bounded."""
    return (
        timestamp(now),
        kind,
        question.strip()[:MAX_QUESTION_CHARS],
        json.dumps(filters, ensure_ascii=False, sort_keys=True),
        int(bool(found)),
        json.dumps(list(doc_ids)[:MAX_LOGGED_DOCUMENTS]),
        channel,
    )


def feedback_row(
    now: dt.datetime, question: str, useful: bool, comment: str | None, doc_ids: list[str], channel: str
) -> tuple:
    """A feedback as both logs store it (``FEEDBACK_FIELDS``)."""
    return (timestamp(now), question.strip()[:MAX_QUESTION_CHARS], int(useful), comment or None,
            json.dumps(list(doc_ids)), channel)


def is_typed(kind: str, channel: str) -> bool:
    """Whether a search comes from the channel that searches as one types."""
    return (kind, channel) == (SEARCH, TYPED)


def typing_key(row: tuple, now: dt.datetime) -> tuple:
    """What a search being typed shares with the row it refines: kind, channel, filters, and a
    time within the typing window."""
    return row[1], row[6], row[3], timestamp(now - TYPING_WINDOW)


def refines(previous: str, current: str) -> bool:
    """Whether one text extends the other (folded), and they differ."""
    before, after = fold(previous).strip(), fold(current).strip()
    return bool(before and after) and before != after and (after.startswith(before) or before.startswith(after))


def logged_question(row: tuple) -> LoggedQuestion:
    at, kind, question, filters, found, doc_ids, channel = row
    return LoggedQuestion(at, kind, question, json.loads(filters), bool(found), tuple(json.loads(doc_ids)), channel)


def feedback_from_row(row: tuple) -> Feedback:
    at, question, useful, comment, doc_ids, channel = row
    return Feedback(at, question, bool(useful), comment, tuple(json.loads(doc_ids)), channel)


def period_filter(period: Period, found_column: str | None, mark: str = "?", useful: bool | None = None) -> tuple[str, list]:
    """The WHERE clause of a period (``mark``: the driver's placeholder) and its values; the
    outcome and ``useful`` are compared as integers, which both logs store."""
    clauses, args = [f"at >= {mark}", f"at < {mark}"], [period.since, period.until]
    if found_column and period.found is not None:
        clauses.append(f"{found_column} = {mark}")
        args.append(int(period.found))
    if period.channel:
        clauses.append(f"channel = {mark}")
        args.append(period.channel)
    if useful is not None:
        clauses.append(f"useful = {mark}")
        args.append(int(useful))
    return "WHERE " + " AND ".join(clauses), args
