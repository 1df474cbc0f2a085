"""Filter parameters: parsed, validated against the known vocabulary, refused in French."""

from __future__ import annotations

import re

from fastapi import HTTPException

from ingest.metadata import normalise_doc_type, normalise_sector
from kb.models import DOC_TYPES, SECTORS
from kb.retrieval import Filters
from kb.text import fold

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _values(raw: str | list[str] | None) -> list[str]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def parse_filters(
    vocabulary: dict[str, set[str]],
    doc_type: str | list[str] | None = None,
    sector: str | list[str] | None = None,
    theme: str | list[str] | None = None,
    territory: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> Filters | None:
    problems: list[str] = []
    types = []
    for value in _values(doc_type):
        canonical = normalise_doc_type(value)
        if canonical == "document" and fold(value) != "document":
            problems.append(f"type inconnu « {value} » (valeurs possibles : {', '.join(DOC_TYPES)})")
        else:
            types.append(canonical)
    sectors = []
    for value in _values(sector):
        canonical = normalise_sector(value)
        if canonical is None:
            problems.append(f"secteur inconnu « {value} » (valeurs possibles : {', '.join(SECTORS)})")
        else:
            sectors.append(canonical)
    known_themes = {fold(t): t for t in vocabulary["themes"]}
    themes = []
    for value in _values(theme):
        if fold(value) not in known_themes:
            problems.append(f"thème inconnu « {value} »")
        else:
            themes.append(known_themes[fold(value)])
    if territory is not None:
        territory = territory.strip()
        if territory and not any(fold(territory) in fold(t) for t in vocabulary["territories"]):
            problems.append(f"territoire inconnu « {territory} »")
    for label, value in (("date_from", date_from), ("date_to", date_to)):
        if value is not None and not _DATE.match(value.strip()):
            problems.append(f"{label} : date attendue au format AAAA, AAAA-MM ou AAAA-MM-JJ")
    if problems:
        raise HTTPException(status_code=422, detail={"detail": "Filtres invalides.", "problems": problems})
    filters = Filters(
        doc_type=tuple(types),
        sector=tuple(sectors),
        theme=tuple(themes),
        territory=territory or None,
        date_from=date_from.strip() if date_from else None,
        date_to=date_to.strip() if date_to else None,
    )
    return None if filters.is_empty() else filters
