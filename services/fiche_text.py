"""Editing a document's text from the coordination page: read it (by template section, or as one
Markdown body), preview the page it makes, save it through the review's write path.

A coordinator's save is published and re-embedded at once (audited ``modification du texte``
with the parts changed); a contributor's becomes a proposal to update the document. Both carry
the version the page read: if someone saved the document meanwhile, nothing is written (409,
``conflict``: ``version``) and the page keeps the text typed.
"""

from __future__ import annotations

from typing import Any

from ingest.readers import decode_text, split_front_matter
from ingest.text_edit import (
    NOT_EDITABLE,
    body_of,
    changed_parts,
    checked_text,
    editable_text,
    not_editable_reason,
    text_submission,
)
from ingest.writer import AuditEntry
from kb.core.errors import InvalidRequest, NotFoundError, Problem
from kb.core.models import DocumentMetadata, StoredFile
from kb.records.keys import Actor
from services.knowledge_base import KnowledgeBase

TEXT_EDIT = "modification du texte"  # the audit action of a coordinator's save


FILE = "fichier"  # a document whose text the page does not edit (PDF, DOCX…)


class FicheText:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def read(self, doc_id: str) -> dict[str, Any]:
        """The text to edit, with the version it belongs to (sent back when saving)."""
        stored, original = self._stored(doc_id)
        read = {"doc_id": doc_id, "title": stored.metadata.title, "version": stored.version}
        reason = not_editable_reason(original)
        if reason is not None:
            # not an error: the page opens any document and says why this one is not edited here
            return {**read, "form": FILE, "sections": [], "reason": f"{NOT_EDITABLE} Raison : {reason}."}
        return {**read, **editable_text(original).as_dict()}

    def preview(self, doc_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """The page the text sent would make (nothing stored): its title, facts and Markdown body."""
        stored, original = self._stored(doc_id)
        text = checked_text(editable_text(original), changes)
        return page(stored.metadata, body_of(text), markdown=True)

    def save(
        self, doc_id: str, changes: dict[str, Any], actor: Actor, duplicate_reason: str | None = None
    ) -> dict[str, Any]:
        """Write the new text (coordination) or propose it (contributor), if ``changes["version"]``
        is still the stored version."""
        version = changes.get("version")
        if not isinstance(version, str) or not version:
            raise InvalidRequest("Texte invalide.", [Problem("version", "la version lue est obligatoire")])
        stored, original = self._stored(doc_id)
        current = editable_text(original)
        text = checked_text(current, changes)
        self.kb.writer.check_version(doc_id, version)  # again under the write locks
        parts = changed_parts(current, text)
        if not parts:
            raise InvalidRequest("Aucune modification.", [Problem(None, "le texte n'a pas changé")])
        result = self.kb.review.write(
            text_submission(original, text),
            actor,
            filename_hint=doc_id,
            replace=doc_id,
            duplicate_reason=duplicate_reason,
            expected_version=version,
            audit=AuditEntry(TEXT_EDIT, {"fields": parts}),
        )
        return result | {"fields": parts}

    def proposal_page(self, doc_id: str, actor: Actor) -> dict[str, Any]:
        """A proposal as its page will look once published (its author or coordination)."""
        detail = self.kb.review.proposal(doc_id, actor)  # 404 unless the actor may see it
        proposal = self.kb.review.proposals.get(doc_id)
        if proposal is None:
            raise NotFoundError(f"Aucune proposition « {doc_id} ».")
        facts = {
            "title": detail["title"],
            "doc_type": detail["doc_type"],
            "sector": detail.get("sector"),
            "themes": detail.get("themes") or [],
            "territory": detail.get("territory"),
            "porteur": detail.get("porteur"),
            "date": detail.get("date"),
        }
        if proposal.suffix in (".md", ".markdown"):
            _, body = split_front_matter(decode_text(proposal.data))
            return {**facts, "publics": [], "markdown": True, "text": body}
        return {**facts, "publics": [], "markdown": False, "text": detail["text"]}

    def _stored(self, doc_id: str) -> tuple[Any, StoredFile]:
        stored = self.kb.index.get(doc_id)
        original = self.kb.writer.files.original(doc_id, stored.metadata.source_path)
        if original is None:
            raise NotFoundError(f"Le fichier de « {doc_id} » n'est plus disponible : remplacez-le.")
        return stored, original


def page(metadata: DocumentMetadata, text: str, markdown: bool) -> dict[str, Any]:
    """What the preview shows of a document: the public page's facts and its body."""
    return {
        "title": metadata.title,
        "doc_type": metadata.doc_type,
        "sector": metadata.sector,
        "themes": list(metadata.themes),
        "territory": metadata.territory,
        "publics": list(metadata.publics),
        "porteur": metadata.porteur,
        "date": metadata.date,
        "markdown": markdown,
        "text": text,
    }
