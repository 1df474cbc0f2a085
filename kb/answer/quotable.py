"""What an answer may quote: sentences that answer, not the text around them.

An answer never quotes a question (a sentence ending with "?", the question of a Q&A fiche),
speaker notes of slides ("Notes de l'intervenant : …"), the meta lines of a minute (its group
and session, who wrote it, when and where it met, its signature), a label (a line ending with
":", a table row without a figure, a heading), a pointer to another document ("Voir aussi …",
"Fiche expérience « … » : …") or a garbled line (". ."). Each test reads one sentence; whether a
quotation mark is closed is decided with the sentences around it (``quote_balance``).
"""

from __future__ import annotations

import re

from kb.core.text import fold
from kb.core.vocabulary import MINUTES

_QUESTION_END = re.compile(r"\?[\s»\"'’”)\]]*$")
# "Notes : …", "Notes de l'intervenant : …", "Note pour l'animatrice : …" (folded text)
_NOTES = re.compile(
    r"^notes?(?: (?:de|du|pour|a) (?:l'|la |le )?"
    r"(?:intervenant|intervenante|orateur|oratrice|presentateur|presentatrice|animateur|animatrice|"
    r"formateur|formatrice|speaker))?\s*:"
)
# the meta lines of a minute (folded text); MEETING_LABELS only in a compte rendu
_MEETING = re.compile(
    r"^(?:groupe|cycle|reunion|comite|atelier)\b.*\bseance \d+\b"  # "Groupe de travail « … », séance 3."
    r"|\bseance \d+ sur \d+\b"  # "séance 1 sur 5 prévues"
    r"|^seance du (?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|\d)"
    r"|^(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d{1,2}(?:er)? [a-z]+ \d{4}\b"
    r"|^(?:compte rendu|releve de decisions|releve|proces verbal|cr)\b[^.]{0,80}\b(?:redige|etabli|valide|relu)e?s? par\b"
    r"|^(?:redige|redaction|redacteur|redactrice|secretaire de seance|prise de notes)\b"
    r"|^fait a [^,]{2,60}, le \d"
    r"|^(?:le|la) (?:president|presidente|secretaire|vice president|vice presidente)\b[^.]{0,50}\.[\s.]*$"
)
_MEETING_LABELS = re.compile(
    r"^(?:groupe|animation|accueil|intervenants?|interventions?|participants?|presents?|excuses?|"
    r"cadre|lieu|date|dates|horaires?|format|co preparation|accueil et co preparation)\s*:"
)
# sections of a minute that describe the meeting rather than what was said (folded headings)
MEETING_SECTIONS = ("groupe, animation", "groupe et animation", "animation", "date", "lieu", "participants", "presents")
# a pointer to another document (folded, parentheses removed)
_DOCUMENTS = (
    r"(?:la |les |le |l')?(?:fiches?|comptes? rendus?|breves?|notes? de veille|questions reponses|annuaire|"
    r"page|rubrique|experience|guide|document)\b"
)
_CROSS_REFERENCE = re.compile(
    r"^(?:voir|lire|consulter) (?:aussi|egalement|ci dessous|ci dessus)\b"
    rf"|(?:^|[:;,] )(?:voir|lire|consulter) (?:aussi |egalement )?{_DOCUMENTS}"
    r"|^(?:fiches? (?:experience|methode|financement)|comptes? rendus?|breve de veille|breve|note de veille|"
    r"questions reponses|annuaire|ressource)\b[^:]{0,160}:"
)
_PARENTHESES = re.compile(r"\([^()]*\)")
_GARBLED = re.compile(r"[.!?…]\s+[.!?…]+\s*$|^[\W\d_]*$")


def is_question(text: str) -> bool:
    """A sentence that asks (it ends with "?", maybe before a closing quotation mark)."""
    return bool(_QUESTION_END.search(text.strip()))


def speaker_notes(text: str) -> bool:
    """The speaker's notes of a slide ("Notes de l'intervenant : …")."""
    return bool(_NOTES.match(fold(text)))


def meeting_meta(text: str, doc_type: str = "") -> bool:
    """A line that describes a meeting rather than what was said: its group and session, its
    date and place, who wrote or signed it (and, in a minute, its "Animation : …" labels)."""
    folded = fold(text)
    if _MEETING.search(folded):
        return True
    return doc_type == MINUTES and bool(_MEETING_LABELS.match(folded))


def is_label(text: str) -> bool:
    """The label of a list or a table: a line ending with ":" (what the items below it are), or
    a table row with no figure in it (its header, a lone cell)."""
    stripped = text.strip()
    if stripped.endswith(":"):
        return True
    return "|" in stripped and not any(ch.isdigit() for ch in stripped)


def table_row(text: str) -> bool:
    return "|" in text


def row_text(text: str) -> str:
    """A table row as a line: "Aide maximale | 3 000 euros" reads "Aide maximale : 3 000 euros"."""
    cells = [cell.strip() for cell in text.split("|") if cell.strip()]
    if len(cells) < 2:
        return " ".join(cells)
    return f"{cells[0]} : {', '.join(cells[1:])}"


def cross_reference(text: str) -> bool:
    """A pointer to another document: "Voir aussi …", "… : voir la fiche …", "Fiche expérience
    « … » : budget détaillé", "Annuaire : …" (a "(voir la fiche …)" inside a sentence is not)."""
    folded = fold(_PARENTHESES.sub("", text))
    return bool(_CROSS_REFERENCE.search(folded))


def garbled(text: str) -> bool:
    """Punctuation repeated at the end (". ." of a scanned signature) or no word at all."""
    return bool(_GARBLED.search(text.strip()))


def quote_balance(text: str) -> int:
    """How many quotations (« », “ ”) a sentence opens and leaves open; negative when it closes
    ones opened before it."""
    return text.count("«") - text.count("»") + text.count("“") - text.count("”")


def straight_quotes_odd(text: str) -> bool:
    """An odd number of straight double quotes: one of them opens or closes a quotation that
    goes on in another sentence."""
    return text.count('"') % 2 == 1


def unquotable(text: str, doc_type: str = "") -> str | None:
    """Why a sentence (or list item) may not be quoted, or None when it may."""
    if is_question(text):
        return "question"
    if speaker_notes(text):
        return "notes"
    if meeting_meta(text, doc_type):
        return "meeting"
    if is_label(text):
        return "label"
    if cross_reference(text):
        return "cross-reference"
    if garbled(text):
        return "garbled"
    return None
