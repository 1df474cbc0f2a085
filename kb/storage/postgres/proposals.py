"""Proposals on PostgreSQL (``kb_proposals``): the contract of ``kb/storage/embedded/proposals.py``, the same
columns (the submission's bytes as ``bytea``), one row per document id, seen by every server.

A change of status is conditional on the status the reviewer read, so two coordinators acting
on one proposal from two servers cannot both succeed: the second gets a 409.
"""

from __future__ import annotations

from dataclasses import replace

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
from kb.storage.postgres.store import Connect, PgStore

_DDL = """
CREATE TABLE IF NOT EXISTS kb_proposals (
    doc_id TEXT COLLATE "C" PRIMARY KEY,
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
    updated_at TEXT COLLATE "C" NOT NULL,
    comment TEXT,
    data BYTEA NOT NULL,
    suffix TEXT NOT NULL,
    sidecar TEXT NOT NULL,
    duplicates TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS kb_proposals_author ON kb_proposals(submitted_by);
"""
_UPSERT = (
    f"INSERT INTO kb_proposals({COLUMNS}) VALUES ({', '.join(['%s'] * 17)}) ON CONFLICT (doc_id) DO UPDATE SET "
    + ", ".join(f"{column.strip()} = EXCLUDED.{column.strip()}" for column in COLUMNS.split(",")[1:])
)

_INSERT_NEW = (
    f"INSERT INTO kb_proposals({COLUMNS}) VALUES ({', '.join(['%s'] * 17)}) "
    "ON CONFLICT (doc_id) DO NOTHING RETURNING doc_id"
)


class PgProposalStore(PgStore):
    _COPIED = COPIED

    def __init__(self, connect: Connect) -> None:
        super().__init__(connect, _DDL)

    def get(self, doc_id: str) -> Proposal | None:
        rows = self._db.execute(f"SELECT {COLUMNS} FROM kb_proposals WHERE doc_id = %s", (doc_id,))
        return proposal_from_row(rows[0]) if rows else None

    def list(self, status: str | None = None, submitted_by: str | None = None) -> list[Proposal]:
        """Proposals, most recently updated first, optionally of one status or one author."""
        where, values = list_filter(status, submitted_by, "%s")
        rows = self._db.execute(f"SELECT {COLUMNS} FROM kb_proposals {where} {LIST_ORDER}", values)
        return [proposal_from_row(row) for row in rows]

    def count(self, statuses: tuple[str, ...] = OPEN) -> int:
        return self._db.execute("SELECT COUNT(*) FROM kb_proposals WHERE status = ANY(%s)", (list(statuses),))[0][0]

    def put(self, proposal: Proposal, expected: Expected = ANY_PROPOSAL) -> None:
        """Store ``proposal``, replacing any proposal of the same document id; with
        ``expected`` (as read before, or None for none), only if the stored one is still that
        (the row is locked meanwhile): ``ConflictError`` otherwise."""
        with self._db.transaction() as conn:
            if expected is None:  # a new id: the insert itself must find the id free
                inserted = conn.execute(_INSERT_NEW, proposal_row(proposal)).fetchall()
                if not inserted:
                    check_unchanged(proposal.doc_id, None, ("déjà proposé",))
                return
            if expected is not ANY_PROPOSAL:
                row = conn.execute(
                    "SELECT status, updated_at, submitted_by FROM kb_proposals WHERE doc_id = %s FOR UPDATE",
                    (proposal.doc_id,),
                ).fetchone()
                check_unchanged(proposal.doc_id, expected, row)
            conn.execute(_UPSERT, proposal_row(proposal))

    def set_status(self, proposal: Proposal, status: str, comment: str | None) -> Proposal:
        """Move ``proposal`` (as read) to ``status``; ``ConflictError`` if it changed meanwhile."""
        updated = replace(proposal, status=status, comment=comment, updated_at=now())
        rows = self._db.execute(
            "UPDATE kb_proposals SET status = %s, comment = %s, updated_at = %s WHERE doc_id = %s AND status = %s "
            "RETURNING doc_id",
            (updated.status, updated.comment, updated.updated_at, updated.doc_id, proposal.status),
        )
        if not rows:
            raise changed_meanwhile(proposal.doc_id)
        return updated

    def remove(self, doc_id: str) -> None:
        self._db.execute("DELETE FROM kb_proposals WHERE doc_id = %s", (doc_id,))
