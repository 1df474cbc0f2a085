"""A small OpenAI-compatible chat server for the tests: ``python -m tests.llm_stub --port N``.

``POST /v1/chat/completions`` answers deterministically from the passages numbered ``[n]`` in the
last user message, in the way the request's ``model`` names (the mode):

- ``bon``: two sentences, each citing an existing passage (the first and the last);
- ``mixte``: one sentence citing the first passage, one citing an invented number (9, or past
  the last passage), one citing nothing;
- ``invente``: only invented numbers;
- ``sans-marqueur``: sentences without any marker;
- ``muet``: says nothing for ``--hang`` seconds (past any test's timeout), then answers as ``bon``;
- ``lent``: as ``bon``, a streamed word every 0.1 s;
- ``erreur``: HTTP 500;
- ``casse``: HTTP 200 with a body that is not JSON (a chunk that is not JSON when streaming).

With ``"stream": true`` the text comes as OpenAI chat-completion chunks (Server-Sent Events, one
word per chunk, then ``data: [DONE]``). ``GET /_requests`` lists the bodies received.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD = (
    "D'après les fiches, des chauffeurs bénévoles assurent les trajets [{first}].",
    "Les passagers réservent leur trajet la veille [{last}].",
)
INVENTED = "Un financement européen couvre tous les frais [{invented}]."
UNCITED = "Il faut toujours commencer par un diagnostic."


def reply(mode: str, user: str) -> str:
    numbers = [int(n) for n in re.findall(r"^\[(\d+)\]", user, re.MULTILINE)] or [1]
    first, last = numbers[0], numbers[-1]
    invented = 9 if 9 not in numbers else max(numbers) + 1
    good = " ".join(GOOD).format(first=first, last=last)
    if mode == "mixte":
        return f"{GOOD[0].format(first=first)} {INVENTED.format(invented=invented)} {UNCITED}"
    if mode == "invente":
        return f"{INVENTED.format(invented=invented)} La commune paie le reste [{invented + 1}]."
    if mode == "sans-marqueur":
        return "Des chauffeurs bénévoles assurent les trajets. Les passagers réservent leur trajet la veille."
    return good


class Handler(BaseHTTPRequestHandler):
    server: StubServer

    def log_message(self, format, *args):  # quiet
        pass

    def do_GET(self):
        if self.path == "/_requests":
            with self.server.lock:
                self._json(200, list(self.server.requests))
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.requests.append(body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found"}})
            return
        mode = str(body.get("model", "bon"))
        user = next((m.get("content") or "" for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
        if mode == "muet":
            time.sleep(self.server.hang)
        if mode == "erreur":
            self._json(500, {"error": {"message": "le modèle a planté", "type": "server_error"}})
            return
        text = reply(mode, user)
        if body.get("stream"):
            self._stream(mode, text, body)
            return
        if mode == "casse":
            self._raw(200, b"<html>pas du JSON</html>", "application/json")
            return
        self._json(
            200,
            {
                "id": "chatcmpl-stub",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": mode,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": len(user.split()),
                    "completion_tokens": len(text.split()),
                    "total_tokens": 0,
                },
            },
        )

    def _stream(self, mode: str, text: str, body: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

        def chunk(delta: dict, finish: str | None = None) -> bytes:
            payload = {
                "id": "chatcmpl-stub",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": mode,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()

        self.wfile.write(chunk({"role": "assistant", "content": ""}))
        if mode == "casse":
            self.wfile.write(b"data: {pas du JSON\n\n")
        else:
            for piece in re.findall(r"\S+\s*", text):
                self.wfile.write(chunk({"content": piece}))
                self.wfile.flush()
                if mode == "lent":
                    time.sleep(0.1)
        self.wfile.write(chunk({}, "stop"))
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _json(self, status: int, payload) -> None:
        self._raw(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json")

    def _raw(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, hang: float) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.hang = hang
        self.requests: list[dict] = []
        self.lock = threading.Lock()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hang", type=float, default=30.0, help="seconds the `muet` mode says nothing")
    args = parser.parse_args()
    StubServer(args.port, args.hang).serve_forever()


if __name__ == "__main__":
    main()
