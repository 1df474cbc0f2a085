"""Import benchmark: `python -m evaluation.bench_import [--corpus PATH]`.

Builds a base from the sample corpus with the configured model (default e5-int8), exports it,
then times `kb import` twice on the same machine, one after the other: from the archive as an
older Passerelles wrote it (no ``vectors/`` members: every passage and sentence embedded again,
the behaviour before vectors travelled) and from the archive as it is (the vectors reused).
The model is loaded once, before the timings, and shared by both imports.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import zipfile
from pathlib import Path

from evaluation.datasets import PROJECT_ROOT
from evaluation.machine import describe_machine
from kb.core.settings import Settings
from kb.index.embeddings import create_embedder
from services import archive_vectors
from services.archive import MANIFEST
from services.portability import export_base, import_base
from services.runtime import ingest


def without_vectors(archive: Path, destination: Path) -> Path:
    """The archive as an older Passerelles wrote it: no vector members, none in the manifest."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            if name.startswith("vectors/"):
                continue
            data = source.read(name)
            if name == MANIFEST:
                manifest = json.loads(data)
                manifest.pop("vectors", None)
                manifest["files"] = {k: v for k, v in manifest["files"].items() if not k.startswith("vectors/")}
                data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            target.writestr(name, data)
    return destination


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=PROJECT_ROOT / "corpus")
    args = parser.parse_args(argv)
    print(describe_machine(), flush=True)
    settings = Settings()
    started = time.perf_counter()
    embedder = create_embedder(settings)
    print(f"model                  {embedder.model_id} (loaded in {time.perf_counter() - started:.1f} s)", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        source = Settings(data_dir=Path(tmp) / "source")
        started = time.perf_counter()
        built = ingest(source, [args.corpus], embedder=embedder)
        print(
            f"base built             {len(built.added)} documents in {time.perf_counter() - started:.1f} s", flush=True
        )
        archive = Path(tmp) / "base.zip"
        started = time.perf_counter()
        exported = export_base(source, archive)
        print(
            f"export                 {time.perf_counter() - started:.1f} s, {exported.counts['vectors']} vectors, "
            f"{archive.stat().st_size / 1e6:.1f} MB",
            flush=True,
        )
        older = without_vectors(archive, Path(tmp) / "older.zip")
        print(f"archive without vectors {older.stat().st_size / 1e6:.1f} MB", flush=True)

        timings = {}
        for label, path in (("before (re-embedded)", older), ("after (vectors reused)", archive)):
            target = Settings(data_dir=Path(tmp) / label.split()[0])
            started = time.perf_counter()
            report = import_base(target, path, embedder=embedder)
            timings[label] = time.perf_counter() - started
            indexing = report.indexing
            assert indexing is not None and indexing.ok, indexing
            print(
                f"import {label:<22} {timings[label]:7.1f} s  ({len(indexing.added)} documents, "
                f"{report.vectors_reused} vectors reused, {report.vectors_embedded} texts embedded, "
                f"embedding {indexing.embed_seconds:.1f} s)",
                flush=True,
            )
    before, after = timings.values()
    print(f"ratio                  {before / after:.1f}× faster ({before:.1f} s → {after:.1f} s)")
    print(f"vectors format         {archive_vectors.ARRAY} + {archive_vectors.INDEX}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
