"""The "qui fait quoi" directory: annuaire entries, how to reach a structure, who carries a fiche.

A contact is only the contact lines of a document's "Contact" section (name or role, e-mail,
phone, address, website), never the paragraph after them ("Voir aussi la fiche…", how the
service helps to fill a form); a document without such a section may give one line
"Contact : …" elsewhere. The directory's entries are found by structure name (folded, without a
leading article) through a map built once per index revision.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass, field

from kb.answer.quotable import cross_reference, speaker_notes
from kb.core.models import DocumentMetadata
from kb.core.sentences import document_sentences
from kb.core.text import fold
from kb.core.vocabulary import ANNUAIRE
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.snippets import split_sentences

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<!\d)(?:\+33\s?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")
_WEB = re.compile(r"https?://\S+|\bwww\.\S+")
_CONTACT_HEADINGS = ("contact", "contacts", "coordonnees", "nous contacter", "pour nous joindre")
# a line that says how to reach someone: "Tél. : …", "Adresse : …", "Site : …"
_LABELLED = re.compile(
    r"^(?:tel|telephone|portable|mobile|courriel|e mail|email|mail|adresse|site|site web|site internet|web)\b\.?\s*:"
)
# words of a sentence that does something (prose), as against a name, a role or an address
_PROSE = re.compile(
    r"\b(?:est|sont|ont|peut|peuvent|doit|doivent|faut|fait|font|aide|aident|tient|propose|proposent|"
    r"accompagne|accompagnent|relit|relire|permet|permettent|sera|seront|recoit|repond|organise|assure|"
    r"explique|presente|conseille|oriente)\b"
)
_LEADING_ARTICLE = re.compile(r"^(?:l'|le |la |les )")


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


def structure_key(name: str) -> str:
    """A structure's name as compared: folded, without a leading article."""
    return _LEADING_ARTICLE.sub("", fold(name)).strip()


def contact_details(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The e-mail addresses (lower case) and phone numbers (digits only) a contact text gives."""
    emails = frozenset(address.lower().rstrip(".") for address in EMAIL.findall(text))
    digits = (re.sub(r"\D", "", number) for number in PHONE.findall(text))
    phones = frozenset("0" + number[2:] if number.startswith("33") else number for number in digits)
    return emails, phones


def contact_lines(text: str) -> str | None:
    """How a document says to reach its structure: the contact lines of its "Contact" section
    (a ``#`` heading or, in a PDF or text file, a line "Contact" alone), else a line
    "Contact : …" anywhere but in speaker notes; None when it says nothing of the kind."""
    paragraphs: dict[int, list[str]] = {}
    items: dict[int, bool] = {}
    for sentence in document_sentences(text):
        if not sentence.is_heading and fold(sentence.heading).startswith(_CONTACT_HEADINGS):
            paragraphs.setdefault(sentence.paragraph, []).append(sentence.text)
            items[sentence.paragraph] = sentence.item
    lines: list[str] = []
    for number, sentences in paragraphs.items():
        kept = [s for s in sentences if _contact_line(s, first=not lines, item=items[number])]
        if kept:
            lines.append(" ".join(kept).rstrip(" .;"))
    if lines:
        return " ; ".join(lines)
    for sentence in document_sentences(text):
        match = re.match(r"^contacts?\s*:\s*(.+)", sentence.text, re.IGNORECASE)
        if match and not speaker_notes(sentence.text) and (EMAIL.search(sentence.text) or PHONE.search(sentence.text)):
            return match.group(1).rstrip(" .;")
    return None


def _contact_line(text: str, first: bool, item: bool) -> bool:
    """A line that says who to reach and how (name or role, e-mail, phone, address, site);
    not a pointer to other documents, nor a sentence that does something ("le service aide…")."""
    folded = fold(text)
    if cross_reference(text) or folded.startswith(("voir ", "pour en savoir plus", "lire ")):
        return False
    remainder = fold(_WEB.sub("", PHONE.sub("", EMAIL.sub("", text))))
    reaches = remainder != folded
    if _LABELLED.match(folded):
        return True
    if _PROSE.search(remainder) and len(remainder.split()) > 6:
        return False
    return reaches or ((first or item) and len(text) <= 160)


@dataclass(frozen=True)
class _Directory:
    revision: int
    by_name: dict[str, DocumentMetadata]  # structure_key → entry
    entries: tuple[DocumentMetadata, ...]
    contacts: dict[str, str | None] = field(default_factory=dict)  # doc_id → its contact lines


_directories: weakref.WeakKeyDictionary[KnowledgeIndex, _Directory] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _directory(index: KnowledgeIndex) -> _Directory:
    """The directory's entries, built once per index revision."""
    revision = index.revision()
    with _lock:
        known = _directories.get(index)
    if known is not None and known.revision == revision:
        return known
    found = tuple(stored.metadata for stored in index.documents() if stored.metadata.doc_type == ANNUAIRE)
    by_name: dict[str, DocumentMetadata] = {}
    for entry in found:
        by_name.setdefault(structure_key(entry.porteur or entry.title), entry)
    built = _Directory(revision, by_name, found)
    with _lock:
        _directories[index] = built
    return built


def entries(index: KnowledgeIndex) -> list[DocumentMetadata]:
    return list(_directory(index).entries)


def porteur_entry(index: KnowledgeIndex, meta: DocumentMetadata) -> DocumentMetadata | None:
    """The directory entry of the structure that carries a document, when there is one."""
    if not meta.porteur or meta.doc_type == ANNUAIRE:
        return None
    return _directory(index).by_name.get(structure_key(meta.porteur))


def entry_of(index: KnowledgeIndex, meta: DocumentMetadata) -> DocumentMetadata | None:
    """The directory entry of a document's structure: the entry itself for an annuaire entry."""
    return meta if meta.doc_type == ANNUAIRE else porteur_entry(index, meta)


def contact(index: KnowledgeIndex, entry: DocumentMetadata, reason: str) -> dict:
    """A structure as a contact: its name, territory, how to reach it (its contact lines) and
    why it is listed."""
    known = _directory(index).contacts
    if entry.doc_id not in known:  # read once per index revision
        known[entry.doc_id] = contact_lines(index.document_text(entry.doc_id) or "")
    return {
        "name": entry.porteur or entry.title,
        "doc_id": entry.doc_id,
        "territory": entry.territory,
        "contact": known[entry.doc_id],
        "reason": reason,
    }


def reach(index: KnowledgeIndex, meta: DocumentMetadata, text: str, reason: str) -> dict | None:
    """How to reach the structure of a document (``text``: its text): its directory entry's
    contact lines, which win, else the document's own; None when neither says how."""
    entry = entry_of(index, meta)
    if entry is not None:
        listed = contact(index, entry, reason)
        if listed["contact"]:
            return listed
    own = contact_lines(text)
    if own is None:
        return None
    return {
        "name": meta.porteur or meta.title,
        "doc_id": entry.doc_id if entry else None,
        "territory": meta.territory,
        "contact": own,
        "reason": reason,
    }


def one_per_structure(contacts: list[dict | None], limit: int = 5) -> list[dict]:
    """The contacts with a way to reach them, one per structure (the same directory entry, or
    the same name folded), in order; a directory entry's replaces a same-named one without."""
    kept: list[dict] = []
    keys: dict[tuple[str, str], int] = {}
    for found in contacts:
        if found is None or not found["contact"]:
            continue
        own = [("name", structure_key(found["name"]))]
        if found["doc_id"]:
            own.append(("entry", found["doc_id"]))
        place = next((keys[key] for key in own if key in keys), None)
        if place is None:
            place = len(kept)
            kept.append(found)
        elif found["doc_id"] and not kept[place]["doc_id"]:
            kept[place] = found
        for key in own:
            keys.setdefault(key, place)
    return kept[:limit]
