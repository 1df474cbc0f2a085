"""The house stays as built: no module imports a package of a higher layer (read with ast)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each package may import only the packages of strictly lower layers (and itself).
LAYERS = {
    "kb": 0,  # the core, in rooms (ROOMS below)
    "ingest": 1,  # getting documents in: readers, chunking, pipeline, coordinator's write path
    "services": 2,  # wiring of components and the use-case facade
    "evaluation": 3,  # quality and speed measurements
    "api": 3,  # HTTP
    "cli": 4,  # the `kb` command
}


# The two benchmarks that measure PostgreSQL itself (they start one and talk to it).
POSTGRES_TOOLS = ("evaluation/bench_postgres.py", "evaluation/pg_lexical.py")

# Rooms of kb/: each may import only the rooms of strictly lower floors (and itself).
ROOMS = {
    "core": 0,  # vocabulary, settings, errors, text
    "records": 1,  # the side stores' domain, no I/O
    "storage": 2,  # protocols, the backend switch, embedded/ and postgres/
    "index": 3,  # the knowledge index: generations, embedders, vector and lexical sides
    "search": 4,  # a query in, ranked documents out
    "answer": 5,  # a cited answer
    "duplicates": 5,  # duplicate warnings
    "rapprochements": 5,  # pairs of documents of the two sectors
}


def imported_modules(path: Path) -> set[str]:
    """Absolute module names imported by a module, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def project_imports(path: Path) -> set[str]:
    """Top-level project packages imported by a module, wherever the import statement is."""
    return {name.split(".")[0] for name in imported_modules(path) if name.split(".")[0] in LAYERS}


def room_violations() -> list[str]:
    problems = []
    for module in sorted((ROOT / "kb").rglob("*.py")):
        parts = module.relative_to(ROOT / "kb").parts
        if len(parts) < 2:
            continue
        room = parts[0]
        for name in imported_modules(module):
            imported = name.split(".")
            if imported[0] != "kb" or len(imported) < 2 or imported[1] not in ROOMS or imported[1] == room:
                continue
            if ROOMS[imported[1]] >= ROOMS[room]:
                problems.append(f"{module.relative_to(ROOT)} imports {name}")
    return sorted(set(problems))


def violations() -> list[str]:
    problems = []
    for package, rank in LAYERS.items():
        for module in sorted((ROOT / package).rglob("*.py")):
            for imported in project_imports(module):
                if imported != package and LAYERS[imported] >= rank:
                    problems.append(f"{module.relative_to(ROOT)} imports {imported}")
    return problems


def test_every_package_is_listed_in_a_layer():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests"}
    assert packages == set(LAYERS)


def test_no_module_imports_a_higher_or_sibling_layer():
    assert violations() == []


def test_every_room_of_kb_is_listed_and_mapped():
    rooms = {p.name for p in (ROOT / "kb").iterdir() if (p / "__init__.py").exists()}
    assert rooms == set(ROOMS)
    assert [p.name for p in (ROOT / "kb").glob("*.py")] == ["__init__.py"], "every module of kb/ lives in a room"
    for room in rooms:
        docstring = ast.get_docstring(ast.parse((ROOT / "kb" / room / "__init__.py").read_text(encoding="utf-8")))
        assert docstring, f"kb/{room}/__init__.py has no map"
        assert len(docstring.splitlines()) <= 15, f"kb/{room}/__init__.py: a map, not a manual"


def test_no_room_of_kb_imports_a_higher_or_sibling_room():
    assert room_violations() == []


def test_the_guard_sees_a_violation(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from api.app import create_app\n    import services.runtime\n")
    assert project_imports(module) == {"api", "services"}


def test_library_types_stay_behind_their_module():
    """numpy stays out of ingest/; the drivers in their storage room (Chroma in
    kb/storage/embedded/chroma.py, psycopg and pgvector under kb/storage/postgres/, and in the
    two PostgreSQL benchmarks that measure the database itself); bm25s in kb/index/lexical.py;
    llama-index in services/llama_adapter.py."""
    postgres_homes = ("kb/storage/postgres/", *POSTGRES_TOOLS)
    allowed = {
        "chromadb": ("kb/storage/embedded/chroma.py",),
        "psycopg": postgres_homes,
        "psycopg_pool": postgres_homes,
        "pgvector": postgres_homes,
        "bm25s": ("kb/index/lexical.py",),
        "llama_index": ("services/llama_adapter.py",),
    }
    for module in sorted(ROOT.glob("*/**/*.py")):
        relative = module.relative_to(ROOT).as_posix()
        if relative.split("/")[0] not in LAYERS:
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {
            (alias.name if isinstance(node, ast.Import) else node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in (node.names if isinstance(node, ast.Import) else [None])
        }
        if relative.startswith("ingest/"):
            assert "numpy" not in imported, relative
        for library, homes in allowed.items():
            if library in imported:
                assert relative.startswith(homes), f"{relative} imports {library}"


# Settings that choose the storage backend: read in kb/storage/backend.py only (and defined in
# kb/core/settings.py); everything else receives the backend it opened.
BACKEND_SETTINGS = {"database", "database_url", "chroma_url"}
BACKEND_HOME = "kb/storage/backend.py"


def backend_setting_reads() -> list[str]:
    """Where an attribute named like a backend setting is read outside kb/storage/ (whose
    modules keep their own ``database`` handle), and where kb/storage/ reads one of a
    ``settings`` object outside the backend switch."""
    found = []
    for module in sorted(ROOT.glob("*/**/*.py")):
        relative = module.relative_to(ROOT).as_posix()
        if relative.split("/")[0] not in LAYERS or relative in (BACKEND_HOME, "kb/core/settings.py", *POSTGRES_TOOLS):
            continue
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute) or node.attr not in BACKEND_SETTINGS:
                continue
            owner = node.value.id if isinstance(node.value, ast.Name) else getattr(node.value, "attr", "")
            if not relative.startswith("kb/storage/") or "settings" in owner:
                found.append(f"{relative}:{node.lineno} reads {owner}.{node.attr}")
    return found


def test_the_backend_is_chosen_in_one_place():
    assert backend_setting_reads() == []


def test_the_backend_guard_sees_a_read(tmp_path, monkeypatch):
    package = tmp_path / "services"
    package.mkdir()
    (package / "bad.py").write_text("def f(settings):\n    return settings.database or settings.chroma_url\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert backend_setting_reads() == [
        "services/bad.py:2 reads settings.database",
        "services/bad.py:2 reads settings.chroma_url",
    ]
