from __future__ import annotations

from pathlib import Path

import pytest

from ingest.readers import parse_bytes, split_front_matter
from kb.errors import DocumentError


def parse(path: Path):
    return parse_bytes(path, path.read_bytes())


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


def test_docx_keeps_headings_and_tables(fixtures_dir):
    parsed = parse(fixtures_dir / "methode.docx")
    assert parsed.detected_title == "Méthode du diagnostic partagé"
    assert ("Méthode du diagnostic partagé", "Étapes", "Pièges à éviter") in [
        s.path for s in parsed.sections
    ]
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
        ("scanne.pdf", "pas de texte extractible"),
        ("vide.md", "fichier vide"),
        ("binaire.md", "contenu binaire"),
        ("yaml-invalide.md", "front matter YAML invalide (ligne"),
    ],
)
def test_bad_input_gets_a_clear_french_reason(fixtures_dir, name, message):
    with pytest.raises(DocumentError) as error:
        parse(fixtures_dir / name)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("faux.pdf", b"hello, not a pdf", "n'est pas un PDF"),
        ("faux.docx", b"plain text", "n'est pas un DOCX"),
        ("faux.docx", b"PK\x03\x04broken zip", "DOCX illisible"),
        ("x.ods", b"whatever", "format non pris en charge"),
        ("x.odt", b"whatever", "n'est pas un ODT"),
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
