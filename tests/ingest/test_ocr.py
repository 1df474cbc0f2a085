"""OCR bounded in rendered pixels (issue 31): a page too large is read at a lower resolution or
refused before it is rendered, and so is a document whose pages add up to too many pixels."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fpdf import FPDF

from ingest import ocr
from ingest.readers import ReaderOptions, parse_bytes
from kb.core.errors import DocumentError

ROOT = Path(__file__).resolve().parents[2]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

# Parses one PDF with the default options in a fresh process: its time and peak memory (its own
# and Tesseract's), under a 4 GB address-space limit (unbounded, a 200-inch page asked for 10 GB).
_MEASURE = """
import json, resource, sys, time
from pathlib import Path

resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GB: rendering the page would not fit
from ingest.readers import ReaderOptions, parse_bytes
from kb.core.errors import DocumentError

path = Path(sys.argv[1])
started = time.monotonic()
try:
    parse_bytes(path, path.read_bytes(), ReaderOptions())
    outcome = "lu"
except DocumentError as exc:
    outcome = str(exc)
except MemoryError:
    outcome = "MemoryError"
seconds = time.monotonic() - started
peak_kb = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(json.dumps({"outcome": outcome, "seconds": seconds, "peak_mb": peak_kb / 1024}))
"""


def drawn_pdf(path: Path, side_pt: float, pages: int = 1) -> Path:
    """Square pages of ``side_pt`` points with a drawn shape and no text layer (a scan to OCR)."""
    document = FPDF(unit="pt", format=(side_pt, side_pt))
    for _ in range(pages):
        document.add_page()
        document.rect(side_pt * 0.1, side_pt * 0.1, side_pt * 0.3, side_pt * 0.05, style="F")
    document.output(str(path))
    return path


def measured(path: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "side_pt, pages, expected",
    [
        # One 200-inch page (the report: 10.4 GB and 41 s of CPU).
        (
            14_400,
            1,
            "page 1 : 14 400 × 14 400 points (200 × 200 pouces), trop grande pour la reconnaissance "
            "de texte (900 mégapixels à 150 dpi ; au plus 40 mégapixels par page, réglable par "
            "KB_OCR_MAX_PAGE_MEGAPIXELS)",
        ),
        # A hundred 5,000-point pages (about 25 s and 2.1 GB each, all under the page limit).
        (5_000, 100, "page 1 : 5 000 × 5 000 points (69 × 69 pouces), trop grande"),
        # A hundred pages each read at a lower resolution, together far past the document's bound.
        (
            2_000,
            100,
            "pages sans couche texte trop grandes à reconnaître : 3 977 mégapixels à afficher sur "
            "100 pages (au plus 1 000 mégapixels par document, réglable par KB_OCR_MAX_DOCUMENT_MEGAPIXELS)",
        ),
    ],
)
def test_hostile_page_sizes_are_refused_with_bounded_memory(tmp_path, side_pt, pages, expected):
    """Refused, in French, by a process whose address space is capped at 1 GB (rendering the
    200-inch page alone took 10.4 GB): nothing large is rendered (the test below stubs the
    rendering out). Its time and peak RSS are reported by the child, not asserted: the machine
    may be shared, and a forked child's ru_maxrss can start from its parent's."""
    figures = measured(drawn_pdf(tmp_path / "grand.pdf", side_pt, pages))
    assert expected in figures["outcome"], figures


def test_a_page_larger_than_the_bound_is_read_at_a_lower_resolution(tmp_path, monkeypatch, ocr_available):
    from PIL import Image, ImageDraw, ImageFont

    # A 1,000-point (13.9-inch) page: 17.4 megapixels at 300 dpi, 8 allowed, so read at 203 dpi.
    line = "Budget du minibus : 18 500 euros"
    font = ImageFont.truetype(FONT, 60)  # 60 pixels at 300 dpi: 14.4-point letters
    left, top, right, bottom = font.getbbox(line)
    image = Image.new("L", (right + 40, bottom + 40), 255)
    ImageDraw.Draw(image).text((20, 20), line, font=font, fill=0)
    document = FPDF(unit="pt", format=(1_000, 1_000))
    document.add_page()
    document.image(image, x=100, y=100, w=image.width * 72 / 300)
    path = tmp_path / "affiche.pdf"
    document.output(str(path))

    rendered = []
    read_image = ocr.read_image
    monkeypatch.setattr(
        ocr, "read_image", lambda *args: rendered.append((args[0].size, args[2].ocr_dpi)) or read_image(*args)
    )
    options = ReaderOptions(ocr_max_page_megapixels=8)
    parsed = parse_bytes(path, path.read_bytes(), options)
    assert rendered == [((2_820, 2_820), 203)]
    assert "18 500 euros" in parsed.text and "minibus" in parsed.text
    assert parsed.raw_metadata["ocr"]["pages"] == [1]


def test_a_page_or_a_document_past_its_bound_is_refused_before_rendering(fixtures_dir, monkeypatch):
    def render(*args, **kwargs):
        raise AssertionError("rendered")

    monkeypatch.setattr("pypdfium2.PdfPage.render", render)
    data = (fixtures_dir / "scan-mixte.pdf").read_bytes()
    # The scanned page 2 of scan-mixte.pdf: 595 × 421 points, 4.4 megapixels at 300 dpi.
    with pytest.raises(DocumentError) as error:
        parse_bytes(Path("scan-mixte.pdf"), data, ReaderOptions(ocr_max_document_megapixels=2))
    assert str(error.value) == (
        "pages sans couche texte trop grandes à reconnaître : 4,4 mégapixels à afficher sur 1 page "
        "(au plus 2 mégapixels par document, réglable par KB_OCR_MAX_DOCUMENT_MEGAPIXELS)"
    )
    # Under 1 megapixel the page would be read below 150 dpi: refused.
    with pytest.raises(DocumentError) as error:
        parse_bytes(Path("scan-mixte.pdf"), data, ReaderOptions(ocr_max_page_megapixels=1))
    assert str(error.value) == (
        "page 2 : 595 × 421 points (8,3 × 5,8 pouces), trop grande pour la reconnaissance de texte "
        "(1,1 mégapixel à 150 dpi ; au plus 1 mégapixel par page, réglable par KB_OCR_MAX_PAGE_MEGAPIXELS)"
    )


def test_a_lower_configured_resolution_is_its_own_floor(fixtures_dir, monkeypatch):
    # At 100 dpi (KB_OCR_DPI's least) the scanned page is 0.48 megapixels: read at 100 dpi under a
    # bound of 1, refused under 0.4 rather than read below the resolution asked for.
    rendered = []
    monkeypatch.setattr(
        ocr,
        "read_image",
        lambda image, number, options: rendered.append(options.ocr_dpi) or ocr.OcrPage(number, "", 0, 0),
    )
    data = (fixtures_dir / "scan-mixte.pdf").read_bytes()
    parse_bytes(Path("scan-mixte.pdf"), data, ReaderOptions(ocr_dpi=100, ocr_max_page_megapixels=1))
    assert rendered == [100]
    with pytest.raises(DocumentError) as error:
        parse_bytes(Path("scan-mixte.pdf"), data, ReaderOptions(ocr_dpi=100, ocr_max_page_megapixels=0.4))
    assert "(0,5 mégapixel à 100 dpi ; au plus 0,4 mégapixel par page" in str(error.value)
    assert rendered == [100]
