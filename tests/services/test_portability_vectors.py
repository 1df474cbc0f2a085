"""`kb import` keeps what it can: the archive's vectors when the model is the same (searches and
vectors equal to the originals, nothing embedded), and each document's first publication date
in the feed; a damaged vector member is refused before anything is written."""

from __future__ import annotations

import io
import json
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest

from kb.core.errors import ArchiveError
from kb.core.settings import Settings
from kb.storage.backend import open_backend
from kb.storage.embedded.backend import REGISTRY_FILE
from services import runtime
from services.archive import MANIFEST
from services.feed import atom_feed
from services.portability import export_base, import_base
from tests.fakes import ToyEmbedder

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
QUESTION = "rouvrir une épicerie de village en coopérative"
ATOM = "{http://www.w3.org/2005/Atom}"


def _age(settings: Settings) -> None:
    """Date the documents `kb ingest` indexed in 2024, one day apart (the feed's only date for them)."""
    registry = open_backend(settings).current_location().directory / REGISTRY_FILE
    with sqlite3.connect(registry) as db:
        ids = [row[0] for row in db.execute("SELECT doc_id FROM documents ORDER BY doc_id")]
        for day, doc_id in enumerate(ids, start=1):
            db.execute(
                "UPDATE documents SET indexed_at = ? WHERE doc_id = ?", (f"2024-03-{day:02d}T09:00:00+00:00", doc_id)
            )


@pytest.fixture
def exported(tmp_path):
    """The mini corpus indexed by `kb ingest` (dated in 2024), a fiche published by a
    coordinator (dated by the audit log), and the base's archive."""
    source = Settings(data_dir=tmp_path / "source")
    runtime.ingest(source, [MINI], embedder=ToyEmbedder())
    _age(source)
    kb = runtime.open_knowledge_base(source, ToyEmbedder())
    try:
        submission, fiche = kb.writer.from_fiche(FICHE)
        kb.submit(submission, "coordinatrice", filename_hint=fiche.doc_id)
    finally:
        kb.close()
    archive = tmp_path / "base.zip"
    export_base(source, archive)
    return source, archive


def _contents(settings: Settings) -> dict:
    """Each document's passage and sentence vectors, a search's results and the feed's dates."""
    kb = runtime.open_knowledge_base(settings, ToyEmbedder())
    try:
        ids = [stored.metadata.doc_id for stored in kb.index.documents()]
        passages = kb.index.documents_vectors(ids)
        sentences = kb.index.documents_sentence_vectors(ids) or {}
        hits = [(hit["doc_id"], round(hit["score"], 6)) for hit in kb.search(QUESTION, 5)["results"]]
        feed = ET.fromstring(atom_feed(kb, None, "https://passerelles.exemple.fr"))
        dates = {e.findtext(f"{ATOM}id"): e.findtext(f"{ATOM}published") for e in feed.iter(f"{ATOM}entry")}
        vectors = {
            doc_id: (passages[doc_id].tolist(), sentences[doc_id].tolist() if doc_id in sentences else None)
            for doc_id in ids
        }
        return {"vectors": vectors, "hits": hits, "feed": dates}
    finally:
        kb.close()


def test_the_same_model_reuses_the_vectors_and_the_base_comes_back_equal(exported, tmp_path):
    source, archive = exported
    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read(MANIFEST))
        index = json.loads(opened.read("vectors/index.json"))
        array = np.load(io.BytesIO(opened.read("vectors/vectors.npy")), allow_pickle=False)
    assert {"vectors/index.json", "vectors/vectors.npy"} <= set(manifest["files"])
    assert manifest["vectors"] == {"model": "toy/vowels-v1", "dimension": 5, "count": len(array)}
    assert array.dtype == np.float32 and array.shape == (len(index["texts"]), 5)

    target = Settings(data_dir=tmp_path / "target")
    model = ToyEmbedder()
    report = import_base(target, archive, embedder=model)
    assert report.indexing.ok and len(report.indexing.added) == 5
    assert report.archived_model == report.model == "toy/vowels-v1"
    assert report.vectors_reused > 0 and report.vectors_embedded == 0
    assert model.passages_embedded == 0  # the model was never asked for a passage
    original, imported = _contents(source), _contents(target)
    assert imported["vectors"] == original["vectors"]
    assert imported["hits"] == original["hits"] and imported["hits"][0][0] == "exp-epicerie-village"
    assert imported["feed"] == original["feed"]
    assert "2024-03-02T09:00:00+00:00" in original["feed"].values()  # a date of `kb ingest`, kept


def test_another_model_embeds_every_passage_again(exported, tmp_path):
    _, archive = exported
    model = ToyEmbedder("toy/autre-modele")
    report = import_base(Settings(data_dir=tmp_path / "target"), archive, embedder=model)
    assert report.indexing.ok and report.archived_model == "toy/vowels-v1" and report.model == "toy/autre-modele"
    assert report.vectors_reused == 0 and model.passages_embedded > 0


def test_a_text_the_archive_lacks_is_embedded_and_the_others_reused(exported, tmp_path):
    _, archive = exported
    model = ToyEmbedder()
    report = import_base(
        Settings(data_dir=tmp_path / "target", chunk_max_chars=200, chunk_min_chars=0), archive, embedder=model
    )
    assert report.indexing.ok and report.vectors_reused > 0 and report.vectors_embedded > 0
    assert model.passages_embedded == report.vectors_embedded


def with_manifest(archive: Path, destination: Path, change) -> Path:
    """A copy of ``archive`` whose members pass through ``change(name, data) -> data | None``
    (None: dropped), with a manifest that lists them and their SHA-256 (what a forger does)."""
    import hashlib

    with zipfile.ZipFile(archive) as source:
        members = {name: source.read(name) for name in source.namelist() if name != MANIFEST}
        manifest = json.loads(source.read(MANIFEST))
    members = {name: changed for name, data in members.items() if (changed := change(name, data)) is not None}
    manifest["files"] = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    with zipfile.ZipFile(destination, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
        target.writestr(MANIFEST, json.dumps(manifest))
    return destination


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _on(member: str, change):
    return lambda name, data: change(data) if name == member else data


def _index_with(**changes):
    return _on("vectors/index.json", lambda data: json.dumps({**json.loads(data), **changes}).encode())


def _nan(data: bytes) -> bytes:
    array = np.load(io.BytesIO(data))
    array[0, 0] = np.nan
    return _npy(array)


@pytest.mark.parametrize(
    "change, reason",
    [
        (_on("vectors/vectors.npy", _nan), "vecteurs invalides"),
        (_on("vectors/vectors.npy", lambda d: _npy(np.load(io.BytesIO(d)) * 3)), "non normés"),
        (_on("vectors/vectors.npy", lambda d: _npy(np.load(io.BytesIO(d)).astype(np.float64))), "ne correspond pas"),
        (_on("vectors/vectors.npy", lambda d: _npy(np.array([{"x": 1}], dtype=object), True)), "illisible"),
        (_on("vectors/vectors.npy", lambda d: d[:200]), "illisible"),
        (_on("vectors/vectors.npy", lambda d: None), "l'un des deux manque"),
        (_index_with(dimension=7), "ne correspond pas"),
        (_index_with(texts=["abc"]), "n'a pas la forme attendue"),
        (_on("vectors/index.json", lambda d: b"{pas du json"), "illisible"),
        (_on("catalogue.json", lambda d: b'{"doc_id": 3}'), "catalogue.json"),
    ],
)
def test_a_damaged_vector_member_is_refused_before_anything_is_written(exported, tmp_path, change, reason):
    _, archive = exported
    bad = with_manifest(archive, tmp_path / "bad.zip", change)
    target = Settings(data_dir=tmp_path / "target")
    with pytest.raises(ArchiveError) as refused:
        import_base(target, bad, embedder=ToyEmbedder())
    assert reason in str(refused.value) and "Rien n'a été écrit" in str(refused.value)
    assert not target.data_dir.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.zip", "base.zip", "source"]


def test_an_archive_of_an_older_version_imports_embedding_everything_and_keeps_the_dates(exported, tmp_path):
    """No vector members, and a catalogue without ``published_at``: its ``indexed_at`` dates the feed."""

    def older(name: str, data: bytes):
        if name.startswith("vectors/"):
            return None
        if name == "catalogue.json":
            return json.dumps(
                [{k: v for k, v in row.items() if k != "published_at"} for row in json.loads(data)]
            ).encode()
        return data

    source, archive = exported
    model = ToyEmbedder()
    target = Settings(data_dir=tmp_path / "target")
    report = import_base(target, with_manifest(archive, tmp_path / "older.zip", older), embedder=model)
    assert report.indexing.ok and report.archived_model is None and model.passages_embedded > 0
    assert _contents(target) == _contents(source)
