"""The question log on PostgreSQL (``kb_questions``, ``kb_feedback``): the contract of
``kb/storage/embedded/querylog.py`` (same columns, same rows, same retention), shared by every server.

Each server purges at its opening and at most hourly while it logs, as the SQLite log does;
with several servers the table is purged more often, never less. A search typed in the widget
locks the row it may refine (``FOR UPDATE``), so two servers cannot both rewrite it.
"""

from __future__ import annotations

import datetime as dt

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
from kb.storage.postgres.store import Connect, PgStore

# Nothing that identifies the person asking has a column (see kb/storage/embedded/querylog.py).
_DDL = """
CREATE TABLE IF NOT EXISTS kb_questions (
    id BIGSERIAL PRIMARY KEY,
    at TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    question TEXT NOT NULL,
    filters TEXT NOT NULL,
    found INTEGER NOT NULL,
    doc_ids TEXT NOT NULL,
    channel TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS kb_questions_at ON kb_questions(at);
CREATE TABLE IF NOT EXISTS kb_feedback (
    id BIGSERIAL PRIMARY KEY,
    at TEXT COLLATE "C" NOT NULL,
    question TEXT NOT NULL,
    useful INTEGER NOT NULL,
    comment TEXT,
    doc_ids TEXT NOT NULL,
    channel TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS kb_feedback_at ON kb_feedback(at);
"""


class PgQuestionLog(PgStore):
    _COPIED = COPIED

    def __init__(self, connect: Connect, retention_days: int, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._retention = Retention(retention_days)
        super().__init__(connect, _DDL)
        purge_at_opening(self)

    # -- writes ----------------------------------------------------------------------------

    def record(self, kind: str, question: str, filters: dict, found: bool, doc_ids: list[str], channel: str) -> None:
        """One question; a search refining the widget's previous one rewrites that row."""
        now = self._clock()
        row = question_row(now, kind, question, filters, found, doc_ids, channel)
        with self._db.transaction() as conn:
            typed = None
            if is_typed(kind, channel):
                latest = conn.execute(
                    "SELECT id, question FROM kb_questions WHERE kind = %s AND channel = %s AND filters = %s "
                    "AND at >= %s ORDER BY id DESC LIMIT 1 FOR UPDATE",
                    typing_key(row, now),
                ).fetchone()
                typed = latest[0] if latest is not None and refines(latest[1], row[2]) else None
            if typed is None:
                conn.execute(f"INSERT INTO kb_questions({QUESTION_FIELDS}) VALUES (%s, %s, %s, %s, %s, %s, %s)", row)
            else:
                conn.execute(
                    "UPDATE kb_questions SET at = %s, question = %s, found = %s, doc_ids = %s WHERE id = %s",
                    (row[0], row[2], row[4], row[5], typed),
                )
        self._purge_if_due(now)

    def record_feedback(
        self, question: str, useful: bool, comment: str | None, doc_ids: list[str], channel: str
    ) -> None:
        now = self._clock()
        self._db.execute(
            f"INSERT INTO kb_feedback({FEEDBACK_FIELDS}) VALUES (%s, %s, %s, %s, %s, %s)",
            feedback_row(now, question, useful, comment, doc_ids, channel),
        )
        self._purge_if_due(now)

    def purge(self) -> int:
        """Delete the rows older than the retention; how many went."""
        now = self._clock()
        horizon = self._retention.horizon(now)
        with self._db.transaction() as conn:
            removed = conn.execute("DELETE FROM kb_questions WHERE at < %s", (horizon,)).rowcount
            removed += conn.execute("DELETE FROM kb_feedback WHERE at < %s", (horizon,)).rowcount
        self._retention.purged(now)
        return removed

    def _purge_if_due(self, now: dt.datetime) -> None:
        if self._retention.due(now):
            self.purge()

    # -- reads -----------------------------------------------------------------------------

    def questions(self, period: Period) -> list[LoggedQuestion]:
        sql, args = period_filter(period, "found", "%s")
        rows = self._db.execute(f"SELECT {QUESTION_FIELDS} FROM kb_questions {sql} {QUESTION_ORDER}", args)
        return [logged_question(row) for row in rows]

    def feedback(self, period: Period, useful: bool | None = None) -> list[Feedback]:
        sql, args = period_filter(period, None, "%s", useful=useful)
        rows = self._db.execute(f"SELECT {FEEDBACK_FIELDS} FROM kb_feedback {sql} {FEEDBACK_ORDER}", args)
        return [feedback_from_row(row) for row in rows]
