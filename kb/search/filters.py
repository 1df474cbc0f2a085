"""Search filters: parsed from what a user typed, validated against the vocabulary, applied.

Parsing lives here, in the core, so that the API, the CLI and the pages refuse the same values
with the same French messages (``FiltersInvalid``, a 422 over HTTP).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

from kb.core.errors import FiltersInvalid, Problem
from kb.core.models import DocumentMetadata, StoredDocument
from kb.core.territories import TerritoryMatch, contains, resolve
from kb.core.text import fold
from kb.core.vocabulary import DOC_TYPES, SECTORS, known_doc_type, normalise_sector
from kb.index.document_tally import DocumentTally

DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"  # AAAA, AAAA-MM or AAAA-MM-JJ (filters, fiches, schemas)
_DATE = re.compile(DATE_PATTERN)
_QUALIFIER = re.compile(r"\([^)]*\)")  # "(Ardèche)", "(43)", "(anonymisée)"
_BARE_CODE = re.compile(r"^(?:\d{2,3}|2[AaBb])$")  # "07", "974", "2A"; a région's "84"
_UNKNOWN_AREA = {"departement": "département inconnu", "region": "région inconnue"}
MAX_VALUES = 20  # values of one list parameter: a filter naming more is not a real query


@dataclass(frozen=True)
class Filters:
    doc_type: tuple[str, ...] = ()
    sector: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()
    territory: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    # official codes ("departement:43", "region:84"), parsed from a name or a code
    departement: tuple[str, ...] = ()
    region: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (
            self.doc_type
            or self.sector
            or self.theme
            or self.territory
            or self.date_from
            or self.date_to
            or self.departement
            or self.region
        )

    def needs_document_list(self) -> bool:
        """Theme, territory and dates are not in the vector metadata: they become a list of
        allowed documents; type and sector are conditions inside both searches."""
        return bool(self.theme or self.territory or self.date_from or self.date_to or self.departement or self.region)

    def accepts(self, meta: DocumentMetadata) -> bool:
        if self.doc_type and meta.doc_type not in self.doc_type:
            return False
        if self.sector and meta.sector not in self.sector:
            return False
        if self.theme:
            themes = {fold(t) for t in meta.themes}
            if not any(fold(t) in themes for t in self.theme):
                return False
        if self.territory and not _located_in(self.territory, meta.territory):
            return False
        if (self.departement or self.region) and not in_areas(self.departement + self.region, meta.territory):
            return False
        if self.date_from and (not meta.date or meta.date < self.date_from):
            return False
        return not (self.date_to and (not meta.date or meta.date[: len(self.date_to)] > self.date_to))

    def with_types(self, doc_types: tuple[str, ...]) -> Filters:
        return replace(self, doc_type=doc_types)


def in_areas(codes: tuple[str, ...], territory: str | None) -> bool:
    """Whether a document whose territory is written ``territory`` lies in one of the areas
    ``codes`` (``departement:43``, ``region:84``): its resolved codes hold one of them. The
    département and région filters and facets count with this, so a facet's count is what
    choosing it lists."""
    if not (codes and territory):
        return False
    located = resolve(territory).territory_codes
    return any(code in located for code in codes)


def area_codes(value: str, level: str) -> tuple[str, ...]:
    """The codes of ``level`` ("departement" or "region") a filter value names: a name
    ("Haute-Loire", "haute loire", "Drôme et Ardèche"), a bare code ("43", "2A", "84": read
    at ``level``, so "84" is the région for ``region``) or a prefixed one ("departement:43");
    empty when the value names no territory of that level (a commune, an old région)."""
    text = value.strip()
    match = resolve(f"{level}:{text}") if _BARE_CODE.match(text) else resolve(text)
    return tuple(code for code in match.named_codes if code.startswith(f"{level}:"))


def _located_in(area: str, territory: str | None) -> bool:
    """Whether a document whose territory is written ``territory`` lies in ``area``: a commune,
    an EPCI, a département or a région (name or code) contains the documents located inside it
    ("Haute-Loire" holds "Yssingeaux" and "CC du Haut-Lignon"); any other text matches the
    territories whose name holds it ("Plateaux")."""
    if not territory:
        return False
    if fold(area) in fold(territory):
        return True
    place = _place(area)
    return bool(place) and contains(place, resolve(territory))


def _place(area: str) -> TerritoryMatch:
    """What a filter's text names as a place; nothing for a name the découpage does not know,
    even qualified by its département ("CC du Val Fleuri (Drôme)" is not the whole Drôme)."""
    unqualified = _QUALIFIER.sub(" ", area).strip()
    return resolve(area) if not unqualified or resolve(unqualified) else resolve(None)


def _values(field: str, raw: str | list[str] | None, problems: list[Problem]) -> list[str]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    values = list(dict.fromkeys(part.strip() for item in items for part in str(item).split(",") if part.strip()))
    if len(values) > MAX_VALUES:
        problems.append(Problem(field, f"{MAX_VALUES} valeurs au plus"))
        return []
    return values


def parse_filters(
    vocabulary: dict[str, set[str]],
    doc_type: str | list[str] | None = None,
    sector: str | list[str] | None = None,
    theme: str | list[str] | None = None,
    territory: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    departement: str | list[str] | None = None,
    region: str | list[str] | None = None,
) -> Filters | None:
    """Filters from raw values (lists or comma-separated), or ``FiltersInvalid`` listing every
    unknown value. ``vocabulary`` holds the themes and territories of the indexed documents.
    ``departement`` and ``region``: names or codes, kept as official codes."""
    problems: list[Problem] = []
    types: list[str] = []
    for value in _values("type", doc_type, problems):
        canonical = known_doc_type(value)
        if canonical is None:
            problems.append(Problem("type", f"type inconnu « {value} » (valeurs possibles : {', '.join(DOC_TYPES)})"))
        elif canonical not in types:
            types.append(canonical)
    sectors: list[str] = []
    for value in _values("sector", sector, problems):
        canonical = normalise_sector(value)
        if canonical is None:
            problems.append(
                Problem("sector", f"secteur inconnu « {value} » (valeurs possibles : {', '.join(SECTORS)})")
            )
        elif canonical not in sectors:
            sectors.append(canonical)
    known_themes = {fold(t): t for t in vocabulary["themes"]}
    themes: list[str] = []
    for value in _values("theme", theme, problems):
        if fold(value) not in known_themes:
            problems.append(Problem("theme", f"thème inconnu « {value} »"))
        elif known_themes[fold(value)] not in themes:
            themes.append(known_themes[fold(value)])
    if territory is not None:
        territory = territory.strip()
        named = any(fold(territory) in fold(t) for t in vocabulary["territories"])
        if territory and not named and not _place(territory):
            problems.append(Problem("territory", f"territoire inconnu « {territory} »"))
    areas: dict[str, list[str]] = {"departement": [], "region": []}
    for level, raw in (("departement", departement), ("region", region)):
        for value in _values(level, raw, problems):
            codes = area_codes(value, level)
            if not codes:
                problems.append(Problem(level, f"{_UNKNOWN_AREA[level]} « {value} »"))
            areas[level].extend(code for code in codes if code not in areas[level])
    for label, date in (("date_from", date_from), ("date_to", date_to)):
        if date is not None and not _DATE.match(date.strip()):
            problems.append(Problem(label, "date attendue au format AAAA, AAAA-MM ou AAAA-MM-JJ"))
    if problems:
        raise FiltersInvalid(problems)
    filters = Filters(
        doc_type=tuple(types),
        sector=tuple(sectors),
        theme=tuple(themes),
        territory=territory or None,
        date_from=date_from.strip() if date_from else None,
        date_to=date_to.strip() if date_to else None,
        departement=tuple(areas["departement"]),
        region=tuple(areas["region"]),
    )
    return None if filters.is_empty() else filters


class FilterValues(DocumentTally[dict[str, set[str]]]):
    """The themes and territories the current documents use, counted (a value goes with its
    last document)."""

    def __init__(self) -> None:
        super().__init__()
        self.themes: Counter[str] = Counter()
        self.territories: Counter[str] = Counter()

    def clear(self) -> None:
        self.themes.clear()
        self.territories.clear()

    def add(self, stored: StoredDocument) -> None:
        self._count(stored, 1)

    def discard(self, stored: StoredDocument) -> None:
        self._count(stored, -1)

    def _count(self, stored: StoredDocument, step: int) -> None:
        territory = [stored.metadata.territory] if stored.metadata.territory else []
        for counter, values in ((self.themes, set(stored.metadata.themes)), (self.territories, territory)):
            for value in values:
                counter[value] += step
                if counter[value] <= 0:
                    del counter[value]

    def result(self, documents: Mapping[str, StoredDocument]) -> dict[str, set[str]]:
        return {
            "themes": set(self.themes),
            "territories": set(self.territories),
        }
