"""Zip-bomb benchmark: `python -m evaluation.bench_office_bombs [--before-timeout S]`.

Builds each hostile DOCX, PPTX and ODT of `evaluation/office_bombs.py` and reads it twice, each
time in a child process (its peak memory is its own, under a 3 GiB address-space limit so that a
bomb fails there rather than swapping the machine):

- **bounds off**: the archive checks skipped and the reading bounds (`KB_OFFICE_MAX_BLOCKS`, the
  text bound) raised out of reach, which is how the readers behaved before issue 31 (the
  libraries inflate and read everything; the text bound applied only after extraction), except
  that styles and merged cells are read in one pass. Cut after `--before-timeout` seconds (60).
- **bounds on**: the defaults of the settings.

Prints, for each file, its size, the time and the memory the child grew by, and the outcome.
Figures only, nothing asserted; the real office files of the corpus are read too (bounds on),
to show what legitimate files cost.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from evaluation.datasets import CORPUS, PROJECT_ROOT
from evaluation.machine import describe_machine
from evaluation.office_bombs import BOMBS, FIXTURES, build_bomb, docx_body, office_with

_UNBOUNDED = {"office_max_blocks": 10**12, "max_document_chars": 10**12}

_READ_IN_CHILD = """
import json, resource, sys, time
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
import docx, odfdo, pptx  # the readers import them lazily: not part of the measure
from ingest import odt_reader, office_readers, readers
from ingest.readers import ReaderOptions, parse_bytes
from kb.core.errors import DocumentError
if sys.argv[3] == "off":
    readers.check_member_count = lambda data, options: None
    office_readers.check_archive = odt_reader.check_archive = lambda data, kind, options: None
path = Path(sys.argv[1])
options = ReaderOptions(**json.loads(sys.argv[2]))
data = path.read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
outcome = "lu"
try:
    outcome = f"lu : {len(parse_bytes(path, data, options).text):,} caractères"
except DocumentError as exc:
    outcome = f"refusé : {exc}"
except MemoryError:
    outcome = "MemoryError (limite de 3 Go atteinte)"
print(json.dumps({
    "seconds": time.perf_counter() - started,
    "grown_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024,
    "outcome": outcome,
}))
"""


def read_in_child(path: Path, options: dict, timeout: float, checks: bool = True) -> dict:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _READ_IN_CHILD, str(path), json.dumps(options), "on" if checks else "off"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"seconds": timeout, "grown_mb": float("nan"), "outcome": f"toujours en lecture après {timeout:.0f} s"}
    if done.returncode != 0:
        return {"seconds": float("nan"), "grown_mb": float("nan"), "outcome": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.splitlines()[-1])


def _row(label: str, measured: dict) -> str:
    return f"    {label:<11} {measured['seconds']:7.2f} s  +{measured['grown_mb']:6.0f} Mo  {measured['outcome'][:110]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before-timeout", type=float, default=60.0, help="seconds before a bounds-off read is cut")
    args = parser.parse_args(argv)
    print(describe_machine())
    with tempfile.TemporaryDirectory() as folder:
        for name in BOMBS:
            path = build_bomb(name, Path(folder))
            print(f"{name} ({path.stat().st_size / 1024:,.0f} Ko)")
            print(_row("sans bornes", read_in_child(path, _UNBOUNDED, args.before_timeout, checks=False)))
            print(_row("bornes", read_in_child(path, {}, 120.0)))
            path.unlink()
        # the worst legitimate-looking file within the bounds: 95,000 paragraphs (under 100,000
        # blocks) of four numbered runs, 1.7 million XML nodes (under 2 million), 1.9 million
        # characters (under 2 million), compressed about 20 times (under 200)
        path = office_with(
            FIXTURES / "methode.docx",
            Path(folder) / "au-plus-pres-des-bornes.docx",
            "word/document.xml",
            docx_body(
                95_000,
                lambda n: (
                    b"<w:p>"
                    + b"".join(b"<w:r><w:t>%05d</w:t></w:r>" % ((n * 4 + r) % 100_000) for r in range(4))
                    + b"</w:p>"
                ),
            ),
        )
        print(f"{path.name} ({path.stat().st_size / 1024:,.0f} Ko)")
        print(_row("bornes", read_in_child(path, {}, 300.0)))
    print("fichiers bureautiques du corpus (bornes par défaut)")
    for path in sorted(p for p in CORPUS.rglob("*") if p.suffix in {".docx", ".pptx", ".odt"}):
        print(_row(path.name[:11], read_in_child(path, {}, 120.0)) + f"  ({path.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
