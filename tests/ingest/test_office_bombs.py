"""Zip bombs in DOCX, PPTX and ODT refused before their library inflates them (issue 31)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.office_bombs import BOMBS, FIXTURES, ROOT, build_bomb, docx_body, office_with
from ingest.readers import ReaderOptions, parse_bytes
from kb.core.errors import DocumentError, DocumentTooLarge


def parse(path: Path, options: ReaderOptions | None = None):
    return parse_bytes(path, path.read_bytes(), options or ReaderOptions())


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


@pytest.mark.slow  # builds every bomb (about 10 s) and reads each in a child process
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


@pytest.mark.slow
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
