"""`kb export` / `kb import` as services: a round trip keeps the base; a bad archive writes nothing."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from kb.core.errors import ArchiveError
from kb.core.settings import Settings
from kb.records.keys import CONTRIBUTOR, Actor
from kb.storage.embedded.keys import KeyStore
from kb.storage.embedded.querylog import QuestionLog
from services import runtime
from services.partners import PartnerSites
from services.portability import export_base, import_base

MINI = Path(__file__).parents[1] / "fixtures" / "mini-corpus"
FICHE = {
    "title": "Un atelier vélo solidaire dans un bourg rural",
    "doc_type": "fiche expérience",
    "sector": "développement local",
    "themes": ["mobilité"],
    "territory": "Communauté de communes du Val Fleuri (Drôme)",
    "porteur": "Association Biclou Rural",
    "summary": "Un atelier d'autoréparation de vélos ouvert deux après-midi par semaine dans le bourg.",
    "sections": {"résultats": "En un an, 85 vélos remis en état ont été vendus à petit prix."},
}


@pytest.fixture
def exported(tmp_path, toy_embedder):
    """A base (the mini corpus from its folder, a fiche added by a coordinator, a partner, a
    key, a proposals table) and its archive."""
    source = Settings(data_dir=tmp_path / "source")
    runtime.ingest(source, [MINI], embedder=toy_embedder)
    kb = runtime.open_knowledge_base(source, toy_embedder)
    try:
        submission, fiche = kb.writer.from_fiche(FICHE)
        kb.submit(submission, "coordinatrice", filename_hint=fiche.doc_id)
        catalogue = {s.metadata.doc_id: s.metadata for s in kb.index.documents()}
        proposed, _ = kb.writer.from_fiche({**FICHE, "id": "exp-nouvelle", "title": "Une proposition encore à relire"})
        kb.review.write(proposed, Actor("Léa", CONTRIBUTOR), filename_hint="exp-nouvelle")
    finally:
        kb.close()
    key = KeyStore(source.data_dir / "keys.json").create("coordinatrice")
    PartnerSites(source).add("https://mairie.exemple.fr", "Mairie", "coordinatrice")
    archive = tmp_path / "base.zip"
    report = export_base(source, archive)
    return source, archive, report, catalogue, key


def test_a_round_trip_keeps_documents_metadata_audit_partners_and_keys_names(exported, tmp_path, toy_embedder):
    source, archive, report, catalogue, key = exported
    assert report.counts["documents"] == 5 and report.counts["proposals"] == 1 and not report.missing_sources
    with zipfile.ZipFile(archive) as opened:
        names = set(opened.namelist())
        assert {
            "manifest.json",
            "catalogue.json",
            "audit.jsonl",
            "keys.json",
            "partners.json",
            "proposals/tables.json",
            "documents/exp-epicerie-village.md",
        } <= names
        everything = b"".join(opened.read(name) for name in names)
    stored_digest = json.loads((source.data_dir / "keys.json").read_text())[0]["digest"]
    assert stored_digest.encode() not in everything and b'"digest"' not in everything
    assert str(source.data_dir).encode() not in everything  # no server path

    target = Settings(data_dir=tmp_path / "target")
    imported = import_base(target, archive, embedder=toy_embedder)
    assert imported.indexing.ok and len(imported.indexing.added) == 5

    kb = runtime.open_knowledge_base(target, toy_embedder)
    try:
        restored = {s.metadata.doc_id: s.metadata for s in kb.index.documents()}
        assert restored.keys() == catalogue.keys()
        for doc_id, meta in catalogue.items():
            assert {**restored[doc_id].to_dict(), "source_path": None} == {**meta.to_dict(), "source_path": None}
        hits = kb.search("rouvrir une épicerie de village en coopérative", 3)["results"]
        assert hits and hits[0]["doc_id"] == "exp-epicerie-village"
    finally:
        kb.close()
    # the log as it was, then a `reprise` dating each document it did not date (`kb ingest`)
    copied, carried = _split_log(target.data_dir / "audit.jsonl", source.data_dir / "audit.jsonl")
    assert {(e["actor"], e["action"]) for e in carried} == {("kb import", "reprise")}
    assert sorted(e["doc_id"] for e in carried) == sorted(
        set(catalogue) - {"un-atelier-velo-solidaire-dans-un-bourg-rural"}
    )
    assert PartnerSites(target).listing() == PartnerSites(source).listing()
    keys = KeyStore(target.data_dir / "keys.json")
    assert [(k.name, k.active) for k in keys.list()] == [("coordinatrice", False)]
    assert keys.verify(key) is None
    keys.create("coordinatrice")  # the name is free again for a new key
    with sqlite3.connect(target.data_dir / "proposals.sqlite") as db:
        assert db.execute("SELECT doc_id, status FROM proposals").fetchall() == [("exp-nouvelle", "proposé")]


def _split_log(copy: Path, original: Path) -> tuple[str, list[dict]]:
    """(the copy's first lines, equal to the original's; its other entries)."""
    before = original.read_text()
    after = copy.read_text()
    assert after.startswith(before)
    return before, [json.loads(line) for line in after[len(before) :].splitlines()]


def rewritten(archive: Path, destination: Path, change) -> Path:
    """A copy of ``archive`` whose members pass through ``change(name, data) -> [(name, data)]``."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(destination, "w") as target:
        for name in source.namelist():
            for new_name, data in change(name, source.read(name)):
                target.writestr(new_name, data)
    return destination


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda n, d: [(n, d.replace(b"coop", b"COOP") if n.endswith("epicerie-village.md") else d)], "empreinte"),
        (lambda n, d: [(n, d)] + ([("../../evil.txt", b"x")] if n == "audit.jsonl" else []), "chemin interdit"),
        (lambda n, d: [(n, d)] + ([("/etc/evil", b"x")] if n == "audit.jsonl" else []), "chemin interdit"),
        (lambda n, d: [] if n == "audit.jsonl" else [(n, d)], "fichier manquant"),
        (lambda n, d: [] if n == "manifest.json" else [(n, d)], "manifest.json est absent"),
    ],
)
def test_a_bad_archive_is_refused_in_french_and_writes_nothing(exported, tmp_path, toy_embedder, change, reason):
    _, archive, *_ = exported
    bad = rewritten(archive, tmp_path / "bad.zip", change)
    target = Settings(data_dir=tmp_path / "target")
    with pytest.raises(ArchiveError) as refused:
        import_base(target, bad, embedder=toy_embedder)
    assert reason in str(refused.value) and "Rien n'a été écrit" in str(refused.value)
    assert not target.data_dir.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.zip", "base.zip", "source"]


def test_an_archive_larger_than_the_bound_is_refused(exported, tmp_path, toy_embedder):
    _, archive, *_ = exported
    target = Settings(data_dir=tmp_path / "target", archive_max_mb=0.001)
    with pytest.raises(ArchiveError, match="trop volumineux"):
        import_base(target, archive, embedder=toy_embedder)
    assert not target.data_dir.exists()


def test_import_refuses_a_data_directory_that_is_not_empty(exported, tmp_path, toy_embedder):
    source, archive, *_ = exported
    with pytest.raises(ArchiveError, match="n'est pas vide"):
        import_base(source, archive, embedder=toy_embedder)
    empty = tmp_path / "empty"
    empty.mkdir()
    import_base(Settings(data_dir=empty), archive, embedder=toy_embedder)
    assert (empty / "documents" / "exp-epicerie-village.md").exists()


def test_the_question_log_is_exported_only_when_asked_for(exported, tmp_path):
    source, *_ = exported
    log = QuestionLog(source.data_dir / "questions.sqlite", retention_days=365)
    log.record("question", "aide au permis de conduire", {}, False, [], "widget")
    log.close()
    without = export_base(source, tmp_path / "sans.zip")
    with_log = export_base(source, tmp_path / "avec.zip", questions=True)
    assert "questions" not in without.counts and with_log.counts["questions"] == 1
    with zipfile.ZipFile(tmp_path / "sans.zip") as opened:
        assert not any(name.startswith("questions/") for name in opened.namelist())
    with zipfile.ZipFile(tmp_path / "avec.zip") as opened:
        rows = json.loads(opened.read("questions/tables.json"))["tables"]["questions"]
    assert [(row["question"], row["found"], row["channel"]) for row in rows] == [
        ("aide au permis de conduire", 0, "widget")
    ]
