"""`kb export` and `kb import` on the command line: French help and refusals (no model loaded)."""

from __future__ import annotations

from typer.testing import CliRunner

from cli.main import app


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
