"""What practitioners ask: the log's hook for every read route, the feedback, the dashboard.

Routes call ``searched`` / ``answered`` once their response is computed: a failure to log is
logged as a warning and never reaches the person searching. ``KB_QUERY_LOG=false``: nothing is
written (not even feedback) and the dashboard says so.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from functools import partial

import numpy as np

from kb.core.bounded_cache import BoundedCache
from kb.core.clock import timestamp, utc_now
from kb.core.errors import InvalidRequest, KBError, Problem, TooManyRequests
from kb.core.ratelimit import RateLimiter
from kb.core.settings import Settings
from kb.core.text import collation_key
from kb.core.vocabulary import SECTORS, content_doc_types
from kb.index.knowledge_index import KnowledgeIndex
from kb.records import question_stats
from kb.records.questions import Period
from kb.search.filters import Filters
from kb.storage.protocols import QuestionLog

logger = logging.getLogger("passerelles.questions")

DEFAULT_DAYS = 90
UNSPECIFIED_SECTOR = "non précisé"
CSV_COLUMNS = ("date", "type", "question", "filtres", "trouvé", "documents", "canal")
_VECTOR_CACHE = 5000


class Questions:
    """``open_log``: opens the question log (None: the log is off). It is opened at once and,
    if the disk refuses, again on next use: a broken log never stops the base from opening."""

    def __init__(
        self,
        settings: Settings,
        index: KnowledgeIndex,
        open_log: Callable[[], QuestionLog] | None,
        limiter: RateLimiter,
        clock=utc_now,
    ) -> None:
        self.settings = settings
        self.index = index
        self.enabled = open_log is not None
        self.limiter = limiter
        self._open_log = open_log
        self._log: QuestionLog | None = None
        self._log_lock = threading.Lock()
        self._clock = clock
        self._vectors: BoundedCache[str, np.ndarray] = BoundedCache(_VECTOR_CACHE)
        self._writable_log()

    @classmethod
    def from_settings(cls, settings: Settings, index: KnowledgeIndex) -> Questions:
        opener = index.backend.question_log if settings.query_log else None
        return cls(settings, index, opener, RateLimiter(settings.feedback_per_minute))

    @property
    def log(self) -> QuestionLog | None:
        """The open log (None when it is off); ``ServiceUnavailable`` when it cannot be opened."""
        if self._open_log is None:
            return None
        if self._log is not None:  # the hot path: no lock once open
            return self._log
        with self._log_lock:
            if self._log is None:
                self._log = self._open_log()
            return self._log

    def _writable_log(self) -> QuestionLog | None:
        try:
            return self.log
        except KBError as exc:
            logger.warning("journal des questions indisponible : %s", exc)
            return None

    def close(self) -> None:
        with self._log_lock:
            if self._log is not None:
                self._log.close()
                self._log = None

    # -- the hook of the read routes ------------------------------------------------------

    def searched(self, query: str, filters: Filters | None, response: dict, channel: str | None) -> None:
        """Log a search (/search, the site's list): found when some document is listed and the
        base answers it (not when only the nearest documents are, ``confident`` false)."""
        results = response.get("results") or []
        found = bool(results) and response.get("confident", True)
        self._record("recherche", query, filters, found, [r["doc_id"] for r in results], channel)

    def answered(self, question: str, filters: Filters | None, answer: dict, channel: str | None) -> None:
        """Log a question (/ask, /ask/stream, the site's answer) with the answer's ``found``."""
        cited = [c["doc_id"] for c in answer.get("citations") or []]
        nearest = [d["doc_id"] for d in answer.get("nearest") or []]
        self._record(
            "question", question, filters, bool(answer.get("found")), list(dict.fromkeys(cited + nearest)), channel
        )

    def _record(
        self, kind: str, text: str, filters: Filters | None, found: bool, doc_ids: list[str], channel: str | None
    ) -> None:
        if channel is None:  # logged already, by the page that sent it (api/deps.request_channel)
            return
        log = self._writable_log()
        if log is None or not text.strip():
            return
        try:
            log.record(kind, text, _filters_dict(filters), found, doc_ids, channel)
        except KBError as exc:  # a full or read-only disk must never fail a search
            logger.warning("question non journalisée : %s", exc)

    # -- feedback ---------------------------------------------------------------------------

    def feedback(
        self,
        question: str,
        useful: bool,
        comment: str | None,
        doc_ids: list[str],
        channel: str | None,
        client: str | None,
    ) -> dict:
        """Store one feedback; ``TooManyRequests`` past KB_FEEDBACK_PER_MINUTE for this client."""
        wait = self.limiter.acquire(client or "inconnu")
        if wait is not None:
            raise TooManyRequests(
                f"Trop d'avis envoyés en peu de temps : réessayez dans {int(wait)} secondes.", int(wait)
            )
        if not question.strip():
            raise InvalidRequest("Avis invalide.", [Problem("question", "la question est vide")])
        log = self.log
        if log is None:
            return {"status": "ignoré"}
        log.record_feedback(question, useful, (comment or "").strip() or None, doc_ids, channel or "site")
        return {"status": "enregistré"}

    # -- the dashboard --------------------------------------------------------------------

    def period(
        self, since: dt.date | None, until: dt.date | None, found: bool | None = None, channel: str | None = None
    ) -> tuple[dt.date, dt.date, Period]:
        """The days asked for (``until`` included; default: the last 90 days)."""
        until = until or self._clock().date()
        since = since or until - dt.timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            raise InvalidRequest("Période invalide.", [Problem("since", "la date de début est après la date de fin")])
        start = dt.datetime.combine(since, dt.time(), dt.UTC)
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        return since, until, Period(timestamp(start), timestamp(end), found, channel)

    def dashboard(
        self,
        since: dt.date | None = None,
        until: dt.date | None = None,
        found: bool | None = None,
        channel: str | None = None,
    ) -> dict:
        since, until, period = self.period(since, until, found, channel)
        log = self.log
        rows = log.questions(period) if log else []
        unanswered = [row for row in rows if not row.found]
        not_useful = log.feedback(period, useful=False) if log else []
        return {
            "log_enabled": self.enabled,
            "since": since.isoformat(),
            "until": until.isoformat(),
            "total": len(rows),
            "answered_ratio": round(sum(row.found for row in rows) / len(rows), 3) if rows else None,
            "frequent": question_stats.frequent(rows),
            "unanswered_groups": question_stats.group_questions(
                unanswered, self.vectors, self.settings.question_group_similarity
            ),
            "not_useful": [
                {"question": f.question, "comment": f.comment, "at": f.at, "doc_ids": list(f.doc_ids)}
                for f in not_useful
            ],
            "weekly": question_stats.weekly(rows, since, until),
            "coverage": self.coverage(),
        }

    def vectors(self, texts: list[str]) -> np.ndarray:
        """Query embeddings of questions, cached by text (the log repeats its questions)."""
        rows = [self._vectors.get_or_compute(text, partial(self._query_vector, text)) for text in texts]
        return np.stack(rows) if rows else np.zeros((0, self.index.embedder.dimension), np.float32)

    def _query_vector(self, text: str) -> np.ndarray:
        return np.asarray(self.index.embedder.embed_query(text), dtype=np.float32)

    def coverage(self) -> dict:
        """Documents (fiches, methods… not the directory) per theme and sector."""
        kinds = set(content_doc_types())
        counts: dict[str, dict[str, int]] = {}
        sectors = list(SECTORS)
        for stored in self.index.documents():
            meta = stored.metadata
            if meta.doc_type not in kinds:
                continue
            sector = meta.sector or UNSPECIFIED_SECTOR
            if sector not in sectors:
                sectors.append(sector)
            for theme in meta.themes:
                row = counts.setdefault(theme, {})
                row[sector] = row.get(sector, 0) + 1
        themes = sorted(counts, key=collation_key)
        return {"themes": themes, "sectors": sectors, "counts": counts}

    def csv(
        self,
        since: dt.date | None = None,
        until: dt.date | None = None,
        found: bool | None = None,
        channel: str | None = None,
    ) -> str:
        """The log's rows of the period, for a spreadsheet: UTF-8 with BOM, ``;``-separated."""
        _, _, period = self.period(since, until, found, channel)
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        log = self.log
        for row in log.questions(period) if log else []:
            writer.writerow(
                [
                    row.at,
                    row.kind,
                    _cell(row.question),
                    _cell(json.dumps(row.filters, ensure_ascii=False)) if row.filters else "",
                    "oui" if row.found else "non",
                    ", ".join(row.doc_ids),
                    row.channel,
                ]
            )
        return out.getvalue()


def _filters_dict(filters: Filters | None) -> dict:
    if filters is None:
        return {}
    return {
        name: list(value) if isinstance(value, tuple) else value for name, value in asdict(filters).items() if value
    }


def _cell(text: str) -> str:
    """A question is typed by anyone: never let a spreadsheet read it as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
