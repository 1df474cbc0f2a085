"""OCR of the pages of a PDF that have no text layer (scans): pypdfium2 renders each page,
Tesseract reads it with the configured language model (French by default).

Tesseract is a Debian program, optional at run time: when it or its language model is missing,
``OcrUnavailable`` names the packages to install. Every other failure is a ``DocumentError``
with a French reason. Options come from the caller (``ReaderOptions``), never from the
environment.

Rendering is bounded before anything is rendered (issue 31: one 200-inch page asked for 10 GB):
a page larger than ``options.ocr_max_page_megapixels`` at ``options.ocr_dpi`` is rendered at the
lower resolution that fits, down to ``MIN_LOWERED_DPI``, and a page still larger is refused, as
is a document whose pages add up to more than ``options.ocr_max_document_megapixels``.

Tesseract runs as a child process with its TSV output (word, position, confidence), one thread
(``OMP_THREAD_LIMIT=1``: its OpenMP threads spin against the embedding model and the other
processes of a 2-core machine, measured 2.6 times slower per page) and a timeout per page.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import math
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.core.errors import DocumentError, OcrUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from ingest.reader_base import ReaderOptions

TESSERACT = "tesseract"
# A word below this confidence (0-100) is dropped unless its line is confident: a blank or
# speckled scan yields a few low-confidence "words" made of noise.
_MIN_WORD_CONFIDENCE = 40
_MIN_LINE_CONFIDENCE = 55
# A rendered page whose darkest pixel is lighter than this (0-255) is blank: nothing to read.
_BLANK_PAGE_DARKEST = 160
# A page too large for the pixel bound at ``ocr_dpi`` is read at a lower resolution, but not below
# this one (or ``ocr_dpi`` if lower). Lowering rather than refusing keeps a poster or a plan
# readable (an A0 sheet is read at 160 dpi under the default bound); the corpus's scanned minutes
# read as well at 150 dpi as at 300 (98.5 and 99.0 % of characters, against 98.2 and 99.1), and
# 8-point print still has lower-case letters about 8 pixels high there. The floor refuses a page
# that could only be read as a thumbnail (one of 200 inches: 900 megapixels at 150 dpi) before
# any pixel of it is spent.
MIN_LOWERED_DPI = 150


@dataclass(frozen=True)
class PagePlan:
    """How one page is rendered: its resolution and the pixels of its image."""

    number: int
    dpi: int
    pixels: int


@dataclass(frozen=True)
class OcrPage:
    """What Tesseract read on one page: its text and the mean confidence of its words (0-1)."""

    number: int
    text: str
    confidence: float
    characters: int  # letters and digits read


def packages_for(language: str) -> list[str]:
    """The Debian packages OCR needs, e.g. ``tesseract-ocr tesseract-ocr-fra``."""
    return ["tesseract-ocr", *(f"tesseract-ocr-{lang}" for lang in language.split("+"))]


def _unavailable(reason: str, language: str) -> OcrUnavailable:
    packages = packages_for(language)
    return OcrUnavailable(
        f"{reason} : installez les paquets Debian {' et '.join(packages)} (apt-get install "
        f"{' '.join(packages)}), ou désactivez la reconnaissance de texte (KB_OCR_ENABLED=false)"
    )


@functools.lru_cache(maxsize=4)
def _engine(language: str) -> str:
    """Tesseract's version once it is known to run with ``language`` (cached only on success:
    packages installed while a server runs are picked up)."""
    executable = shutil.which(TESSERACT)
    not_installed = "reconnaissance de texte (OCR) impossible : Tesseract n'est pas installé"
    if executable is None:
        raise _unavailable(not_installed, language)
    try:
        version = _run([executable, "--version"], b"", 30).stdout.decode("utf-8", "replace")
        listed = _run([executable, "--list-langs"], b"", 30).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError) as exc:
        raise _unavailable(not_installed, language) from exc
    installed = {line.strip() for line in listed.splitlines()[1:]}
    missing = [lang for lang in language.split("+") if lang not in installed]
    if missing:
        raise _unavailable(
            f"reconnaissance de texte (OCR) impossible : le modèle de langue « {'+'.join(missing)} » "
            "de Tesseract n'est pas installé",
            language,
        )
    first_line = (version.splitlines() or ["tesseract"])[0].strip()
    return first_line.replace("tesseract", "Tesseract", 1)


def check_available(language: str) -> str:
    """Tesseract's version; ``OcrUnavailable`` (French, with the packages to install) if it
    cannot run with ``language``."""
    return _engine(language)


def _run(command: list[str], stdin: bytes, timeout: float) -> subprocess.CompletedProcess:
    # The child inherits the environment as any child does, with its OpenMP threads limited.
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    return subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, check=True, env=environment)


def read_pages(data: bytes, numbers: list[int], options: ReaderOptions) -> list[OcrPage]:
    """OCR of the given pages (1-based numbers) of a PDF; pages with nothing legible are left out.

    ``options.on_ocr_page(done, total)`` is called before the first page (done = 0) and after
    each page."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise DocumentError("PDF illisible ou corrompu (rendu des pages scannées impossible)") from exc
    pages: list[OcrPage] = []
    try:
        plans = plan_pages(document, numbers, options)
        if options.on_ocr_page:
            options.on_ocr_page(0, len(numbers))
        for done, plan in enumerate(plans, start=1):
            number = plan.number
            try:
                pdf_page = document[number - 1]
                # The page as loaded must be the size planned: nothing larger is ever rendered.
                if _rendered_pixels(pdf_page.get_size(), plan.dpi) > plan.pixels:
                    raise ValueError("page larger than planned")
                bitmap = pdf_page.render(scale=plan.dpi / 72, grayscale=True)
                image = bitmap.to_pil().convert("L")
            except (pypdfium2.PdfiumError, IndexError, ValueError) as exc:
                raise DocumentError(_unrenderable(number)) from exc
            page = read_image(image, number, dataclasses.replace(options, ocr_dpi=plan.dpi))
            if page.characters:
                pages.append(page)
            if options.on_ocr_page:
                options.on_ocr_page(done, len(numbers))
    finally:
        document.close()
    return pages


def plan_pages(document, numbers: list[int], options: ReaderOptions) -> list[PagePlan]:
    """The resolution and pixels of each page to render (1-based numbers), read from the page
    sizes without rendering nor even loading a page; ``DocumentError`` for a page too large even
    at the lowest resolution allowed, or pages too large together."""
    import pypdfium2

    plans = []
    for number in numbers:
        try:
            size = document.get_page_size(number - 1)
        except (pypdfium2.PdfiumError, IndexError, ValueError) as exc:
            raise DocumentError(_unrenderable(number)) from exc
        plans.append(_plan_page(number, size, options))
    total = sum(plan.pixels for plan in plans)
    if total > options.ocr_max_document_megapixels * 1e6:
        raise DocumentError(
            f"pages sans couche texte trop grandes à reconnaître : {_megapixels(total / 1e6)} à afficher "
            f"sur {len(plans)} page{'s' if len(plans) > 1 else ''} (au plus "
            f"{_megapixels(options.ocr_max_document_megapixels)} par document, réglable par "
            "KB_OCR_MAX_DOCUMENT_MEGAPIXELS)"
        )
    return plans


def _plan_page(number: int, size: tuple[float, float], options: ReaderOptions) -> PagePlan:
    """``options.ocr_dpi``, or for a page that would be larger than the bound the highest
    resolution under it, down to ``MIN_LOWERED_DPI``."""
    width, height = size
    if not all(math.isfinite(side) and side > 0 for side in size):
        raise DocumentError(_unrenderable(number))
    bound = options.ocr_max_page_megapixels * 1e6
    dpi = options.ocr_dpi
    if _rendered_pixels(size, dpi) > bound:
        floor = min(MIN_LOWERED_DPI, options.ocr_dpi)
        dpi = min(dpi, math.floor(72 * math.sqrt(bound / (width * height))))
        while dpi >= floor and _rendered_pixels(size, dpi) > bound:
            dpi -= 1  # the rounding up of each side may pass the bound by a few pixels
        if dpi < floor:
            raise DocumentError(
                f"page {number} : {_number(width)} × {_number(height)} points ({_number(width / 72)} × "
                f"{_number(height / 72)} pouces), trop grande pour la reconnaissance de texte "
                f"({_megapixels(_rendered_pixels(size, floor) / 1e6)} à {floor} dpi ; au plus "
                f"{_megapixels(options.ocr_max_page_megapixels)} par page, réglable par "
                "KB_OCR_MAX_PAGE_MEGAPIXELS)"
            )
    return PagePlan(number, dpi, _rendered_pixels(size, dpi))


def _rendered_pixels(size: tuple[float, float], dpi: int) -> int:
    """The pixels of a page rendered at ``dpi``, sized as pypdfium2 sizes its bitmap."""
    scale = dpi / 72
    return math.ceil(size[0] * scale) * math.ceil(size[1] * scale)


def _unrenderable(number: int) -> str:
    return f"page {number} impossible à afficher pour la reconnaissance de texte"


def _number(value: float) -> str:
    """French figures: ``14 400``, ``69``, ``5,8``."""
    if value >= 10 or value == int(value):
        return f"{round(value):,}".replace(",", " ")
    return f"{value:.1f}".replace(".", ",").removesuffix(",0")


def _megapixels(value: float) -> str:
    shown = _number(value)
    plural = float(shown.replace(" ", "").replace(",", ".")) >= 2
    return f"{shown} mégapixel{'s' if plural else ''}"


def read_image(image, number: int, options: ReaderOptions) -> OcrPage:
    """OCR of one grayscale page image (Pillow), rendered at ``options.ocr_dpi``."""
    from PIL import ImageFilter

    darkest, _ = image.getextrema()
    if darkest >= _BLANK_PAGE_DARKEST:
        return OcrPage(number, "", 0.0, 0)
    check_available(options.ocr_language)  # only now: blank pages need no Tesseract
    # Speckles (dust, toner) smaller than about 1/60 inch are removed before reading.
    image = image.filter(ImageFilter.MedianFilter(max(3, round(options.ocr_dpi / 60) | 1)))
    buffer = io.BytesIO()
    image.save(buffer, format="PPM")  # uncompressed PGM: quick to write and to read
    command = [
        TESSERACT,
        "stdin",
        "stdout",
        "-l",
        options.ocr_language,
        "--psm",
        "3",
        "--dpi",
        str(options.ocr_dpi),
        "tsv",
    ]
    try:
        result = _run(command, buffer.getvalue(), options.ocr_page_timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise DocumentError(
            f"reconnaissance de texte trop longue à la page {number} (plus de "
            f"{options.ocr_page_timeout_s:g} s ; limite réglable par KB_OCR_PAGE_TIMEOUT_S)"
        ) from exc
    except (OSError, subprocess.CalledProcessError) as exc:
        raise DocumentError(f"échec de la reconnaissance de texte à la page {number}") from exc
    return page_from_tsv(result.stdout.decode("utf-8", "replace"), number)


def page_from_tsv(tsv: str, number: int) -> OcrPage:
    """Lines and paragraphs rebuilt from Tesseract's words; noise (lone low-confidence words) dropped."""
    lines: dict[tuple[str, str, str], list[tuple[str, float]]] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        word = (row.get("text") or "").strip()
        try:
            confidence = float(row.get("conf") or -1)
        except ValueError:
            continue
        if word and confidence >= 0:
            key = (row["block_num"], row["par_num"], row["line_num"])
            lines.setdefault(key, []).append((word, confidence))
    paragraphs: list[list[str]] = []
    last_paragraph = None
    weighted = 0.0
    characters = 0
    for (block, paragraph, _), words in lines.items():
        line_confidence = _weighted_confidence(words)
        kept = [
            (word, conf)
            for word, conf in words
            if conf >= _MIN_WORD_CONFIDENCE or line_confidence >= _MIN_LINE_CONFIDENCE
        ]
        if not any(ch.isalnum() for word, _ in kept for ch in word):
            continue
        if (block, paragraph) != last_paragraph:
            paragraphs.append([])
            last_paragraph = (block, paragraph)
        paragraphs[-1].append(" ".join(word for word, _ in kept))
        weighted += sum(conf * len(word) for word, conf in kept)
        characters += sum(len(word) for word, _ in kept)
    text = "\n\n".join("\n".join(paragraph) for paragraph in paragraphs)
    confidence = weighted / characters / 100 if characters else 0.0
    return OcrPage(number, text, round(confidence, 3), sum(ch.isalnum() for ch in text))


def _weighted_confidence(words: list[tuple[str, float]]) -> float:
    characters = sum(len(word) for word, _ in words)
    return sum(conf * len(word) for word, conf in words) / characters if characters else 0.0
