"""Reading a territory text into evidence: the names it holds, and where.

The text is cut into parts at parentheses, commas, semicolons and colons (parts joined by
commas stay one when together they hold an EPCI's name written with commas). Each part is
read left to right for names of régions and départements, intercommunalities named after
their type ("CC du…", "Communauté d'agglomération du…") or by a self-describing name
("Saint-Étienne Métropole"), and groupings the découpage does not hold (PETR, Pays, parcs,
missions locales: their names are skipped, and a département named inside them is evidence of
the second tier, counted only if nothing else is). The remaining runs of words are communes
only when a run is a commune's whole name (or a list of them joined by "et"), perhaps with a
postcode or a département number next to it. Weighing the evidence is
``kb/core/territories.py``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from kb.core.territory_table import LINKS, REGION_ACRONYMS, TerritoryTable, words

_PARTS = re.compile(r"([()\[\]{},;:|\n]+|\s[–—]\s)")
_TOKEN = re.compile(r"[^\W_]+")

# Types of intercommunality as documents write them (keys, see territory_table.words).
EPCI_MARKERS = {
    "cc": "CC",
    "cdc": "CC",
    "comcom": "CC",
    "com com": "CC",
    "communaute de communes": "CC",
    "communaute des communes": "CC",
    "ca": "CA",
    "agglo": "CA",
    "agglomeration": "CA",
    "communaute d agglomeration": "CA",
    "communaute d agglo": "CA",
    "cu": "CU",
    "communaute urbaine": "CU",
    "metropole": "METRO",
    "eurometropole": "METRO",
    "communaute": "",
}
SHORT_MARKERS = frozenset({"cc", "ca", "cu"})  # written in capitals when the text has any
# Groupings the découpage does not hold: their names are skipped, not read as communes.
STRUCTURE_MARKERS = frozenset(
    {
        "petr",
        "pole d equilibre territorial et rural",
        "pays",
        "pnr",
        "parc naturel regional",
        "parc naturel",
        "parc national",
        "gal",
        "groupe d action locale",
        "scot",
        "syndicat",
        "syndicat mixte",
        "sivom",
        "sivu",
        "mission locale",
        "canton",
        "arrondissement",
        "bassin de vie",
        "leader",
    }
)
MARKER_WORDS = 1 + max(key.count(" ") for key in (*EPCI_MARKERS, *STRUCTURE_MARKERS))
# Words that introduce a commune's name ("Commune de Tence", "CCAS d'Araules").
INTRODUCERS = frozenset({"commune", "ville", "mairie", "village", "ccas"})
CONNECTORS = frozenset({"et", "ou"})
GLUE = LINKS | CONNECTORS | {"en", "dans"}


@dataclass(frozen=True, slots=True)
class Word:
    key: str
    capital: bool  # the written word starts with a capital (or a digit)
    upper: bool  # the written word is all capitals


@dataclass
class Found:
    """Evidence gathered from a text before it is weighed.

    - ``areas``: département and région names or numbers: (their codes, 1 or 2 for a name read
      inside a grouping's name, the communes of the same name as ranked in ``commune_keys``);
    - ``communes``: (the candidates of a name as ranked in ``commune_keys``, a postcode written
      next to it, a département number written next to it);
    - ``epcis``: (the SIRENs of a name, the type written before it: "CC", "CA"…, or "");
    - ``postcodes``: postcodes written alone.
    """

    areas: list[tuple[tuple[str, ...], int, tuple[tuple[int, str], ...]]] = field(default_factory=list)
    communes: list[tuple[tuple[tuple[int, str], ...], str | None, str | None]] = field(default_factory=list)
    epcis: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    postcodes: list[str] = field(default_factory=list)


def read(table: TerritoryTable, text: str) -> Found:
    """The evidence a territory text holds, before it is weighed (kb/core/territories.py)."""
    reader = Reader(table, any(char.isupper() for char in text))
    for part in _parts(table, text):
        reader.read(part)
    return reader.found


def _parts(table: TerritoryTable, text: str) -> list[list[Word]]:
    """The text's words, cut into parts at parentheses, commas, semicolons…; parts joined by
    commas stay one when together they hold the name of an EPCI written with commas."""
    pieces = _PARTS.split(text)
    parts = [_words(piece) for piece in pieces[::2]]
    commas = [delimiter.strip() == "," for delimiter in pieces[1::2]]
    joined: list[list[Word]] = []
    index = 0
    while index < len(parts):
        size = 1
        for count in range(min(4, len(parts) - index), 1, -1):
            if all(commas[index : index + count - 1]) and _holds_comma_name(table, parts[index : index + count]):
                size = count
                break
        joined.append([word for part in parts[index : index + size] for word in part])
        index += size
    return joined


def _holds_comma_name(table: TerritoryTable, parts: list[list[Word]]) -> bool:
    if not table.epci_with_commas:
        return False
    first = f" {' '.join(word.key for word in parts[0])} "
    whole = f" {' '.join(word.key for part in parts for word in part)} "
    return any(f" {name} " in whole and f" {name} " not in first for name in table.epci_with_commas)


def _words(part: str) -> list[Word]:
    found = []
    for token in _TOKEN.finditer(part):
        written = token.group()
        capital = written[0].isupper() or written[0].isdigit()
        found += [Word(key, capital, written.isupper()) for key in words(written)]
    return found


class Reader:
    """Reads the parts of one text, left to right, into :class:`Found`."""

    def __init__(self, table: TerritoryTable, cased: bool) -> None:
        self.table = table
        self.cased = cased  # the text has capitals: names read inside it must have theirs
        self.found = Found()

    def read(self, part: list[Word]) -> None:
        """One part of the text (between parentheses, commas…)."""
        i, run_start, skipping = 0, None, False
        while i < len(part):
            start = run_start if run_start is not None else i
            end = None if skipping else self._name_end(part, start, i)
            area_len, area_codes = self._area(part, i)
            marked_len, marked = self._longest(part, i, self.table.epci_marked)
            if marked_len and not self._boundary(part, i + marked_len):
                marked_len = 0
            marker_len, marker = self._marker(part, i)
            longest = max(area_len, marked_len, marker_len)
            if end is not None and (run_start is not None or end - i > longest):
                run_start, i = start, end  # a name a département's is part of: "Loire-sur-Rhône"
                continue
            if not longest:
                if not skipping and run_start is None:
                    run_start = i
                i += 1
                continue
            run = part[start:i] if run_start is not None else []
            run_start = None
            if area_len == longest:
                self._add_area(part, i, area_len, area_codes, run, tier=2 if skipping else 1)
                self._run(run)
                i += area_len
            elif marked_len == longest:
                self.found.epcis.append((marked, ""))
                self._run(run)
                i, skipping = i + marked_len, False
            else:
                i, skipping = self._after_type(part, i, marker_len, marker, run)
        if run_start is not None:
            self._run(part[run_start:])

    def _after_type(self, part: list[Word], i: int, length: int, marker: str, run: list[Word]) -> tuple[int, bool]:
        """A type of EPCI or a grouping written at ``i``: the EPCI named after it, or (a type
        at the end) before it; otherwise the name of something the découpage does not hold,
        to skip. Returns where to read on and whether a name is being skipped."""
        kind = EPCI_MARKERS.get(marker)
        after = i + length
        if kind is None:  # a grouping, unless it is an EPCI's name: "Pays de Lamastre"
            named = self._longest_bounded(part, i, self.table.epci_alone)
        else:
            named = self._after_marker(part, after)
        if named is not None:
            end, sirens = named
            self.found.epcis.append((sirens, kind or ""))
            self._run(run)
            return end, False
        if kind is not None and run and self._boundary(part, after):
            # A type at the end: the run before it is an EPCI's name ("Le Puy-en-Velay
            # Agglomération"), known or not; never a commune's.
            key = " ".join(word.key for word in _strip(run, LINKS))
            if key in self.table.epci_after_type:
                self.found.epcis.append((self.table.epci_after_type[key], kind))
            return after, False
        self._run(run)
        return after, True

    # -- matches at a position -------------------------------------------------------------

    def _key(self, part: list[Word], start: int, end: int) -> str:
        return " ".join(word.key for word in part[start:end])

    def _longest(self, part: list[Word], i: int, index: dict) -> tuple[int, tuple[str, ...]]:
        if self.cased and not part[i].capital:
            return 0, ()
        for end in range(min(len(part), i + self.table.max_words), i, -1):
            found = index.get(self._key(part, i, end))
            if found is not None:
                return end - i, found
        return 0, ()

    def _longest_bounded(self, part: list[Word], i: int, index: dict) -> tuple[int, tuple[str, ...]] | None:
        """The end of the longest name of ``index`` at ``i`` that ends where a name may end,
        and what it names."""
        for end in range(min(len(part), i + self.table.max_words), i, -1):
            found = index.get(self._key(part, i, end))
            if found is not None and self._boundary(part, end):
                return end, found
        return None

    def _name_end(self, part: list[Word], start: int, i: int) -> int | None:
        """Where the longest commune's name (or EPCI's, written alone) from ``start`` ends, if
        it reaches past ``i``."""
        while start < i and part[start].key in CONNECTORS:
            start += 1
        shifted = start + len(part[start:i]) - len(self._introduced(part[start:i]))
        ends = [self._name_end_from(part, begin, i) for begin in {start, shifted} if begin < len(part)]
        return max((end for end in ends if end is not None), default=None)

    def _name_end_from(self, part: list[Word], start: int, i: int) -> int | None:
        table = self.table
        if self.cased and not part[start].capital:
            return None
        for end in range(min(len(part), start + table.max_words), i, -1):
            key = self._key(part, start, end)
            if key in table.commune_keys or key in table.epci_alone:
                return end
        return None

    def _introduced(self, run: list[Word]) -> list[Word]:
        """A run without the word that introduces a commune's name ("Commune de", "Mairie d'")
        unless the whole run is a name ("Ville-sur-Lumes", "Village-Neuf")."""
        if not run or run[0].key not in INTRODUCERS or self._key(run, 0, len(run)) in self.table.commune_keys:
            return run
        run = run[1:]
        return run[1:] if run and run[0].key in ("de", "d", "du", "des") else run

    def _area(self, part: list[Word], i: int) -> tuple[int, tuple[str, ...]]:
        word = part[i]
        if word.upper and word.key in REGION_ACRONYMS:
            return 1, (f"region:{REGION_ACRONYMS[word.key]}",)
        length, codes = self._longest(part, i, self.table.area_keys)
        if codes == ("departement:59",) and i + length < len(part):
            return 0, ()  # "Nord Ardèche", "Nord de la Drôme": a direction, not the Nord
        return length, codes

    def _marker(self, part: list[Word], i: int) -> tuple[int, str]:
        for end in range(min(len(part), i + MARKER_WORDS), i, -1):
            key = self._key(part, i, end)
            if key in EPCI_MARKERS or key in STRUCTURE_MARKERS:
                if key in SHORT_MARKERS and self.cased and not part[i].upper:
                    continue
                return end - i, key
        return 0, ""

    def _after_marker(self, part: list[Word], i: int) -> tuple[int, tuple[str, ...]] | None:
        """The end of the EPCI's name after a type ending at ``i`` ("du Haut-Lignon"),
        articles skipped, and what it names."""
        start = i
        while start < len(part) and part[start].key in LINKS:
            start += 1
        if start == len(part):
            return None
        return self._longest_bounded(part, start, self.table.epci_after_type)

    def _boundary(self, part: list[Word], end: int) -> bool:
        """Whether a name may end at ``end``: at the end of the part, or before (after some
        "et", "de", "en"…) a département, a région, a type of EPCI or a number. "CC des Sucs
        et Gorges" is not the CC des Sucs."""
        while end < len(part) and part[end].key in GLUE:
            end += 1
        if end == len(part):
            return True
        return part[end].key.isdigit() or self._area(part, end)[0] > 0 or self._marker(part, end)[0] > 0

    # -- evidence ----------------------------------------------------------------------------

    def _add_area(
        self, part: list[Word], i: int, length: int, codes: tuple[str, ...], run: list[Word], tier: int
    ) -> None:
        key = self._key(part, i, i + length)
        homonyms = self.table.commune_keys.get(key, ())
        introduced = run and not _strip(run, CONNECTORS | INTRODUCERS | LINKS)
        if homonyms and introduced and any(word.key in INTRODUCERS for word in run):  # "Commune de Vienne"
            self.found.communes.append((homonyms, None, None))
            return
        self.found.areas.append((codes, tier, homonyms))

    def _run(self, run: list[Word]) -> None:
        """A run of words no other rule claimed: a commune's whole name, with perhaps a
        postcode or a département number next to it, or several joined by "et"; an EPCI's
        name written alone; a postcode or a département number on its own."""
        run = _strip(run, CONNECTORS)
        if not run:
            return
        table = self.table
        keys = [word.key for word in run]
        if len(keys) == 1 and keys[0] in table.postcodes:
            self.found.postcodes.append(keys[0])
            return
        if len(keys) == 1 and table.exists(f"departement:{keys[0].upper()}"):
            self.found.areas.append(((f"departement:{keys[0].upper()}",), 1, ()))
            return
        postcode = departement = number = None
        if len(keys) > 1 and (keys[-1].isdigit() or keys[-1] in ("2a", "2b")):
            number, run = keys[-1], run[:-1]
        elif len(keys) > 1 and keys[0].isdigit():
            number, run = keys[0], run[1:]
        if number and len(number) == 5:
            postcode = number
        elif number and table.exists(f"departement:{number.upper()}"):
            departement = number.upper()
        elif number:
            return
        run = self._introduced(run)
        if not run:
            return
        if self.cased and not run[0].capital:
            return
        key = " ".join(word.key for word in run)
        if key in table.commune_keys:
            self.found.communes.append((table.commune_keys[key], postcode, departement))
        elif key in table.epci_alone and not number:
            self.found.epcis.append((table.epci_alone[key], ""))
        elif not number:
            for name in self._listed(run) or ():
                self.found.communes.append((table.commune_keys[name], None, None))

    def _listed(self, run: list[Word]) -> list[str] | None:
        """The keys of several communes' names joined by "et" or "ou" ("Yssingeaux et Tence"),
        cut in as few pieces as can be; None when no cut makes every piece a name."""
        cuts = [index for index, word in enumerate(run) if word.key in CONNECTORS]
        for count in range(1, min(len(cuts), 6) + 1):
            for chosen in itertools.combinations(cuts, count):
                pieces = [run[a + 1 : b] for a, b in itertools.pairwise([-1, *chosen, len(run)])]
                if not all(piece and (piece[0].capital or not self.cased) for piece in pieces):
                    continue
                names = [" ".join(word.key for word in piece) for piece in pieces]
                if all(name in self.table.commune_keys for name in names):
                    return names
        return None


def _strip(run: list[Word], noise: frozenset[str] | set[str]) -> list[Word]:
    start, end = 0, len(run)
    while start < end and run[start].key in noise:
        start += 1
    while end > start and run[end - 1].key in noise:
        end -= 1
    return run[start:end]
