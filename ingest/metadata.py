"""Turn hand-written front matter (and sidecar files) into the one metadata schema.

Contributors write front matter by hand: keys come accented or not, in French or English,
themes as a list or a comma-separated string, dates as dates or as text. Unknown keys are
kept in ``extra`` rather than refused. ``publics`` (``publics_cibles``, ``bénéficiaires``…)
takes the labels of kb/core/publics.py; the values it does not know are kept in
``extra["autres_publics"]``.
``replaces`` (``remplace``) names the document(s) a document revises: well-formed ids are
required, existing ones are not (the older version may be ingested later, or have been removed).
What the metadata does not give (sector, territory, publics) is inferred later, from the text
and the base (ingest/inference.py).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from kb.core.errors import DocumentError
from kb.core.models import DocumentMetadata
from kb.core.publics import split_publics
from kb.core.text import fold
from kb.core.vocabulary import (
    derived_doc_id,
    doc_id_too_long,
    is_doc_id,
    normalise_doc_type,
    normalise_sector,
    normalise_themes,
    slugify,
    web_address_problem,
)

_KEY_ALIASES = {
    "doc_id": ("id", "doc_id", "identifiant", "slug"),
    "title": ("title", "titre"),
    "doc_type": ("doc_type", "type", "type_document", "type_de_document", "kind", "genre"),
    "sector": ("sector", "secteur"),
    "themes": ("themes", "theme", "thematiques", "thematique", "tags", "mots_cles", "keywords"),
    "territory": ("territory", "territoire", "territoires"),
    "date": ("date", "updated", "date_maj", "mise_a_jour", "date_de_mise_a_jour", "modified"),
    "porteur": ("porteur", "porteur_de_projet", "porteurs", "structure", "organisation"),
    "source_url": ("source_url", "url", "lien", "link", "source"),
    "replaces": ("replaces", "remplace"),
    # not ``public`` alone: service-public.fr's fiches use it for their audience (evaluation/vdd.py)
    "publics": ("publics", "public_cible", "publics_cibles", "public_vise", "publics_vises", "beneficiaires"),
}

_MONTHS = {
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(name)).strip("_")


def normalise_date(value: Any) -> str | None:
    """ISO date (or year-month, or year) from a date, a datetime or common French writings."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = fold(value)
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ].*)?", text):
        return _iso(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", text):
        return _iso(int(m[3]), int(m[2]), int(m[1]))
    if m := re.fullmatch(r"(?:(\d{1,2})(?:er)? )?([a-z]+) (\d{4})", text):
        month = _MONTHS.get(m[2])
        if month:
            return _iso(int(m[3]), month, int(m[1])) if m[1] else f"{int(m[3]):04d}-{month:02d}"
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        return f"{int(m[1]):04d}-{int(m[2]):02d}"
    if re.fullmatch(r"\d{4}", text):
        return text
    return str(value).strip()


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    text = str(value).strip()
    return text or None


def _canonical_keys(raw: dict[str, Any]) -> dict[str, Any]:
    alias_to_field = {alias: name for name, aliases in _KEY_ALIASES.items() for alias in aliases}
    result: dict[str, Any] = {}
    for key, value in raw.items():
        name = alias_to_field.get(_key(str(key)), str(key))
        result.setdefault(name, value)
    return result


def merge_metadata(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` (a sidecar, form fields) wins over ``base`` field by field, whatever the
    spelling of the keys on either side."""
    return {**_canonical_keys(base), **_canonical_keys(override)}


def build_metadata(
    raw: dict[str, Any],
    *,
    path: Path,
    detected_title: str | None,
    content_hash: str,
) -> DocumentMetadata:
    """Map raw keys onto the schema; whatever is not recognised goes to ``extra``."""
    by_key: dict[str, Any] = {}
    written: dict[str, str] = {}  # the key as the file spells it, for error messages
    extra: dict[str, Any] = {}
    alias_to_field = {alias: name for name, aliases in _KEY_ALIASES.items() for alias in aliases}
    for key, value in raw.items():
        field_name = alias_to_field.get(_key(str(key)))
        if field_name and field_name not in by_key:
            by_key[field_name] = value
            written[field_name] = str(key)
        else:
            extra[str(key)] = _jsonable(value)
    extra.pop("inferred", None)  # reserved: what ingestion inferred (ingest/inference.py), never written by hand
    publics, unknown_publics = split_publics(by_key.get("publics"))
    if unknown_publics:  # kept, not lost: the vocabulary (kb/core/publics.py) may learn them
        extra.setdefault("autres_publics", list(unknown_publics))
    doc_id = _explicit_id(by_key.get("doc_id")) or derived_doc_id(path.stem)
    title = _text(by_key.get("title")) or detected_title or path.stem.replace("_", " ")
    return DocumentMetadata(
        doc_id=doc_id,
        title=title.strip(),
        doc_type=normalise_doc_type(by_key.get("doc_type")),
        sector=normalise_sector(by_key.get("sector")),
        themes=normalise_themes(by_key.get("themes")),
        territory=_text(by_key.get("territory")),
        date=normalise_date(by_key.get("date")),
        porteur=_text(by_key.get("porteur")),
        source_url=_web_address(by_key.get("source_url")),
        source_path=str(path),
        content_hash=content_hash,
        replaces=_replaced_ids(by_key.get("replaces"), doc_id, written.get("replaces", "replaces")),
        extra=extra,
        publics=publics,
    )


def _explicit_id(value: Any) -> str | None:
    """An id given by hand, as a slug; refused when too long (never shortened: a reference to
    it elsewhere would miss it)."""
    text = _text(value)
    if text is None:
        return None
    doc_id = slugify(text)
    too_long = doc_id_too_long(doc_id)
    if too_long:
        raise DocumentError(f"{too_long} : raccourcissez le champ « id »")
    return doc_id


def _replaced_ids(value: Any, doc_id: str, key: str) -> tuple[str, ...]:
    """The ids a document revises: one id, a list, or ids separated by commas. Each must be a
    well-formed id (``exp-boutique-essai``), not necessarily an existing document's."""
    if value is None or value == "" or value == []:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise DocumentError(f"champ « {key} » : un identifiant de document ou une liste d'identifiants est attendu")
    ids: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise DocumentError(f"champ « {key} » : « {str(item)[:80]} » n'est pas un identifiant de document")
        text = item.strip()
        if not is_doc_id(text):
            raise DocumentError(
                f"champ « {key} » : identifiant mal formé « {text[:80]} » (minuscules, chiffres et tirets, "
                f"comme « {slugify(text)[:80]} »)"
            )
        if text == doc_id:
            raise DocumentError(f"champ « {key} » : un document ne peut pas se remplacer lui-même")
        if text not in ids:
            ids.append(text)
    return tuple(ids)


def _web_address(value: Any) -> str | None:
    """Only http(s) addresses: the link is shown to readers (no ``javascript:``, ``data:``…)."""
    text = _text(value)
    if text is None:
        return None
    problem = web_address_problem(text)
    if problem:
        raise DocumentError(f"adresse de la source refusée « {text[:80]} » : {problem}")
    return text


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
