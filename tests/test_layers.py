"""The house stays as built: no module imports a package of a higher layer (read with ast)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each package may import only the packages of strictly lower layers (and itself).
LAYERS = {
    "kb": 0,  # the core: vocabulary, settings, errors, stores, retrieval, answers
    "ingest": 1,  # getting documents in: readers, chunking, pipeline, coordinator's write path
    "services": 2,  # wiring of components and the use-case facade
    "evaluation": 3,  # quality and speed measurements
    "api": 3,  # HTTP
    "cli": 4,  # the `kb` command
}


def project_imports(path: Path) -> set[str]:
    """Top-level project packages imported by a module, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names if name.split(".")[0] in LAYERS)
    return found


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


def test_the_guard_sees_a_violation(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from api.app import create_app\n    import services.runtime\n")
    assert project_imports(module) == {"api", "services"}


def test_library_types_stay_behind_their_module():
    """numpy stays out of ingest/, the raw Chroma client in kb/vectors.py, bm25s in kb/lexical.py,
    llama-index in services/llama_adapter.py."""
    allowed = {
        "chromadb": {"kb/vectors.py"},
        "bm25s": {"kb/lexical.py"},
        "llama_index": {"services/llama_adapter.py"},
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
                assert relative in homes, f"{relative} imports {library}"
