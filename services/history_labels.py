"""A document's history in French: one sentence per audit-log entry, fields named as the
coordinator knows them (« titre », « thèmes »…), never by their parameter names."""

from __future__ import annotations

from typing import Any

from ingest.fiche import SECTION_TITLES

FIELD_LABELS = {
    "title": "titre",
    "doc_type": "type",
    "sector": "secteur",
    "themes": "thèmes",
    "territory": "territoire",
    "porteur": "porteur",
    "partners": "partenaires",
    "date": "date",
    "source_url": "adresse de la source",
    "summary": "résumé",
    "publics": "publics",
    "replaces": "remplace",
    "body": "texte",
    **{key: f"section « {title} »" for key, title in SECTION_TITLES.items()},
}
_SHORT = 80  # longer values are named, not quoted


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " "))


def _value(value: Any) -> str:
    if value in (None, "", []):
        return "(vide)"
    text = ", ".join(str(item) for item in value) if isinstance(value, list) else str(value)
    return f"« {text[:_SHORT]}{'…' if len(text) > _SHORT else ''} »"


def describe(entry: dict[str, Any]) -> str:
    """« modification : titre (« A » → « B »), thèmes — raison : … » for one audit entry."""
    parts: list[str] = []
    changes = entry.get("changes") or {}
    fields = entry.get("fields") or []
    if fields:
        named = []
        for name in fields:
            change = changes.get(name)
            label = field_label(name)
            if isinstance(change, dict) and name != "summary":
                label += f" ({_value(change.get('from'))} → {_value(change.get('to'))})"
            named.append(label)
        parts.append(", ".join(named))
    merge = entry.get("fusion")
    if isinstance(merge, dict):
        parts.append(f"fusion du thème « {merge.get('de')} » dans « {merge.get('vers')} »")
    if entry.get("proposé_par"):
        parts.append(f"proposé par {entry['proposé_par']}")
    if entry.get("remplacement") is True:
        parts.append("mise à jour d'un document publié")
    comment = entry.get("commentaire") or entry.get("comment")
    if comment:
        parts.append(f"commentaire : « {comment} »")
    if entry.get("raison_doublon"):
        parts.append(f"publié malgré un doublon, raison : « {entry['raison_doublon']} »")
    action = str(entry.get("action") or "")
    return action + (" : " + " — ".join(parts) if parts else "")
