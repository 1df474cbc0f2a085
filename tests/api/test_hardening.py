"""Defects found by probing the running product, each reproduced first (see issue "Hardening").

Real app, real index (Chroma on a temp dir), the toy embedder (vectors computable by hand) or a
deliberately slow one where the point is timing structure, not speed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.api.test_coordination import FICHE, UPLOAD_FIELDS
from tests.apps import app_over
from tests.fakes import ToyEmbedder
from tests.servers import serve_in_thread

MINI = Path(__file__).parents[1] / "fixtures" / "mini-corpus"


class SlowEmbedder(ToyEmbedder):
    """Each batch of passages takes ``seconds`` (sleeping, as a busy model would hold a lock)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def embed_passages(self, texts):
        time.sleep(self.seconds)
        return super().embed_passages(texts)


@pytest.fixture
def toy_api(tmp_path, toy_mini_index):
    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    with TestClient(app_over(settings, ToyEmbedder(), index=toy_mini_index)) as client:
        yield client, {"Authorization": f"Bearer {key}"}, settings


def test_a_long_write_never_makes_readers_wait_for_its_embedding(tmp_path):
    """Defect 1: searches waited for the embedding lock a write held (12 s for /search and
    /health during a 12.5 s write). Each passage batch here takes 1.5 s: a search that queued
    behind one would take that long; a search that does not takes milliseconds (a few hundred on
    a loaded machine)."""
    settings = Settings(data_dir=tmp_path / "data", embedding_batch_size=2)
    ingest_model = ToyEmbedder()
    app = app_over(settings, ingest_model, ingest=[MINI])
    slow = SlowEmbedder(1.5)
    app.dependency_overrides.clear()
    from api.deps import get_embedder

    app.dependency_overrides[get_embedder] = lambda: slow
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    long_fiche = {**FICHE, "id": "atelier-long", "sections": {"étapes": "Une étape détaillée du projet. " * 250}}
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=60) as reader:
        baseline = []
        for _ in range(5):
            started = time.perf_counter()
            assert reader.get("/search", params={"q": "épicerie"}).status_code == 200
            baseline.append(time.perf_counter() - started)
        during: list[float] = []
        write: dict = {}

        def writer():
            started = time.perf_counter()
            write["response"] = httpx.post(
                f"{base}/documents", json=long_fiche, headers={"Authorization": f"Bearer {key}"}, timeout=120
            )
            write["seconds"] = time.perf_counter() - started

        thread = threading.Thread(target=writer)
        thread.start()
        time.sleep(0.3)
        while thread.is_alive():
            for path, params in (("/search", {"q": "transport solidaire"}), ("/health", None)):
                started = time.perf_counter()
                assert reader.get(path, params=params).status_code == 200
                during.append(time.perf_counter() - started)
            time.sleep(0.05)
        thread.join()
    assert write["response"].status_code == 201, write["response"].text
    assert write["seconds"] > 3 and len(during) >= 10
    # structural, not a speed figure: nothing waited for a one-second batch
    assert max(during) < 1.0, (max(during), sorted(baseline))


# -- hostile files (defects 2, 3, 4, 14) --------------------------------------------------------

BILLION_LAUGHS = (
    "---\n"
    + "\n".join(
        [f"a0: &a0 [{', '.join(['lol'] * 9)}]"]
        + [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 8)]
    )
    + "\ntitle: Bombe\n---\n# Bombe\n\nUn texte.\n"
)
RECURSIVE_ALIAS = "---\ntitle: Boucle\nloop: &x [*x]\n---\n# Boucle\n\nUn texte.\n"
GOOD = "---\ntitle: Une fiche saine\ndoc_type: fiche méthode\n---\n# Une fiche saine\n\nUn texte ordinaire sur le diagnostic.\n"


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, RECURSIVE_ALIAS], ids=["billion-laughs", "recursive-alias"])
def test_hostile_front_matter_is_one_failed_file_among_others(tmp_path, hostile):
    from services import runtime

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "bombe.md").write_text(hostile, encoding="utf-8")
    (folder / "saine.md").write_text(GOOD, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    report = runtime.ingest(settings, [folder], embedder=ToyEmbedder())
    assert report.added == ["saine"]
    assert [(Path(path).name, reason) for path, reason in report.failed] == [
        ("bombe.md", "front matter YAML refusé : les ancres et alias YAML (&nom, *nom) ne sont pas admis")
    ]


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, RECURSIVE_ALIAS], ids=["billion-laughs", "recursive-alias"])
def test_hostile_front_matter_upload_is_a_french_422(toy_api, hostile):
    client, auth, _ = toy_api
    response = client.post("/documents", files={"file": ("bombe.md", hostile.encode())}, headers=auth)
    assert response.status_code == 422 and "alias YAML" in response.json()["detail"]


DEEP_NESTING = "---\ntitle: Bombe\nx: " + "[" * 20_000 + "]" * 20_000 + "\n---\n# Bombe\n\nUn texte.\n"
MANY_ITEMS = "---\ntitle: Bombe\nx: [" + "1," * 30_000 + "]\n---\n# Bombe\n\nUn texte.\n"


@pytest.mark.parametrize(
    "hostile, reason",
    [
        (DEEP_NESTING, "valeurs imbriquées sur plus de 5 niveaux"),
        (MANY_ITEMS, "plus de 200 éléments dans une valeur"),
    ],
    ids=["20000-niveaux", "30000-elements"],
)
def test_front_matter_bombs_upload_are_a_french_422(toy_api, hostile, reason):
    """Issue 31: 40 KB of [[[… got no answer in 300 s (55.7 s of server CPU); a 60 KB list of
    30,000 items took 7 s to parse and compose before its refusal."""
    client, auth, _ = toy_api
    response = client.post("/documents", files={"file": ("bombe.md", hostile.encode())}, headers=auth)
    assert response.status_code == 422 and reason in response.json()["detail"]


def test_a_giant_page_to_ocr_sent_for_a_dry_run_is_a_french_422(tmp_path):
    """Issue 31: a 1.7 KB PDF of one 200-inch page reached 10.4 GB and 41 s of CPU; it is now
    refused before anything is rendered (tests/ingest/test_ocr.py measures it in a child)."""
    from kb.records.keys import CONTRIBUTOR
    from tests.ingest.test_ocr import drawn_pdf

    pdf = drawn_pdf(tmp_path / "page-geante.pdf", 14_400)
    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("Aline", CONTRIBUTOR)
    model = ToyEmbedder()
    with TestClient(app_over(settings, model)) as client:
        response = client.post(
            "/documents",
            params={"dry_run": "true"},
            files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")},
            data=UPLOAD_FIELDS,
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 422, response.json()
    assert "trop grande pour la reconnaissance de texte" in response.json()["detail"]
    assert model.passages_embedded == 0


def test_oversized_metadata_values_are_refused(toy_api):
    client, auth, _ = toy_api
    text = f"---\ntitle: {'x' * 6000}\n---\n# Titre\n\nTexte.\n"
    response = client.post("/documents", files={"file": ("long.md", text.encode())}, headers=auth)
    assert response.status_code == 422 and "5000 caractères" in response.json()["detail"]


def _docx(text: str) -> bytes:
    import io

    import docx

    document = docx.Document()
    for start in range(0, len(text), 5000):
        document.add_paragraph(text[start : start + 5000])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_small_file_with_too_much_text_is_refused_before_any_embedding(tmp_path, dry_run):
    settings = Settings(data_dir=tmp_path / "data", max_document_chars=100_000)
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    model = ToyEmbedder()
    data = _docx("Le même paragraphe répété. " * 8000)  # 216,000 characters in a small file
    assert len(data) < 60_000
    with TestClient(app_over(settings, model)) as client:
        embedded = model.passages_embedded
        response = client.post(
            "/documents",
            params={"dry_run": str(dry_run).lower()},
            files={"file": ("bombe.docx", data)},
            data=UPLOAD_FIELDS,
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 413, response.json()
    assert "texte trop long une fois extrait" in response.json()["detail"]
    assert model.passages_embedded == embedded


def test_too_many_passages_are_refused_before_any_embedding(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", max_document_chunks=10)
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    model = ToyEmbedder()
    sections = {name: "Une phrase de plus dans cette longue section. " * 400 for name in ("contexte", "étapes")}
    with TestClient(app_over(settings, model)) as client:
        response = client.post(
            "/documents", json={**FICHE, "sections": sections}, headers={"Authorization": f"Bearer {key}"}
        )
    assert response.status_code == 413 and "passages" in response.json()["detail"]
    assert model.passages_embedded == 0


@pytest.mark.parametrize(
    "bomb, reason",
    [
        ("docx-300-Mo-d-espaces", "archive refusée : 300,8 Mo une fois décompressée (au plus 200 Mo"),
        pytest.param(
            "pptx-300-Mo-d-espaces",
            "archive refusée : 300,1 Mo une fois décompressée (au plus 200 Mo",
            marks=pytest.mark.slow,  # deflating 300 MB to build it: about 2 s each
        ),
        pytest.param(
            "odt-300-Mo-d-espaces",
            "archive refusée : 300,1 Mo une fois décompressée (au plus 200 Mo",
            marks=pytest.mark.slow,
        ),
        ("pptx-180-parties-de-1-Mo", "archive refusée : elle se décompresse en"),
        ("docx-taille-declaree-mensongere", "DOCX illisible ou corrompu"),
        ("docx-1-million-de-paragraphes-vides", "archive refusée : « word/document.xml » se décompresse en"),
        ("docx-1-million-de-paragraphes-numerotes", "plus de 2 000 000 éléments et attributs XML"),
    ],
)
def test_a_zip_bomb_sent_for_a_dry_run_is_a_french_422_at_once(tmp_path, bomb, reason):
    """Issue 31: a 2 MB DOCX of 2 GB of spaces took the server from 0.19 to 4.4 GB before its
    422, a 172 KB DOCX of a million paragraphs was still being read after 600 s (the bombs:
    tests/ingest/test_office_bombs.py, which measures their memory in a child process)."""
    from evaluation.office_bombs import build_bomb
    from kb.records.keys import CONTRIBUTOR

    path = build_bomb(bomb, tmp_path)
    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("Aline", CONTRIBUTOR)
    model = ToyEmbedder()
    with TestClient(app_over(settings, model)) as client:
        started = time.perf_counter()
        response = client.post(
            "/documents",
            params={"dry_run": "true"},
            files={"file": (path.name, path.read_bytes())},
            data=UPLOAD_FIELDS,
            headers={"Authorization": f"Bearer {key}"},
        )
        seconds = time.perf_counter() - started
    assert response.status_code == 422, response.json()
    assert reason in response.json()["detail"]
    assert model.passages_embedded == 0, f"refused after {seconds:.2f} s, yet embedded"


def test_non_web_source_urls_are_refused(toy_api, tmp_path):
    client, auth, _ = toy_api
    fields = {"title": "Une fiche piégée", "source_url": "javascript:alert(1)"}
    response = client.post("/documents", files={"file": ("piege.md", GOOD.encode())}, data=fields, headers=auth)
    assert response.status_code == 422 and "http:// ou https://" in response.json()["detail"]
    from services import runtime

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "piege.md").write_text(
        GOOD.replace("title:", "source_url: javascript:alert(1)\ntitle:"), encoding="utf-8"
    )
    report = runtime.ingest(Settings(data_dir=tmp_path / "other"), [folder], embedder=ToyEmbedder())
    assert len(report.failed) == 1 and "http:// ou https://" in report.failed[0][1]


# -- requests (defects 5, 10, 11, 12, 13) -------------------------------------------------------


def _raw_exchange(port: int, requests: list[bytes]) -> list[bytes]:
    """Send requests one after the other on ONE connection; the raw responses."""
    import socket

    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for request in requests:
            sock.sendall(request)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(
                next(
                    (line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")),
                    b"0",
                )
            )
            while len(body) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                body += chunk
            answers.append(head + b"\r\n\r\n" + body)
    return answers


def test_after_a_500_the_kept_alive_connection_still_answers(tmp_path, monkeypatch, toy_mini_index):
    settings = Settings(data_dir=tmp_path / "data")
    app = app_over(settings, ToyEmbedder(), index=toy_mini_index)
    with serve_in_thread(app) as base:

        def broken(*args, **kwargs):
            raise RuntimeError("a bug")

        monkeypatch.setattr(app.state.holder.kb, "search", broken)
        port = int(base.rsplit(":", 1)[1])
        request = b"GET /search?q=velo HTTP/1.1\r\nHost: x\r\n\r\n"
        first, second = _raw_exchange(port, [request, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"])
    assert first.startswith(b"HTTP/1.1 500") and b"Erreur interne" in first
    assert second.startswith(b"HTTP/1.1 200")


def test_malformed_http_is_answered_in_french(tmp_path):
    from api.server import _french_protocol

    app = app_over(Settings(data_dir=tmp_path / "data"), ToyEmbedder())
    with serve_in_thread(app, http=_french_protocol()) as base:
        (answer,) = _raw_exchange(int(base.rsplit(":", 1)[1]), [b"NIMPORTE QUOI\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 400") and "Requête HTTP invalide".encode() in answer


def test_filter_lists_are_bounded(toy_api):
    client, _, _ = toy_api
    response = client.post("/ask", json={"question": "épicerie", "filters": {"type": ["veille"] * 1000}})
    assert response.status_code == 422 and "trop d'éléments" in str(response.json())
    response = client.get("/search", params={"q": "épicerie", "type": ["veille"] * 30})
    assert response.status_code == 422
    many = ",".join(f"thème {n}" for n in range(30))
    response = client.get("/search", params={"q": "épicerie", "theme": many})
    assert response.status_code == 422 and "20 valeurs au plus" in str(response.json())


@pytest.mark.parametrize("path", ["/documents", "/ask"])
def test_a_deeply_nested_json_body_is_a_french_422(toy_api, path):
    client, auth, _ = toy_api
    body = b"[" * 30_000 + b"]" * 30_000  # under KB_MAX_BODY_KB (64 KB): the nesting is refused, not the size
    response = client.post(path, content=body, headers={**auth, "content-type": "application/json"})
    assert response.status_code == 422
    assert "imbriqué" in response.json()["detail"]


def test_a_chunked_upload_without_length_is_cut_at_the_limit(tmp_path):
    """Defect 12: a 300 MB chunked stream was written to disk whole before the 413. The
    answer must come while the client is still sending, soon after the limit."""
    import select
    import socket

    settings = Settings(data_dir=tmp_path / "data", max_upload_mb=1)
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    app = app_over(settings, ToyEmbedder())
    piece = b"x" * 100_000
    with serve_in_thread(app) as base, socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        sock.connect(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        sock.sendall(
            b"POST /documents HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            + f"Authorization: Bearer {key}\r\n".encode()
            + b"Content-Type: multipart/form-data; boundary=limite\r\n\r\n"
        )
        head = b'--limite\r\nContent-Disposition: form-data; name="file"; filename="gros.txt"\r\n\r\n'
        sock.sendall(f"{len(head):x}\r\n".encode() + head + b"\r\n")
        sent, answer = 0, b""
        while sent < 30_000_000:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                answer = sock.recv(65536)
                break
            try:
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            except OSError:
                answer = sock.recv(65536)
                break
            sent += len(piece)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"volumineuse" in answer
    assert sent < 10_000_000  # the limit is 1 MB; the rest sat in the kernel's socket buffers


def test_library_messages_reach_users_in_french(toy_api):
    client, auth, _ = toy_api
    preflight = client.options(
        "/search",
        headers={"Origin": "https://inconnu.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 400 and "KB_ALLOWED_ORIGINS" in preflight.json()["detail"]
    two_files = client.post(
        "/documents",
        files=[("file", ("a.md", GOOD.encode())), ("file", ("b.md", GOOD.encode()))],
        headers=auth,
    )
    assert two_files.status_code == 400 and "un seul fichier" in two_files.json()["detail"]


# -- faults and public responses (defects 6, 8, 9) ----------------------------------------------


def test_a_read_only_registry_is_a_503_on_writes_and_reads_keep_answering(toy_api, monkeypatch):
    import sqlite3

    client, auth, _ = toy_api
    index = client.app.state.holder.kb.index

    def read_only(*args, **kwargs):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(index.registry, "_bump_revision", read_only)
    response = client.post("/documents", json={**FICHE, "id": "lecture-seule"}, headers=auth)
    assert response.status_code == 503 and "lecture seule" in response.json()["detail"]
    assert client.get("/documents/lecture-seule").status_code == 404
    assert client.get("/search", params={"q": "épicerie"}).status_code == 200


def test_reads_never_write_and_saving_the_lexical_index_is_best_effort(toy_api, monkeypatch):
    client, auth, _ = toy_api
    lexical = client.app.state.holder.kb.index.lexical

    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(lexical, "_save", refuse)
    assert client.post("/documents", json={**FICHE, "id": "atelier-velo"}, headers=auth).status_code == 201
    saved = []
    monkeypatch.setattr(lexical, "_save", lambda *a, **k: saved.append(a))
    for question in ("atelier vélo", "épicerie", "transport"):
        assert client.get("/search", params={"q": question}).status_code == 200
    assert saved == []
    found = client.get("/search", params={"q": "atelier vélo", "k": 50}).json()["results"]
    assert "atelier-velo" in [r["doc_id"] for r in found]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_no_public_response_shows_a_server_path(toy_api):
    client, auth, settings = toy_api
    created = client.post("/documents", json={**FICHE, "id": "atelier-velo"}, headers=auth).json()
    responses = [created, client.get("/health").json(), client.get("/stats").json(), client.get("/vocabulary").json()]
    page = client.get("/documents", params={"limit": 100}).json()
    responses.append(page)
    responses += [client.get(f"/documents/{d['doc_id']}").json() for d in page["documents"]]
    responses.append(client.get("/search", params={"q": "épicerie transport"}).json())
    responses.append(client.post("/ask", json={"question": "comment monter une épicerie solidaire ?"}).json())
    roots = [str(settings.data_dir.resolve()), str(MINI.resolve()), str(Path(__file__).resolve().parents[2]), "/tmp/"]
    leaks = [text for body in responses for text in _strings(body) if any(root in text for root in roots)]
    assert leaks == []
    with_key = client.get("/stats", headers=auth).json()
    assert with_key["index_path"].startswith(str(settings.data_dir.resolve()))


@pytest.mark.parametrize("path", ["/coordination", "/demo", "/docs", "/redoc"])
def test_pages_have_a_strict_csp_and_no_outside_host(toy_api, path):
    client, _, _ = toy_api
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "http" not in script_src
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in response.text and " on" + "click=" not in response.text
    import re

    own = str(client.base_url).rstrip("/")
    for reference in re.findall(r'(?:src|href)="([^"]+)"', response.text):
        reference = reference.removeprefix(own)
        assert not reference.startswith(("http:", "https:", "//")), reference
        if reference.startswith("/"):
            assert client.get(reference).status_code == 200, reference
    if path == "/coordination":
        assert "frame-ancestors 'none'" in csp and response.headers["x-frame-options"] == "DENY"
    else:
        assert "frame-ancestors 'self' http://127.0.0.1:8000" in csp


def test_json_responses_are_nosniff_too(toy_api):
    client, _, _ = toy_api
    assert client.get("/health").headers["x-content-type-options"] == "nosniff"
