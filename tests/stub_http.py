"""What the tests' stub servers (tests/llm_stub.py, tests/embedding_stub.py, tests/rerank_stub.py)
share: the HTTP plumbing of a quiet loopback server that records what it receives, the command
line every stub reads (``--port N``, ``--hang S``), and the tests' side of a running stub.

A stub is a ``StubServer`` subclass naming its ``handler``, a ``StubHandler`` subclass that
answers ``post(body)`` (the request's JSON body, already read). Every stub answers
``GET /_requests`` with the entries it recorded (``server.record``), in the order received.
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar


class StubHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing, answers ``GET /_requests`` and hands each POST's
    JSON body to ``post``."""

    server: StubServer
    not_found: ClassVar[Any] = {"error": {"message": "not found"}}  # the body of a 404

    def log_message(self, format, *args):  # quiet
        pass

    def do_GET(self) -> None:
        if self.path == "/_requests":
            self.send_json(200, self.server.recorded())
        else:
            self.send_json(404, self.not_found)

    def do_POST(self) -> None:
        self.post(self.read_json())

    def post(self, body: dict) -> None:
        raise NotImplementedError

    def read_json(self) -> dict:
        """The request's body as JSON (an empty body reads as ``{}``)."""
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def path_ends_with(self, suffix: str) -> bool:
        """Whether the path, trailing slashes dropped, ends with ``suffix`` (``/embeddings``)."""
        return self.path.rstrip("/").endswith(suffix)

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self.send_raw(status, json.dumps(payload, ensure_ascii=False).encode(), headers=headers)

    def send_raw(
        self,
        status: int,
        data: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # a client that gave up waiting
            pass


class StubServer(ThreadingHTTPServer):
    """A threaded server on ``127.0.0.1:port`` answering with ``handler``; ``hang`` is how many
    seconds its hanging mode says nothing; ``lock`` guards ``requests`` and a subclass's state."""

    daemon_threads = True
    handler: ClassVar[type[StubHandler]]

    def __init__(self, port: int, hang: float) -> None:
        super().__init__(("127.0.0.1", port), self.handler)
        self.hang = hang
        self.requests: list[Any] = []
        self.lock = threading.Lock()

    def record(self, entry: Any) -> None:
        with self.lock:
            self.requests.append(entry)

    def recorded(self) -> list[Any]:
        with self.lock:
            return list(self.requests)


def arguments(doc: str | None, hang_mode: str) -> argparse.ArgumentParser:
    """The command line every stub reads: ``--port N`` (required) and ``--hang S`` (the seconds
    its ``hang_mode`` says nothing, 30 by default); a stub adds its own options."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hang", type=float, default=30.0, help=f"seconds the `{hang_mode}` mode says nothing")
    return parser


def recorded_requests(root: str) -> list[Any]:
    """What the stub at ``root`` (``http://127.0.0.1:N``, no ``/v1``) has recorded."""
    import httpx

    return httpx.get(f"{root.rstrip('/')}/_requests", timeout=5).json()


class StubClient:
    """The tests' side of a running stub: its root URL, its base URL (``root + prefix``, e.g.
    ``…/v1``), what it recorded, and a POST to one of its admin endpoints."""

    def __init__(self, port: int, prefix: str = "") -> None:
        self.root = f"http://127.0.0.1:{port}"
        self.url = f"{self.root}{prefix}"

    def requests(self) -> list[Any]:
        return recorded_requests(self.root)

    def admin(self, path: str, payload: dict) -> Any:
        """POST ``payload`` to ``path`` (``/_config``), an error status raised: the answer's JSON."""
        import httpx

        response = httpx.post(f"{self.root}{path}", json=payload, timeout=5)
        response.raise_for_status()
        return response.json()
