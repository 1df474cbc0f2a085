"""The theme vocabulary: how a theme is shown, and which themes look like near-duplicates.

Themes are stored lowercase (``normalise_themes``), so "caf" and "leader" lose the capitals the
glossary gives them; ``ThemeLabels`` puts them back for display only. ``near_duplicates`` lists
pairs of themes a coordinator may want to merge ("centre social" / "centres sociaux", "mobilité" /
"mobilité solidaire"): suggestions to confirm, never applied by themselves.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from rapidfuzz import fuzz

from kb.core.text import collation_key, fold

_ACRONYM = re.compile(r"^[A-Z0-9][A-Za-z0-9+\-]*[A-Z0-9+]$")
_WORD = re.compile(r"\w+")
_SIMILAR = 90  # rapidfuzz ratio on folded text: a typo or a hyphen, not another subject
_MAX_SUGGESTIONS = 50


class ThemeLabels:
    """The display form of a theme: the glossary's acronyms in capitals ("caf" → "CAF",
    "coopération leader" → "coopération LEADER") and its proper names as it writes them
    ("petites villes de demain" → "Petites villes de demain"); other words as stored."""

    def __init__(self, forms: Iterable[str]) -> None:
        cased = {form.lower(): form for form in forms if form.strip() and form != form.lower()}
        self._cased = cased
        phrases = sorted(cased, key=len, reverse=True)  # the longest phrase wins
        self._pattern = (
            re.compile("|".join(rf"(?<!\w){re.escape(phrase)}(?![\w+])" for phrase in phrases)) if phrases else None
        )

    @classmethod
    def from_glossary(cls, path: Path | None) -> ThemeLabels:
        return _labels(str(path) if path is not None else "")

    def label(self, theme: str) -> str:
        if self._pattern is None:
            return theme
        return self._pattern.sub(lambda match: self._cased[match.group(0)], theme)

    def labels(self, themes: Iterable[str]) -> dict[str, str]:
        """The themes whose label differs from their stored form."""
        return {theme: label for theme in themes if (label := self.label(theme)) != theme}


@functools.lru_cache(maxsize=4)
def _labels(path: str) -> ThemeLabels:
    """The glossary's acronyms (its keys, and expansions that are one acronym: "DLAL", "FRR") and
    its multi-word names written with a capital ("France services")."""
    if not path or not Path(path).exists():
        return ThemeLabels(())
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    forms: list[str] = []
    for short, longs in data.items():
        forms.append(str(short))
        variants = [longs] if isinstance(longs, str) else list(longs or [])
        for variant in map(str, variants):
            if _ACRONYM.match(variant) or (" " in variant and variant[:1].isupper()):
                forms.append(variant)
    return ThemeLabels(form for form in forms if _ACRONYM.match(form) or " " in form)


@dataclass(frozen=True)
class ThemePair:
    """Two themes that may be one: ``source`` (the less used) would be merged into ``target``."""

    source: str
    target: str
    reason: str


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("aux"):
        return word[:-3] + "al"
    if len(word) > 3 and word[-1] in "sx":
        return word[:-1]
    return word


def _words(theme: str) -> list[str]:
    return _WORD.findall(fold(theme))


def pair_reason(a: str, b: str) -> str | None:
    """Why two themes look like one, in French, or None."""
    words_a, words_b = _words(a), _words(b)
    if not words_a or not words_b or words_a == words_b:
        return "même thème, à l'accent ou à la ponctuation près" if words_a == words_b and a != b else None
    if [_singular(w) for w in words_a] == [_singular(w) for w in words_b]:
        return "singulier et pluriel"
    shorter, longer = sorted((words_a, words_b), key=len)
    # a French qualifier follows its noun: "mobilité solidaire" is a kind of "mobilité", whereas
    # "accès à la culture" is another subject than "culture"
    if len(longer) == len(shorter) + 1 and longer[: len(shorter)] == shorter:
        return "l'un précise l'autre"
    if fuzz.ratio(" ".join(words_a), " ".join(words_b)) >= _SIMILAR:
        return "orthographe voisine"
    return None


def near_duplicates(counts: Mapping[str, int], limit: int = _MAX_SUGGESTIONS) -> list[ThemePair]:
    """Pairs of themes that look like one, each to be confirmed by a coordinator: the less used
    theme merged into the more used one (at a tie, into the shorter)."""
    themes = sorted(counts, key=collation_key)
    pairs: list[ThemePair] = []
    for i, a in enumerate(themes):
        for b in themes[i + 1 :]:
            reason = pair_reason(a, b)
            if reason is None:
                continue
            source, target = sorted((a, b), key=lambda t: (counts[t], -len(t), collation_key(t)))
            pairs.append(ThemePair(source, target, reason))
    pairs.sort(key=lambda p: (collation_key(p.target), collation_key(p.source)))
    return pairs[:limit]
