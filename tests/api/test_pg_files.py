"""The coordinator's writes on PostgreSQL (``KB_DATABASE_URL``): every original is kept in the
database, never on the server's disk, and the file and the index change together."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
import yaml
from fastapi.testclient import TestClient

from kb.core.models import StoredFile
from kb.core.settings import Settings
from kb.records.keys import CONTRIBUTOR
from kb.storage.backend import open_backend
from kb.storage.postgres.database import open_database
from kb.storage.postgres.files import PgFiles
from services.runtime import ingest, reindex, remove
from tests.api.test_coordination import FICHE, UPLOAD_FIELDS
from tests.apps import app_over

FIXTURES = Path(__file__).parents[1] / "fixtures"
MINI = FIXTURES / "mini-corpus"
FICHE_ID = "un-atelier-velo-solidaire-dans-un-bourg-rural"
# the toy embedder finds every text alike: writes say why they are distinct
DISTINCT = {"duplicate_reason": "fiches de test"}


@pytest.fixture
def base(tmp_path, postgres_url, toy_embedder):
    yield from _base(tmp_path, postgres_url, toy_embedder)


@pytest.fixture
def quick_base(tmp_path, postgres_url, toy_embedder):
    """The same base, whose requests give up on a database that is down after 2 s instead of 10
    (the pool's timeout, set as in tests/api/test_shared_base.py)."""
    yield from _base(tmp_path, postgres_url, toy_embedder, database_timeout_s=1, backend_retry_s=0.01)


def _base(tmp_path, postgres_url, toy_embedder, **options):
    settings = Settings(data_dir=tmp_path / "data", max_upload_mb=1, database_url=postgres_url, **options)
    corpus = tmp_path / "corpus"
    shutil.copytree(MINI, corpus)
    app = app_over(settings, toy_embedder, ingest=[corpus])
    keys = open_backend(settings).key_store()
    auth = {
        name: {"Authorization": f"Bearer {keys.create(name, role)}"}
        for name, role in (("coordinatrice", "coordination"), ("Aline", CONTRIBUTOR))
    }
    keys.close()
    with TestClient(app) as client:
        yield client, auth, settings, corpus


def rows(settings: Settings) -> dict[str, tuple]:
    """doc_id → (name, source path, bytes, sidecar) of every kept file."""
    with psycopg.connect(settings.database) as conn:
        found = conn.execute("SELECT doc_id, name, source_path, data, sidecar FROM kb_files").fetchall()
    return {row[0]: (row[1], row[2], bytes(row[3]), bytes(row[4])) for row in found}


def no_local_documents(settings: Settings) -> bool:
    return not (settings.data_dir / "documents").exists() and not (settings.data_dir / "stash").exists()


def test_ingested_files_are_kept_in_the_database(base):
    client, _, settings, corpus = base
    kept = rows(settings)
    documents = {d["doc_id"] for d in client.get("/documents", params={"limit": 100}).json()["documents"]}
    assert set(kept) == documents and documents
    name, source, data, _ = kept["exp-epicerie-village"]
    assert (corpus / name).read_bytes() == data
    assert source == str((corpus / name).resolve())


def test_fiche_upload_replace_and_delete_keep_the_file_in_the_database(base):
    client, auth, settings, _ = base
    coordination = auth["coordinatrice"]
    assert client.post("/documents", params=DISTINCT, json=FICHE, headers=coordination).status_code == 201
    name, source, data, sidecar = rows(settings)[FICHE_ID]
    assert name == f"{FICHE_ID}.md" and source == f"documents/{FICHE_ID}.md" and sidecar == b""
    assert b"Biclou Rural" in data
    assert client.get(f"/documents/{FICHE_ID}").json()["source"] == f"{FICHE_ID}.md"
    download = client.get(f"/documents/{FICHE_ID}/file", headers=coordination)
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-disposition"] == f'attachment; filename="{FICHE_ID}.md"'

    pdf = (FIXTURES / "docs" / "deux-pages.pdf").read_bytes()
    fields = {**UPLOAD_FIELDS, "id": FICHE_ID}
    replaced = client.put(
        f"/documents/{FICHE_ID}", params=DISTINCT, files={"file": ("x.pdf", pdf)}, data=fields, headers=coordination
    )
    assert replaced.status_code == 200, replaced.json()
    name, _, data, sidecar = rows(settings)[FICHE_ID]
    assert name == f"{FICHE_ID}.pdf" and data == pdf and yaml.safe_load(sidecar)["id"] == FICHE_ID
    assert client.get(f"/fiches/{FICHE_ID}/original").content == pdf
    assert f'href="/fiches/{FICHE_ID}/original"' in client.get(f"/fiches/{FICHE_ID}").text
    assert client.get(f"/documents/{FICHE_ID}/file", headers=coordination).content == pdf

    assert client.delete(f"/documents/{FICHE_ID}", headers=coordination).status_code == 200
    assert FICHE_ID not in rows(settings)
    assert client.get(f"/documents/{FICHE_ID}/file", headers=coordination).status_code == 404
    assert no_local_documents(settings)


def test_metadata_edit_reads_and_rewrites_the_file_in_the_database(base):
    client, auth, settings, _ = base
    coordination = auth["coordinatrice"]
    before = rows(settings)["exp-epicerie-village"]
    edited = client.patch(
        "/documents/exp-epicerie-village", json={"title": "Une épicerie rouverte"}, headers=coordination
    )
    assert edited.status_code == 200, edited.json()
    assert client.get("/documents/exp-epicerie-village").json()["title"] == "Une épicerie rouverte"
    name, source, data, _ = rows(settings)["exp-epicerie-village"]
    assert name == "exp-epicerie-village.md" and source == "documents/exp-epicerie-village.md"
    assert b"Une \xc3\xa9picerie rouverte" in data and data != before[2]
    assert no_local_documents(settings)


def test_a_folder_ingested_again_does_not_undo_an_edit(base, toy_embedder):
    client, auth, settings, corpus = base
    client.patch(
        "/documents/exp-epicerie-village", json={"title": "Une épicerie rouverte"}, headers=auth["coordinatrice"]
    )
    again = ingest(settings, [corpus], embedder=toy_embedder)
    assert [reason for _, reason in again.failed] == [
        "identifiant « exp-epicerie-village » déjà utilisé par documents/exp-epicerie-village.md"
    ]
    assert client.get("/documents/exp-epicerie-village").json()["title"] == "Une épicerie rouverte"


def test_a_published_proposal_keeps_its_file_in_the_database(base):
    client, auth, settings, _ = base
    proposed = {**FICHE, "id": "atelier-propose"}
    assert client.post("/documents", json=proposed, headers=auth["Aline"]).status_code == 202
    assert "atelier-propose" not in rows(settings)
    published = client.post("/documents/atelier-propose/publish", params=DISTINCT, headers=auth["coordinatrice"])
    assert published.status_code == 200, published.json()
    assert rows(settings)["atelier-propose"][0] == "atelier-propose.md"


def test_ingesting_twice_adds_nothing(base, toy_embedder):
    _, _, settings, corpus = base
    before = rows(settings)
    again = ingest(settings, [corpus], embedder=toy_embedder)
    assert again.ok and not again.added and not again.updated and not again.removed and again.unchanged
    assert rows(settings) == before


def test_kb_remove_takes_the_kept_file_with_it(base, toy_embedder):
    _, _, settings, _ = base
    remove(settings, "exp-epicerie-village", embedder=toy_embedder)
    assert "exp-epicerie-village" not in rows(settings) and "exp-transport-solidaire" in rows(settings)


def test_reindex_rebuilds_from_the_database_alone(base, toy_embedder):
    client, auth, settings, corpus = base
    assert client.post("/documents", params=DISTINCT, json=FICHE, headers=auth["coordinatrice"]).status_code == 201
    before = {d["doc_id"]: d["title"] for d in client.get("/documents", params={"limit": 100}).json()["documents"]}
    generation = client.get("/stats").json()["generation"]
    shutil.rmtree(corpus)  # nothing left on disk: the sources are the kept files
    report = reindex(settings, toy_embedder)
    assert report.ok and set(report.added) == set(before) and not report.removed
    client.close()
    app = app_over(settings, toy_embedder)
    with TestClient(app) as fresh:
        assert fresh.get("/stats").json()["generation"] != generation
        after = {d["doc_id"]: d["title"] for d in fresh.get("/documents", params={"limit": 100}).json()["documents"]}
        assert after == before
        assert FICHE_ID in [
            r["doc_id"] for r in fresh.get("/search", params={"q": "atelier vélo bourg"}).json()["results"]
        ]


def test_start_up_indexes_a_kept_file_the_index_lacks(base, toy_embedder):
    """The safety net of reconcile(): a kept file whose version the index does not hold."""
    client, _, settings, _ = base
    client.close()
    note = b"# Note de passage\n\nUne note sur la zorglubine des bourgs ruraux.\n"
    kept = StoredFile("note-de-passage", "note-de-passage.md", "documents/note-de-passage.md", note, b"", "v-absente")
    database = open_database(settings.database)
    try:
        with database.transaction() as conn:
            PgFiles(database).put_in(kept)(conn)
    finally:
        database.close()
    with TestClient(app_over(settings, toy_embedder)) as fresh:
        detail = fresh.get("/documents/note-de-passage")
        assert detail.status_code == 200 and "zorglubine" in detail.json()["text"]
    assert rows(settings)["note-de-passage"][2] == note


def _wait_until_healthy(client: TestClient) -> None:
    for _ in range(240):
        if client.get("/health").json().get("status") == "ok":
            return
        time.sleep(0.25)
    raise AssertionError("the base did not come back")


def _database_down(maintenance: str, settings: Settings, down: bool) -> None:
    """This base refuses every connection (as a stopped server would), or accepts them again."""
    name = urlparse(settings.database).path.lstrip("/")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if down else "true"}')
        if down:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def test_a_write_while_the_database_is_down_is_a_french_503_and_changes_nothing(quick_base, postgres_server):
    client, auth, settings, _ = quick_base
    coordination = auth["coordinatrice"]
    assert client.post("/documents", params=DISTINCT, json=FICHE, headers=coordination).status_code == 201
    before_rows = rows(settings)
    before = client.get(f"/documents/{FICHE_ID}").json()
    changed = {**FICHE, "summary": FICHE["summary"] + " Une trottinette est aussi prêtée aux apprentis."}
    _database_down(postgres_server, settings, True)
    try:
        refused = client.put(f"/documents/{FICHE_ID}", params=DISTINCT, json=changed, headers=coordination)
        deleted = client.delete(f"/documents/{FICHE_ID}", headers=coordination)
    finally:
        _database_down(postgres_server, settings, False)
    for response in (refused, deleted):
        assert response.status_code == 503
        assert "la base PostgreSQL" in response.json()["detail"] and "ne répond pas" in response.json()["detail"]
    assert rows(settings) == before_rows
    _wait_until_healthy(client)  # the pool reconnects with a back-off of its own
    assert client.get(f"/documents/{FICHE_ID}").json()["text"] == before["text"]
    assert client.get(f"/documents/{FICHE_ID}/file", headers=coordination).content == before_rows[FICHE_ID][2]
    assert no_local_documents(settings)
