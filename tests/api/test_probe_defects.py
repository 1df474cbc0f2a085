"""Defects found by the probe (issue 31), each reproduced by a test before its fix.

1. No body limit outside /documents: a 400 MB body to POST /ask was read whole.
2. A long upload file name made a 300-character id and a 500 ("File name too long").
3. A partner site added on a read-only data directory: a 500 with a traceback.
4. A full disk: a 500 on POST and PUT /documents, and /health still said writing was fine.
5. Downloads lost their ``Content-Security-Policy: sandbox``; a ``source_url`` with ``<`` was
   refused for the wrong reason.

Real app over a copy of the toy mini index; the disk's faults are simulated in the process
(``tests/faulty_disk.py``).
"""

from __future__ import annotations

import errno
import json
import os
import re
import select
import socket
import sqlite3

import pytest
from fastapi.testclient import TestClient

from kb.core.errors import InsufficientStorage, StorageReadOnly
from kb.core.settings import Settings
from kb.core.vocabulary import DOC_ID_MAX_BYTES, DOC_ID_PATTERN, derived_doc_id
from kb.records.keys import CONTRIBUTOR
from kb.storage.embedded.audit import AuditLog
from kb.storage.embedded.keys import KeyStore
from tests import faulty_disk
from tests.api.test_coordination import FICHE
from tests.apps import app_over
from tests.fakes import ToyEmbedder
from tests.servers import serve_in_thread

GOOD = "---\ntitle: Une fiche saine\ndoc_type: fiche méthode\n---\n# Une fiche saine\n\nUn texte ordinaire sur le diagnostic.\n"
FIELDS = {"doc_type": "fiche méthode", "sector": "transversal", "themes": "diagnostic", "territory": "Drôme"}
PARTNER = "https://mairie-val-fleuri.fr"


@pytest.fixture
def api(tmp_path, toy_mini_index):
    settings = Settings(data_dir=tmp_path / "data")
    keys = KeyStore(settings.data_dir / "keys.json")
    auth = {"Authorization": f"Bearer {keys.create('coordinatrice')}"}
    contributor = {"Authorization": f"Bearer {keys.create('Aline', CONTRIBUTOR)}"}
    with TestClient(app_over(settings, ToyEmbedder(), index=toy_mini_index)) as client:
        yield client, auth, contributor, settings


# -- 1. every route's body is bounded --------------------------------------------------------


def _exchange(base: str, head: bytes, pieces: int = 0, piece: bytes = b"", wait: float = 10) -> tuple[bytes, int]:
    """Send ``head``, then up to ``pieces`` chunks of ``piece`` (chunked encoding) until the
    server answers; the answer (or b"" after ``wait`` seconds) and the bytes of body sent."""
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1]))) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        sock.sendall(head)
        for _ in range(pieces):
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            except OSError:
                break
            sent += len(piece)
        if select.select([sock], [], [], wait)[0]:
            answer = sock.recv(65536)
    return answer, sent


def _json_of(answer: bytes) -> dict:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1].decode())


def test_a_huge_declared_body_is_refused_before_it_is_read(tmp_path, toy_mini_index):
    """400 MB announced to POST /ask (no key): the 413 comes at once, not one byte of body read."""
    app = app_over(Settings(data_dir=tmp_path / "data"), ToyEmbedder(), index=toy_mini_index)
    head = (
        b"POST /ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {400 * 1024 * 1024}\r\n\r\n".encode()
    )
    with serve_in_thread(app) as base:
        answer, _ = _exchange(base, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    body = _json_of(answer)
    assert body["problems"] == [] and "Requête trop volumineuse" in body["detail"] and "64 Ko" in body["detail"]


def test_a_chunked_body_without_length_is_cut_at_the_bound(tmp_path, toy_mini_index):
    app = app_over(Settings(data_dir=tmp_path / "data"), ToyEmbedder(), index=toy_mini_index)
    head = b"POST /ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    with serve_in_thread(app) as base:
        answer, sent = _exchange(base, head + b"1\r\n{\r\n", pieces=500, piece=b" " * 100_000)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert "volumineuse" in _json_of(answer)["detail"]
    assert sent < 8_000_000  # the bound is 64 KB; the rest sat in the kernel's socket buffers


def test_every_body_outside_uploads_is_bounded_and_the_largest_legitimate_ones_pass(api):
    client, auth, _, _ = api
    big = {"question": "é" * 70_000}
    for method, path in (
        ("POST", "/ask"),
        ("POST", "/ask/stream"),
        ("POST", "/feedback"),
        ("POST", "/coordination/partners"),
        ("PATCH", "/documents/atelier"),
        ("POST", "/documents/atelier/publish"),
        ("POST", "/avis"),
    ):
        refused = client.request(method, path, json=big, headers=auth)
        assert refused.status_code == 413, (path, refused.text)
        assert refused.json() == {
            "detail": "Requête trop volumineuse (plus de 64 Ko) : raccourcissez-la.",
            "problems": [],
        }
    # the largest legitimate bodies: a metadata edit with every bounded field at its bound and
    # generous free text, a feedback and a question at theirs, every character escaped
    # (\u00e9: 6 bytes for 1, the worst case; the coordination page sends 2 bytes for 1)
    accents = "é" * 1000
    created = client.post("/documents", json={**FICHE, "id": "atelier-borne"}, headers=auth)
    assert created.status_code == 201, created.json()
    edit = {
        "title": "é" * 200,
        "summary": "é" * 3000,
        "themes": [f"thème {n} " + "é" * 50 for n in range(10)],
        "territory": "é" * 500,
        "porteur": "é" * 500,
        "partners": ["é" * 200] * 10,
    }
    body = json.dumps(edit).encode()
    assert len(body) < 48 * 1024 and len(json.dumps(edit, ensure_ascii=False).encode()) < 16 * 1024
    json_type = {"Content-Type": "application/json"}
    edited = client.patch("/documents/atelier-borne", content=body, headers={**auth, **json_type})
    assert edited.status_code == 200, edited.json()
    feedback = {"question": accents, "useful": False, "comment": accents, "doc_ids": ["e" * 200] * 10}
    assert client.post("/feedback", content=json.dumps(feedback), headers=json_type).status_code == 201
    assert client.post("/ask", content=json.dumps({"question": accents}), headers=json_type).status_code == 200
    partner = json.dumps({"origin": PARTNER, "name": "é" * 200})
    assert client.post("/coordination/partners", content=partner, headers={**auth, **json_type}).status_code == 201


def test_uploads_keep_their_own_bound_and_the_small_one_is_a_setting(tmp_path, toy_mini_index):
    settings = Settings(data_dir=tmp_path / "data", max_body_kb=1, max_upload_mb=1)
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(app_over(settings, ToyEmbedder(), index=toy_mini_index)) as client:
        refused = client.post("/ask", json={"question": "x" * 2000})
        assert refused.status_code == 413 and "plus de 1 Ko" in refused.json()["detail"]
        text = GOOD + "Une phrase de plus sur le diagnostic partagé du territoire.\n" * 3000  # 180 KB
        uploaded = client.post("/documents", files={"file": ("gros.md", text.encode())}, data=FIELDS, headers=auth)
        assert uploaded.status_code == 201, uploaded.json()
        too_big = client.post(
            "/documents", files={"file": ("enorme.md", (text * 10).encode())}, data=FIELDS, headers=auth
        )
        assert too_big.status_code == 413 and "trop volumineu" in too_big.json()["detail"]


# -- 2. ids and stored names are bounded in bytes --------------------------------------------


def test_a_long_upload_file_name_makes_a_shortened_valid_id(api):
    client, auth, _, settings = api
    response = client.post("/documents", files={"file": ("é" * 300 + ".md", GOOD.encode())}, data=FIELDS, headers=auth)
    assert response.status_code == 201, response.json()
    doc_id = response.json()["doc_id"]
    assert len(doc_id.encode()) <= DOC_ID_MAX_BYTES and re.fullmatch(DOC_ID_PATTERN, doc_id)
    assert client.get(f"/documents/{doc_id}").status_code == 200
    assert client.get(f"/documents/{doc_id}/file", headers=auth).content == GOOD.encode()
    stored = [p.name for p in (settings.data_dir / "documents").iterdir()]
    assert all(len(name.encode()) <= 255 for name in stored) and f"{doc_id}.md" in stored


def test_a_long_title_makes_a_shortened_id_cut_between_words(api):
    client, auth, _, _ = api
    response = client.post("/documents", json={**FICHE, "title": "Œuvre " * 33}, headers=auth)
    assert response.status_code == 201, response.json()
    doc_id = response.json()["doc_id"]
    assert len(doc_id) <= DOC_ID_MAX_BYTES and re.fullmatch(r"(oeuvre-)*oeuvre", doc_id)


def test_an_explicit_id_too_long_is_refused_in_french(api):
    client, auth, _, settings = api
    text = GOOD.replace("title:", f"id: {'a' * 300}\ntitle:")
    response = client.post("/documents", files={"file": ("long.md", text.encode())}, data=FIELDS, headers=auth)
    assert response.status_code == 422, response.json()
    assert response.json()["detail"] == (
        "Document refusé : identifiant trop long (300 caractères, 200 au plus) : raccourcissez le champ « id »."
    )
    assert not (settings.data_dir / "documents").exists() or not list((settings.data_dir / "documents").iterdir())


def test_derived_ids_are_cut_at_a_hyphen_when_one_is_near():
    assert derived_doc_id("Épicerie solidaire") == "epicerie-solidaire"
    assert derived_doc_id("é" * 300) == "e" * DOC_ID_MAX_BYTES
    cut = derived_doc_id("mot " * 100)
    assert cut.endswith("mot") and len(cut) <= DOC_ID_MAX_BYTES and len(cut) > DOC_ID_MAX_BYTES - 10
    assert derived_doc_id("") == "document"


# -- 3. read-only data directory: French 503 on every write path ------------------------------


def test_a_partner_added_on_a_read_only_data_directory_is_a_french_503(api, monkeypatch):
    client, auth, _, settings = api
    assert (
        client.post("/coordination/partners", json={"origin": PARTNER, "name": "Mairie"}, headers=auth).status_code
        == 201
    )
    faulty_disk.simulate(monkeypatch, settings.data_dir, "read_only")
    added = client.post("/coordination/partners", json={"origin": "https://autre.fr", "name": "Autre"}, headers=auth)
    assert added.status_code == 503, added.text
    assert "lecture seule" in added.json()["detail"] and added.json()["detail"].startswith("Service")
    removed = client.delete("/coordination/partners", params={"origin": PARTNER}, headers=auth)
    assert removed.status_code == 503 and "lecture seule" in removed.json()["detail"]
    listing = client.get("/coordination/partners", headers=auth).json()["partners"]
    assert [p["origin"] for p in listing] == [PARTNER]


def test_every_write_path_on_a_read_only_data_directory_is_a_french_503(api, monkeypatch):
    client, auth, contributor, settings = api
    faulty_disk.simulate(monkeypatch, settings.data_dir, "read_only")
    for response in (
        client.post("/documents", json={**FICHE, "id": "lecture-seule"}, headers=auth),
        client.post("/documents", json={**FICHE, "id": "lecture-seule"}, headers=contributor),  # a proposal
        client.post("/feedback", json={"question": "épicerie", "useful": True}),
    ):
        assert response.status_code == 503, response.text
        assert "lecture seule" in response.json()["detail"]
    assert client.get("/documents/lecture-seule").status_code == 404
    assert client.get("/search", params={"q": "épicerie"}).status_code == 200
    with pytest.raises(StorageReadOnly, match="lecture seule"):
        KeyStore(settings.data_dir / "keys.json").create("nouvelle")
    with pytest.raises(StorageReadOnly, match="lecture seule"):
        AuditLog(settings.data_dir / "audit.jsonl").record("coordinatrice", "ajout", "un-document")


# -- 4. a full disk: a French 507, nothing written, /health degraded ---------------------------


def _files(settings: Settings) -> set[str]:
    return {str(p.relative_to(settings.data_dir)) for p in settings.data_dir.rglob("*") if "gen-" not in str(p)}


def test_a_document_written_on_a_full_disk_is_a_french_507_and_nothing_is_written(api, monkeypatch):
    client, auth, _, settings = api
    created = client.post("/documents", files={"file": ("ancien.md", GOOD.encode())}, data=FIELDS, headers=auth)
    assert created.status_code == 201
    before = _files(settings)
    faulty_disk.simulate(monkeypatch, settings.data_dir, "full")
    other = "# Un autre document\n\nLa vente directe de légumes à la ferme, chaque samedi matin.\n"
    added = client.post(
        "/documents",
        files={"file": ("nouveau.md", other.encode())},
        data={**FIELDS, "title": "Vente directe"},
        headers=auth,
    )
    assert added.status_code == 507, added.text
    assert added.json()["detail"].startswith("Espace disque insuffisant")
    replaced = client.put(
        "/documents/ancien", files={"file": ("ancien.md", GOOD.replace("saine", "neuve").encode())}, headers=auth
    )
    assert replaced.status_code == 507 and replaced.json()["detail"].startswith("Espace disque insuffisant")
    monkeypatch.undo()
    assert client.get("/documents/vente-directe").status_code == 404
    assert client.get("/documents/ancien").json()["title"] == "Une fiche saine"
    assert client.get("/documents/ancien/file", headers=auth).content == GOOD.encode()
    leftovers = _files(settings) - before - {"questions.sqlite-wal", "questions.sqlite-shm"}
    assert not leftovers, leftovers  # no half-written file, no temporary, no stash


def test_a_full_disk_under_the_registry_or_a_side_store_is_a_507(api, monkeypatch):
    client, auth, _, settings = api
    index = client.app.state.holder.kb.index

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(index.registry, "_bump_revision", full)
    response = client.post("/documents", json={**FICHE, "id": "disque-plein"}, headers=auth)
    assert response.status_code == 507 and "Espace disque insuffisant" in response.json()["detail"]
    assert client.get("/documents/disque-plein").status_code == 404
    faulty_disk.simulate(monkeypatch, settings.data_dir, "full")
    partner = client.post("/coordination/partners", json={"origin": PARTNER, "name": "Mairie"}, headers=auth)
    assert partner.status_code == 507 and "Espace disque insuffisant" in partner.json()["detail"]
    with pytest.raises(InsufficientStorage):
        KeyStore(settings.data_dir / "keys.json").create("nouvelle")
    assert not [p for p in settings.data_dir.iterdir() if p.name.endswith(".tmp")]


def test_health_is_degraded_when_the_data_directory_has_no_room_left(api, monkeypatch):
    client, _, _, settings = api
    assert client.get("/health").json()["backends"]["écriture"] == "ok"
    real_statvfs = os.statvfs

    def no_room(path):
        real = real_statvfs(path)
        return os.statvfs_result((real.f_bsize, real.f_frsize, real.f_blocks, 0, 0, *tuple(real)[5:]))

    monkeypatch.setattr(os, "statvfs", no_room)
    health = client.get("/health")
    assert health.status_code == 503 and health.json()["status"] == "dégradé"
    assert health.json()["backends"]["écriture"].startswith("espace disque insuffisant")


def test_the_write_routes_document_the_507(api):
    client, _, _, _ = api
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in (
        ("/documents", "post"),
        ("/documents/{doc_id}", "put"),
        ("/documents/{doc_id}", "patch"),
        ("/documents/{doc_id}", "delete"),
        ("/documents/{doc_id}/publish", "post"),
        ("/coordination/partners", "post"),
        ("/feedback", "post"),
    ):
        assert "507" in paths[path][method]["responses"], (method, path)
    assert "413" in paths["/ask"]["post"]["responses"]


def test_an_os_error_is_named_by_its_cause():
    from kb.core.files import storage_error

    assert isinstance(storage_error(OSError(errno.ENOSPC, "No space left on device")), InsufficientStorage)
    assert isinstance(storage_error(OSError(errno.EDQUOT, "Disk quota exceeded")), InsufficientStorage)
    assert isinstance(storage_error(OSError(errno.EROFS, "Read-only file system")), StorageReadOnly)
    assert isinstance(storage_error(PermissionError(errno.EACCES, "Permission denied")), StorageReadOnly)
    assert storage_error(OSError(errno.EIO, "Input/output error")) is None


# -- 5. downloads keep their sandbox; a source_url's real reason -------------------------------


def test_downloads_keep_their_sandbox_policy(api):
    client, auth, _, _ = api
    client.post(
        "/documents",
        files={"file": ("page.html", b"<html><body><p>Un texte sur le diagnostic.</p></body></html>")},
        data={**FIELDS, "title": "Une page web"},
        headers=auth,
    )
    for path in ("/documents/une-page-web/file", "/fiches/une-page-web/original"):
        response = client.get(path, headers=auth)
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == "sandbox", path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-disposition"].startswith("attachment")
    page = client.get("/", headers={"Accept": "text/html"}).headers["content-security-policy"]
    assert "script-src 'self'" in page and "frame-ancestors" in page


@pytest.mark.parametrize(
    "address, reason",
    [
        ("https://exemple.org/<script>", "caractère non admis dans l'adresse : <"),
        ('https://exemple.org/"x', "caractère non admis dans l'adresse : \""),
        ("https://exemple.org/a b", "espace non admis dans l'adresse"),
        ("javascript:alert(1)", "http:// ou https:// attendu"),
    ],
)
def test_a_refused_source_url_gives_its_real_reason(api, address, reason):
    client, auth, _, _ = api
    upload = client.post(
        "/documents", files={"file": ("source.md", GOOD.encode())}, data={**FIELDS, "source_url": address}, headers=auth
    )
    assert upload.status_code == 422 and upload.json()["detail"].endswith(f" : {reason}."), upload.json()
    fiche = client.post("/documents", json={**FICHE, "source_url": address}, headers=auth)
    assert fiche.status_code == 422
    assert {"field": "source_url", "message": f"adresse web refusée : {reason}"} in fiche.json()["problems"]


def test_a_full_postgresql_disk_is_a_507_too():
    import psycopg

    from kb.storage.postgres.database import _translate

    error = _translate(psycopg.errors.DiskFull("could not extend file"), "postgresql://db.exemple/passerelles")
    assert isinstance(error, InsufficientStorage) and str(error).startswith("Espace disque insuffisant")


def test_the_vector_store_names_a_full_or_read_only_disk():
    from kb.core.errors import BackendUnavailable
    from kb.storage.embedded.chroma import _backend_call

    class Store:
        @_backend_call
        def add(self, error: Exception) -> None:
            raise error

    with pytest.raises(InsufficientStorage):
        Store().add(RuntimeError("error returned from database: (code: 13) database or disk is full"))
    with pytest.raises(StorageReadOnly, match="lecture seule"):
        Store().add(RuntimeError("attempt to write a readonly database"))
    with pytest.raises(BackendUnavailable):
        Store().add(RuntimeError("connection refused"))
