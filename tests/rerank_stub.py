"""A small reranking server for the tests: ``python -m tests.rerank_stub --port N``.

``POST /rerank`` (also ``/v1/rerank``) scores the texts against the query in the way the request's
``model`` names, ``<mode>`` or ``<mode>/<shape>``:

- modes: ``reverse`` (the scores invert the order the texts came in), ``overlap`` (the share of
  the query's words a text holds: a sensible reranker; the mode when no model is sent),
  ``error`` (HTTP 500), ``hang`` (says nothing for ``--hang`` seconds, past any test's timeout),
  ``garbage`` (HTTP 200 with a body that is not JSON);
- shapes: ``cohere`` (the default: reads ``documents``, answers ``{"results": [{index,
  relevance_score}]}``, as Cohere, Jina, vLLM, Infinity and Albert do), ``tei`` (reads ``texts``,
  answers a bare list of ``{index, score}``, as text-embeddings-inference does), ``albert-legacy``
  (reads only ``prompt`` and ``input``, refusing any other request with a 422, and answers
  ``{"data": [{index, score}]}``, as Albert's earlier API did).

Results come sorted by score, best first, as real servers send them. ``GET /_requests`` lists
what was received: ``{path, authorization, body}``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests import stub_http


def words(text: str) -> set[str]:
    return {word for word in re.findall(r"\w+", text.lower()) if len(word) > 2}


def score_texts(mode: str, query: str, texts: list[str]) -> list[float]:
    if mode == "reverse":
        return [float(i) for i in range(len(texts))]
    asked = words(query) or {""}
    return [len(asked & words(text)) / len(asked) for text in texts]


class Handler(stub_http.StubHandler):
    not_found = {"error": "not found"}

    def post(self, body: dict) -> None:
        self.server.record({"path": self.path, "authorization": self.headers.get("Authorization"), "body": body})
        if self.path.rstrip("/") not in ("/rerank", "/v1/rerank"):
            self.send_json(404, self.not_found)
            return
        mode, _, shape = str(body.get("model") or "overlap").partition("/")
        shape = shape or "cohere"
        if mode == "hang":
            time.sleep(self.server.hang)
        if mode == "error":
            self.send_json(500, {"error": "le modèle a planté"})
            return
        if mode == "garbage":
            self.send_raw(200, b"<html>pas du JSON</html>")
            return
        field = {"cohere": "documents", "tei": "texts"}.get(shape, "input")
        query = body.get("prompt" if shape == "albert-legacy" else "query")
        texts = body.get(field)
        if shape == "albert-legacy" and "query" in body:
            self.send_json(422, {"detail": "Extra inputs are not permitted: query"})
            return
        if not isinstance(query, str) or not isinstance(texts, list):
            self.send_json(422, {"detail": f"missing field `{field}`"})
            return
        scores = score_texts(mode, query, texts)
        ranked = sorted(range(len(texts)), key=lambda i: -scores[i])
        if shape == "tei":
            self.send_json(200, [{"index": i, "score": scores[i]} for i in ranked])
        elif shape == "albert-legacy":
            self.send_json(
                200, {"object": "list", "data": [{"object": "rerank", "index": i, "score": scores[i]} for i in ranked]}
            )
        else:
            top_n = body.get("top_n") or len(texts)
            results = [{"index": i, "relevance_score": scores[i]} for i in ranked[:top_n]]
            self.send_json(200, {"id": "rerank-stub", "model": mode, "results": results})


class StubServer(stub_http.StubServer):
    handler = Handler


def tiny_cross_encoder(folder: Path, words: list[str]) -> Path:
    """A randomly initialised BERT sequence classifier (one output: a relevance score) with its
    own vocabulary of ``words`` in ``folder``, for the CrossEncoder tests: nothing downloaded."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=5 + len(words),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    return folder


def main() -> None:
    args = stub_http.arguments(__doc__, hang_mode="hang").parse_args()
    StubServer(args.port, args.hang).serve_forever()


if __name__ == "__main__":
    main()
