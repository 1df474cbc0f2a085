"""Generate the corpus's PDF, DOCX, PPTX, ODT, HTML and TXT documents from their Markdown sources.

    python corpus/build.py [NAME…]   # all sources, or those whose id contains NAME

Each `_sources/<folder>/<id>.md` has a `format:` key (pdf, scan, docx, pptx, odt, html, txt);
the output goes to `<folder>/<id>.<format>` (a `scan` is a `.pdf` of page images without text
layer, as a copier makes it) with its metadata in a sidecar `<id>.<format>.meta.yaml`. Outputs
are committed, so this only runs when a source changes; the same source gives the same bytes.
Needs fpdf2, python-docx, python-pptx, odfdo, Pillow and the DejaVu fonts (Debian package
fonts-dejavu-core).
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "_sources"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def parse_source(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?\n)---\n", text, re.DOTALL)
    if not match:
        raise SystemExit(f"{path}: front matter missing")
    return yaml.safe_load(match.group(1)), text[match.end() :].strip() + "\n"


def blocks(body: str, rows: bool = False) -> list[tuple[str, str]]:
    """(kind, text) with kind in h1..h6, li, p; inline Markdown emphasis removed. Table rows are
    paragraphs "a | b", or with ``rows`` ("tr", "a | b") for the formats that draw tables."""
    result: list[tuple[str, str]] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            result.append(("p", " ".join(paragraph)))
            paragraph.clear()

    for raw in body.splitlines():
        line = raw.strip()
        clean = re.sub(r"\*\*(.+?)\*\*|\*(.+?)\*|`(.+?)`", lambda m: next(g for g in m.groups() if g), line)
        if not line:
            flush()
        elif m := re.match(r"^(#{1,6})\s+(.*)", clean):
            flush()
            result.append((f"h{len(m.group(1))}", m.group(2).strip()))
        elif m := re.match(r"^([-*]|\d+[.)])\s+(.*)", clean):
            flush()
            result.append(("li", m.group(2).strip()))
        elif re.match(r"^\|?\s*:?-{3,}", clean):
            continue  # table separator row
        elif clean.startswith("|"):
            flush()
            cells = [c.strip() for c in clean.strip("|").split("|")]
            result.append(("tr" if rows else "p", " | ".join(cells)))
        else:
            paragraph.append(clean)
    flush()
    return result


def title_and_blocks(meta: dict, body: str, rows: bool = False) -> tuple[str, list[tuple[str, str]]]:
    items = blocks(body, rows)
    if items and items[0][0] == "h1":
        return items[0][1], items[1:]
    return str(meta["title"]), items


def write_pdf(meta: dict, body: str, target: Path) -> None:
    from fpdf import FPDF

    title, items = title_and_blocks(meta, body)
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", style="B", fname=str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_author(str(meta.get("author", "")))
    pdf.set_subject(str(meta.get("doc_type", "")))
    pdf.set_keywords(", ".join(meta.get("themes", [])))
    pdf.set_creation_date(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))  # deterministic output
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, title)
    pdf.ln(3)
    for kind, text in items:
        if kind.startswith("h"):
            pdf.ln(2)
            pdf.set_font("DejaVu", "B", 13 if kind == "h2" else 11)
            pdf.multi_cell(0, 7, text)
            pdf.ln(1)
        else:
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(0, 5.5, ("• " if kind == "li" else "") + text)
            pdf.ln(1.5)
    pdf.output(str(target))


# -- scans: minutes printed, signed and scanned back (no text layer) --------------------------

SCAN_DPI = 200
SCAN_PAGE = (1654, 2339)  # A4 at 200 dpi
SCAN_MARGINS = (170, 190, 170, 210)  # left, top, right, bottom
SCAN_STYLES = {  # kind: (font file, size in points, space before in lines)
    "title": ("DejaVuSerif-Bold.ttf", 14, 0.0),
    "h": ("DejaVuSerif-Bold.ttf", 12, 0.8),
    "p": ("DejaVuSerif.ttf", 11, 0.35),
    "li": ("DejaVuSerif.ttf", 11, 0.15),
}


def _scan_fonts() -> dict:
    from PIL import ImageFont

    return {
        kind: ImageFont.truetype(str(FONT_DIR / name), round(size * SCAN_DPI / 72))
        for kind, (name, size, _) in SCAN_STYLES.items()
    }


def scan_lines(meta: dict, body: str, page: tuple[int, int] = SCAN_PAGE) -> list[list[tuple[str, str]]]:
    """The printed pages of a scanned document: lists of (kind, line), wrapped to the page
    (kind "gap" holds the extra space before a block, in pixels)."""
    items = blocks(body)
    if items and items[0][0] == "h1":
        items[0] = ("title", items[0][1])
    elif meta.get("title"):
        items.insert(0, ("title", str(meta["title"])))
    fonts = _scan_fonts()
    width = page[0] - SCAN_MARGINS[0] - SCAN_MARGINS[2]
    height = page[1] - SCAN_MARGINS[1] - SCAN_MARGINS[3]
    pages: list[list[tuple[str, str]]] = [[]]
    used = 0.0
    for kind, text in items:
        kind = "h" if kind.startswith("h") else kind
        font = fonts[kind]
        step = font.size * 1.35
        lines = _wrap(("- " if kind == "li" else "") + text, font, width - (40 if kind == "li" else 0))
        before = SCAN_STYLES[kind][2] * step if pages[-1] else 0
        if used + before + step * min(len(lines), 2) > height:  # no heading alone at a page's foot
            pages.append([])
            used, before = 0.0, 0.0
        used += before
        if before:
            pages[-1].append(("gap", str(before)))
        for line in lines:
            if used + step > height:
                pages.append([])
                used = 0.0
            pages[-1].append((kind, line))
            used += step
    return pages


def _wrap(text: str, font, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return lines + ([current] if current else [])


def scan_text(meta: dict, body: str) -> str:
    """What a perfect OCR would read: the printed lines and page footers, in order."""
    pages = scan_lines(meta, body)
    words = []
    for number, lines in enumerate(pages, start=1):
        words += [line for kind, line in lines if kind != "gap"]
        words.append(f"Page {number}/{len(pages)}")
    return " ".join(" ".join(words).split())


def render_scan(meta: dict, body: str, seed: int, page: tuple[int, int] = SCAN_PAGE, footer: bool = True) -> list:
    """Grayscale page images as a desk scanner makes them: paper tone, a fraction of a degree of
    rotation, slight blur and speckles (fixed seed: the same source gives the same images)."""
    import random

    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    pages = scan_lines(meta, body, page)
    fonts = _scan_fonts()
    images = []
    for number, lines in enumerate(pages, start=1):
        image = Image.new("L", page, 255)
        draw = ImageDraw.Draw(image)
        y = float(SCAN_MARGINS[1])
        for kind, line in lines:
            if kind == "gap":
                y += float(line)
                continue
            font = fonts[kind]
            x = SCAN_MARGINS[0] + (40 if kind == "li" and not line.startswith("- ") else 0)
            draw.text((x, y), line, font=font, fill=rng.randint(20, 45))
            y += font.size * 1.35
        if footer:
            label = f"Page {number}/{len(pages)}"
            draw.text(
                (page[0] - SCAN_MARGINS[2] - fonts["p"].getlength(label), page[1] - 130),
                label,
                font=fonts["p"],
                fill=40,
            )
        image = image.rotate(rng.uniform(-0.8, 0.8), resample=Image.Resampling.BICUBIC, fillcolor=255)
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 0.8)))
        images.append(_paper_and_speckles(image, rng))
    return images


def _paper_and_speckles(image, rng):
    from PIL import ImageDraw

    tone = rng.randint(232, 246)  # grey paper
    image = image.point(lambda value: round(value * tone / 255))
    draw = ImageDraw.Draw(image)
    band = rng.randint(30, 110)  # the lid's shadow along the left edge, inside the margin
    for x in range(band):
        draw.line((x, 0, x, image.size[1]), fill=tone - round(110 * (1 - x / band)))
    width, height = image.size
    for _ in range(rng.randint(500, 900)):
        x, y, size = rng.randrange(width), rng.randrange(height), rng.choice((1, 1, 1, 2, 2, 3))
        draw.ellipse((x, y, x + size, y + size), fill=rng.randint(30, 140))
    return image


def write_scan(meta: dict, body: str, target: Path) -> None:
    """A PDF of JPEG page images only, like a scanner's: no text layer, no title."""
    import hashlib
    import io

    from fpdf import FPDF

    seed = int(hashlib.sha256(target.name.encode()).hexdigest()[:8], 16)
    pdf = FPDF(unit="pt", format=(SCAN_PAGE[0] * 72 / SCAN_DPI, SCAN_PAGE[1] * 72 / SCAN_DPI))
    pdf.set_creator("Numériseur du copieur, accueil Ressources Rurales AURA")
    pdf.set_creation_date(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    pdf.set_auto_page_break(False)
    for image in render_scan(meta, body, seed):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=55, dpi=(SCAN_DPI, SCAN_DPI))
        buffer.seek(0)
        pdf.add_page()
        pdf.image(buffer, x=0, y=0, w=pdf.w, h=pdf.h)
    pdf.output(str(target))


def fix_zip_dates(path: Path) -> None:
    """Rewrite a ZIP-based document (PPTX, ODT) with fixed member dates, in the same order and
    compression (``mimetype`` first and stored, as ODF wants): the same source gives the same bytes."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info.filename)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in members:
            fixed = zipfile.ZipInfo(info.filename, (2025, 1, 1, 0, 0, 0))
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            archive.writestr(fixed, data)


def write_docx(meta: dict, body: str, target: Path) -> None:
    import docx

    title, items = title_and_blocks(meta, body)
    document = docx.Document()
    properties = document.core_properties
    properties.title = title
    properties.author = str(meta.get("author", ""))
    properties.keywords = ", ".join(meta.get("themes", []))
    properties.created = properties.modified = dt.datetime(2025, 1, 1)
    document.add_heading(title, level=0)
    for kind, text in items:
        if kind.startswith("h"):
            document.add_heading(text, level=max(1, int(kind[1]) - 1))
        elif kind == "li":
            document.add_paragraph(text, style="List Bullet")
        else:
            document.add_paragraph(text)
    document.save(str(target))


def write_html(meta: dict, body: str, target: Path) -> None:
    title, items = title_and_blocks(meta, body)
    parts: list[str] = []
    in_list = False
    for kind, text in items:
        if kind == "li" and not in_list:
            parts.append("<ul>")
            in_list = True
        if kind != "li" and in_list:
            parts.append("</ul>")
            in_list = False
        tag = "li" if kind == "li" else ("p" if kind == "p" else kind)
        parts.append(f"<{tag}>{html.escape(text)}</{tag}>")
    if in_list:
        parts.append("</ul>")
    themes = html.escape(", ".join(meta.get("themes", [])))
    page = f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>{html.escape(title)} | Ressources Rurales AURA</title>
<meta name="keywords" content="{themes}">
</head>
<body>
<header><a class="logo" href="/">Ressources Rurales AURA</a>
<nav><ul><li><a href="/">Accueil</a></li><li><a href="/ressources">Ressources</a></li>
<li><a href="/groupes">Groupes de travail</a></li><li><a href="/agenda">Agenda</a></li>
<li><a href="/adherer">Adhérer</a></li></ul></nav></header>
<main><article>
<h1>{html.escape(title)}</h1>
{chr(10).join(parts)}
</article></main>
<aside><h2>À lire aussi</h2><ul><li><a href="/veille">Toute la veille</a></li></ul></aside>
<footer><p>Ressources Rurales AURA — centre de ressources du développement rural.</p>
<p><a href="/mentions">Mentions légales</a> · <a href="/plan">Plan du site</a> · <a href="/contact">Contact</a></p></footer>
</body>
</html>
"""
    target.write_text(page, encoding="utf-8")


def write_txt(meta: dict, body: str, target: Path) -> None:
    title, items = title_and_blocks(meta, body)
    lines = [title, "=" * len(title), ""]
    for kind, text in items:
        if kind.startswith("h"):
            lines += ["", text.upper(), ""]
        elif kind == "li":
            lines.append(f"- {text}")
        else:
            lines += [text, ""]
    target.write_text("\n".join(lines).strip() + "\n", encoding="utf-8")


# -- slides and LibreOffice documents --------------------------------------------------------


def _properties(meta: dict) -> tuple[str, str, dt.datetime]:
    """Author, keywords and date written in a document's properties."""
    date = meta.get("date")
    when = dt.datetime.combine(date, dt.time(9, 0)) if isinstance(date, dt.date) else dt.datetime(2025, 1, 1)
    return str(meta.get("author", "")), ", ".join(meta.get("themes", [])), when


def slides(meta: dict, body: str) -> list[dict]:
    """A deck from Markdown: "# " the title slide (the paragraphs below it its subtitle), each
    "## " a slide; "- " bullets, "|" table rows, "Notes : " the speaker's notes."""
    deck: list[dict] = []
    for kind, text in blocks(body, rows=True):
        if kind in ("h1", "h2"):
            deck.append({"title": text, "body": [], "rows": [], "notes": "", "cover": kind == "h1"})
        elif text.startswith("Notes : "):
            deck[-1]["notes"] = text.removeprefix("Notes : ")
        elif kind == "tr":
            deck[-1]["rows"].append([cell.strip() for cell in text.split(" | ")])
        else:
            deck[-1]["body"].append(text)
    return deck


def write_pptx(meta: dict, body: str, target: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches, Pt

    presentation = Presentation()
    properties = presentation.core_properties
    properties.title = str(meta["title"])
    properties.author, properties.keywords, properties.created = _properties(meta)
    properties.modified = properties.created
    properties.last_modified_by = properties.author
    for slide_source in slides(meta, body):
        layout = presentation.slide_layouts[0 if slide_source["cover"] else 1]
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = slide_source["title"]
        frame = slide.placeholders[1].text_frame
        for n, text in enumerate(slide_source["body"]):
            paragraph = frame.paragraphs[0] if n == 0 else frame.add_paragraph()
            paragraph.text = text
            if not slide_source["cover"]:
                paragraph.font.size = Pt(18)
        if slide_source["rows"]:
            slide.placeholders[1].height = Inches(0.2)
            rows, columns = len(slide_source["rows"]), len(slide_source["rows"][0])
            table = slide.shapes.add_table(rows, columns, Inches(0.5), Inches(1.8), Inches(9), Inches(0.5 * rows)).table
            for r, row in enumerate(slide_source["rows"]):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
                    table.cell(r, c).text_frame.paragraphs[0].font.size = Pt(14)
        if slide_source["notes"]:
            slide.notes_slide.notes_text_frame.text = slide_source["notes"]
    presentation.save(str(target))
    fix_zip_dates(target)


def write_odt(meta: dict, body: str, target: Path) -> None:
    from odfdo import Document, Header, List, Paragraph, Table

    document = Document("text")
    text_body = document.body
    text_body.clear()
    for kind, group in itertools.groupby(blocks(body, rows=True), key=lambda item: item[0]):
        texts = [text for _, text in group]
        if kind == "li":
            text_body.append(List(texts))
        elif kind == "tr":
            rows = [[cell.strip() for cell in row.split(" | ")] for row in texts]
            table = Table(f"Tableau{len(text_body.get_tables()) + 1}", width=len(rows[0]), height=len(rows))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.set_value((c, r), value)
            text_body.append(table)
        else:
            for text in texts:
                if kind == "h1":
                    text_body.append(Paragraph(text, style="Title"))
                elif kind.startswith("h"):
                    text_body.append(Header(int(kind[1]) - 1, text))
                else:
                    text_body.append(Paragraph(text))
    properties = document.meta
    author, keywords, when = _properties(meta)
    properties.set_title(str(meta["title"]))
    properties.set_initial_creator(author)
    properties.set_creator(author)
    properties.set_keywords(keywords)
    properties.set_creation_date(when)
    properties.set_modification_date(when)
    document.save(str(target))
    fix_zip_dates(target)


WRITERS = {
    "pdf": write_pdf,
    "scan": write_scan,
    "docx": write_docx,
    "pptx": write_pptx,
    "odt": write_odt,
    "html": write_html,
    "txt": write_txt,
}
SUFFIXES = {"scan": "pdf"}  # the file a format writes, when it is not the format's name


def build(names: list[str] | None = None) -> list[Path]:
    written = []
    for source in sorted(SOURCES.glob("*/*.md")):
        if names and not any(name in source.stem for name in names):
            continue
        meta, body = parse_source(source)
        fmt = str(meta.pop("format", "")).lower()
        if fmt not in WRITERS:
            raise SystemExit(f"{source}: format must be one of {sorted(WRITERS)}")
        folder = HERE / source.parent.name
        folder.mkdir(exist_ok=True)
        target = folder / f"{source.stem}.{SUFFIXES.get(fmt, fmt)}"
        WRITERS[fmt](meta, body, target)
        sidecar = target.with_name(target.name + ".meta.yaml")
        sidecar.write_text(
            "# Generated by corpus/build.py from _sources: edit the source, not this file.\n"
            + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=None),
            encoding="utf-8",
        )
        written.append(target)
    return written


if __name__ == "__main__":
    for path in build(sys.argv[1:]):
        print(path.relative_to(HERE))
    sys.exit(0)
