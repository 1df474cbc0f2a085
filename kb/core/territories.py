"""A document's territory, as its authors write it, resolved to official codes.

``resolve("Yssingeaux (43)")`` gives the codes of the commune and of what encloses it
(``commune:43268``, ``epci:244301016``, ``departement:43``, ``region:84``) and the most precise
level named (``"commune"``); ``contains("Haute-Loire", codes)`` tells a filter whether a
document so located lies in an area. Nothing of the text is kept: it stays for display where
it is. The rules are in docs/territories.md; the data and its indexes are
``kb/core/territory_table.py``, reading a text into evidence ``kb/core/territory_reader.py``.

Weighing the evidence: départements and régions named in the text (or, failing any, those
named inside a grouping's name) narrow the communes and EPCI found, and one outside all of
them is dropped; a homonym left is taken only with a population :data:`DOMINANCE` times the
next one's; a territory that encloses another one found was its qualifier ("Yssingeaux (43)")
and is not itself named; every enclosing level of what is named is added.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from kb.core.territory_reader import Found, read
from kb.core.territory_table import LEVELS, Level, TerritoryTable, territory_table

__all__ = ["LEVELS", "NOTHING", "Level", "TerritoryMatch", "contains", "data_version", "resolve", "territory_name"]

# A commune named alone is taken among its homonyms only when it has at least this many times
# the population of the next one ("Valence" is the Drôme's, 64,000 against 5,000); otherwise a
# homonym needs its département (or région, or postcode) in the text.
DOMINANCE = 10

_CANONICAL = re.compile(r"^\s*(commune|epci|departement|region):([0-9A-Za-z]+)\s*$")


@dataclass(frozen=True, slots=True)
class TerritoryMatch:
    """What a territory text resolves to.

    ``territory_codes``: the territories named and every level enclosing them, most precise
    level first (``commune:43268``, ``epci:244301016``, ``departement:43``, ``region:84``);
    what a document stores so that a filter on any level finds it. ``named_codes``: only the
    territories the text names, without the enclosing ones nor the qualifiers (the "(43)" of
    "Yssingeaux (43)"); what an *area* is when a filter uses the text. ``level``: the most
    precise level named, or None when nothing was recognised.
    """

    territory_codes: tuple[str, ...] = ()
    named_codes: tuple[str, ...] = ()
    level: Level | None = None

    def __bool__(self) -> bool:
        return self.level is not None


NOTHING = TerritoryMatch()


def resolve(text: str | None) -> TerritoryMatch:
    """A territory text ("CC du Haut-Lignon", "Saint-Agrève, Ardèche", "43200", "Drôme et
    Ardèche", "departement:43") resolved to codes; :data:`NOTHING` when nothing is recognised
    ("France", a fictional place with no département named). Cached per text."""
    if not text or not text.strip():
        return NOTHING
    return _resolve(text.strip())


def contains(area: str | TerritoryMatch, document: Iterable[str] | TerritoryMatch) -> bool:
    """Whether a document located at ``document`` (its ``territory_codes``, or its match) lies
    in ``area`` (a territory text or code, or its match): "Haute-Loire" contains a document
    of "Yssingeaux" or of "CC du Haut-Lignon", not one of "Auvergne-Rhône-Alpes". An area of
    several territories ("Drôme et Ardèche") contains what lies in any of them; an area that
    resolves to nothing contains nothing."""
    named = (resolve(area) if isinstance(area, str) else area).named_codes
    codes = set(document.territory_codes if isinstance(document, TerritoryMatch) else document)
    return any(code in codes for code in named)


def enclosing_names(text: str | None, level: str) -> tuple[str, ...]:
    """The official names of the territories of ``level`` ("departement", "region") that hold
    what ``text`` names: "Yssingeaux (43)" -> ("Haute-Loire",); "Drôme et Ardèche" -> both."""
    prefix = f"{level}:"
    names = (territory_name(code) for code in resolve(text).territory_codes if code.startswith(prefix))
    return tuple(name for name in names if name)


def territory_name(code: str) -> str | None:
    """The official name of a code (``epci:244301107`` → ``CC du Haut Lignon``), for labels."""
    return territory_table().name(code)


def data_version() -> str:
    """The version of ``@etalab/decoupage-administratif`` the packaged table comes from."""
    return territory_table().version


# A filter or facet resolves every document's territory text per request: the cache must hold
# a large base's distinct texts (beyond them it thrashes: 0.3 s per filtered search at 5,000
# distinct texts with 4,096 entries; evaluation/bench_area_facets.py). About 10 MiB when full.
@functools.lru_cache(maxsize=16384)
def _resolve(text: str) -> TerritoryMatch:
    table = territory_table()
    canonical = _CANONICAL.match(text)
    if canonical:
        code = f"{canonical.group(1)}:{canonical.group(2).upper()}"
        return _match(table, {code}) if table.exists(code) else NOTHING
    return _match(table, _weigh(table, read(table, text)))


# -- weighing the evidence -------------------------------------------------------------------


def _weigh(table: TerritoryTable, found: Found) -> set[str]:
    """The codes the text names, once qualifiers have narrowed the candidates."""
    areas = [entry for entry in found.areas if entry[1] == 1] or found.areas
    context: set[str] = set()
    for codes, _, _ in areas:
        context.update(codes)
    named: set[str] = set()
    communes = list(found.communes)
    for codes, _, homonyms in areas:
        others = context - set(codes)
        if homonyms and others and not _touches(table, codes, others):
            inside = [entry for entry in homonyms if _touches(table, (f"commune:{entry[1]}",), others)]
            if inside:  # "Vienne (Isère)": the commune, not the département
                context -= set(codes)
                communes.append((tuple(inside), None, None))
                continue
        named.update(codes)
    postcodes = set(found.postcodes)
    used: set[str] = set()
    for candidates, postcode, departement in communes:
        code = _pick_commune(table, candidates, context, postcodes | ({postcode} if postcode else set()), departement)
        if code:
            named.add(f"commune:{code}")
            used.update(table.communes[code].postcodes)
    for sirens, kind in found.epcis:
        chosen = [siren for siren in sirens if not context or _touches(table, (f"epci:{siren}",), context)]
        if len(chosen) > 1 and kind:
            chosen = [siren for siren in chosen if table.epcis[siren].type.startswith(kind)] or chosen
        if len(chosen) == 1:
            named.add(f"epci:{chosen[0]}")
    for postcode in postcodes - used:
        named.update(_postcode_area(table, postcode, context))
    return named


def _touches(table: TerritoryTable, codes: Iterable[str], context: set[str]) -> bool:
    """Whether one of ``codes`` is, or lies in, one of the ``context`` codes."""
    return any(code in context or context.intersection(table.enclosing(code)) for code in codes)


def _pick_commune(
    table: TerritoryTable,
    candidates: tuple[tuple[int, str], ...],
    context: set[str],
    postcodes: set[str],
    departement: str | None,
) -> str | None:
    """One commune among the homonyms of a name, or None. Current names before names without
    their article before former communes' names; then the text's départements, régions and
    postcodes; then a population at least :data:`DOMINANCE` times the next one's."""
    for _, group in itertools.groupby(candidates, key=lambda entry: entry[0]):
        codes = [code for _, code in group]
        if departement:
            codes = [code for code in codes if table.communes[code].departement == departement]
        if context:
            codes = [code for code in codes if _touches(table, (f"commune:{code}",), context)]
        if postcodes:
            codes = [code for code in codes if postcodes.intersection(table.communes[code].postcodes)]
        if len(codes) == 1:
            return codes[0]
        if codes:
            ranked = sorted(codes, key=lambda code: -table.communes[code].population)
            first, second = (table.communes[code].population for code in ranked[:2])
            return ranked[0] if first >= DOMINANCE * max(second, 1) else None
    return None


def _postcode_area(table: TerritoryTable, postcode: str, context: set[str]) -> set[str]:
    """A postcode alone: its commune when it has one, else the smallest territory enclosing
    all of its communes (their EPCI, else their départements): "07320" is six communes of the
    CC Val Eyrieux, "43200" ten communes of three EPCI of the Haute-Loire."""
    codes = [
        code
        for code in table.postcodes.get(postcode, ())
        if not context or _touches(table, (f"commune:{code}",), context)
    ]
    if len(codes) == 1:
        return {f"commune:{codes[0]}"}
    if not codes:
        return set()
    communes = [table.communes[code] for code in codes]
    epcis = {commune.epci for commune in communes}
    if len(epcis) == 1 and None not in epcis:
        return {f"epci:{epcis.pop()}"}
    return {f"departement:{commune.departement}" for commune in communes}


def _match(table: TerritoryTable, named: set[str]) -> TerritoryMatch:
    """The match of the named codes: a territory enclosing another named one was its
    qualifier and is dropped from the named ones; every enclosing level is added."""
    enclosing = {code: table.enclosing(code) for code in named}
    kept = {code for code in named if not any(code in enclosing[other] for other in named if other != code)}
    if not kept:
        return NOTHING
    codes = set(kept)
    for code in kept:
        codes.update(enclosing[code])
    order: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}

    def sort_key(code: str) -> tuple[int, str]:
        return order[code.partition(":")[0]], code

    level = min((code.partition(":")[0] for code in kept), key=lambda level: order[level])
    return TerritoryMatch(tuple(sorted(codes, key=sort_key)), tuple(sorted(kept, key=sort_key)), cast(Level, level))
