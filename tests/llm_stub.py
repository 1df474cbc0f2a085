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

import json
import re
import time

from tests import stub_http

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


class Handler(stub_http.StubHandler):
    def post(self, body: dict) -> None:
        self.server.record(body)
        if not self.path_ends_with("/chat/completions"):
            self.send_json(404, self.not_found)
            return
        mode = str(body.get("model", "bon"))
        user = next((m.get("content") or "" for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
        if mode == "muet":
            time.sleep(self.server.hang)
        if mode == "erreur":
            self.send_json(500, {"error": {"message": "le modèle a planté", "type": "server_error"}})
            return
        text = reply(mode, user)
        if body.get("stream"):
            self._stream(mode, text)
            return
        if mode == "casse":
            self.send_raw(200, b"<html>pas du JSON</html>")
            return
        self.send_json(
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

    def _stream(self, mode: str, text: str) -> None:
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


class StubServer(stub_http.StubServer):
    handler = Handler


def main() -> None:
    args = stub_http.arguments(__doc__, hang_mode="muet").parse_args()
    StubServer(args.port, args.hang).serve_forever()


if __name__ == "__main__":
    main()
