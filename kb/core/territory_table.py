"""The official découpage administratif (communes, EPCI, départements, régions), loaded once.

The data is ``kb/resources/territoires/decoupage.json.gz``, derived by
``scripts/build_territories.py`` from Etalab's ``@etalab/decoupage-administratif`` (Licence
Ouverte / Etalab 2.0). :func:`territory_table` reads it on first use and keeps it for the
process. Names are indexed by their *key*: folded (lowercase, no accents, ligatures spelt out),
cut into words at anything that is not a letter or a digit (hyphens, apostrophes, dots), with
the abbreviations St, Ste, Hte… spelt out, so that "St Agrève", "Saint Agrève" and
"SAINT-AGRÈVE" have one key, ``saint agreve``. Resolving a text is ``kb/core/territories.py``.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from pathlib import Path
from typing import Literal, NamedTuple

from kb.core.text import fold

DATA = Path(__file__).resolve().parents[1] / "resources" / "territoires" / "decoupage.json.gz"

Level = Literal["commune", "epci", "departement", "region"]
LEVELS: tuple[Level, ...] = ("commune", "epci", "departement", "region")  # most precise first

_WORD = re.compile(r"[a-z0-9]+")
ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "sts": "saints",
    "stes": "saintes",
    "ht": "haut",
    "hte": "haute",
    "hts": "hauts",
    "htes": "hautes",
}
ARTICLES = frozenset({"le", "la", "les", "l"})
# Articles and prepositions between an EPCI's type and its name ("CC du…", "CA de l'…").
LINKS = frozenset({"de", "du", "des", "d", "la", "le", "les", "l"})
# Words that make a name an intercommunality's by themselves ("Saint-Étienne Métropole").
EPCI_WORDS = frozenset({"agglomeration", "agglo", "metropole", "eurometropole", "communaute"})
TYPE_WORDS = frozenset({"cc", "ca", "cu", "metropole", "eurometropole"})

# The régions before 2016, which documents still name: each stands for its départements.
OLD_REGIONS = {
    "Alsace": ("67", "68"),
    "Aquitaine": ("24", "33", "40", "47", "64"),
    "Auvergne": ("03", "15", "43", "63"),
    "Basse-Normandie": ("14", "50", "61"),
    "Bourgogne": ("21", "58", "71", "89"),
    "Champagne-Ardenne": ("08", "10", "51", "52"),
    "Franche-Comté": ("25", "39", "70", "90"),
    "Haute-Normandie": ("27", "76"),
    "Languedoc-Roussillon": ("11", "30", "34", "48", "66"),
    "Limousin": ("19", "23", "87"),
    "Lorraine": ("54", "55", "57", "88"),
    "Midi-Pyrénées": ("09", "12", "31", "32", "46", "65", "81", "82"),
    "Nord-Pas-de-Calais": ("59", "62"),
    "Picardie": ("02", "60", "80"),
    "Poitou-Charentes": ("16", "17", "79", "86"),
    "Rhône-Alpes": ("01", "07", "26", "38", "42", "69", "73", "74"),
}
# Acronyms of régions, recognised only when written in capitals ("aura" is a French verb).
REGION_ACRONYMS = {"aura": "84", "paca": "93", "idf": "11", "bfc": "27"}


def words(text: str) -> list[str]:
    """The words of a name or text as keys are made of: folded, abbreviations spelt out."""
    return [ABBREVIATIONS.get(word, word) for word in _WORD.findall(fold(text))]


def many_keys(names: list[str]) -> list[str]:
    """``name_key`` of many names at once: one call to ``fold`` for all of them (loading is
    dominated by folding 40,000 names one by one otherwise)."""
    folded = fold("|".join(name.replace("|", " ") for name in names)).split("|")
    assert len(folded) == len(names)
    return [" ".join([ABBREVIATIONS.get(word, word) for word in _WORD.findall(name)]) for name in folded]


def name_key(text: str) -> str:
    """``"St-Agrève"`` → ``"saint agreve"``."""
    return " ".join(words(text))


def departement_of(commune_code: str) -> str:
    """A commune's département from its INSEE code: 2 characters, 3 overseas (97x, 98x)."""
    return commune_code[:3] if commune_code[:2] in ("97", "98") else commune_code[:2]


class Region(NamedTuple):
    code: str
    name: str


class Departement(NamedTuple):
    code: str
    name: str
    region: str


class Epci(NamedTuple):
    siren: str
    name: str
    type: str  # CC, CA, CU, METRO (MET69: the Métropole de Lyon)
    members: tuple[str, ...]  # INSEE codes of its communes
    departements: tuple[str, ...]  # those of its members: several for an interdepartmental EPCI


class Commune(NamedTuple):
    code: str
    name: str
    departement: str
    epci: str | None  # SIREN; None for the few communes outside any EPCI (islands, overseas)
    population: int
    postcodes: tuple[str, ...]


class TerritoryTable:
    """The four levels, their containment, and the name indexes resolving needs."""

    def __init__(self, data: dict) -> None:
        self.version: str = data["source"]["version"]
        self.regions = {code: Region(code, name) for code, name in data["regions"]}
        self.departements = {code: Departement(code, name, region) for code, name, region in data["departements"]}
        sirens = [siren for siren, _, _ in data["epci"]]
        members: dict[str, list[str]] = {siren: [] for siren in sirens}
        self.communes: dict[str, Commune] = {}
        self.postcodes: dict[str, tuple[str, ...]] = {}
        postcodes: dict[str, list[str]] = {}
        shared: dict[str, tuple[str, ...]] = {}  # one tuple for the communes of the same postcodes
        departements = {code: code for code in self.departements}  # one string per département
        for code, name, epci_index, population, codes in data["communes"]:
            epci = sirens[epci_index] if epci_index >= 0 else None
            if codes not in shared:
                shared[codes] = tuple(codes.split())
            commune = Commune(code, name, departements[departement_of(code)], epci, population, shared[codes])
            self.communes[code] = commune
            if epci:
                members[epci].append(code)
            for postcode in commune.postcodes:
                postcodes.setdefault(postcode, []).append(code)
        self.postcodes = {postcode: tuple(codes) for postcode, codes in postcodes.items()}
        self.epcis = {
            siren: Epci(
                siren,
                name,
                kind,
                tuple(members[siren]),
                tuple(sorted({departement_of(code) for code in members[siren]})),
            )
            for siren, name, kind in data["epci"]
        }
        self._index_communes(data["former"])
        self._index_epcis()
        self._index_areas()

    # -- indexes ----------------------------------------------------------------------------

    def _index_communes(self, former: list[list[str]]) -> None:
        """``commune_keys``: key → ((rank, INSEE code), …), rank 0 for the current name, 1 for
        it without its article ("Chambon-sur-Lignon"), 2 and 3 the same for the name of a
        former commune (déléguée or associée) now part of it."""
        found: dict[str, list[tuple[int, str]]] = {}
        names = [(name, code, 0) for code, name in ((c.code, c.name) for c in self.communes.values())]
        names += [(name, code, 2) for name, code in former]
        # "Château-Chinon (Ville)": a text cuts its parentheses off, so the name is also indexed without them.
        names += [(re.sub(r"\s*\([^)]*\)", "", name), code, rank) for name, code, rank in names if "(" in name]
        for (_, code, rank), key in zip(names, many_keys([name for name, _, _ in names]), strict=True):
            found.setdefault(key, []).append((rank, code))
            article, _, rest = key.partition(" ")
            if rest and article in ARTICLES:
                found.setdefault(rest, []).append((rank + 1, code))
        self.commune_keys = {
            key: (entries[0],) if len(entries) == 1 else tuple(sorted(set(entries))) for key, entries in found.items()
        }

    def _index_epcis(self) -> None:
        """Three indexes of EPCI names, each key → SIRENs:

        - ``epci_after_type``: the name after its type and article ("CC du Haut Lignon" →
          ``haut lignon``; "Montélimar Agglomération" also → ``montelimar``), matched after a
          type written in the text ("Communauté de communes du Haut-Lignon");
        - ``epci_alone``: names accepted with no type written ("Haut-Lignon", "Val Eyrieux", an
          acronym in the official name's parentheses: "CAPI");
        - ``epci_marked``: names that say by themselves they are an EPCI ("Saint-Étienne
          Métropole", "Arche Agglo"), recognised anywhere in a text.

        ``epci_with_commas``: the names of ``epci_alone`` written with commas ("CC Vendée,
        Sèvre, Autise"), which the reader keeps in one part.
        """
        after: dict[str, set[str]] = {}
        alone: dict[str, set[str]] = {}
        marked: dict[str, set[str]] = {}
        commas: set[str] = set()
        for epci in self.epcis.values():
            bare = re.sub(r"\([^)]*\)", " ", epci.name)
            full = words(bare)
            core = full[1:] if full and full[0] in TYPE_WORDS else full
            while core and core[0] in LINKS:
                core = core[1:]
            if not core:
                continue
            trimmed = list(core)
            while len(trimmed) > 1 and trimmed[-1] in EPCI_WORDS:
                trimmed.pop()
            for name in {" ".join(core), " ".join(trimmed)}:
                after.setdefault(name, set()).add(epci.siren)
            alone.setdefault(" ".join(core), set()).add(epci.siren)
            if "," in epci.name:
                commas.add(" ".join(core))
            for acronym in re.findall(r"\(([^)]*)\)", epci.name):
                if len(name_key(acronym).replace(" ", "")) >= 3:
                    alone.setdefault(name_key(acronym), set()).add(epci.siren)
            for sequence in (full, core):
                if len(sequence) > 1 and EPCI_WORDS.intersection(sequence):
                    marked.setdefault(" ".join(sequence), set()).add(epci.siren)
        self.epci_after_type = {key: tuple(sorted(sirens)) for key, sirens in after.items()}
        self.epci_alone = {key: tuple(sorted(sirens)) for key, sirens in alone.items()}
        self.epci_marked = {key: tuple(sorted(sirens)) for key, sirens in marked.items()}
        self.epci_with_commas = frozenset(commas)  # "CC Vendée, Sèvre, Autise": a text's parts are cut at commas

    def _index_areas(self) -> None:
        """``area_keys``: names of départements and régions (and of the old régions) → codes.
        A name that is both a région's and a département's (Guadeloupe) goes to the
        département, the région following as its enclosing level. An overseas collectivity
        named like its only commune (Saint-Martin, Saint-Barthélemy) is left to the communes,
        so that the many Saint-Martin of France are weighed together."""
        areas: dict[str, tuple[str, ...]] = {}
        overseas = ("975", "977", "978")

        def add(name: str, codes: tuple[str, ...], code: str) -> None:
            key = words(name)
            if (code.startswith("98") or code in overseas) and " ".join(key) in self.commune_keys:
                return
            areas[" ".join(key)] = codes
            if len(key) > 1 and key[0] in ARTICLES:
                areas.setdefault(" ".join(key[1:]), codes)

        for name, departements in OLD_REGIONS.items():
            add(name, tuple(f"departement:{code}" for code in departements), "")
        for region in self.regions.values():
            add(region.name, (f"region:{region.code}",), region.code)
        for departement in self.departements.values():
            add(departement.name, (f"departement:{departement.code}",), departement.code)
        self.area_keys = areas
        self.max_words = 1 + max(
            key.count(" ")
            for index in (self.commune_keys, self.epci_after_type, self.epci_alone, self.epci_marked, areas)
            for key in index
        )

    # -- levels -----------------------------------------------------------------------------

    def _entry(self, code: str) -> Region | Departement | Epci | Commune | None:
        level, _, value = code.partition(":")
        if level == "commune":
            return self.communes.get(value)
        if level == "epci":
            return self.epcis.get(value)
        if level == "departement":
            return self.departements.get(value)
        return self.regions.get(value) if level == "region" else None

    def exists(self, code: str) -> bool:
        """Whether a code (``departement:43``) names a territory of the table."""
        return self._entry(code) is not None

    def enclosing(self, code: str) -> tuple[str, ...]:
        """The codes of the territories that contain a territory, nearest first:
        ``commune:43268`` → its EPCI, its département, its région."""
        level, _, value = code.partition(":")
        if level == "commune":
            commune = self.communes[value]
            epci = (f"epci:{commune.epci}",) if commune.epci else ()
            region = self.departements[commune.departement].region
            return (*epci, f"departement:{commune.departement}", f"region:{region}")
        if level == "epci":
            departements = self.epcis[value].departements
            regions = sorted({self.departements[code].region for code in departements})
            return (*(f"departement:{code}" for code in departements), *(f"region:{code}" for code in regions))
        if level == "departement":
            return (f"region:{self.departements[value].region}",)
        return ()

    def name(self, code: str) -> str | None:
        """The official name of a territory code (``departement:43`` → ``Haute-Loire``)."""
        entry = self._entry(code)
        return entry.name if entry is not None else None


_table: TerritoryTable | None = None
_lock = threading.Lock()


def territory_table() -> TerritoryTable:
    """The table, read from the packaged data on first use and kept for the process."""
    global _table
    if _table is None:
        with _lock:
            if _table is None:
                with gzip.open(DATA, "rt", encoding="utf-8") as handle:
                    _table = TerritoryTable(json.load(handle))
    return _table
