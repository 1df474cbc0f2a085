"""`kb keys` with roles: contributeur or coordination (the default)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app


def test_keys_are_created_with_a_role_and_listed_with_it(tmp_path):
    runner = CliRunner()
    env = {"KB_DATA_DIR": str(tmp_path / "data")}
    created = runner.invoke(app, ["keys", "create", "Aline", "--role", "contributeur"], env=env)
    assert created.exit_code == 0, created.output
    assert runner.invoke(app, ["keys", "create", "Marie"], env=env).exit_code == 0
    stored = {row["name"]: row["role"] for row in json.loads((tmp_path / "data" / "keys.json").read_text())}
    assert stored == {"Aline": "contributeur", "Marie": "coordination"}
    listing = runner.invoke(app, ["keys", "list"], env=env).output
    assert "rôle" in listing and "contributeur" in listing and "coordination" in listing
    refused = runner.invoke(app, ["keys", "create", "Paul", "--role", "éditeur"], env=env)
    assert refused.exit_code == 1 and "Rôle inconnu" in refused.output
    assert "contributeur" in runner.invoke(app, ["keys", "create", "--help"], env=env).output


def test_with_a_database_keys_are_created_there_and_no_key_file_is_written(tmp_path, postgres_url):
    from kb.core.settings import Settings
    from kb.storage.backend import open_backend

    runner = CliRunner()
    env = {"KB_DATA_DIR": str(tmp_path / "data"), "KB_DATABASE_URL": postgres_url}
    created = runner.invoke(app, ["keys", "create", "Aline", "--role", "contributeur"], env=env)
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert runner.invoke(app, ["keys", "revoke", "Personne"], env=env).exit_code == 1
    assert "contributeur" in runner.invoke(app, ["keys", "list"], env=env).output
    assert not (tmp_path / "data" / "keys.json").exists()
    store = open_backend(Settings(data_dir=tmp_path / "data", database_url=postgres_url)).key_store()
    try:
        assert store.verify(key).name == "Aline"
    finally:
        store.close()
