"""Ingestion end to end on a real Chroma (temp dir) with the toy embedder: exact and fast."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import Ingestor
from kb.core.settings import Settings
from kb.index.knowledge_index import KnowledgeIndex
from tests.fakes import ToyEmbedder

GOOD = ["fiche.md", "deux-pages.pdf", "methode.docx", "page.html", "latin1.txt"]
BAD = [
    "corrompu.pdf",
    "chiffre.pdf",
    "scanne.pdf",
    "scan-vierge.pdf",
    "corrompu.pptx",
    "chiffre.pptx",
    "corrompu.odt",
    "chiffre.odt",
    "vide.md",
    "binaire.md",
    "yaml-invalide.md",
]


@pytest.fixture
def corpus(tmp_path, fixtures_dir) -> Path:
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    for name in GOOD[:3]:
        shutil.copy(fixtures_dir / name, folder / name)
    for name in GOOD[3:]:
        shutil.copy(fixtures_dir / name, folder / "sub" / name)
    return folder


def make_ingestor(settings: Settings, embedder=None) -> Ingestor:
    index = KnowledgeIndex(settings, embedder or ToyEmbedder(), {"chunker": "test"})
    return Ingestor(index, settings)


def chunk_ids(ingestor: Ingestor) -> dict[str, set[str]]:
    by_doc: dict[str, set[str]] = {}
    for chunk, (doc_id, _) in ingestor.index.vectors.versions_by_chunk().items():
        by_doc.setdefault(doc_id, set()).add(chunk)
    return by_doc


def test_every_format_is_ingested_with_its_metadata(settings, corpus):
    ingestor = make_ingestor(settings)
    report = ingestor.ingest_paths([corpus])
    assert report.failed == []
    assert sorted(report.added) == sorted(["exp-cafe-associatif", "deux-pages", "methode", "page", "latin1"])
    stored = ingestor.index.get("exp-cafe-associatif").metadata
    assert stored.doc_type == "fiche expérience"
    assert stored.source_path == str((corpus / "fiche.md").resolve())
    assert len(stored.content_hash) == 64
    documents, chunks = ingestor.index.registry.counts()
    assert documents == 5 and chunks == ingestor.index.vectors.count()


def test_ingesting_twice_embeds_and_writes_nothing(settings, corpus):
    embedder = ToyEmbedder()
    ingestor = make_ingestor(settings, embedder)
    ingestor.ingest_paths([corpus])
    before_calls, before_ids = embedder.passage_calls, chunk_ids(ingestor)
    report = ingestor.ingest_paths([corpus])
    assert len(report.unchanged) == 5 and not (report.added or report.updated)
    assert report.chunks_written == 0
    assert embedder.passage_calls == before_calls
    assert chunk_ids(ingestor) == before_ids


def test_changing_one_file_replaces_only_its_chunks(settings, corpus):
    ingestor = make_ingestor(settings)
    ingestor.ingest_paths([corpus])
    before = chunk_ids(ingestor)
    fiche = corpus / "fiche.md"
    fiche.write_text(fiche.read_text().replace("18 000 €", "21 000 €"), encoding="utf-8")
    report = ingestor.ingest_paths([corpus])
    assert report.updated == ["exp-cafe-associatif"]
    after = chunk_ids(ingestor)
    assert after["exp-cafe-associatif"].isdisjoint(before["exp-cafe-associatif"])
    assert {k: v for k, v in after.items() if k != "exp-cafe-associatif"} == {
        k: v for k, v in before.items() if k != "exp-cafe-associatif"
    }
    text = ingestor.index.registry.document_text("exp-cafe-associatif")
    assert "21 000 €" in text and "18 000 €" not in text


def test_prune_removes_documents_whose_files_disappeared(settings, corpus):
    ingestor = make_ingestor(settings)
    ingestor.ingest_paths([corpus])
    (corpus / "sub" / "page.html").unlink()
    assert ingestor.ingest_paths([corpus]).removed == [], "without --prune nothing is removed"
    report = ingestor.ingest_paths([corpus], prune=True)
    assert report.removed == ["page"]
    assert "page" not in chunk_ids(ingestor)
    assert ingestor.index.registry.counts()[0] == 4


def test_prune_on_a_single_file_never_touches_its_neighbours(settings, corpus):
    ingestor = make_ingestor(settings)
    ingestor.ingest_paths([corpus])
    report = ingestor.ingest_paths([corpus / "fiche.md"], prune=True)
    assert report.removed == [] and ingestor.index.registry.counts()[0] == 5


def test_changing_the_id_in_front_matter_drops_the_old_id(settings, corpus):
    ingestor = make_ingestor(settings)
    ingestor.ingest_paths([corpus])
    fiche = corpus / "fiche.md"
    fiche.write_text(fiche.read_text().replace("id: exp-cafe-associatif", "id: exp-cafe-v2"))
    report = ingestor.ingest_paths([corpus])
    assert report.added == ["exp-cafe-v2"] and report.removed == ["exp-cafe-associatif"]
    assert "exp-cafe-associatif" not in chunk_ids(ingestor)


def test_two_files_claiming_one_id_are_reported(settings, corpus):
    ingestor = make_ingestor(settings)
    shutil.copy(corpus / "fiche.md", corpus / "sub" / "copie.md")
    report = ingestor.ingest_paths([corpus])
    assert len(report.failed) == 1
    path, reason = report.failed[0]
    assert "exp-cafe-associatif" in reason and "déjà utilisé" in reason


def test_bad_files_are_reported_by_name_and_the_run_continues(settings, corpus, fixtures_dir, ocr_available):
    for name in BAD:
        shutil.copy(fixtures_dir / name, corpus / name)
    big = corpus / "enorme.txt"
    big.write_text("mot " * 400_000)
    settings = settings.model_copy(update={"max_file_size_mb": 1})
    ingestor = make_ingestor(settings)
    report = ingestor.ingest_paths([corpus])
    failed = {Path(path).name: reason for path, reason in report.failed}
    assert set(failed) == set(BAD) | {"enorme.txt"}
    assert "trop volumineux" in failed["enorme.txt"]
    assert "pas de texte extractible" in failed["scanne.pdf"]
    assert "aucun texte reconnu par l'OCR" in failed["scan-vierge.pdf"]
    assert "PPTX chiffré" in failed["chiffre.pptx"] and "ODT illisible" in failed["corrompu.odt"]
    assert len(report.added) == 5


def test_symlink_loops_are_reported_not_followed(settings, corpus):
    os.symlink(corpus, corpus / "sub" / "boucle")
    ingestor = make_ingestor(settings)
    report = ingestor.ingest_paths([corpus])
    assert len(report.added) == 5
    assert any("boucle de liens symboliques" in reason for _, reason in report.failed)


def test_kbignore_and_hidden_files_are_skipped(settings, corpus):
    (corpus / ".kbignore").write_text("sub/\n*.docx\n")
    (corpus / ".cache.md").write_text("# caché")
    report = make_ingestor(settings).ingest_paths([corpus])
    assert sorted(report.added) == ["deux-pages", "exp-cafe-associatif"]


def test_sidecar_metadata_describes_non_markdown_files(settings, corpus):
    (corpus / "deux-pages.pdf.meta.yaml").write_text(
        "id: exp-garage\ntype: fiche expérience\nsecteur: action sociale\nthèmes: [mobilité]\n",
        encoding="utf-8",
    )
    ingestor = make_ingestor(settings)
    ingestor.ingest_paths([corpus])
    metadata = ingestor.index.get("exp-garage").metadata
    assert (metadata.doc_type, metadata.sector, metadata.themes) == (
        "fiche expérience",
        "action sociale",
        ("mobilité",),
    )
    assert metadata.title == "Garage solidaire : fiche de synthèse"
    # editing only the sidecar is a change of the document
    (corpus / "deux-pages.pdf.meta.yaml").write_text("id: exp-garage\nsecteur: transversal\n")
    assert ingestor.ingest_paths([corpus]).updated == ["exp-garage"]


def test_a_failing_update_keeps_the_previous_version(settings, corpus, monkeypatch):
    ingestor = make_ingestor(settings)
    ingestor.ingest_paths([corpus])
    (corpus / "fiche.md").write_text((corpus / "fiche.md").read_text() + "\n\nNouveau paragraphe.\n")

    def broken_embed(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ingestor, "embed", broken_embed)
    report = ingestor.ingest_paths([corpus])
    assert [Path(p).name for p, _ in report.failed] == ["fiche.md"]
    assert "Nouveau paragraphe" not in ingestor.index.registry.document_text("exp-cafe-associatif")
    assert ingestor.index.dense_search("café", 20)


def test_slides_writer_documents_and_scans_are_ingested(settings, corpus, fixtures_dir, ocr_available):
    for name in ("diaporama.pptx", "reglement.odt", "scan-mixte.pdf"):
        shutil.copy(fixtures_dir / name, corpus / name)
    (corpus / "diaporama.pptx.meta.yaml").write_text("type: compte rendu\nsecteur: transversal\n", encoding="utf-8")
    ingestor = make_ingestor(settings)
    report = ingestor.ingest_paths([corpus])
    assert report.failed == []
    deck = ingestor.index.get("diaporama").metadata
    assert (deck.title, deck.doc_type, deck.date) == (
        "Mobilité solidaire : journée d'échanges",
        "compte rendu",
        "2024-03-14",
    )
    assert deck.extra["author"] == "Claire Martin"
    assert {chunk.page for chunk in ingestor.index.document_chunks("diaporama")} == {1, 2, 3}
    assert ingestor.index.get("reglement").metadata.themes == ("vie associative", "subvention")
    scan = ingestor.index.get("scan-mixte").metadata
    assert scan.extra["ocr"]["pages"] == [2] and scan.extra["ocr"]["confidence"] > 0.8
    assert [chunk.page for chunk in ingestor.index.document_chunks("scan-mixte")] == [1, 2]


def test_unchanged_files_are_not_even_read_again(settings, corpus, monkeypatch):
    ingestor = make_ingestor(settings)
    ingestor.ingest_paths([corpus])

    def no_reading(*args, **kwargs):
        raise AssertionError("an unchanged file was read again")

    monkeypatch.setattr("ingest.loading.parse_bytes", no_reading)
    report = ingestor.ingest_paths([corpus])
    assert report.failed == [] and len(report.unchanged) == 5


def test_progress_reports_files_ocr_pages_and_passages(settings, corpus, fixtures_dir, ocr_available):
    shutil.copy(fixtures_dir / "scan-mixte.pdf", corpus / "scan-mixte.pdf")
    settings = settings.model_copy(update={"embedding_batch_size": 2})
    seen: dict[str, list] = {"start": [], "file": [], "ocr": [], "passages": []}
    report = make_ingestor(settings).ingest_paths(
        [corpus],
        on_start=lambda total: seen["start"].append(total),
        on_file=lambda path: seen["file"].append(path.name),
        on_ocr=lambda path, done, total: seen["ocr"].append((path.name, done, total)),
        on_passages=lambda done, total, source: seen["passages"].append((done, total, Path(source).name)),
    )
    assert seen["start"] == [6] and len(seen["file"]) == 6
    assert seen["ocr"] == [("scan-mixte.pdf", 0, 1), ("scan-mixte.pdf", 1, 1)]
    passages = seen["passages"]
    # every file is read before the model starts: the total is known from the first report
    assert {total for _, total, _ in passages} == {report.chunks_written}
    done = [count for count, _, _ in passages]
    assert done == sorted(done) and done[0] == 0 and done[-1] == report.chunks_written
    assert len(set(done)) > 3, "several reports, one per model call"
    assert {source for _, _, source in passages} <= set(seen["file"])


def test_sentences_are_embedded_with_their_passages_one_call_a_batch(settings, corpus, monkeypatch):
    embedder = ToyEmbedder()
    ingestor = make_ingestor(settings, embedder)
    sentences = ingestor.index.sentences
    monkeypatch.setattr(
        sentences, "_embed", lambda texts: pytest.fail(f"{len(texts)} sentences embedded while storing")
    )
    report = ingestor.ingest_paths([corpus / "fiche.md"])
    assert report.failed == [] and embedder.passage_calls == 1 and report.embed_seconds > 0
    doc_id = report.added[0]
    stored = ingestor.index.documents_sentence_vectors([doc_id])[doc_id]
    stored_doc = ingestor.index.get(doc_id)
    _, texts, _ = sentences.rows(stored_doc.metadata, stored_doc.version, ingestor.index.document_chunks(doc_id))
    assert embedder.passages_embedded == len(set(texts)) + report.chunks_written
    assert np.allclose(stored, embedder.embed_passages(texts), atol=1e-6)
