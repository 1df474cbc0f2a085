"""An ingested file without metadata: its inferred sector, territory and publics are shown as
such on its page, a coordinator's correction wins, is no longer marked inferred, and survives
re-ingestion and a rebuild. Real app and index (Chroma on a temp dir), the toy embedder."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from services import runtime
from tests.apps import app_over
from tests.fakes import ToyEmbedder
from tests.ingest.test_inference_pipeline import write_base

DOC = "a-compte-rendu-ccas"


@pytest.fixture
def base(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    folder = write_base(tmp_path / "base")
    return settings, {"Authorization": f"Bearer {key}"}, folder


def test_inferred_values_are_shown_on_the_page(base):
    settings, _, folder = base
    with TestClient(app_over(settings, ToyEmbedder(), ingest=[folder])) as client:
        detail = client.get(f"/documents/{DOC}").json()
        assert detail["sector"] == "action sociale"
        assert detail["extra"]["inferred"] == {"sector": "texte", "territory": "texte", "publics": "texte"}
        page = client.get(f"/fiches/{DOC}").text
        assert "action sociale" in page and "(secteur déduit du texte)" in page
        assert "Tence (Haute-Loire)" in page and "(territoire déduit du texte)" in page
        assert "personnes âgées" in page and "(publics déduits du texte)" in page
        # a document that gives its sector and territory says nothing of the kind (its publics,
        # which it does not give, are inferred)
        labelled = client.get("/fiches/fiche-action-0").text
        assert "secteur déduit" not in labelled and "territoire déduit" not in labelled
        assert "(publics déduits du texte)" in labelled


def test_a_correction_wins_and_survives_reingestion_and_rebuild(base):
    settings, auth, folder = base
    with TestClient(app_over(settings, ToyEmbedder(), ingest=[folder])) as client:
        response = client.patch(
            f"/documents/{DOC}", json={"sector": "transversal", "publics": ["Seniors", "RSA"]}, headers=auth
        )
        assert response.status_code == 200, response.json()
        assert set(response.json()["fields"]) == {"sector", "publics"}
        detail = client.get(f"/documents/{DOC}").json()
        assert detail["sector"] == "transversal"
        assert detail["extra"]["inferred"] == {"territory": "texte"}  # the territory was not corrected
        page = client.get(f"/fiches/{DOC}").text
        assert "transversal" in page and "secteur déduit" not in page and "publics déduits" not in page
        assert "personnes âgées, allocataires du RSA" in page
        assert "(territoire déduit du texte)" in page
        # the correction is written in the stored file's metadata, not only in the index
        sidecar = (settings.data_dir / "documents" / f"{DOC}.txt.meta.yaml").read_text(encoding="utf-8")
        assert "transversal" in sidecar and "personnes âgées" in sidecar

    # the original folder ingested again: its file is the corrected document's former source;
    # the stored (corrected) file keeps the id, the correction stays
    report = runtime.ingest(settings, [folder], embedder=ToyEmbedder())
    assert [doc for doc, _ in report.failed] == [str(folder / f"{DOC}.txt")]
    assert "déjà utilisé" in report.failed[0][1]
    # the whole index rebuilt from the stored files
    runtime.reindex(settings, embedder=ToyEmbedder())
    with TestClient(app_over(settings, ToyEmbedder())) as client:
        detail = client.get(f"/documents/{DOC}").json()
        assert detail["sector"] == "transversal" and "sector" not in detail["extra"]["inferred"]
        assert "secteur déduit" not in client.get(f"/fiches/{DOC}").text


def test_confirming_an_inferred_value_marks_it_given(base):
    settings, auth, folder = base
    with TestClient(app_over(settings, ToyEmbedder(), ingest=[folder])) as client:
        response = client.patch(f"/documents/{DOC}", json={"sector": "action sociale"}, headers=auth)
        assert response.status_code == 200, response.json()
        assert response.json()["fields"] == ["sector"]  # unchanged, but now given
        detail = client.get(f"/documents/{DOC}").json()
        assert detail["sector"] == "action sociale" and "sector" not in detail["extra"]["inferred"]
        history = client.get(f"/documents/{DOC}/history", headers=auth).json()["entries"]
        assert history[0]["details"]["fields"] == ["sector"]


def test_unknown_publics_are_refused(base):
    settings, auth, folder = base
    with TestClient(app_over(settings, ToyEmbedder(), ingest=[folder])) as client:
        response = client.patch(f"/documents/{DOC}", json={"publics": ["jeunes", "marins"]}, headers=auth)
        assert response.status_code == 422
        problem = response.json()["problems"][0]
        assert problem["field"] == "publics" and "marins" in problem["message"] and "jeunes" in problem["message"]
