"""A small OpenAI-compatible embeddings server for the tests: ``python -m tests.embedding_stub --port N``.

``POST /v1/embeddings`` (any path ending in ``/embeddings``) answers ``{"model", "input"}`` with
OpenAI's shape (``data[i].embedding``, ``data[i].index``, listed in reverse order so that a
client must read the indexes). A text's vector is its bag of words (lower-cased, accents
folded, a final ``s`` or ``x`` dropped, words of three letters or fewer skipped), each word
hashed (md5) into one of ``--dimension`` coordinates: deterministic, and close for texts that
share words, so a search over it finds the document that holds the query's words.

The request's ``model`` chooses the behaviour:

- ``ok`` (or any other name): as above;
- ``429-N``: the first N requests for this model answer 429 (``Retry-After: 0``), then as ``ok``;
- ``erreur``: HTTP 500, always;
- ``muet``: says nothing for ``--hang`` seconds (past any test's timeout), then answers;
- ``lent``: as ``ok`` after 0.2 s (to see requests in flight together);
- ``dimension-changeante``: the first request as ``ok``, the next ones with 8 more coordinates;
- ``casse``: HTTP 200 with a body that is not JSON.

``GET /_requests`` lists what was received: ``body``, ``headers`` (lower-cased names) and
``in_flight`` (requests of its mode being answered when it arrived, itself included: the
``muet`` ones left hanging by earlier tests do not count for the others). ``POST /_config``
changes, for every model: ``dimension`` (the same model now answers another size), ``mode``
(every request answered in that mode, e.g. ``erreur``: the server "goes down"; null: back to
the model's) and ``after`` (the mode applies once that many more requests were answered);
``POST /_reset`` forgets the requests, the counters and the forced mode.
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata

import numpy as np

from tests import stub_http

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return [w[:-1] if w[-1] in "sx" else w for w in _WORD.findall(folded) if len(w) > 3]


def vector(text: str, dimension: int) -> list[float]:
    values = np.zeros(dimension, dtype=np.float64)
    for word in words(text):
        values[int(hashlib.md5(word.encode()).hexdigest(), 16) % dimension] += 1.0
    if not values.any():
        values[0] = 1.0
    return [round(float(v), 6) for v in values / np.linalg.norm(values)]


class Handler(stub_http.StubHandler):
    server: StubServer

    def post(self, body: dict) -> None:
        if self.path == "/_config":
            with self.server.lock:
                self.server.dimension = int(body.get("dimension", self.server.dimension))
                if "mode" in body:
                    self.server.forced = body["mode"]
                    self.server.forced_after = len(self.server.requests) + int(body.get("after", 0))
            self.send_json(200, {"dimension": self.server.dimension})
            return
        if self.path == "/_reset":
            with self.server.lock:
                self.server.requests.clear()
                self.server.seen.clear()
                self.server.forced, self.server.forced_after = None, 0
            self.send_json(200, {})
            return
        with self.server.lock:
            mode = str(body.get("model", "ok"))
            if self.server.forced and len(self.server.requests) >= self.server.forced_after:
                mode = self.server.forced
            in_flight = self.server.in_flight[mode] = self.server.in_flight.get(mode, 0) + 1
            self.server.seen[mode] = self.server.seen.get(mode, 0) + 1
            seen = self.server.seen[mode]
            headers = {name.lower(): value for name, value in self.headers.items()}
            self.server.requests.append({"body": body, "headers": headers, "in_flight": in_flight})
            dimension = self.server.dimension
        try:
            self._answer(body, mode, seen, dimension)
        finally:
            with self.server.lock:
                self.server.in_flight[mode] -= 1

    def _answer(self, body: dict, mode: str, seen: int, dimension: int) -> None:
        if not self.path_ends_with("/embeddings"):
            self.send_json(404, self.not_found)
            return
        limit = re.fullmatch(r"429-(\d+)", mode)
        if limit and seen <= int(limit.group(1)):
            self.send_json(429, {"error": {"message": "trop de requêtes"}}, {"Retry-After": "0"})
            return
        if mode == "erreur":
            self.send_json(500, {"error": {"message": "le modèle a planté", "type": "server_error"}})
            return
        if mode == "muet":
            time.sleep(self.server.hang)
        if mode == "lent":
            time.sleep(0.2)
        if mode == "casse":
            self.send_raw(200, b"<html>pas du JSON</html>")
            return
        if mode == "dimension-changeante" and seen > 1:
            dimension += 8
        texts = body.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        data = [{"object": "embedding", "index": i, "embedding": vector(t, dimension)} for i, t in enumerate(texts)]
        self.send_json(
            200,
            {
                "object": "list",
                "data": data[::-1],
                "model": mode,
                "usage": {"prompt_tokens": sum(len(t.split()) for t in texts), "total_tokens": 0},
            },
        )


class StubServer(stub_http.StubServer):
    handler = Handler

    def __init__(self, port: int, dimension: int, hang: float) -> None:
        super().__init__(port, hang)
        self.dimension = dimension
        self.seen: dict[str, int] = {}
        self.in_flight: dict[str, int] = {}
        self.forced: str | None = None  # POST /_config {"mode": …}
        self.forced_after = 0


def main() -> None:
    parser = stub_http.arguments(__doc__, hang_mode="muet")
    parser.add_argument("--dimension", type=int, default=128)
    args = parser.parse_args()
    StubServer(args.port, args.dimension, args.hang).serve_forever()


class StubHandle(stub_http.StubClient):
    """The tests' side of a running stub: its base URL (``…/v1``) and its bookkeeping."""

    def __init__(self, port: int) -> None:
        super().__init__(port, "/v1")

    def reset(self, dimension: int = 128) -> None:
        self.admin("/_reset", {})
        self.set_dimension(dimension)

    def set_dimension(self, dimension: int) -> None:
        self.configure(dimension=dimension)

    def force(self, mode: str | None, after: int = 0) -> None:
        """Answer every request in ``mode`` (None: as its model says), from ``after`` requests on."""
        self.configure(mode=mode, after=after)

    def configure(self, **config) -> None:
        self.admin("/_config", config)


if __name__ == "__main__":
    main()
