"""Writes by role and the review of proposals.

A coordinator's write is published at once (unless a strong duplicate needs a reason); a
contributor's write is checked exactly like one, then kept as a proposal (``kb/storage/embedded/proposals.py``),
outside the index, until coordination publishes, sends back or rejects it. Every step is in the
audit log.
"""

from __future__ import annotations

from typing import Any

from ingest.writer import AuditEntry, DocumentWriter, Submission
from kb.core.errors import ConflictError, DuplicateBlocked, NotFoundError
from kb.core.models import DocumentMetadata
from kb.core.text import fold
from kb.records.keys import Actor
from kb.records.proposals import CHANGES_REQUESTED, OPEN, PROPOSED, PUBLISHED, REJECTED, Proposal, check_transition, now
from kb.storage.protocols import ProposalStore


def is_strong(warning: dict[str, Any]) -> bool:
    """Whether a duplicate warning blocks publishing until the coordinator gives a reason."""
    return bool(warning.get("strong"))  # the calibrated decision of kb.duplicates.finder


class Review:
    def __init__(self, writer: DocumentWriter, proposals: ProposalStore) -> None:
        self.writer = writer
        self.proposals = proposals
        self.audit = writer.audit

    def close(self) -> None:
        self.proposals.close()

    # -- writes by role ----------------------------------------------------------------------

    def write(
        self,
        submission: Submission,
        actor: Actor,
        *,
        filename_hint: str = "document",
        replace: str | None = None,
        dry_run: bool = False,
        duplicate_reason: str | None = None,
        expected_version: str | None = None,
        audit: AuditEntry | None = None,
    ) -> dict:
        """A POST or PUT of /documents: checked only (``dry_run``), published (coordination,
        ``status`` ``created``/``replaced``) or kept as a proposal (contributor, ``proposé``).
        ``expected_version``: the version of ``replace`` the client edited (409 if it changed);
        ``audit``: how a coordinator's write is logged, when not a plain add or replacement."""
        if dry_run:
            return self.writer.submit(
                submission,
                actor.name,
                filename_hint=filename_hint,
                replace=replace,
                dry_run=True,
                expected_version=expected_version,
            )
        if not actor.is_coordinator:
            return self._propose(submission, actor, filename_hint, replace, expected_version)
        details: dict[str, Any] = dict(audit.details) if audit else {}

        def check(result: dict, metadata: DocumentMetadata, _submission: Submission) -> None:
            if replace is None:
                self._refuse_open_proposal(result["doc_id"])
            _guard_duplicates(result, duplicate_reason, details)

        result = self.writer.submit(
            submission,
            actor.name,
            filename_hint=filename_hint,
            replace=replace,
            check=check,
            audit=AuditEntry(audit.action if audit else "remplacement" if replace else "ajout", details),
            expected_version=expected_version,
        )
        stale = self.proposals.get(result["doc_id"])
        if stale is not None and stale.status == REJECTED and not stale.replace:
            self.proposals.remove(stale.doc_id)  # the id now names a published document
        return result

    def _refuse_open_proposal(self, doc_id: str) -> None:
        pending = self.proposals.get(doc_id)
        if pending is not None and pending.status in OPEN:
            raise ConflictError(
                f"Une proposition de {pending.submitted_by} porte déjà l'identifiant « {doc_id} » : "
                "publiez-la ou rejetez-la, ou donnez un autre identifiant."
            )

    def _propose(
        self,
        submission: Submission,
        actor: Actor,
        filename_hint: str,
        replace: str | None,
        expected_version: str | None = None,
    ) -> dict:
        stored: dict[str, Any] = {}

        def keep(result: dict, metadata: DocumentMetadata, completed: Submission) -> None:
            doc_id = result["doc_id"]
            existing = self.proposals.get(doc_id)
            if existing is not None and existing.submitted_by != actor.name and existing.status in OPEN:
                raise ConflictError(
                    f"Une autre personne a déjà proposé un document « {doc_id} » : donnez un autre identifiant."
                )
            own = existing if existing is not None and existing.submitted_by == actor.name else None
            if own is not None:
                check_transition(own, PROPOSED)
            at = now()
            proposal = Proposal(
                doc_id=doc_id,
                status=PROPOSED,
                replace=replace is not None,
                title=metadata.title,
                doc_type=metadata.doc_type,
                sector=metadata.sector,
                territory=metadata.territory,
                porteur=metadata.porteur,
                date=metadata.date,
                submitted_by=actor.name,
                submitted_at=own.submitted_at if own else at,
                updated_at=at,
                comment=own.comment if own else None,  # what the author was asked to change
                data=completed.data,
                suffix=completed.suffix,
                sidecar=dict(completed.sidecar),
                duplicates=result["duplicates"],
            )
            # only if nobody proposed or changed this id since it was read (another server)
            self.proposals.put(proposal, expected=existing)
            stored["resubmitted"] = own is not None

        result = self.writer.submit(
            submission,
            actor.name,
            filename_hint=filename_hint,
            replace=replace,
            dry_run=True,
            check=keep,
            expected_version=expected_version,
        )
        action = "nouvelle proposition" if stored.get("resubmitted") else "proposition"
        self.audit.record(actor.name, action, result["doc_id"], title=result["title"], remplacement=replace is not None)
        result = {key: value for key, value in result.items() if key not in ("dry_run", "valid")}
        return {**result, "status": PROPOSED, "stored": False}

    # -- review ------------------------------------------------------------------------------

    def publish(self, doc_id: str, actor: Actor, duplicate_reason: str | None = None) -> dict:
        """Run the normal write path on the stored submission; the proposal then leaves the store."""
        proposal = self._open(doc_id)
        check_transition(proposal, PUBLISHED)
        details: dict[str, Any] = {"proposé_par": proposal.submitted_by}

        def check(result: dict, metadata: DocumentMetadata, _submission: Submission) -> None:
            _guard_duplicates(result, duplicate_reason, details)

        submission = Submission(proposal.data, proposal.suffix, proposal.sidecar, proposal.doc_id)
        result = self.writer.submit(
            submission,
            actor.name,
            filename_hint=doc_id,
            replace=doc_id if proposal.replace else None,
            check=check,
            audit=AuditEntry("publication", details),
        )
        self.proposals.remove(doc_id)
        return {**result, "status": PUBLISHED}

    def request_changes(self, doc_id: str, actor: Actor, comment: str) -> dict:
        return self._transition(doc_id, actor, CHANGES_REQUESTED, comment, "demande de modifications")

    def reject(self, doc_id: str, actor: Actor, comment: str | None) -> dict:
        return self._transition(doc_id, actor, REJECTED, comment, "rejet")

    def _transition(self, doc_id: str, actor: Actor, status: str, comment: str | None, action: str) -> dict:
        proposal = self._open(doc_id)
        check_transition(proposal, status)
        updated = self.proposals.set_status(proposal, status, comment)
        self.audit.record(actor.name, action, doc_id, title=proposal.title, commentaire=comment)
        return updated.summary()

    def withdraw(self, doc_id: str, actor: Actor) -> dict:
        """Its author (or coordination) removes a proposal."""
        proposal = self._visible(doc_id, actor)
        self.proposals.remove(doc_id)
        self.audit.record(actor.name, "retrait de la proposition", doc_id, title=proposal.title)
        return {"doc_id": doc_id, "status": "retirée"}

    # -- reads -------------------------------------------------------------------------------

    def list(self, actor: Actor, status: str, offset: int = 0, limit: int = 20) -> dict:
        """Proposals of one status: a contributor's own, or all of them for coordination."""
        author = None if actor.is_coordinator else actor.name
        matching = self.proposals.list(status, submitted_by=author)
        last = self.audit.last_entries()
        return {
            "total": len(matching),
            "offset": offset,
            "limit": limit,
            "documents": [
                # who acted last: a coordinator's request for changes is not the author's act
                p.summary() | {"last_change": _change(last[p.doc_id]) if p.doc_id in last else None}
                for p in matching[offset : offset + limit]
            ],
        }

    def proposal(self, doc_id: str, actor: Actor) -> dict:
        """A proposal as its author or coordination reads it: metadata, extracted text, duplicates."""
        proposal = self._visible(doc_id, actor)
        submission = Submission(proposal.data, proposal.suffix, proposal.sidecar, proposal.doc_id)
        loaded, _ = self.writer.load(submission, doc_id, doc_id if proposal.replace else None)
        return {
            **proposal.summary(),
            "porteur": proposal.porteur,
            "themes": list(loaded.metadata.themes),
            "text": loaded.parsed.text,
        }

    def catalogue(
        self,
        q: str | None = None,
        status: str | None = None,
        doc_type: str | None = None,
        sector: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> dict:
        """Every document, published or proposed, one row each, the latest change first."""
        last = self.audit.last_entries()
        pending = {p.doc_id: p for p in self.proposals.list()}
        rows: list[dict] = []
        for stored in self.writer.index.documents():
            m = stored.metadata
            indexed = {"at": stored.indexed_at, "actor": None, "action": "indexation"}
            audited = last.get(m.doc_id)
            row = _row(m.doc_id, m.title, m.doc_type, m.sector, m.territory, m.date, PUBLISHED, m.porteur)
            row["last_change"] = _change(audited) if audited and audited["at"] >= stored.indexed_at else indexed
            update = pending.pop(m.doc_id, None)
            row["proposal_status"] = update.status if update else None
            rows.append(row)
        for p in pending.values():
            row = _row(p.doc_id, p.title, p.doc_type, p.sector, p.territory, p.date, p.status, p.porteur)
            audited = last.get(p.doc_id)
            row["last_change"] = (
                _change(audited) if audited else {"at": p.updated_at, "actor": p.submitted_by, "action": "proposition"}
            )
            row["proposal_status"] = p.status
            rows.append(row)
        needle = fold(q.strip()) if q and q.strip() else None
        matching = [
            row
            for row in rows
            if (
                needle is None
                or any(needle in fold(row[key] or "") for key in ("title", "doc_id", "porteur", "territory"))
            )
            and (status is None or status in (row["status"], row["proposal_status"]))
            and (doc_type is None or row["doc_type"] == doc_type)
            and (sector is None or row["sector"] == sector)
        ]
        # newest change first (times are to the second: at a tie, what awaits a review first)
        matching.sort(
            key=lambda row: (row["last_change"]["at"], row["status"] != "publié", row["doc_id"]), reverse=True
        )
        return {
            "total": len(matching),
            "offset": offset,
            "limit": limit,
            "documents": matching[offset : offset + limit],
        }

    def open_count(self) -> int:
        return self.proposals.count()

    def _open(self, doc_id: str) -> Proposal:
        proposal = self.proposals.get(doc_id)
        if proposal is None:
            raise NotFoundError(f"Aucune proposition « {doc_id} ».")
        return proposal

    def _visible(self, doc_id: str, actor: Actor) -> Proposal:
        """The proposal when ``actor`` may see it: its author or coordination (else 404, so that
        a contributor learns nothing of others' proposals)."""
        proposal = self.proposals.get(doc_id)
        if proposal is None or not (actor.is_coordinator or proposal.submitted_by == actor.name):
            raise NotFoundError(f"Aucune proposition « {doc_id} ».")
        return proposal


def _guard_duplicates(result: dict, reason: str | None, details: dict[str, Any]) -> None:
    """Refuse a strong duplicate unless a reason is given; the reason then goes to the audit."""
    strong = [warning for warning in result["duplicates"] if is_strong(warning)]
    if not strong:
        return
    if not reason:
        first = strong[0]
        raise DuplicateBlocked(
            f"Réécriture probable d'un document déjà publié : « {first['title']} » ({first['doc_id']}). "
            "Mettez à jour ce document, ou publiez quand même en indiquant pourquoi.",
            result["duplicates"],
        )
    details["raison_doublon"] = reason
    details["doublons"] = [warning["doc_id"] for warning in strong]


def _row(doc_id, title, doc_type, sector, territory, date, status, porteur) -> dict:
    return {
        "doc_id": doc_id,
        "title": title,
        "doc_type": doc_type,
        "sector": sector,
        "territory": territory,
        "date": date,
        "status": status,
        "porteur": porteur,
    }


def _change(entry: dict) -> dict:
    return {"at": entry["at"], "actor": entry.get("actor"), "action": entry.get("action")}
