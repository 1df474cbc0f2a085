"""The command line and PostgreSQL: a database that does not answer is one French line and a
non-zero exit; several server processes need the database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app

UNREACHABLE = "postgresql://passerelles:s3cret@127.0.0.1:9/passerelles"


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()

    def invoke(*args, **env):
        return runner.invoke(app, list(args), env={"KB_DATA_DIR": str(tmp_path / "data"), **env})

    return invoke


@pytest.mark.parametrize("command", [["status"], ["ingest", "."], ["search", "atelier vélo"]])
def test_an_unreachable_database_is_one_french_line(run, command):
    result = run(*command, KB_DATABASE_URL=UNREACHABLE, KB_DATABASE_TIMEOUT_S="1")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Erreur : la base PostgreSQL (postgresql://127.0.0.1:9/passerelles) ne répond pas")
    assert "s3cret" not in result.output


def test_several_workers_are_refused_on_the_embedded_base(run):
    result = run("serve", "--workers", "2")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Erreur : 2 processus demandés, mais la base embarquée (SQLite et Chroma dans KB_DATA_DIR) ne se "
        "partage pas entre processus : lancez un seul processus, ou configurez KB_DATABASE_URL (PostgreSQL)."
    ]


def test_status_reads_a_read_only_database_and_ingest_says_why_it_cannot_write(run, postgres_url, fixtures_dir):
    from tests.api.test_shared_base import _Admin

    assert run("ingest", str(fixtures_dir / "fiche.md"), KB_DATABASE_URL=postgres_url).exit_code == 0
    admin = _Admin(postgres_url)
    admin.read_only(True)
    try:
        status = run("status", "--json", KB_DATABASE_URL=postgres_url)
        assert status.exit_code == 0, status.output
        assert json.loads(status.output)["documents"] == 1
        refused = run("ingest", str(fixtures_dir / "page.html"), KB_DATABASE_URL=postgres_url)
        assert refused.exit_code == 1
        assert refused.output.strip().splitlines() == [
            "Erreur : la base PostgreSQL est en lecture seule : les écritures sont impossibles."
        ]
    finally:
        admin.read_only(False)
