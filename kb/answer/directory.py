"""The "qui fait quoi" directory: annuaire entries, how to reach a structure, who carries a fiche."""

from __future__ import annotations

import re

from kb.core.models import DocumentMetadata
from kb.core.text import fold
from kb.core.vocabulary import ANNUAIRE
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.snippets import split_sentences


def section_text(markdown: str, name: str) -> str | None:
    """The body of the first heading whose title starts with ``name`` (accents ignored)."""
    lines = markdown.splitlines()
    for position, line in enumerate(lines):
        match = re.match(r"^#{1,6}\s+(.*)", line)
        if match and fold(match.group(1)).startswith(fold(name)):
            body = []
            for following in lines[position + 1 :]:
                if re.match(r"^#{1,6}\s", following):
                    break
                body.append(following)
            text = " ".join(split_sentences("\n".join(body)))
            return text or None
    return None


def entries(index: KnowledgeIndex) -> list[DocumentMetadata]:
    return [stored.metadata for stored in index.documents() if stored.metadata.doc_type == ANNUAIRE]


def porteur_entry(index: KnowledgeIndex, meta: DocumentMetadata) -> DocumentMetadata | None:
    """The directory entry of the structure that carries a document, when there is one."""
    if not meta.porteur or meta.doc_type == ANNUAIRE:
        return None
    wanted = fold(meta.porteur)
    return next((entry for entry in entries(index) if fold(entry.porteur or entry.title) == wanted), None)


def contact(index: KnowledgeIndex, entry: DocumentMetadata, reason: str) -> dict:
    """A structure as a contact: its name, territory, how to reach it and why it is listed."""
    text = index.document_text(entry.doc_id) or ""
    return {
        "name": entry.porteur or entry.title,
        "doc_id": entry.doc_id,
        "territory": entry.territory,
        "contact": section_text(text, "contact"),
        "reason": reason,
    }
