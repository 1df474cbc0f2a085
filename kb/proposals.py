"""Proposals: documents submitted by contributors, waiting for coordination (SQLite).

A proposal never enters the index: only published documents are there, so no public read can
show one. A proposal keeps the submission itself (bytes, file type, sidecar metadata) so that
publishing runs the normal write path on it; once published it leaves this store (its story
stays in the audit log). One proposal per document id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kb.clock import timestamp
from kb.errors import ConflictError
from kb.sqlite import SqliteStore, storage_errors

PROPOSED = "proposé"
CHANGES_REQUESTED = "à revoir"
REJECTED = "rejeté"
PUBLISHED = "publié"
STATUSES = (PROPOSED, CHANGES_REQUESTED, REJECTED)
OPEN = (PROPOSED, CHANGES_REQUESTED)  # a proposal another person may not take over

# What review may do from each status (re-submission by its author is the way back to proposé).
_TRANSITIONS = {
    PROPOSED: (PUBLISHED, CHANGES_REQUESTED, REJECTED, PROPOSED),
    CHANGES_REQUESTED: (PROPOSED, REJECTED),
    REJECTED: (PROPOSED,),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS proposals (
    doc_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    replace_existing INTEGER NOT NULL,
    title TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    sector TEXT,
    territory TEXT,
    porteur TEXT,
    date TEXT,
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    comment TEXT,
    data BLOB NOT NULL,
    suffix TEXT NOT NULL,
    sidecar TEXT NOT NULL,
    duplicates TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS proposals_author ON proposals(submitted_by);
"""

COLUMNS = (
    "doc_id, status, replace_existing, title, doc_type, sector, territory, porteur, date, submitted_by,"
    " submitted_at, updated_at, comment, data, suffix, sidecar, duplicates"
)

COPIED = {"proposals": (COLUMNS, "doc_id")}  # what `kb migrate` copies (kb/store_copy.py)

now = timestamp  # what services/review.py stamps proposals with


@dataclass(frozen=True)
class Proposal:
    doc_id: str
    status: str
    replace: bool
    title: str
    doc_type: str
    sector: str | None
    territory: str | None
    porteur: str | None
    date: str | None
    submitted_by: str
    submitted_at: str
    updated_at: str
    comment: str | None
    data: bytes = field(repr=False)
    suffix: str
    sidecar: dict[str, Any]
    duplicates: list[dict[str, Any]]

    def summary(self) -> dict[str, Any]:
        """The proposal as lists show it (no submission bytes)."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "doc_type": self.doc_type,
            "sector": self.sector,
            "territory": self.territory,
            "date": self.date,
            "status": self.status,
            "submitted_by": self.submitted_by,
            "submitted_at": self.submitted_at,
            "updated_at": self.updated_at,
            "comment": self.comment,
            "replace": self.replace,
            "duplicates": self.duplicates,
        }


def check_transition(proposal: Proposal, target: str) -> None:
    """``ConflictError`` (409) when review may not take ``proposal`` to ``target``."""
    if target not in _TRANSITIONS.get(proposal.status, ()):
        raise ConflictError(
            f"La proposition « {proposal.doc_id} » est « {proposal.status} » : "
            f"elle ne peut pas passer à « {target} »."
        )


# ``put``'s default: replace whatever is stored
ANY_PROPOSAL = object()


def check_unchanged(doc_id: str, expected: Proposal | None, row: tuple | None) -> None:
    """``ConflictError`` when the stored proposal (status, updated_at, submitted_by) is no
    longer the one read as ``expected``."""
    seen = None if expected is None else (expected.status, expected.updated_at, expected.submitted_by)
    if (tuple(row) if row is not None else None) != seen:
        raise ConflictError(
            f"Une autre personne vient de proposer ou de modifier le document « {doc_id} » : "
            "rechargez-le, ou donnez un autre identifiant."
        )


class ProposalStore(SqliteStore):
    """The proposals in ``data_dir/proposals.sqlite`` (``kb/pg_proposals.py``: on PostgreSQL)."""

    _COPIED = COPIED

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def get(self, doc_id: str) -> Proposal | None:
        with storage_errors(self._path):
            row = self._db.execute(f"SELECT {COLUMNS} FROM proposals WHERE doc_id = ?", (doc_id,)).fetchone()
        return proposal_from_row(row) if row else None

    def list(self, status: str | None = None, submitted_by: str | None = None) -> list[Proposal]:
        """Proposals, most recently updated first, optionally of one status or one author."""
        where, values = list_filter(status, submitted_by, "?")
        with storage_errors(self._path):
            rows = self._db.execute(f"SELECT {COLUMNS} FROM proposals {where} {LIST_ORDER}", values).fetchall()
        return [proposal_from_row(row) for row in rows]

    def count(self, statuses: tuple[str, ...] = OPEN) -> int:
        marks = ", ".join("?" for _ in statuses)
        with storage_errors(self._path):
            return self._db.execute(f"SELECT COUNT(*) FROM proposals WHERE status IN ({marks})", statuses).fetchone()[0]

    def put(self, proposal: Proposal, expected: Proposal | None | object = ANY_PROPOSAL) -> None:
        """Store ``proposal``, replacing any proposal of the same document id; with
        ``expected`` (the proposal as read before, or None for none), only if the stored one is
        still that: ``ConflictError`` otherwise (two authors proposing one id at once)."""
        with storage_errors(self._path), self._db:
            if expected is None:  # a new id: the insert itself must find the id free
                inserted = self._db.execute(
                    f"INSERT OR IGNORE INTO proposals({COLUMNS}) VALUES ({', '.join('?' * 17)})",
                    proposal_row(proposal),
                ).rowcount
                if not inserted:
                    check_unchanged(proposal.doc_id, None, ("déjà proposé",))
                return
            if expected is not ANY_PROPOSAL:
                row = self._db.execute(
                    "SELECT status, updated_at, submitted_by FROM proposals WHERE doc_id = ?", (proposal.doc_id,)
                ).fetchone()
                check_unchanged(proposal.doc_id, expected, row)
            self._db.execute(
                f"INSERT OR REPLACE INTO proposals({COLUMNS}) VALUES ({', '.join('?' * 17)})", proposal_row(proposal)
            )

    def set_status(self, proposal: Proposal, status: str, comment: str | None) -> Proposal:
        """Move ``proposal`` (as read) to ``status``; ``ConflictError`` if it changed meanwhile."""
        updated = replace(proposal, status=status, comment=comment, updated_at=now())
        with storage_errors(self._path), self._db:
            changed = self._db.execute(
                "UPDATE proposals SET status = ?, comment = ?, updated_at = ? WHERE doc_id = ? AND status = ?",
                (updated.status, updated.comment, updated.updated_at, updated.doc_id, proposal.status),
            ).rowcount
        if not changed:
            raise changed_meanwhile(proposal.doc_id)
        return updated

    def remove(self, doc_id: str) -> None:
        with storage_errors(self._path), self._db:
            self._db.execute("DELETE FROM proposals WHERE doc_id = ?", (doc_id,))


LIST_ORDER = "ORDER BY updated_at DESC, doc_id"


def list_filter(status: str | None, submitted_by: str | None, mark: str) -> tuple[str, list]:
    """The WHERE clause of ``list`` (``mark``: the driver's placeholder) and its values."""
    clauses, values = [], []
    if status is not None:
        clauses.append(f"status = {mark}")
        values.append(status)
    if submitted_by is not None:
        clauses.append(f"submitted_by = {mark}")
        values.append(submitted_by)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), values


def changed_meanwhile(doc_id: str) -> ConflictError:
    return ConflictError(
        f"La proposition « {doc_id} » a changé ou a été retirée entre-temps : rechargez-la avant de la relire."
    )


def proposal_row(p: Proposal) -> tuple:
    """The proposal as a row of ``COLUMNS`` (SQLite and PostgreSQL alike)."""
    return (
        p.doc_id, p.status, int(p.replace), p.title, p.doc_type, p.sector, p.territory, p.porteur,
        p.date, p.submitted_by, p.submitted_at, p.updated_at, p.comment, p.data, p.suffix,
        json.dumps(p.sidecar, ensure_ascii=False), json.dumps(p.duplicates, ensure_ascii=False),
    )


def proposal_from_row(row: tuple) -> Proposal:
    (doc_id, status, replace_existing, title, doc_type, sector, territory, porteur, date, submitted_by,
     submitted_at, updated_at, comment, data, suffix, sidecar, duplicates) = row
    return Proposal(
        doc_id=doc_id, status=status, replace=bool(replace_existing), title=title, doc_type=doc_type,
        sector=sector, territory=territory, porteur=porteur, date=date, submitted_by=submitted_by,
        submitted_at=submitted_at, updated_at=updated_at, comment=comment, data=bytes(data), suffix=suffix,
        sidecar=json.loads(sidecar), duplicates=json.loads(duplicates),
    )
