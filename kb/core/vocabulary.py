"""The domain vocabulary: document types, sectors, their normalisation and slugs.

One module, read by ingestion (front matter), the filters, the fiche template and, through
``GET /vocabulary``, by the widget and the pages: no hand-kept copy anywhere else.
"""

from __future__ import annotations

import re
from typing import Any

from kb.core.text import fold

ANNUAIRE = "annuaire"
MINUTES = "compte rendu"
UNTYPED = "document"
DOC_TYPES = (
    "fiche expérience",
    "fiche méthode",
    "compte rendu",
    "fiche financement",
    "questions-réponses",
    "veille",
    ANNUAIRE,
    UNTYPED,
)
# What a coordinator may choose: every type but the catch-all.
CHOSEN_DOC_TYPES = tuple(t for t in DOC_TYPES if t != UNTYPED)
SOCIAL_ACTION, LOCAL_DEVELOPMENT, CROSS_SECTOR = "action sociale", "développement local", "transversal"
SECTORS = (SOCIAL_ACTION, LOCAL_DEVELOPMENT, CROSS_SECTOR)
# What every document added through the API must say (a typed fiche as an uploaded file).
REQUIRED_FIELDS = ("title", "doc_type", "sector", "themes", "territory")
OTHER_SECTOR = {SOCIAL_ACTION: LOCAL_DEVELOPMENT, LOCAL_DEVELOPMENT: SOCIAL_ACTION}

_DOC_TYPE_PATTERNS = (
    ("fiche expérience", ("experience", "retour d'experience", "rex", "fiche experience")),
    ("fiche méthode", ("methode", "outil", "fiche methode", "fiche outil", "guide")),
    ("compte rendu", ("compte rendu", "compte-rendu", "cr", "actes", "retour de session")),
    ("fiche financement", ("financement", "fiche financement", "appel a projets", "aide")),
    ("questions-réponses", ("questions-reponses", "questions reponses", "q/r", "faq", "qr")),
    ("veille", ("veille", "breve", "breve de veille", "actualite")),
    (ANNUAIRE, ("annuaire", "qui fait quoi", "structure", "fiche structure")),
)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-") or UNTYPED


# A document id as ingestion makes them (what ``slugify`` returns): lowercase letters and digits
# in groups joined by single hyphens. A reference to another document (``replaces``) must be one.
DOC_ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# An id names the stored file (``<id><suffix>``, its sidecar ``.meta.yaml``, the temporary of an
# atomic write): 200 bytes leave room for all that under any filesystem's 255. An id is ASCII,
# so as many characters.
DOC_ID_MAX_BYTES = 200
DOC_ID_MAX_CHARS = DOC_ID_MAX_BYTES


def is_doc_id(value: Any) -> bool:
    """Whether a value is a well-formed document id (not whether such a document exists)."""
    return isinstance(value, str) and len(value) <= DOC_ID_MAX_CHARS and re.fullmatch(DOC_ID_PATTERN, value) is not None


def derived_doc_id(text: str) -> str:
    """The id made from a title or a file name: its slug, shortened to ``DOC_ID_MAX_BYTES``
    after its last whole word when one ends in the last quarter, else cut there."""
    slug = slugify(text)
    if len(slug) <= DOC_ID_MAX_BYTES:
        return slug
    head = slug[:DOC_ID_MAX_BYTES]
    if slug[DOC_ID_MAX_BYTES] == "-":
        return head  # the bound falls between two words
    words = head.rpartition("-")[0]
    return words if len(words) >= DOC_ID_MAX_BYTES * 3 // 4 else head.rstrip("-")


def doc_id_too_long(doc_id: str) -> str | None:
    """Why an id given by hand (``id:`` of a front matter) is refused for its length, or None."""
    size = len(doc_id.encode("utf-8"))
    if size <= DOC_ID_MAX_BYTES:
        return None
    return f"identifiant trop long ({size} caractères, {DOC_ID_MAX_BYTES} au plus)"


# Characters a web address never holds unencoded, and that would break out of a link (an
# attribute, a Markdown link) where the address is shown.
_UNSAFE_IN_ADDRESS = "<>\"'"


def web_address_problem(text: str) -> str | None:
    """Why ``text`` is refused as a document's web address (``source_url``), in French, or None:
    only http(s) addresses (the link is shown to readers: no ``javascript:``, ``data:``…),
    whole, without a space nor a character that must be encoded."""
    if not re.match(r"^https?://", text, re.IGNORECASE):
        return "http:// ou https:// attendu"
    if not text.split("://", 1)[1]:
        return "adresse incomplète (le nom du site manque)"
    if re.search(r"\s", text):
        return "espace non admis dans l'adresse"
    if re.search(r"[\x00-\x1f\x7f]", text):
        return "caractère de contrôle non admis dans l'adresse"
    for character in text:
        if character in _UNSAFE_IN_ADDRESS:
            return f"caractère non admis dans l'adresse : {character}"
    return None


def normalise_doc_type(value: Any) -> str:
    """The canonical type of a hand-written one; ``document`` when nothing matches."""
    if not value:
        return UNTYPED
    folded = fold(value).replace("_", " ")
    for canonical in DOC_TYPES:
        if folded == fold(canonical):
            return canonical
    for canonical, patterns in _DOC_TYPE_PATTERNS:
        if folded in patterns or any(len(p) > 3 and p in folded for p in patterns):
            return canonical
    return UNTYPED


def known_doc_type(value: Any) -> str | None:
    """The canonical type, or None when the value names no type (``document`` is a type)."""
    canonical = normalise_doc_type(value)
    if canonical == UNTYPED and fold(str(value or "")) != UNTYPED:
        return None
    return canonical


def normalise_sector(value: Any) -> str | None:
    if not value:
        return None
    folded = fold(value)
    if "transvers" in folded or "les deux" in folded or "croise" in folded:
        return CROSS_SECTOR
    if "social" in folded and "develop" not in folded:
        return SOCIAL_ACTION
    if "develop" in folded or "local" in folded:
        return LOCAL_DEVELOPMENT
    return None


def normalise_themes(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, (list, tuple, set)) else [value]
    themes: list[str] = []
    for item in (part for entry in items for part in re.split(r"[,;|]", str(entry))):
        label = str(item).strip().strip("#").strip().lower()
        if label and label not in themes:
            themes.append(label)
    return tuple(themes)


def content_doc_types() -> tuple[str, ...]:
    """Every type but the directory: answers quote fiches, the directory feeds the contacts."""
    return tuple(t for t in DOC_TYPES if t != ANNUAIRE)


def vocabulary_payload() -> dict[str, Any]:
    """What ``GET /vocabulary`` returns (themes and territories are added from the index)."""
    return {
        "doc_types": list(CHOSEN_DOC_TYPES),
        "sectors": list(SECTORS),
        "other_sector": dict(OTHER_SECTOR),
        "required_fields": list(REQUIRED_FIELDS),
    }
