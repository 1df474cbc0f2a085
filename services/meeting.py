"""Preparing the working group's next meeting (issue 29, §4): the agenda of a period as data.

A period runs, by default, from the last recorded meeting to today. A meeting is an entry of the
audit log (``réunion du groupe de travail``, naming no document, like a partner site's change):
the log already lives in both backends, says who recorded what and when, is copied by
``kb migrate``, and the latest date it holds is "the last meeting". No new store is needed.

The agenda draws on what the base already keeps:
- new and updated documents: the audit log's writes in the period (a document indexed by
  ``kb ingest`` has no entry: its ``indexed_at`` stands in, shown as ``indexé``);
- the questions that found nothing, grouped by subject as the dashboard groups them;
- the open rapprochements (``services/rapprochements.py``, through ``open_rapprochements``);
- the most consulted documents: the question log keeps the first five documents listed or
  cited for each question, so "consulted" honestly means "offered to a practitioner whose
  question found an answer"; no click, no person, nothing new is logged.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kb.core.clock import timestamp, utc_now
from kb.core.errors import InvalidRequest, Problem
from kb.core.models import StoredDocument, page_url
from kb.core.text import collation_key
from kb.core.vocabulary import SECTORS
from kb.records import question_stats
from kb.records.questions import Period
from services.knowledge_base import KnowledgeBase

MEETING = "réunion du groupe de travail"
NO_DOCUMENT = ""  # a meeting names no document (readers of the log filter on doc_id)
DEFAULT_DAYS = 30  # the period when no meeting has been recorded yet
MAX_NOTE_CHARS = 300
MEETINGS_SHOWN = 10
GROUPS_SHOWN = 15
PAIRS_SHOWN = 10
CONSULTED_SHOWN = 10

NEW, UPDATED, INDEXED = "nouveau", "mis à jour", "indexé"
PROPOSALS = ("proposition", "nouvelle proposition")  # their ``remplacement``: the publication updates
WRITES = ("ajout", "publication", "remplacement", "modification")
REMOVAL = "suppression"
UNSPECIFIED_SECTOR = "non précisé"
OPEN_PAIRS = "à examiner"  # the status of a rapprochement nobody has decided on yet

BASIS_MEETING = "dernière réunion"
BASIS_DEFAULT = "par défaut"
BASIS_CHOSEN = "choisie"
CONSULTED_BASIS = (
    "Documents le plus souvent proposés aux praticiens dont la question a trouvé une réponse "
    "(parmi les cinq premiers résultats d'une recherche ou cités dans une réponse)."
)

Pairs = Callable[..., dict]


@dataclass(frozen=True)
class AgendaPeriod:
    since: dt.date
    until: dt.date
    basis: str

    @property
    def bounds(self) -> tuple[str, str]:
        """The instants of the period as the stores write them (``until`` included)."""
        start = dt.datetime.combine(self.since, dt.time(), dt.UTC)
        end = dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), dt.UTC)
        return timestamp(start), timestamp(end)

    def holds(self, at: str) -> bool:
        start, end = self.bounds
        return start <= at < end


class MeetingAgenda:
    """``open_rapprochements``: the open pairs (``Rapprochements.pairs``' signature), or None
    while the rapprochements are not available: the agenda then says so."""

    def __init__(
        self,
        kb: KnowledgeBase,
        open_rapprochements: Pairs | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.kb = kb
        self.audit = kb.writer.audit
        self.open_rapprochements = open_rapprochements
        self._clock = clock

    # -- meetings ---------------------------------------------------------------------------

    def meetings(self) -> list[dict]:
        """The recorded meetings, the latest date first."""
        rows = [
            {
                "date": entry["date"],
                "note": entry.get("note"),
                "recorded_by": entry.get("actor"),
                "recorded_at": entry.get("at"),
            }
            for entry in self.audit.entries(NO_DOCUMENT)
            if entry.get("action") == MEETING and isinstance(entry.get("date"), str)
        ]
        return sorted(rows, key=lambda row: (row["date"], row["recorded_at"] or ""), reverse=True)

    def record_meeting(self, day: dt.date, note: str | None, actor: str) -> dict:
        """Record that the working group met on ``day`` (today or before), audited."""
        problems: list[Problem] = []
        if day > self._today():
            problems.append(Problem("date", "la date d'une réunion déjà tenue est attendue (aujourd'hui ou avant)"))
        note = (note or "").strip() or None
        if note is not None and len(note) > MAX_NOTE_CHARS:
            problems.append(Problem("note", f"{MAX_NOTE_CHARS} caractères au plus"))
        if problems:
            raise InvalidRequest("Réunion invalide.", problems)
        details: dict[str, Any] = {"date": day.isoformat()}
        if note:
            details["note"] = note
        self.audit.record(actor, MEETING, NO_DOCUMENT, **details)
        return {"date": day.isoformat(), "note": note, "recorded_by": actor}

    # -- the agenda -------------------------------------------------------------------------

    def period(self, since: dt.date | None, until: dt.date | None, meetings: list[dict]) -> AgendaPeriod:
        """The days asked for; without a start, from the last meeting held by ``until``
        (its day included: what changed after the meeting that day is not missed), else the
        last ``DEFAULT_DAYS`` days."""
        until = until or self._today()
        if since is not None:
            basis = BASIS_CHOSEN
        else:
            held = [dt.date.fromisoformat(m["date"]) for m in meetings if m["date"] <= until.isoformat()]
            since = max(held) if held else until - dt.timedelta(days=DEFAULT_DAYS - 1)
            basis = BASIS_MEETING if held else BASIS_DEFAULT
        if since > until:
            raise InvalidRequest("Période invalide.", [Problem("since", "la date de début est après la date de fin")])
        return AgendaPeriod(since, until, basis)

    def agenda(self, since: dt.date | None = None, until: dt.date | None = None, base_url: str = "") -> dict:
        meetings = self.meetings()
        period = self.period(since, until, meetings)
        site = (self.kb.index.settings.public_url or base_url).rstrip("/")
        documents = {stored.metadata.doc_id: stored for stored in self.kb.index.documents()}
        last = next((m for m in meetings if m["date"] <= period.until.isoformat()), None)
        return {
            "since": period.since.isoformat(),
            "until": period.until.isoformat(),
            "basis": period.basis,
            "last_meeting": last,
            "meetings": meetings[:MEETINGS_SHOWN],
            "documents": self._changes(period, documents, site),
            "unanswered": self._unanswered(period),
            "rapprochements": self._rapprochements(site),
            "most_consulted": self._consulted(period, documents, site),
        }

    def _changes(self, period: AgendaPeriod, documents: dict[str, StoredDocument], site: str) -> dict:
        """The documents written in the period, by sector, the latest change first; and those
        removed in it (and not back since)."""
        first: dict[str, str] = {}
        changed: dict[str, dict] = {}
        removed: dict[str, dict] = {}
        proposed_update: dict[str, bool] = {}
        for entry in self.audit.entries():
            doc_id, action, at = entry.get("doc_id"), entry.get("action"), entry.get("at", "")
            if not doc_id:
                continue
            if action in PROPOSALS:
                proposed_update[doc_id] = bool(entry.get("remplacement"))
            if action == "ajout" or (action == "publication" and not proposed_update.get(doc_id)):
                first.setdefault(doc_id, at)
            if not period.holds(at):
                continue
            if action in WRITES:
                changed[doc_id] = entry
                removed.pop(doc_id, None)
            elif action == REMOVAL:
                removed[doc_id] = entry
        rows: list[dict] = []
        for doc_id, stored in documents.items():
            write = changed.get(doc_id)
            if write is not None:
                kind = NEW if period.holds(first.get(doc_id, "")) else UPDATED
                rows.append(_change_row(stored, kind, write["at"], write.get("actor"), site))
            elif period.holds(stored.indexed_at):
                rows.append(_change_row(stored, INDEXED, stored.indexed_at, None, site))
        rows.sort(key=lambda row: (row["at"], row["doc_id"]), reverse=True)
        sectors = list(SECTORS) + sorted({row["sector"] for row in rows} - set(SECTORS), key=collation_key)
        return {
            "total": len(rows),
            "new": sum(row["change"] == NEW for row in rows),
            "sectors": [
                {"sector": sector, "documents": [row for row in rows if row["sector"] == sector]} for sector in sectors
            ],
            "removed": [
                {"doc_id": doc_id, "title": entry.get("title") or doc_id, "at": entry["at"]}
                for doc_id, entry in sorted(removed.items(), key=lambda item: item[1]["at"], reverse=True)
                if doc_id not in documents
            ],
        }

    def _unanswered(self, period: AgendaPeriod) -> dict:
        questions = self.kb.questions
        log = questions.log
        if log is None:
            return {"log_enabled": False, "total": 0, "groups": [], "more_groups": 0}
        rows = log.questions(Period(*period.bounds, found=False))
        groups = question_stats.group_questions(rows, questions.vectors, questions.settings.question_group_similarity)
        return {
            "log_enabled": True,
            "total": len(rows),
            "groups": groups[:GROUPS_SHOWN],
            "more_groups": max(0, len(groups) - GROUPS_SHOWN),
        }

    def _rapprochements(self, site: str) -> dict:
        """The pairs still to examine, each side with its page."""
        if self.open_rapprochements is None:
            return {"available": False, "total": 0, "pairs": []}
        page = self.open_rapprochements(status=OPEN_PAIRS, limit=PAIRS_SHOWN)
        pairs = [
            {**pair, "a": _linked(pair["a"], site), "b": _linked(pair["b"], site)}
            for pair in list(page.get("pairs") or [])[:PAIRS_SHOWN]
        ]
        return {"available": True, "total": int(page.get("total", len(pairs))), "pairs": pairs}

    def _consulted(self, period: AgendaPeriod, documents: dict[str, StoredDocument], site: str) -> dict:
        log = self.kb.questions.log
        counts: Counter[str] = Counter()
        if log is not None:
            for row in log.questions(Period(*period.bounds, found=True)):
                counts.update(set(row.doc_ids))
        ranked = sorted(
            (doc_id for doc_id in counts if doc_id in documents),
            key=lambda doc_id: (-counts[doc_id], collation_key(documents[doc_id].metadata.title)),
        )
        return {
            "basis": CONSULTED_BASIS,
            "documents": [
                {
                    "doc_id": doc_id,
                    "title": documents[doc_id].metadata.title,
                    "sector": documents[doc_id].metadata.sector or UNSPECIFIED_SECTOR,
                    "doc_type": documents[doc_id].metadata.doc_type,
                    "count": counts[doc_id],
                    "url": page_url(site, doc_id),
                }
                for doc_id in ranked[:CONSULTED_SHOWN]
            ],
        }

    def _today(self) -> dt.date:
        return self._clock().date()


def _change_row(stored: StoredDocument, kind: str, at: str, actor: str | None, site: str) -> dict:
    meta = stored.metadata
    return {
        "doc_id": meta.doc_id,
        "title": meta.title,
        "doc_type": meta.doc_type,
        "sector": meta.sector or UNSPECIFIED_SECTOR,
        "territory": meta.territory,
        "change": kind,
        "at": at,
        "by": actor,
        "url": page_url(site, meta.doc_id),
    }


def _linked(side: dict, site: str) -> dict:
    return {**side, "url": page_url(site, side["doc_id"])}


def rapprochements_of(kb: KnowledgeBase) -> Pairs | None:
    """The hook wiring the open rapprochements into the agenda: the knowledge base's
    ``Rapprochements`` (``services/rapprochements.py``) once it carries one, else None (the
    agenda then says they are not available yet)."""
    engine = getattr(kb, "rapprochements", None)
    return None if engine is None else engine.pairs
