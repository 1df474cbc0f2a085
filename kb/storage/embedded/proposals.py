"""Proposals: documents submitted by contributors, waiting for coordination (SQLite).

A proposal never enters the index: only published documents are there, so no public read can
show one. A proposal keeps the submission itself (bytes, file type, sidecar metadata) so that
publishing runs the normal write path on it; once published it leaves this store (its story
stays in the audit log). One proposal per document id.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kb.records.proposals import (
    ANY_PROPOSAL,
    COLUMNS,
    COPIED,
    LIST_ORDER,
    OPEN,
    Expected,
    Proposal,
    changed_meanwhile,
    check_unchanged,
    list_filter,
    now,
    proposal_from_row,
    proposal_row,
)
from kb.storage.embedded.sqlite import SqliteStore, storage_errors

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


class ProposalStore(SqliteStore):
    """The proposals in ``data_dir/proposals.sqlite`` (``kb/storage/postgres/proposals.py``: on PostgreSQL)."""

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

    def put(self, proposal: Proposal, expected: Expected = ANY_PROPOSAL) -> None:
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
