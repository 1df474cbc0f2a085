"""Acronym and variant expansion, from a glossary kept as data (``corpus/glossaire.yaml``).

"CTG" in a query also searches "convention territoriale globale", and a query that spells out
"convention territoriale globale" also searches "CTG".
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from kb.core.text import fold


class Glossary:
    def __init__(self, entries: dict[str, list[str]]) -> None:
        self._expansions: dict[str, list[str]] = {}
        self._reverse: list[tuple[str, str]] = []
        for short, longs in entries.items():
            variants = [longs] if isinstance(longs, str) else list(longs or [])
            self._expansions[fold(short)] = variants
            for variant in variants:
                self._reverse.append((fold(variant), str(short)))
        # longest phrases first, so that "contrat local de santé" wins over "contrat"
        self._reverse.sort(key=lambda item: -len(item[0]))

    @classmethod
    def load(cls, path: Path | None) -> Glossary:
        if path is None or not path.exists():
            return cls({})
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls({str(k): v for k, v in data.items()})

    def __len__(self) -> int:
        return len(self._expansions)

    def knows(self, word: str) -> bool:
        """Whether ``word`` is one of the glossary's acronyms or short forms ("ctg", "EPCI"):
        a query's spelling correction leaves it as typed."""
        return fold(word) in self._expansions

    def expand(self, query: str) -> str:
        """The query followed by the expansions of its acronyms and the acronyms of its phrases."""
        additions: list[str] = []
        for word in re.findall(r"[\w'’/-]+", query):
            for variant in self._expansions.get(fold(word), []):
                if fold(variant) not in fold(query) and variant not in additions:
                    additions.append(variant)
        folded_query = f" {fold(query)} "
        for phrase, short in self._reverse:
            if (
                f" {phrase} " in folded_query
                and short not in additions
                and not re.search(rf"\b{re.escape(short)}\b", query)
            ):
                additions.append(short)
        return query if not additions else f"{query} ({', '.join(additions)})"
