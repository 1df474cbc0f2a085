"""Facets by département and région: how many of a list of documents lie in each.

A document counts in every département (région) its territory resolves into, the enclosing
levels included: a fiche of "Yssingeaux" counts in the Haute-Loire and in Auvergne-Rhône-Alpes,
one of "Drôme et Ardèche" in both départements. That is exactly what the ``departement`` and
``region`` filters keep (``kb/search/filters.in_areas``), so a count is what choosing it lists.

Cost: one cached ``resolve`` per distinct territory text (about 50 µs uncached, 0.1 µs cached)
and a pass over the documents given; the API counts over the documents a search lists (50 at
most), never over the whole base.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from kb.core.models import DocumentMetadata
from kb.core.territories import resolve, territory_name
from kb.core.text import collation_key

LEVELS = ("departement", "region")


def area_counts(territories: Iterable[str | None], level: str) -> Counter[str]:
    """Documents per code of ``level`` (``departement:43``…), one count per document."""
    prefix = f"{level}:"
    counts: Counter[str] = Counter()
    for territory in territories:
        if territory:
            counts.update(code for code in resolve(territory).territory_codes if code.startswith(prefix))
    return counts


def area_facets(documents: Iterable[DocumentMetadata]) -> dict[str, list[dict]]:
    """``{"departements": [{"code": "43", "name": "Haute-Loire", "count": 3}, …], "regions":
    […]}``, the most common first, then by name."""
    territories = [meta.territory for meta in documents]
    return {f"{level}s": facet_rows(area_counts(territories, level)) for level in LEVELS}


def facet_rows(counts: Counter[str]) -> list[dict]:
    rows = [
        {"code": code.partition(":")[2], "name": territory_name(code) or code, "count": count}
        for code, count in counts.items()
    ]
    return sorted(rows, key=lambda row: (-row["count"], collation_key(row["name"])))
