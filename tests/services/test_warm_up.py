"""The server's background warm-up: what the first requests would otherwise pay for."""

from __future__ import annotations

from kb.core.settings import Settings
from services import runtime
from tests.apps import copy_index
from tests.fakes import ToyEmbedder


def test_warm_up_queries_every_vector_store_and_the_lexical_index(tmp_path, monkeypatch, toy_mini_index):
    settings = Settings(data_dir=tmp_path / "data")
    embedder = ToyEmbedder()
    copy_index(toy_mini_index, settings)  # the mini corpus ingested once per session
    kb = runtime.open_knowledge_base(settings, embedder)
    try:
        index = kb.index
        touched = []
        for name, store in (("passages", index.vectors), ("sentences", index.sentences.store)):
            query = store.query
            monkeypatch.setattr(store, "query", lambda *a, _q=query, _n=name, **kw: touched.append(_n) or _q(*a, **kw))
        lexical = index.lexical_hits
        monkeypatch.setattr(index, "lexical_hits", lambda *a, **kw: touched.append("lexical") or lexical(*a, **kw))
        kb.warm_up()
        # Chroma loads a collection's search graph on its first query: the first user search
        # would pay for it (0.9 s at 100k passages)
        assert {"passages", "sentences", "lexical"} <= set(touched)
    finally:
        kb.close()
