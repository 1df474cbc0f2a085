"""Time as every store of the base writes it: UTC, to the second, ISO 8601 (sortable as text)."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def timestamp(moment: dt.datetime | None = None) -> str:
    """``moment`` (default: now) in UTC to the second, e.g. ``2026-12-02T05:47:42+00:00``."""
    moment = utc_now() if moment is None else moment
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat()
