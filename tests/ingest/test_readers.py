from __future__ import annotations

from pathlib import Path

import pytest

from ingest import ocr
from ingest.readers import ReaderOptions, parse_bytes, split_front_matter
from kb.core.errors import DocumentError, OcrUnavailable
from kb.core.settings import Settings


def parse(path: Path, options: ReaderOptions | None = None):
    return parse_bytes(path, path.read_bytes(), options or ReaderOptions())


def test_markdown_front_matter_and_heading_paths(fixtures_dir):
    parsed = parse(fixtures_dir / "fiche.md")
    assert parsed.raw_metadata["Titre"] == "Un café associatif à Saint-Œuvre"
    assert parsed.text.startswith("# Un café associatif")
    paths = [s.path for s in parsed.sections]
    assert ("Un café associatif à Saint-Œuvre", "Financement", "Difficultés") in paths
    for section in parsed.sections:
        assert parsed.text[section.start : section.end].strip()


def test_markdown_headings_inside_code_fences_are_not_sections():
    body = b"# T\n\n```\n# not a heading\n```\n\n## Vrai\n\ntexte\n"
    parsed = parse_bytes(Path("x.md"), body)
    assert [s.path for s in parsed.sections] == [("T",), ("T", "Vrai")]


def test_pdf_keeps_page_numbers_and_title(fixtures_dir):
    parsed = parse(fixtures_dir / "deux-pages.pdf")
    assert [s.page for s in parsed.sections] == [1, 2]
    assert parsed.detected_title == "Garage solidaire : fiche de synthèse"
    page_two = parsed.sections[1]
    assert "Département (40 %)" in parsed.text[page_two.start : page_two.end]
    assert "main-d'œuvre" in parsed.text


def test_pptx_gives_one_section_per_slide_with_tables_and_notes(fixtures_dir):
    parsed = parse(fixtures_dir / "diaporama.pptx")
    assert parsed.detected_title == "Mobilité solidaire : journée d'échanges"
    assert [(s.path, s.page) for s in parsed.sections] == [
        (("Mobilité solidaire en rural",), 1),
        (("Trois solutions testées",), 2),
        (("Diapositive 3",), 3),
    ]
    slide = parsed.sections[1]
    text = parsed.text[slide.start : slide.end]
    assert text.startswith("Trois solutions testées\nTransport solidaire avec chauffeurs bénévoles")
    assert "0,35 € par kilomètre" in text and "Transport solidaire | 30 000 €" in text
    assert "Notes de l'intervenant : Insister sur l'assurance" in text
    assert parsed.raw_metadata == {
        "date": "2024-03-14",
        "author": "Claire Martin",
        "themes": ["mobilité", "transport solidaire"],
    }


def test_odt_keeps_headings_lists_and_tables(fixtures_dir):
    parsed = parse(fixtures_dir / "reglement.odt")
    assert parsed.detected_title == "Fonds d'initiatives locales : règlement"
    title = "Règlement du fonds d'initiatives locales"
    assert [s.path for s in parsed.sections] == [
        (title,),
        (title, "Bénéficiaires"),
        (title, "Bénéficiaires", "Dépenses éligibles"),
    ]
    assert "- Achat de petit matériel\n- Frais de communication" in parsed.text
    assert "Plafond | 3 000 €" in parsed.text and "Taux | 50 %" in parsed.text
    assert parsed.raw_metadata["author"] == "Service vie associative"
    assert parsed.raw_metadata["date"] == "2024-03-14"


def test_mixed_pdf_reads_the_text_layer_and_ocrs_the_scanned_page(fixtures_dir, ocr_available):
    progress = []
    parsed = parse(
        fixtures_dir / "scan-mixte.pdf", ReaderOptions(on_ocr_page=lambda done, total: progress.append((done, total)))
    )
    assert [s.page for s in parsed.sections] == [1, 2]
    typed, scanned = (parsed.text[s.start : s.end] for s in parsed.sections)
    assert "Page tapée : le minibus solidaire du plateau" in " ".join(typed.split())
    scanned = " ".join(scanned.split())
    assert "mardi à Lizon-le-Haut, jeudi à Saint-Aubin" in scanned
    assert "18 500 euros" in scanned
    ocr_record = parsed.raw_metadata["ocr"]
    assert ocr_record["pages"] == [2] and ocr_record["language"] == "fra"
    assert 0.8 <= ocr_record["confidence"] <= 1
    assert progress == [(0, 1), (1, 1)]


def test_without_ocr_scanned_pages_are_skipped_or_the_file_refused(fixtures_dir):
    options = ReaderOptions(ocr_enabled=False)
    parsed = parse(fixtures_dir / "scan-mixte.pdf", options)
    assert [s.page for s in parsed.sections] == [1] and "ocr" not in parsed.raw_metadata
    with pytest.raises(DocumentError) as error:
        parse(fixtures_dir / "scan-vierge.pdf", options)
    assert "KB_OCR_ENABLED=false" in str(error.value)


@pytest.mark.parametrize(
    "installed, fragment",
    [
        (None, "Tesseract n'est pas installé"),
        ("eng\nosd", "le modèle de langue « fra » de Tesseract n'est pas installé"),
    ],
)
def test_missing_tesseract_names_the_debian_packages(fixtures_dir, monkeypatch, installed, fragment):
    ocr._engine.cache_clear()
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None if installed is None else "/usr/bin/tesseract")

    def run(command, stdin, timeout):
        out = "tesseract 5.3.0\n" if command[-1] == "--version" else f"List of available languages (2):\n{installed}\n"
        return type("Done", (), {"stdout": out.encode()})()

    monkeypatch.setattr(ocr, "_run", run)
    try:
        with pytest.raises(OcrUnavailable) as error:
            parse(fixtures_dir / "scan-mixte.pdf")
    finally:
        ocr._engine.cache_clear()
    message = str(error.value)
    assert fragment in message
    assert "installez les paquets Debian tesseract-ocr et tesseract-ocr-fra" in message
    assert "apt-get install tesseract-ocr tesseract-ocr-fra" in message


def test_ocr_is_bounded_in_pages_and_in_time(fixtures_dir, ocr_available):
    with pytest.raises(DocumentError) as error:
        parse(fixtures_dir / "scan-vierge.pdf", ReaderOptions(ocr_max_pages=0))
    assert "trop de pages sans couche texte à reconnaître (1 ; limite 0, réglable par KB_OCR_MAX_PAGES)" in str(
        error.value
    )
    with pytest.raises(DocumentError) as error:
        parse(fixtures_dir / "scan-mixte.pdf", ReaderOptions(ocr_page_timeout_s=0.01))
    assert "reconnaissance de texte trop longue à la page 2" in str(error.value)
    assert "KB_OCR_PAGE_TIMEOUT_S" in str(error.value)


def test_reader_options_default_to_the_settings():
    assert ReaderOptions() == ReaderOptions.from_settings(Settings())


def test_docx_keeps_headings_and_tables(fixtures_dir):
    parsed = parse(fixtures_dir / "methode.docx")
    assert parsed.detected_title == "Méthode du diagnostic partagé"
    assert ("Méthode du diagnostic partagé", "Étapes", "Pièges à éviter") in [s.path for s in parsed.sections]
    assert "Budget | 12 000 €" in parsed.text


def test_html_keeps_main_content_and_drops_boilerplate(fixtures_dir):
    parsed = parse(fixtures_dir / "page.html")
    assert parsed.detected_title == "Le transport solidaire du plateau"
    assert "douze chauffeurs bénévoles" in parsed.text
    for boilerplate in ("Mentions légales", "Nous contacter", "Actualités", "Cookies"):
        assert boilerplate not in parsed.text
    assert ("Le transport solidaire du plateau", "Résultats") in [s.path for s in parsed.sections]


def test_text_falls_back_to_cp1252(fixtures_dir):
    parsed = parse(fixtures_dir / "latin1.txt")
    assert "Les élus ont validé le projet de tiers-lieu à l’automne" in parsed.text
    assert "12 000 €" in parsed.text
    assert parsed.detected_title == "Compte rendu de réunion"


def test_utf8_text_with_bom_and_crlf():
    parsed = parse_bytes(Path("x.txt"), "\ufeffÉté\r\nligne 2\r\n".encode("utf-8"))
    assert parsed.text == "Été\nligne 2\n"


@pytest.mark.parametrize(
    "name, message",
    [
        ("corrompu.pdf", "PDF illisible ou corrompu"),
        ("chiffre.pdf", "PDF chiffré"),
        ("corrompu.pptx", "PPTX illisible ou corrompu"),
        ("chiffre.pptx", "PPTX chiffré : protégé par un mot de passe"),
        ("corrompu.odt", "ODT illisible ou corrompu"),
        ("chiffre.odt", "ODT chiffré : protégé par un mot de passe"),
        ("vide.md", "fichier vide"),
        ("binaire.md", "contenu binaire"),
        ("yaml-invalide.md", "front matter YAML invalide (ligne"),
    ],
)
def test_bad_input_gets_a_clear_french_reason(fixtures_dir, name, message):
    with pytest.raises(DocumentError) as error:
        parse(fixtures_dir / name)
    assert message in str(error.value)


@pytest.mark.parametrize("name", ["scanne.pdf", "scan-vierge.pdf"])
def test_a_scan_with_nothing_legible_is_refused(fixtures_dir, name, ocr_available):
    with pytest.raises(DocumentError) as error:
        parse(fixtures_dir / name)
    assert "pas de texte extractible : aucun texte reconnu par l'OCR sur la page 1" in str(error.value)


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("faux.pdf", b"hello, not a pdf", "n'est pas un PDF"),
        ("faux.docx", b"plain text", "n'est pas un DOCX"),
        ("faux.docx", b"PK\x03\x04broken zip", "DOCX illisible"),
        ("x.ods", b"whatever", "format non pris en charge"),
        ("x.odt", b"whatever", "n'est pas un ODT (archive ZIP attendue)"),
        ("faux.pptx", b"PK\x03\x04broken zip", "PPTX illisible"),
        ("ancien.pptx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "ancien format Office"),
        ("blanc.txt", b"   \n\n ", "fichier vide"),
        ("seul.md", b"---\ntitle: x\n---\n", "sans contenu"),
        ("ouvert.md", b"---\ntitle: x\n# pas de fin\n", "non refermé"),
        ("liste.md", b"---\n- a\n- b\n---\ntexte", "clé: valeur"),
    ],
)
def test_content_that_contradicts_its_name_is_refused(name, data, message):
    with pytest.raises(DocumentError) as error:
        parse_bytes(Path(name), data)
    assert message in str(error.value)


def test_front_matter_is_optional():
    assert split_front_matter("# Titre\n\ntexte") == ({}, "# Titre\n\ntexte")


@pytest.mark.parametrize(
    "real, named, message",
    [
        ("methode.docx", "x.pptx", "le contenu est un DOCX, pas un PPTX"),
        ("diaporama.pptx", "x.odt", "le contenu est un PPTX, pas un ODT"),
        ("reglement.odt", "x.docx", "le contenu est un ODT, pas un DOCX"),
    ],
)
def test_office_files_are_told_apart_by_content(fixtures_dir, real, named, message):
    with pytest.raises(DocumentError) as error:
        parse_bytes(Path(named), (fixtures_dir / real).read_bytes())
    assert message in str(error.value)
