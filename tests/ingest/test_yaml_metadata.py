"""Front matter YAML read defensively: hostile nesting stops at the parser's events."""

from __future__ import annotations

import pytest
import yaml

from ingest import yaml_metadata
from ingest.yaml_metadata import MAX_DEPTH, MAX_ITEMS, load_metadata_yaml
from kb.core.errors import DocumentError

NESTING = "valeurs imbriquées sur plus de 5 niveaux"


def _nested(levels: int, flow: bool = True) -> str:
    if flow:
        return "titre: Bombe\nx: " + "[" * levels + "]" * levels + "\n"
    lines = ["titre: Fiche"]
    for level in range(levels):
        lines.append("  " * level + f"n{level}:")
    lines.append("  " * levels + "fin")
    return "\n".join(lines) + "\n"


@pytest.fixture
def parsing_watched(monkeypatch):
    """Counts the parser's events, and fails if the whole file is composed (``safe_load``)."""
    seen = {"events": 0}
    real_parse = yaml.parse

    def parse(*args, **kwargs):
        for event in real_parse(*args, **kwargs):
            seen["events"] += 1
            yield event

    def compose_refused(*args, **kwargs):
        raise AssertionError("a hostile file must be refused before it is parsed whole")

    monkeypatch.setattr(yaml_metadata.yaml, "parse", parse)
    monkeypatch.setattr(yaml_metadata.yaml, "safe_load", compose_refused)
    return seen


@pytest.mark.parametrize("levels", [20_000, 2_000, MAX_DEPTH + 2])
def test_deep_flow_nesting_is_refused_at_its_seventh_level(parsing_watched, levels):
    text = _nested(levels)  # 20,000 levels: 40 KB, under the 64 KB bound
    with pytest.raises(DocumentError, match=NESTING):
        load_metadata_yaml(text)
    assert parsing_watched["events"] < 20  # it stopped at the seventh level, not at the end


def test_deep_block_nesting_is_refused_the_same_way(parsing_watched):
    with pytest.raises(DocumentError, match=NESTING):
        load_metadata_yaml(_nested(100, flow=False))
    assert parsing_watched["events"] < 30


@pytest.mark.parametrize(
    "text",
    [
        "titre: Bombe\nx: [" + "1," * 30_000 + "]\n",  # 60 KB: 7 s of parsing and composing
        "titre: Bombe\nx: {" + "a: 1, " * 10_000 + "}\n",
        "titre: Bombe\nx:\n" + "- 1\n" * 10_000,
        "".join(f"k{n}: {n}\n" for n in range(5_000)),
    ],
    ids=["liste-en-ligne", "dictionnaire-en-ligne", "liste-en-bloc", "cles-du-document"],
)
def test_too_many_items_are_refused_as_they_are_parsed(parsing_watched, text):
    with pytest.raises(DocumentError, match=f"plus de {MAX_ITEMS} éléments dans une valeur"):
        load_metadata_yaml(text)
    assert parsing_watched["events"] < 2 * MAX_ITEMS + 20  # stopped past the bound, not at the end


def test_the_largest_accepted_lists_are_still_read():
    data = load_metadata_yaml("themes: [" + ", ".join(f"t{n}" for n in range(MAX_ITEMS)) + "]\n")
    assert len(data["themes"]) == MAX_ITEMS
    data = load_metadata_yaml("".join(f"k{n}: {n}\n" for n in range(MAX_ITEMS)))
    assert len(data) == MAX_ITEMS


def test_the_deepest_accepted_values_are_still_read():
    # the document's mapping, then values nested on five levels: the last accepted shape
    data = load_metadata_yaml("titre: Fiche\nextra: {a: {b: {c: {d: ok}}}}\n")
    assert data["extra"] == {"a": {"b": {"c": {"d": "ok"}}}}
    with pytest.raises(DocumentError, match=NESTING):
        load_metadata_yaml("titre: Fiche\nextra: {a: {b: {c: {d: {e: trop}}}}}\n")


def test_a_hostile_file_is_one_failed_file_at_ingestion(tmp_path):
    from kb.core.settings import Settings
    from services import runtime
    from tests.fakes import ToyEmbedder

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "bombe.md").write_text("---\n" + _nested(20_000)[:40_000] + "\n---\n# Bombe\n\nTexte.\n")
    (folder / "saine.md").write_text("---\ntitle: Une fiche saine\n---\n# Une fiche saine\n\nUn texte ordinaire.\n")
    report = runtime.ingest(Settings(data_dir=tmp_path / "data"), [folder], embedder=ToyEmbedder())
    assert report.added == ["saine"]
    assert [reason for _, reason in report.failed] == [f"front matter YAML refusé : {NESTING}"]
