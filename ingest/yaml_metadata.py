"""Metadata YAML (front matter, sidecar files) read defensively.

Metadata is a handful of short fields written by hand. YAML can do far more: aliases let a
479-byte file expand into gigabytes ("billion laughs") or refer to itself (``&x [*x]``). Anchors
and aliases have no use in a fiche's metadata, so they are refused outright, and the values are
bounded in size, so that a hostile file is one failed file with a French reason, never a stalled
server or an aborted ingestion.
"""

from __future__ import annotations

from typing import Any

import yaml

from kb.core.errors import DocumentError

MAX_METADATA_BYTES = 64 * 1024
MAX_VALUE_CHARS = 5_000
MAX_ITEMS = 200
MAX_DEPTH = 5


def load_metadata_yaml(text: str, what: str = "front matter YAML") -> dict[str, Any]:
    """A ``dict`` of metadata from YAML text, or ``DocumentError`` saying what is wrong."""
    if len(text.encode("utf-8", errors="replace")) > MAX_METADATA_BYTES:
        raise DocumentError(f"{what} trop volumineux (au plus {MAX_METADATA_BYTES // 1024} Ko)")
    try:
        _check_events(text, what)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (ligne {mark.line + 1})" if mark is not None else ""
        raise DocumentError(f"{what} invalide{where}") from exc
    except RecursionError as exc:
        raise DocumentError(f"{what} invalide : structure trop imbriquée") from exc
    if not isinstance(data, dict):
        raise DocumentError(f"{what} invalide : une liste de « clé: valeur » est attendue")
    _check_bounds(data, what, depth=0)
    return data


def _check_events(text: str, what: str) -> None:
    """Anchors, aliases, nesting and item counts refused from the parser's events, as they
    come: a deeply nested file (``[[[[…``, 20,000 levels in 40 KB) stops at its seventh level
    instead of being parsed whole, which costs PyYAML time in the square of the depth (a minute
    for 20,000), and a list of 30,000 items in 60 KB (7 s to parse and compose) at its 201st."""
    # nodes seen in each open collection, and the most it may hold (a mapping's key and value
    # are two nodes); its length is the depth
    open_collections: list[list[int]] = []
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise DocumentError(f"{what} refusé : les ancres et alias YAML (&nom, *nom) ne sont pas admis")
        if isinstance(event, yaml.NodeEvent) and open_collections:
            counted = open_collections[-1]
            counted[0] += 1
            if counted[0] > counted[1]:
                raise DocumentError(f"{what} refusé : plus de {MAX_ITEMS} éléments dans une valeur")
        if isinstance(event, yaml.CollectionStartEvent):
            items = MAX_ITEMS * 2 if isinstance(event, yaml.MappingStartEvent) else MAX_ITEMS
            open_collections.append([0, items])
            # the document's own mapping is the first level: a value nested deeper than
            # MAX_DEPTH levels is refused by _check_bounds too, with the same words
            if len(open_collections) > MAX_DEPTH + 1:
                raise DocumentError(f"{what} refusé : valeurs imbriquées sur plus de {MAX_DEPTH} niveaux")
        elif isinstance(event, yaml.CollectionEndEvent):
            open_collections.pop()


def _check_bounds(value: Any, what: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise DocumentError(f"{what} refusé : valeurs imbriquées sur plus de {MAX_DEPTH} niveaux")
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        raise DocumentError(f"{what} refusé : une valeur dépasse {MAX_VALUE_CHARS} caractères")
    if isinstance(value, (list, tuple, dict)):
        if len(value) > MAX_ITEMS:
            raise DocumentError(f"{what} refusé : plus de {MAX_ITEMS} éléments dans une valeur")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            _check_bounds(key, what, depth + 1)
            _check_bounds(item, what, depth + 1)
