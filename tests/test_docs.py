"""The docs stay true to the code: generated pages up to date, links and module paths alive."""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _generator()


@pytest.mark.parametrize("name", sorted(generator.PAGES))
def test_generated_page_matches_the_code(name):
    path = DOCS / name
    assert path.exists(), f"docs/{name} is missing: run `make docs`"
    expected = generator.PAGES[name]()
    assert path.read_text(encoding="utf-8") == expected, f"docs/{name} is out of date: run `make docs`"


def test_check_mode_names_a_stale_page(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(generator, "DOCS", tmp_path)
    (tmp_path / "cli.md").write_text("stale\n", encoding="utf-8")
    (tmp_path / "configuration.md").write_text(generator.configuration_page(), encoding="utf-8")
    monkeypatch.setattr(generator, "ROOT", tmp_path.parent)
    assert generator.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "cli.md" in err and "configuration.md" not in err


def test_every_setting_is_documented_and_secrets_show_no_value():
    from pydantic import SecretStr

    from kb.core.settings import Settings

    page = generator.configuration_page()
    rows = {line.split("|")[1].strip(): line for line in page.splitlines() if line.startswith("| `KB_")}
    for name, field in Settings.model_fields.items():
        row = rows.get(f"`KB_{name.upper()}`")
        assert row is not None, f"KB_{name.upper()} is missing from docs/configuration.md"
        if field.annotation is SecretStr or SecretStr in getattr(field.annotation, "__args__", ()):
            assert "not shown" in row
            default = field.get_default()
            if isinstance(default, SecretStr) and default.get_secret_value():
                assert default.get_secret_value() not in row


def test_cli_page_lists_every_command_in_french():
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    for command in ("kb ingest", "kb search", "kb ask", "kb serve", "kb eval retrieval", "kb keys create"):
        assert f"## `{command}`" in page
    assert "Utilisation :" in page and "Usage:" not in page
    assert str(ROOT) not in page  # no path of this machine


# -- links -----------------------------------------------------------------------------------

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def _prose(text: str) -> str:
    return _CODE.sub("", _FENCE.sub("", text))


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    seen: dict[str, int] = {}
    anchors = set()
    for heading in _HEADING.findall(_FENCE.sub("", path.read_text(encoding="utf-8"))):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
        slug = "".join(c for c in text.lower() if c in " -_" or unicodedata.category(c)[0] in "LN").replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _links(path: Path) -> list[str]:
    return _LINK.findall(_prose(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(page):
    broken = []
    for target in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if not resolved.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page.relative_to(ROOT)}: " + ", ".join(broken)


# -- module paths ----------------------------------------------------------------------------

_PACKAGES = ("kb", "ingest", "services", "api", "cli", "evaluation", "tests", "corpus", "docs")
_PATH = re.compile(r"`((?:" + "|".join(_PACKAGES) + r")/[A-Za-z0-9_./-]+)`")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_paths_named_in_the_docs_exist(page):
    """A path of the repository quoted in the docs (`kb/index/lexical.py`) names what is there
    now: the code moves, the docs follow."""
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    missing = sorted(
        {
            found
            for found in _PATH.findall(text)
            if not (ROOT / found.rstrip("/")).exists() and not (ROOT / found.rstrip("/")).with_suffix(".py").exists()
        }
    )
    assert not missing, f"{page.relative_to(ROOT)} names paths that do not exist: {', '.join(missing)}"
