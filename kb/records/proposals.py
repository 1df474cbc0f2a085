"""The proposals records: types, rules and row conversions shared by both backends (no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from kb.core.clock import timestamp
from kb.core.errors import ConflictError

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

COLUMNS = (
    "doc_id, status, replace_existing, title, doc_type, sector, territory, porteur, date, submitted_by,"
    " submitted_at, updated_at, comment, data, suffix, sidecar, duplicates"
)

COPIED = {"proposals": (COLUMNS, "doc_id")}  # what `kb migrate` copies (kb/storage/copy.py)

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
            f"La proposition « {proposal.doc_id} » est « {proposal.status} » : elle ne peut pas passer à « {target} »."
        )


class _Unchecked(Enum):
    ANY = "any"


# ``put``'s default: replace whatever is stored
ANY_PROPOSAL = _Unchecked.ANY
# What ``put`` expects to find: a proposal as read, none, or anything (``ANY_PROPOSAL``).
Expected = Proposal | None | Literal[_Unchecked.ANY]


def check_unchanged(doc_id: str, expected: Proposal | None, row: tuple | None) -> None:
    """``ConflictError`` when the stored proposal (status, updated_at, submitted_by) is no
    longer the one read as ``expected``."""
    seen = None if expected is None else (expected.status, expected.updated_at, expected.submitted_by)
    if (tuple(row) if row is not None else None) != seen:
        raise ConflictError(
            f"Une autre personne vient de proposer ou de modifier le document « {doc_id} » : "
            "rechargez-le, ou donnez un autre identifiant."
        )


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
        p.doc_id,
        p.status,
        int(p.replace),
        p.title,
        p.doc_type,
        p.sector,
        p.territory,
        p.porteur,
        p.date,
        p.submitted_by,
        p.submitted_at,
        p.updated_at,
        p.comment,
        p.data,
        p.suffix,
        json.dumps(p.sidecar, ensure_ascii=False),
        json.dumps(p.duplicates, ensure_ascii=False),
    )


def proposal_from_row(row: tuple) -> Proposal:
    (
        doc_id,
        status,
        replace_existing,
        title,
        doc_type,
        sector,
        territory,
        porteur,
        date,
        submitted_by,
        submitted_at,
        updated_at,
        comment,
        data,
        suffix,
        sidecar,
        duplicates,
    ) = row
    return Proposal(
        doc_id=doc_id,
        status=status,
        replace=bool(replace_existing),
        title=title,
        doc_type=doc_type,
        sector=sector,
        territory=territory,
        porteur=porteur,
        date=date,
        submitted_by=submitted_by,
        submitted_at=submitted_at,
        updated_at=updated_at,
        comment=comment,
        data=bytes(data),
        suffix=suffix,
        sidecar=json.loads(sidecar),
        duplicates=json.loads(duplicates),
    )
