"""Regenerate kb/resources/territoires/decoupage.json.gz from Etalab's découpage administratif.

The source is the npm package ``@etalab/decoupage-administratif`` (data under the Licence
Ouverte / Etalab 2.0, code under MIT). This script is run by hand when a new vintage is
wanted; nothing downloads at run time.

    python scripts/build_territories.py                        # npm pack of the pinned version
    python scripts/build_territories.py --version 6.0.0
    python scripts/build_territories.py --package /tmp/x/etalab-decoupage-administratif-6.0.0.tgz

``--package`` takes the packed tarball or its extracted folder (the one holding data/); without
it the script runs ``npm pack`` in a temporary folder. The output is a compact gzip'd JSON
(format below), written byte-for-byte reproducibly (no timestamp in the gzip header). Review
the printed summary, run tests/kb/core/test_territories.py, update the version in
kb/resources/territoires/README.md and docs/territories.md, and commit.

Format (``format`` 1), every list sorted by code:

- ``source``: package name, version, licence.
- ``regions``: ``[code, name]``.
- ``departements``: ``[code, name, region code]``.
- ``epci``: ``[siren, name, type]`` (type as the data writes it: CC, CA, CU, METRO, MET69).
- ``communes``: current communes only, ``[INSEE code, name, index into epci or -1, population,
  "postcode postcode…"]``; the département is the code's first two characters (three for
  97x and 98x), which the script checks against the data.
- ``former``: names of communes déléguées and associées that differ from their current
  commune's name, ``[name, INSEE code of the current commune]``, for matching old names.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
LICENCE = "Licence Ouverte / Etalab 2.0 (data); MIT (the package's code)"
ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "kb" / "resources" / "territoires" / "decoupage.json.gz"
FILES = ("package.json", "data/regions.json", "data/departements.json", "data/epci.json", "data/communes.json")


def departement_of(code: str) -> str:
    """The département of a commune's INSEE code: 2 characters, 3 overseas (97x, 98x)."""
    return code[:3] if code[:2] in ("97", "98") else code[:2]


def read_package(source: Path) -> dict[str, Any]:
    """The package's JSON files, from its tarball or from its extracted folder."""
    found: dict[str, Any] = {}
    if source.is_dir():
        for name in FILES:
            found[name] = json.loads((source / name).read_text(encoding="utf-8"))
        return found
    with tarfile.open(source) as archive:
        for name in FILES:
            member = archive.extractfile(f"package/{name}")
            if member is None:
                raise SystemExit(f"{source}: no package/{name}")
            found[name] = json.load(member)
    return found


def npm_pack(version: str, folder: Path) -> Path:
    subprocess.run(
        ["npm", "pack", "--loglevel=warn", f"{PACKAGE}@{version}"], cwd=folder, check=True, stdout=subprocess.DEVNULL
    )
    tarballs = sorted(folder.glob("*.tgz"))
    if len(tarballs) != 1:
        raise SystemExit(f"npm pack left {len(tarballs)} tarballs in {folder}")
    return tarballs[0]


def build(files: dict[str, Any], version: str) -> dict[str, Any]:
    package = files["package.json"]
    if package.get("name") != PACKAGE or package.get("version") != version:
        raise SystemExit(f"expected {PACKAGE} {version}, got {package.get('name')} {package.get('version')}")
    regions_data = files["data/regions.json"]
    departements_data = files["data/departements.json"]
    epci_data = files["data/epci.json"]
    communes_data = files["data/communes.json"]

    regions = sorted([r["code"], r["nom"]] for r in regions_data)
    region_codes = {code for code, _ in regions}
    departements = sorted([d["code"], d["nom"], d["region"]] for d in departements_data)
    assert all(region in region_codes for _, _, region in departements)

    current = {c["code"]: c for c in communes_data if c["type"] == "commune-actuelle"}
    epcis = sorted(epci_data, key=lambda e: e["code"])
    epci_index: dict[str, int] = {}
    for index, epci in enumerate(epcis):
        for member in epci["membres"]:
            if member["code"] in epci_index:
                raise SystemExit(f"commune {member['code']} in two EPCI")
            if member["code"] not in current:
                raise SystemExit(f"EPCI {epci['code']} lists {member['code']}, not a current commune")
            epci_index[member["code"]] = index

    departement_codes = {code for code, _, _ in departements}
    communes = []
    for code in sorted(current):
        commune = current[code]
        if departement_of(code) != commune["departement"] or commune["departement"] not in departement_codes:
            raise SystemExit(f"commune {code}: département {commune['departement']} does not follow from its code")
        communes.append(
            [
                code,
                commune["nom"],
                epci_index.get(code, -1),
                commune.get("population", 0),
                " ".join(commune.get("codesPostaux", [])),
            ]
        )

    former = sorted(
        {
            (c["nom"], c["chefLieu"])
            for c in communes_data
            if c["type"] in ("commune-deleguee", "commune-associee")
            and c["chefLieu"] in current
            and c["nom"] != current[c["chefLieu"]]["nom"]
        },
        key=lambda pair: (pair[1], pair[0]),
    )
    return {
        "format": 1,
        "source": {"package": PACKAGE, "version": version, "licence": LICENCE},
        "regions": regions,
        "departements": departements,
        "epci": [[e["code"], e["nom"], e["type"]] for e in epcis],
        "communes": communes,
        "former": [list(pair) for pair in former],
    }


def write(table: dict[str, Any], output: Path) -> int:
    payload = json.dumps(table, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(payload)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(buffer.getvalue())
    return len(payload)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=VERSION, help=f"package version (default {VERSION})")
    parser.add_argument("--package", type=Path, help="the packed .tgz or its extracted folder (default: npm pack)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        source = args.package or npm_pack(args.version, Path(folder))
        table = build(read_package(source), args.version)
    raw = write(table, args.output)
    size = args.output.stat().st_size
    print(
        f"{PACKAGE} {args.version}: {len(table['regions'])} régions, {len(table['departements'])} départements, "
        f"{len(table['epci'])} EPCI, {len(table['communes'])} communes, {len(table['former'])} former names"
    )
    print(f"{args.output}: {size / 1024:.0f} KiB ({raw / 1024:.0f} KiB of JSON)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
