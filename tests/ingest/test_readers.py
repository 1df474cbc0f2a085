from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest import ocr
from ingest.readers import ReaderOptions, parse_bytes, split_front_matter
from kb.core.errors import DocumentError, DocumentTooLarge, OcrUnavailable
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


# -- hostile ZIP containers: DOCX, PPTX, ODT (issue 31) -------------------------------------------

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "docs"
MB = 1 << 20


def office_with(base: Path, target: Path, member: str, pieces: Callable[[bytes], Iterator[bytes]]) -> Path:
    """A copy of the real office file ``base`` whose ``member`` is what ``pieces(original member)``
    yields, deflated as it streams: however large it inflates, the test never holds it."""
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            if info.filename != member:
                copy.writestr(info, source.read(info))
                continue
            with copy.open(member, "w") as out:
                for piece in pieces(source.read(info)):
                    out.write(piece)
    return target


def spaces_before(anchor: bytes, megabytes: int, before: bytes = b"", after: bytes = b""):
    def pieces(original: bytes) -> Iterator[bytes]:
        at = original.index(anchor)
        yield original[:at] + before
        block = b" " * MB
        for _ in range(megabytes):
            yield block
        yield after + original[at:]

    return pieces


def docx_body(count: int, block: Callable[[int], bytes], head: bytes = b"", tail: bytes = b""):
    """A document.xml body of ``count`` blocks (made 10,000 at a time)."""

    def pieces(original: bytes) -> Iterator[bytes]:
        yield original[: original.index(b"<w:body>") + len(b"<w:body>")] + head
        for start in range(0, count, 10_000):
            yield b"".join(block(n) for n in range(start, min(count, start + 10_000)))
        yield tail + b"</w:body></w:document>"

    return pieces


def lie_about_size(path: Path, member: str) -> Path:
    """The central directory says ``member`` holds its first 100 bytes (their CRC included):
    what zipfile hands out stops there, but a one-shot read() inflates the whole member first."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        head = archive.open(member).read(100)
    name = member.encode()
    entry = data.rfind(b"PK\x01\x02", 0, data.rfind(name))
    assert data[entry + 46 : entry + 46 + len(name)] == name
    struct.pack_into("<I", data, entry + 16, zlib.crc32(head))  # its CRC-32
    struct.pack_into("<I", data, entry + 24, len(head))  # its size (the compressed one, at +20, is true)
    path.write_bytes(bytes(data))
    return path


def replaced(base: str, member: str, pieces: Callable[[bytes], Iterator[bytes]], lie: bool = False):
    """A builder of the real file ``base`` with ``member`` replaced (its size a lie if ``lie``)."""

    def build(path: Path) -> Path:
        built = office_with(FIXTURES / base, path.with_suffix(Path(base).suffix), member, pieces)
        return lie_about_size(built, member) if lie else built

    return build


def padded(base: str, count: int, size: int):
    """A builder of the real file ``base`` with ``count`` more members of ``size`` spaces: none
    inflates to 1 MiB, past which a member is held to the ratio; the archive as a whole is."""

    def build(path: Path) -> Path:
        built = path.with_suffix(Path(base).suffix)
        shutil.copy(FIXTURES / base, built)
        with zipfile.ZipFile(built, "a", zipfile.ZIP_DEFLATED) as archive:
            for n in range(count):
                archive.writestr(f"customXml/bourrage{n}.xml", b" " * size)
        return built

    return build


_TEXT_RUN = b'<w:p><w:r><w:t xml:space="preserve">'
_END_RUN = b"</w:t></w:r></w:p>"
_SPACES_DOCX = spaces_before(b"</w:body>", 300, _TEXT_RUN, _END_RUN)
BOMBS: dict[str, Callable[[Path], Path]] = {
    "docx-300-Mo-d-espaces": replaced("methode.docx", "word/document.xml", _SPACES_DOCX),
    "pptx-300-Mo-d-espaces": replaced("diaporama.pptx", "ppt/slides/slide1.xml", spaces_before(b"</a:t>", 300)),
    "odt-300-Mo-d-espaces": replaced("reglement.odt", "content.xml", spaces_before(b"</text:p>", 300)),
    "docx-taille-declaree-mensongere": replaced("methode.docx", "word/document.xml", _SPACES_DOCX, lie=True),
    "pptx-180-parties-de-1-Mo": padded("diaporama.pptx", 180, 1_000_000),
    "docx-1-million-de-paragraphes-vides": replaced(
        "methode.docx", "word/document.xml", docx_body(1_000_000, lambda n: b"<w:p/>")
    ),
    "docx-1-million-de-paragraphes-numerotes": replaced(
        "methode.docx",
        "word/document.xml",
        docx_body(1_000_000, lambda n: b"<w:p><w:r><w:t>%d</w:t></w:r></w:p>" % n),
    ),
    "docx-cellule-sur-un-milliard-de-colonnes": replaced(
        "methode.docx",
        "word/document.xml",
        docx_body(
            1,
            lambda n: (
                b'<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="1000000000"/></w:tcPr>'
                b"<w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
            ),
        ),
    ),
    # 200 rows of 50 cells merged with the row above: python-docx looks each one up from the top
    "docx-fusions-verticales": replaced(
        "methode.docx",
        "word/document.xml",
        docx_body(
            200,
            lambda n: (
                b"<w:tr>"
                + (
                    b"".join(
                        b'<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>c%d</w:t></w:r></w:p></w:tc>'
                        % c
                        for c in range(50)
                    )
                    if n == 0
                    else b"<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>" * 50
                )
                + b"</w:tr>"
            ),
            head=b"<w:tbl><w:tblGrid>" + b"<w:gridCol/>" * 50 + b"</w:tblGrid>",
            tail=b"</w:tbl>",
        ),
    ),
}


def build_bomb(name: str, folder: Path) -> Path:
    return BOMBS[name](folder / name)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombes")
    return {name: build_bomb(name, folder) for name in BOMBS}


# Read in a child process: its peak memory (ru_maxrss) is its own, and an address-space limit
# turns a regression into a MemoryError there rather than a swapping test machine.
_READ_IN_CHILD = """
import json, resource, sys, time
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
import docx, odfdo, pptx  # the readers import them lazily: not part of the measure
from ingest.readers import parse_bytes
from kb.core.errors import DocumentError
path = Path(sys.argv[1])
data = path.read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
result = {"error": None, "characters": None}
try:
    result["characters"] = len(parse_bytes(path, data).text)
except DocumentError as exc:
    result["error"] = str(exc)
result["seconds"] = time.perf_counter() - started
result["grown_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps(result))
"""


def read_in_child(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _READ_IN_CHILD, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "name, reason",
    [
        ("docx-300-Mo-d-espaces", r"archive refusée : 300,\d Mo une fois décompressée \(au plus 200 Mo, réglable"),
        ("pptx-300-Mo-d-espaces", r"archive refusée : 300,\d Mo une fois décompressée \(au plus 200 Mo, réglable"),
        ("odt-300-Mo-d-espaces", r"archive refusée : 300,\d Mo une fois décompressée \(au plus 200 Mo, réglable"),
        ("docx-taille-declaree-mensongere", "DOCX illisible ou corrompu"),
        ("pptx-180-parties-de-1-Mo", r"archive refusée : elle se décompresse en \d+ fois sa taille \(au plus 200 fois"),
        ("docx-1-million-de-paragraphes-vides", r"fois sa taille \(au plus 200 fois"),
        ("docx-1-million-de-paragraphes-numerotes", "éléments et attributs XML"),
        ("docx-cellule-sur-un-milliard-de-colonnes", "document trop long"),
    ],
)
def test_a_zip_bomb_is_refused_in_french_without_inflating_it(bombs, name, reason):
    """The child reports its time too; it is printed on failure, never asserted (shared machine)."""
    measured = read_in_child(bombs[name])
    assert measured["error"] is not None and re.search(reason, measured["error"]), measured
    assert measured["grown_mb"] < 64, measured  # what the archive inflates to: 300 MB and more


def test_vertically_merged_cells_are_read_in_one_pass(bombs):
    measured = read_in_child(bombs["docx-fusions-verticales"])
    assert measured["error"] is None, measured
    parsed = parse_bytes(Path("x.docx"), bombs["docx-fusions-verticales"].read_bytes())
    row = " | ".join(f"c{c}" for c in range(50))
    assert parsed.text.count(row) == 200  # as python-docx gives them: the merged text on every row


REAL_OFFICE_FILES = sorted(
    [path for path in (ROOT / "corpus").rglob("*") if path.suffix in {".docx", ".pptx", ".odt"}]
    + [FIXTURES / name for name in ("methode.docx", "diaporama.pptx", "reglement.odt")]
)


@pytest.mark.parametrize("path", REAL_OFFICE_FILES, ids=lambda path: path.name)
def test_real_office_files_are_within_the_bounds(path):
    assert parse(path).text.strip()


def test_office_bounds_come_from_the_settings(tmp_path):
    methode = FIXTURES / "methode.docx"  # 17 members, 0.8 MB inflated
    with pytest.raises(
        DocumentError, match=r"archive refusée : 17 fichiers \(au plus 10, réglable par KB_OFFICE_MAX_ENTRIES\)"
    ):
        parse(methode, ReaderOptions(office_max_entries=10))
    with pytest.raises(
        DocumentError,
        match=r"0,8 Mo une fois décompressée \(au plus 0,5 Mo, réglable par KB_OFFICE_MAX_UNCOMPRESSED_MB\)",
    ):
        parse(methode, ReaderOptions(office_max_uncompressed_mb=0.5))
    with pytest.raises(DocumentError, match="KB_OFFICE_MAX_XML_NODES"):
        parse(methode, ReaderOptions(office_max_xml_nodes=10_000))
    # 40,000 numbered paragraphs: 1.9 MB compressed 19 times (the archive as a whole: 20 times)
    numbered = office_with(
        methode,
        tmp_path / "numerote.docx",
        "word/document.xml",
        docx_body(40_000, lambda n: b"<w:p><w:r><w:t>Paragraphe %d</w:t></w:r></w:p>" % n),
    )
    assert parse(numbered).text.count("Paragraphe") == 40_000
    with pytest.raises(
        DocumentError,
        match=r"« word/document.xml » se décompresse en \d+ fois sa taille \(au plus 15 fois, réglable par KB_OFFICE_MAX_RATIO\)",
    ):
        parse(numbered, ReaderOptions(office_max_ratio=15))


@pytest.mark.parametrize("name", ["methode.docx", "diaporama.pptx", "reglement.odt"])
def test_office_text_is_bounded_while_it_is_read(name):
    with pytest.raises(
        DocumentTooLarge,
        match=r"document trop long : plus de 3 paragraphes, cellules ou formes \(réglable par KB_OFFICE_MAX_BLOCKS\)",
    ):
        parse(FIXTURES / name, ReaderOptions(office_max_blocks=3))
    with pytest.raises(
        DocumentTooLarge,
        match=r"texte trop long une fois extrait \(plus de 100 caractères ; réglable par KB_MAX_DOCUMENT_CHARS\)",
    ):
        parse(FIXTURES / name, ReaderOptions(max_document_chars=100))


def test_a_long_docx_stops_being_read_at_the_text_bound(tmp_path):
    long = office_with(
        FIXTURES / "methode.docx",
        tmp_path / "long.docx",
        "word/document.xml",
        docx_body(100_000, lambda n: b"<w:p><w:r><w:t>Paragraphe %d</w:t></w:r></w:p>" % n),
    )
    with pytest.raises(DocumentTooLarge, match="texte trop long une fois extrait"):
        parse(long, ReaderOptions(max_document_chars=50_000))  # refused while read: about 4,000 paragraphs
