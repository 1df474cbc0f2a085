"""The sample corpus and its gold questions hold together."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from evaluation.datasets import corpus_build, scanned_sources
from ingest.discover import discover
from ingest.loading import load_document, read_sidecar
from kb.core.vocabulary import DOC_TYPES, SECTORS

ROOT = Path(__file__).parents[2]
CORPUS = ROOT / "corpus"
QUESTIONS = ROOT / "evaluation" / "questions.jsonl"


@pytest.fixture(scope="module")
def documents():
    found = discover([CORPUS])  # the scanned minutes need OCR: tests ask for `ocr_available` first
    assert not found.problems
    loaded = []
    for path in found.files:
        sidecar, raw = read_sidecar(path)
        loaded.append((path, load_document(path, path.read_bytes(), sidecar, raw)))
    return loaded


def test_every_document_follows_the_schema(ocr_available, documents):
    for path, doc in documents:
        meta = doc.metadata
        assert meta.title and meta.territory and meta.themes, path
        assert meta.doc_type in DOC_TYPES and meta.doc_type != "document", path
        assert meta.sector in SECTORS, path
        assert meta.doc_id.split("-")[0] in ("exp", "meth", "cr", "fin", "qr", "veille", "annuaire"), path


def test_the_corpus_has_the_promised_shape(ocr_available, documents):
    types = Counter(doc.metadata.doc_type for _, doc in documents)
    assert types["fiche expérience"] >= 24 and types["fiche méthode"] >= 12
    assert types["compte rendu"] >= 8 and types["fiche financement"] >= 6
    assert types["questions-réponses"] >= 6 and types["veille"] >= 4 and types["annuaire"] >= 30
    formats = Counter(path.suffix for path, _ in documents)
    assert formats[".pdf"] >= 6 and formats[".docx"] >= 4 and formats[".html"] >= 4 and formats[".txt"] >= 2
    assert formats[".pptx"] >= 2 and formats[".odt"] >= 2
    assert sum("ocr" in doc.metadata.extra for _, doc in documents) >= 2, "scanned minutes"
    ids = [doc.metadata.doc_id for _, doc in documents]
    assert len(ids) == len(set(ids)) >= 90
    words = {doc.metadata.doc_id: len(doc.parsed.text.split()) for _, doc in documents}
    assert sum(300 <= n <= 1200 for n in words.values()) >= 70, "at least 70 documents of 300-1,200 words"
    for doc_id, n in words.items():
        assert 150 <= n <= 1250, (doc_id, n)


def test_generated_documents_match_their_sources():
    sources = sorted(p.stem for p in (CORPUS / "_sources").glob("*/*.md"))
    generated = sorted(
        p.name.split(".")[0]
        for p in CORPUS.glob("*/*")
        if p.suffix in (".pdf", ".docx", ".pptx", ".odt", ".html", ".txt")
    )
    assert sources == generated


def test_revised_fiches_name_a_document_of_the_corpus():
    """``replaces`` may name a missing id in general; in the sample corpus every one resolves."""
    loaded = {}
    for path in sorted(CORPUS.glob("*/*.md")):
        sidecar, raw = read_sidecar(path)
        meta = load_document(path, path.read_bytes(), sidecar, raw).metadata
        loaded[meta.doc_id] = meta
    revised = {doc_id: meta.replaces for doc_id, meta in loaded.items() if meta.replaces}
    assert revised["exp-boutique-essai-saint-aubin-v2"] == ("exp-boutique-essai-saint-aubin",)
    assert all(old in loaded for olds in revised.values() for old in olds)


def test_gold_questions_point_to_existing_documents(ocr_available, documents):
    if not QUESTIONS.exists():
        pytest.fail("evaluation/questions.jsonl is missing")
    ids = {doc.metadata.doc_id for _, doc in documents}
    sector_of = {doc.metadata.doc_id: doc.metadata.sector for _, doc in documents}
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 100
    assert len({row["id"] for row in rows}) == len(rows)
    kinds = Counter(row["kind"] for row in rows)
    for kind in ("natural", "keyword", "acronym", "unaccented", "who", "cross_sector", "unanswerable"):
        assert kinds[kind] >= 8, kind
    assert sum(1 for row in rows if row.get("key_facts")) >= 30
    for row in rows:
        assert set(row["relevant"]) <= ids, row
        if row["kind"] == "unanswerable":
            assert row["relevant"] == []
        else:
            assert row["relevant"], row
        if row["kind"] == "cross_sector":
            sectors = {sector_of[d] for d in row["relevant"]}
            assert {"action sociale", "développement local"} <= sectors, row


def test_the_scanned_minutes_are_read_back_at_97_percent_or_better(ocr_available, documents):
    """Character accuracy of the OCR: 1 - edit distance / length of the printed text."""
    from rapidfuzz.distance import Levenshtein

    build = corpus_build()
    read = {path.resolve(): doc for path, doc in documents}
    scans = scanned_sources()
    assert len(scans) >= 2
    for source, pdf in scans:
        meta, body = build.parse_source(source)
        printed = build.scan_text(meta, body)
        doc = read[pdf.resolve()]
        accuracy = 1 - Levenshtein.distance(" ".join(doc.parsed.text.split()), printed) / len(printed)
        assert accuracy >= 0.97, (pdf.name, round(accuracy, 4))
        pages = list(range(1, len(build.scan_lines(meta, body)) + 1))
        assert doc.metadata.extra["ocr"]["pages"] == pages
        assert [section.page for section in doc.parsed.sections] == pages
