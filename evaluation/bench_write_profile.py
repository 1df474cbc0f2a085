"""Where a small write spends its time: `python -m evaluation.bench_write_profile [--writes N] [--top N]`.

Ingests a few folders of the sample corpus (`bench_faults.QUICK_FOLDERS`) with the configured
(default) model into a temporary data directory, opens the knowledge base service as `kb serve`
does (model loaded, warmed up), makes two warm-up writes, then times `--writes` fiches of about
2 KB (taken from corpus fiches it does not ingest), each a new document written the way
`POST /documents` writes it with a coordinator's key (`review.write`: parsed, checked for
duplicates, embedded, published). The writes run in this thread, so the cProfile printed after
the wall times sees all of their work but the HTTP layer's (a few milliseconds). Figures only,
nothing asserted (issue 31: 4.6 to 4.9 s per small write under load; goal under 1 s idle).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

from evaluation.bench_faults import QUICK_FOLDERS
from evaluation.datasets import CORPUS
from evaluation.machine import describe_machine
from kb.core.settings import Settings
from kb.records.keys import COORDINATOR, Actor
from services import runtime


def fiches(count: int) -> list[dict]:
    """Fiches of about 2 KB: the first 2,000 characters of the body of ``count`` experience
    fiches of the corpus that the benchmark does not ingest (so none is refused as a duplicate),
    split in three sections."""
    fiches = []
    for path in sorted((CORPUS / "experiences").glob("*.md"))[:count]:
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        text = " ".join(line for line in body.splitlines() if line.strip() and not line.startswith("#"))[:2000]
        third = len(text) // 3
        fiches.append(
            {
                "title": f"Mesure d'écriture : {path.stem}",
                "doc_type": "fiche expérience",
                "sector": "développement local",
                "themes": ["mobilité"],
                "territory": "Drôme",
                "porteur": "Association de mesure",
                "date": "2025-05-12",
                "summary": text[:150],
                "sections": {
                    "contexte": text[:third],
                    "étapes": text[third : 2 * third],
                    "résultats": text[2 * third :],
                },
            }
        )
    return fiches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=5, help="profiled writes (after two warm-up writes)")
    parser.add_argument("--top", type=int, default=35, help="functions listed, by cumulative time")
    args = parser.parse_args(argv)
    print(describe_machine())
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder) / "data")
        print(f"modèle : {settings.embedding_backend}")
        started = time.perf_counter()
        runtime.ingest(settings, [CORPUS / name for name in QUICK_FOLDERS])
        print(f"ingestion de {', '.join(QUICK_FOLDERS)} : {time.perf_counter() - started:.1f} s")
        actor = Actor("coordinatrice", COORDINATOR)
        kb = runtime.open_knowledge_base(settings, serving=True)
        try:
            kb.warm_up()
            bodies = fiches(2 + args.writes)
            profile = cProfile.Profile()
            times = []
            for number, body in enumerate(bodies):
                submission, fiche = kb.writer.from_fiche(body)
                started = time.perf_counter()
                if number >= 2:
                    profile.enable()
                # the corpus holds versions of one experience: published anyway, the check still runs
                result = kb.review.write(submission, actor, filename_hint=fiche.doc_id, duplicate_reason="mesure")
                if number >= 2:
                    profile.disable()
                    times.append(time.perf_counter() - started)
                assert result.get("status") != "proposé", result
        finally:
            kb.close()
        print(
            f"écritures de ~2 Ko : {', '.join(f'{t:.2f}' for t in times)} s (médiane {sorted(times)[len(times) // 2]:.2f} s)"
        )
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
