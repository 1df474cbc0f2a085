"""The questions records: types, rules and row conversions shared by both backends (no I/O)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from kb.core.clock import timestamp
from kb.core.errors import ServiceUnavailable
from kb.core.text import fold

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

QUESTION_FIELDS = "at, kind, question, filters, found, doc_ids, channel"
QUESTION_ORDER = "ORDER BY at, id"
FEEDBACK_FIELDS = "at, question, useful, comment, doc_ids, channel"
FEEDBACK_ORDER = "ORDER BY at DESC, id DESC"
# what `kb migrate` copies (kb/storage/copy.py): both tables in the order rows were written
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


# -- what the SQLite and the PostgreSQL logs share (kb/storage/postgres/querylog.py) ------------------------


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
    return (
        timestamp(now),
        question.strip()[:MAX_QUESTION_CHARS],
        int(useful),
        comment or None,
        json.dumps(list(doc_ids)),
        channel,
    )


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


def period_filter(
    period: Period, found_column: str | None, mark: str = "?", useful: bool | None = None
) -> tuple[str, list[str | int]]:
    """The WHERE clause of a period (``mark``: the driver's placeholder) and its values; the
    outcome and ``useful`` are compared as integers, which both logs store."""
    clauses = [f"at >= {mark}", f"at < {mark}"]
    args: list[str | int] = [period.since, period.until]
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
