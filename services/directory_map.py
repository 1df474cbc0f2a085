"""The annuaire's map: France's départements coloured by how many structures each holds, with
a pattern for their sectors, each a link to the annuaire filtered to it; and the table that is
its accessible alternative. ``services/site.py`` calls :func:`directory_map`; the template
``api/site/templates/_carte.html`` draws what it returns (no script, styled by classes).

The map zooms to the départements that hold structures (all of France stays visible in a small
locator map beside it), so that a network of one région reads at 360 px.
"""

from __future__ import annotations

import math
from collections import Counter
from urllib.parse import urlencode

from kb.core.department_map import Box, department_map
from kb.core.models import DocumentMetadata
from kb.core.territories import resolve, territory_name
from kb.core.text import collation_key
from kb.core.vocabulary import LOCAL_DEVELOPMENT, SECTORS, SOCIAL_ACTION

LEVELS = 4  # fill steps, from light to dark
UNKNOWN_SECTOR = "secteur non précisé"
MIXES = {
    "social": f"{SOCIAL_ACTION} seulement",
    "local": f"{LOCAL_DEVELOPMENT} seulement",
    "mixte": "les deux secteurs",
}
MIN_SPAN = 90.0  # map units (France is 613 wide): a zoom never narrower than about 3 départements
LOCATOR_BELOW = 0.5  # the locator map is shown when the zoom covers less than this share of France


def directory_map(structures: list[DocumentMetadata], selected: str | None = None, theme: str = "") -> dict:
    """What the map and its table show for these structures (the annuaire's entries, the theme
    filter applied); ``selected``: the département code the annuaire is filtered to."""
    counts: dict[str, Counter[str]] = {}
    elsewhere = 0  # structures of a région as a whole, or of no known département
    for meta in structures:
        codes = [code for code in resolve(meta.territory).territory_codes if code.startswith("departement:")]
        for code in codes:
            counts.setdefault(code.partition(":")[2], Counter())[meta.sector or UNKNOWN_SECTOR] += 1
        elsewhere += not codes
    sectors = [*SECTORS, *([UNKNOWN_SECTOR] if any(c[UNKNOWN_SECTOR] for c in counts.values()) else [])]
    highest = max((sum(c.values()) for c in counts.values()), default=0)
    geography = department_map()
    full = geography.view_box
    present = [geography.shapes[code].box for code in counts if code in geography.shapes]
    zoom = _zoom(present, full)
    span = zoom[2]
    shapes = []
    for code, shape in sorted(geography.shapes.items()):
        if not _overlaps(shape.box, zoom):
            continue
        mine = counts.get(code, Counter())
        total = sum(mine.values())
        name = territory_name(f"departement:{code}") or code
        x, y = shape.centre
        shapes.append(
            {
                "code": code,
                "name": name,
                "d": shape.d,
                "total": total,
                "level": _level(total, highest),
                "mix": _mix(mine),
                "link": _link(code, theme) if total else None,
                "label": f"{name} : {_structures(total)}{_detail(mine, sectors)}",
                "x": round(x, 1),
                "y": round(y, 1),
                "selected": code == selected,
            }
        )
    rows = [
        {
            "code": code,
            "name": territory_name(f"departement:{code}") or code,
            "link": _link(code, theme),
            "counts": [mine.get(sector, 0) for sector in sectors],
            "total": sum(mine.values()),
            "drawn": code in geography.shapes,
            "selected": code == selected,
        }
        for code, mine in counts.items()
    ]
    small = span * zoom[3] < LOCATOR_BELOW * full[2] * full[3]
    return {
        "view_box": " ".join(_n(v) for v in zoom),
        "font": round(span / 28, 1),
        "pattern": round(span / 70, 2),
        "stroke": round(span / 400, 2),
        "shapes": shapes,
        "locator": {
            "view_box": " ".join(_n(v) for v in full),
            "outlines": [shape.outline for _, shape in sorted(geography.shapes.items())],
            "frame": [_n(v) for v in zoom],
            "stroke": round(full[2] / 120, 2),
        }
        if small
        else None,
        "legend": _legend(highest),
        "mixes": list(MIXES.items()),
        "sectors": sectors,
        "rows": sorted(rows, key=lambda row: collation_key(row["name"])),
        "elsewhere": elsewhere,
        "attribution": geography.attribution(),
        "source_url": geography.source["url"],
    }


def _zoom(boxes: list[Box], full: Box) -> Box:
    """The view box (x, y, width, height) around ``boxes``, padded, at least :data:`MIN_SPAN`
    wide and high, inside the whole map; the whole map without boxes."""
    if not boxes:
        return full
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    pad = 0.08 * max(x1 - x0, y1 - y0)
    width, height = max(x1 - x0 + 2 * pad, MIN_SPAN), max(y1 - y0 + 2 * pad, MIN_SPAN)
    width, height = min(width, full[2]), min(height, full[3])
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x = min(max(cx - width / 2, full[0]), full[0] + full[2] - width)
    y = min(max(cy - height / 2, full[1]), full[1] + full[3] - height)
    return (round(x, 1), round(y, 1), round(width, 1), round(height, 1))


def _overlaps(box: Box, view: Box) -> bool:
    return box[0] < view[0] + view[2] and box[2] > view[0] and box[1] < view[1] + view[3] and box[3] > view[1]


def _level(total: int, highest: int) -> int:
    return math.ceil(LEVELS * total / highest) if total and highest else 0


def _legend(highest: int) -> list[tuple[int, str]]:
    """Each fill step with the counts it stands for ("2 à 3 structures"), empty steps skipped."""
    ranges: dict[int, list[int]] = {}
    for n in range(1, highest + 1):
        ranges.setdefault(_level(n, highest), []).append(n)
    steps = [(0, "aucune structure")]
    for level, values in sorted(ranges.items()):
        low, high = values[0], values[-1]
        steps.append((level, _structures(low) if low == high else f"{low} à {high} structures"))
    return steps


def _mix(counts: Counter[str]) -> str | None:
    social, local = counts.get(SOCIAL_ACTION, 0), counts.get(LOCAL_DEVELOPMENT, 0)
    if social and local:
        return "mixte"
    return "social" if social else "local" if local else None


def _structures(n: int) -> str:
    return "aucune structure" if not n else f"{n} structure{'s' if n > 1 else ''}"


def _detail(counts: Counter[str], sectors: list[str]) -> str:
    parts = [f"{counts[sector]} {sector}" for sector in sectors if counts.get(sector)]
    return f" ({', '.join(parts)})" if parts else ""


def _link(code: str, theme: str) -> str:
    return "/annuaire?" + urlencode({"departement": code, **({"theme": theme} if theme else {})})


def _n(value: float) -> str:
    return f"{value:g}"
