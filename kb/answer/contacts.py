"""Where a fiche and the directory disagree on how to reach a structure ("Coordonnées
divergentes" on the coordination page).

Answers show a structure's directory entry's contact (``kb/answer/directory.py``); a fiche that
gives another e-mail address or phone number for its porteur is listed here, so that the
coordinator corrects one or the other. Computed from the documents once per index revision.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from kb.answer import directory
from kb.core.models import page_url
from kb.core.text import collation_key
from kb.core.vocabulary import ANNUAIRE
from kb.index.knowledge_index import KnowledgeIndex


@dataclass(frozen=True)
class _Found:
    revision: int
    rows: tuple[dict, ...]


_found: weakref.WeakKeyDictionary[KnowledgeIndex, _Found] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def differences(fiche: str, listed: str) -> list[str]:
    """What a fiche's contact lines and a directory entry's disagree on: ``courriel`` when both
    give e-mail addresses and none is shared, ``téléphone`` likewise for phone numbers."""
    fiche_emails, fiche_phones = directory.contact_details(fiche)
    listed_emails, listed_phones = directory.contact_details(listed)
    found = []
    if fiche_emails and listed_emails and not fiche_emails & listed_emails:
        found.append("courriel")
    if fiche_phones and listed_phones and not fiche_phones & listed_phones:
        found.append("téléphone")
    return found


def contact_conflicts(index: KnowledgeIndex, base_url: str = "") -> list[dict]:
    """Each document whose contact section disagrees with its porteur's directory entry:
    structure, the document's contact lines and the entry's, what differs, and the pages of
    both. Computed once per index revision."""
    revision = index.revision()
    with _lock:
        known = _found.get(index)
    if known is None or known.revision != revision:
        known = _Found(revision, tuple(_conflicts(index)))
        with _lock:
            _found[index] = known
    return [
        {**row, "url": page_url(base_url, row["doc_id"]), "entry_url": page_url(base_url, row["entry_id"])}
        for row in known.rows
    ]


def _conflicts(index: KnowledgeIndex) -> list[dict]:
    listed: dict[str, str | None] = {}
    rows = []
    for stored in index.documents():
        meta = stored.metadata
        if meta.doc_type == ANNUAIRE:
            continue
        entry = directory.porteur_entry(index, meta)
        if entry is None:
            continue
        if entry.doc_id not in listed:
            listed[entry.doc_id] = directory.contact_lines(index.document_text(entry.doc_id) or "")
        entry_contact = listed[entry.doc_id]
        own = directory.contact_lines(index.document_text(meta.doc_id) or "")
        if not own or not entry_contact:
            continue
        differs = differences(own, entry_contact)
        if differs:
            rows.append(
                {
                    "structure": entry.porteur or entry.title,
                    "doc_id": meta.doc_id,
                    "title": meta.title,
                    "fiche": own,
                    "entry_id": entry.doc_id,
                    "entry_title": entry.title,
                    "annuaire": entry_contact,
                    "differs": differs,
                }
            )
    return sorted(rows, key=lambda row: (collation_key(row["structure"]), collation_key(row["title"])))
