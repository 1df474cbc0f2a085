"""OCR and new-format benchmark: `python -m evaluation.bench_ocr [--index-dir DIR]`.

Prints, for the corpus's scanned minutes, the character accuracy of the OCR against the text
`corpus/build.py` printed on them (1 - edit distance / length), the OCR's own confidence and the
time per OCRed page; then, with the shipped hybrid retrieval over the whole corpus, whether the
questions answered by the scans, slide decks and LibreOffice documents find them in the top 5.
Figures only: nothing is asserted (the tests hold the accuracy floor).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from evaluation.datasets import CORPUS, PROJECT_ROOT, corpus_build, load_questions, scanned_sources
from evaluation.machine import describe_machine
from evaluation.retrieval import dataset_index, rank_documents
from ingest.readers import ReaderOptions, parse_bytes
from kb.core.settings import Settings
from kb.search.glossary import Glossary
from kb.search.retrieval import Retriever


def ocr_figures(settings: Settings) -> list[dict]:
    build = corpus_build()
    rows = []
    for source, pdf in scanned_sources():
        meta, body = build.parse_source(source)
        printed = build.scan_text(meta, body)
        started = time.perf_counter()
        parsed = parse_bytes(pdf, pdf.read_bytes(), ReaderOptions.from_settings(settings))
        seconds = time.perf_counter() - started
        read = " ".join(parsed.text.split())
        pages = parsed.raw_metadata["ocr"]["pages"]
        rows.append(
            {
                "document": pdf.name,
                "pages": len(pages),
                "characters": len(printed),
                "accuracy": 1 - Levenshtein.distance(read, printed) / len(printed),
                "confidence": parsed.raw_metadata["ocr"]["confidence"],
                "seconds_per_page": seconds / len(pages),
            }
        )
    return rows


def retrieval_figures(settings: Settings, index_dir: Path | None) -> dict[str, list[tuple[str, int | None]]]:
    """Rank of the first relevant document (None: not in the top 10), per new format."""
    dataset = load_questions(PROJECT_ROOT / "evaluation" / "questions.jsonl", CORPUS)
    formats = {}
    for path in CORPUS.glob("*/*"):
        suffix = path.suffix.lower()
        if suffix in (".pptx", ".odt") or (suffix == ".pdf" and path in {pdf for _, pdf in scanned_sources()}):
            formats[path.stem] = "scan" if suffix == ".pdf" else suffix[1:]
    by_format: dict[str, list[tuple[str, int | None]]] = {}
    with dataset_index(dataset, settings, index_dir) as (index, _):
        retriever = Retriever(index, Glossary.load(settings.glossary_file))
        for question in dataset.questions:
            kinds = {formats[doc] for doc in question.relevant if doc in formats}
            if not kinds:
                continue
            ranked = rank_documents(retriever, question, "hybrid", 10)
            rank = next((n for n, doc in enumerate(ranked, start=1) if doc in question.relevant), None)
            for kind in kinds:
                by_format.setdefault(kind, []).append((question.id, rank))
    return by_format


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-dir", type=Path, default=None, help="keep the corpus index here")
    args = parser.parse_args(argv)
    print(describe_machine(), flush=True)
    settings = Settings()
    total_pages = total_seconds = 0.0
    for row in ocr_figures(settings):
        total_pages += row["pages"]
        total_seconds += row["seconds_per_page"] * row["pages"]
        print(
            f"{row['document']}: {row['pages']} pages, accuracy {row['accuracy']:.2%} on "
            f"{row['characters']} characters, confidence {row['confidence']:.3f}, "
            f"{row['seconds_per_page']:.1f} s per page"
        )
    print(f"OCR at {settings.ocr_dpi} dpi: {total_seconds / total_pages:.1f} s per page on average")
    for kind, ranks in sorted(retrieval_figures(settings, args.index_dir).items()):
        top5 = sum(1 for _, rank in ranks if rank is not None and rank <= 5)
        detail = ", ".join(f"{qid} {rank or '>10'}" for qid, rank in ranks)
        print(f"{kind}: {top5}/{len(ranks)} questions find a relevant document in the top 5 ({detail})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
