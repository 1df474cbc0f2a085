"""Step 1 of the ingestion on its own: a file's bytes and sidecar to a loaded document."""

from __future__ import annotations

import pytest

import ingest.loading as loading
from ingest.loading import document_version, load_document, parse_sidecar, read_sidecar
from kb.core.errors import KBError


def test_the_version_follows_the_bytes_the_sidecar_and_the_readers(monkeypatch):
    base = document_version(b"texte", b"titre: A")
    assert document_version(b"texte", b"titre: A") == base
    assert document_version(b"texte modifi\xc3\xa9", b"titre: A") != base
    assert document_version(b"texte", b"titre: B") != base
    monkeypatch.setattr(loading, "READER_VERSION", "test-next")
    assert document_version(b"texte", b"titre: A") != base


def test_a_file_without_sidecar_has_no_extra_metadata(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("Une note sans métadonnées.", encoding="utf-8")
    assert read_sidecar(path) == ({}, b"")


def test_a_sidecar_is_read_with_its_bytes(tmp_path):
    path = tmp_path / "compte-rendu.pdf"
    path.write_bytes(b"%PDF-1.4")
    sidecar = tmp_path / "compte-rendu.pdf.meta.yaml"
    sidecar.write_text("titre: Compte rendu du groupe\nsecteur: social\n", encoding="utf-8")
    metadata, raw = read_sidecar(path)
    assert raw == sidecar.read_bytes()
    assert metadata["titre"] == "Compte rendu du groupe" and metadata["secteur"] == "social"


def test_an_empty_sidecar_is_no_metadata_and_a_broken_one_a_french_error():
    assert parse_sidecar(b"", "vide.yaml") == {}
    with pytest.raises(KBError) as caught:
        parse_sidecar(b"titre: [non ferme", "casse.yaml")
    assert "casse.yaml" in str(caught.value)


def test_a_markdown_file_without_front_matter_gets_its_title_from_the_text(tmp_path):
    path = tmp_path / "epicerie-solidaire.md"
    data = "# Monter une épicerie solidaire\n\nLe centre social et la commune ont ouvert une épicerie.\n".encode()
    loaded = load_document(path, data)
    assert loaded.metadata.title == "Monter une épicerie solidaire"
    assert loaded.metadata.doc_id
    assert loaded.version == document_version(data)
    assert "épicerie" in loaded.parsed.text


def test_the_sidecar_metadata_wins_over_what_the_file_says(tmp_path):
    path = tmp_path / "fiche.md"
    data = b"# Titre du fichier\n\nDu texte.\n"
    loaded = load_document(path, data, {"title": "Titre de la fiche annexe"}, b"title: Titre de la fiche annexe")
    assert loaded.metadata.title == "Titre de la fiche annexe"
    assert loaded.version == document_version(data, b"title: Titre de la fiche annexe")
