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

    def __init__(self, path: Path, retention_days: int, clock: Clock = utc_now) -> None:
        self._retention = dt.timedelta(days=retention_days)
        self._clock = clock
        self._last_purge: dt.datetime | None = None
        # a short lock wait: a search never waits long on its log line
        super().__init__(path, _SCHEMA, timeout=5, what=_WHAT)
        try:
            self.purge()
        except ServiceUnavailable as exc:  # a read-only disk still lets the dashboard read
            logger.warning("journal des questions non purgé : %s", exc)

    # -- writes ----------------------------------------------------------------------------

    def record(self, kind: str, question: str, filters: dict, found: bool, doc_ids: list[str], channel: str) -> None:
        """One question (one INSERT; an hourly purge rides along). A search that refines the
        widget's search of a few seconds before (one extends the other: the widget searches while
        a practitioner types) updates that row rather than logging every keystroke."""
        now = self._clock()
        text = question.strip()[:MAX_QUESTION_CHARS]
        row = (
            timestamp(now),
            kind,
            text,
            json.dumps(filters, ensure_ascii=False, sort_keys=True),
            int(bool(found)),
            json.dumps(list(doc_ids)[:MAX_LOGGED_DOCUMENTS]),
            channel,
        )
        with _storage_errors(), self._db:
            typed = self._being_typed(kind, text, row[3], channel, now) if (kind, channel) == (SEARCH, TYPED) else None
            if typed is None:
                self._db.execute(
                    "INSERT INTO questions(at, kind, question, filters, found, doc_ids, channel) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
            else:
                self._db.execute(
                    "UPDATE questions SET at = ?, question = ?, found = ?, doc_ids = ? WHERE id = ?",
                    (row[0], text, row[4], row[5], typed),
                )
        self._purge_if_due(now)

    def _being_typed(self, kind: str, text: str, filters: str, channel: str, now: dt.datetime) -> int | None:
        """The id of the channel's latest search when it is recent and one text extends the other."""
        latest = self._db.execute(
            "SELECT id, question FROM questions WHERE kind = ? AND channel = ? AND filters = ? AND at >= ? "
            "ORDER BY id DESC LIMIT 1",
            (kind, channel, filters, timestamp(now - TYPING_WINDOW)),
        ).fetchone()
        if latest is None:
            return None
        previous = fold(latest[1]).strip()
        current = fold(text).strip()
        refines = previous != current and (current.startswith(previous) or previous.startswith(current))
        return latest[0] if previous and current and refines else None

    def record_feedback(
        self, question: str, useful: bool, comment: str | None, doc_ids: list[str], channel: str
    ) -> None:
        now = self._clock()
        with _storage_errors(), self._db:
            self._db.execute(
                "INSERT INTO feedback(at, question, useful, comment, doc_ids, channel) VALUES (?, ?, ?, ?, ?, ?)",
                (timestamp(now), question.strip()[:MAX_QUESTION_CHARS], int(useful), comment or None,
                 json.dumps(list(doc_ids)), channel),
            )
        self._purge_if_due(now)

    def purge(self) -> int:
        """Delete the rows older than the retention; how many went."""
        now = self._clock()
        horizon = timestamp(now - self._retention)
        with _storage_errors(), self._db:
            removed = self._db.execute("DELETE FROM questions WHERE at < ?", (horizon,)).rowcount
            removed += self._db.execute("DELETE FROM feedback WHERE at < ?", (horizon,)).rowcount
        self._last_purge = now
        return removed

    def _purge_if_due(self, now: dt.datetime) -> None:
        if self._last_purge is None or now - self._last_purge >= PURGE_INTERVAL:
            self.purge()

    # -- reads -----------------------------------------------------------------------------

    def questions(self, period: Period) -> list[LoggedQuestion]:
        sql, args = _where(period, "found")
        with _storage_errors():
            rows = self._db.execute(
                f"SELECT at, kind, question, filters, found, doc_ids, channel FROM questions {sql} ORDER BY at, id",
                args,
            ).fetchall()
        return [
            LoggedQuestion(at, kind, question, json.loads(filters), bool(found), tuple(json.loads(doc_ids)), channel)
            for at, kind, question, filters, found, doc_ids, channel in rows
        ]

    def feedback(self, period: Period, useful: bool | None = None) -> list[Feedback]:
        sql, args = _where(Period(period.since, period.until, None, period.channel), None)
        if useful is not None:
            sql += " AND useful = ?"
            args.append(int(useful))
        with _storage_errors():
            rows = self._db.execute(
                f"SELECT at, question, useful, comment, doc_ids, channel FROM feedback {sql} ORDER BY at DESC, id DESC",
                args,
            ).fetchall()
        return [
            Feedback(at, question, bool(useful_), comment, tuple(json.loads(doc_ids)), channel)
            for at, question, useful_, comment, doc_ids, channel in rows
        ]


def _where(period: Period, found_column: str | None) -> tuple[str, list]:
    clauses, args = ["at >= ?", "at < ?"], [period.since, period.until]
    if found_column and period.found is not None:
        clauses.append(f"{found_column} = ?")
        args.append(int(period.found))
    if period.channel:
        clauses.append("channel = ?")
        args.append(period.channel)
    return "WHERE " + " AND ".join(clauses), args
