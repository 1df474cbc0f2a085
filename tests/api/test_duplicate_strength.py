"""The coordinator's view of duplicates (issue 31): a probable rewrite apart from the close
documents, in the API's words, and no parameter name in what a coordinator reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.schemas import DuplicateWarning
from kb.core.settings import Settings
from kb.storage.embedded.keys import KeyStore
from tests.apps import app_over

ROOT = Path(__file__).parents[2]
CORPUS = ROOT / "corpus"
STATIC = ROOT / "api" / "coordination" / "static"
# the case: the épicerie rewritten by another hand, 20 of its 28 figures, "Le Panier des Sucs"
REWRITE = ROOT / "evaluation" / "duplicates" / "rewrites" / "exp-epicerie-solidaire-sucs-reecrit-2.md"


@pytest.fixture
def client(tmp_path, e5_embedder, mini_index):
    settings = Settings(data_dir=tmp_path / "data")
    key = KeyStore(settings.data_dir / "keys.json").create("coordinatrice")
    with TestClient(app_over(settings, e5_embedder, index=mini_index)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        for path in ("experiences/exp-epicerie-solidaire-sucs.md", "annuaire/annuaire-panier-des-sucs.md"):
            assert (
                client.post("/documents", files={"file": (Path(path).name, (CORPUS / path).read_bytes())}).status_code
                == 201
            )
        yield client


def test_a_rewrite_is_a_probable_rewrite_and_the_directory_entry_only_close(client):
    found = client.post("/documents?dry_run=true", files={"file": ("r.md", REWRITE.read_bytes())})
    assert found.status_code == 200, found.json()
    warnings = {w["doc_id"]: w for w in found.json()["duplicates"]}
    rewrite = warnings["exp-epicerie-solidaire-sucs"]
    assert (rewrite["strong"], rewrite["strength"]) == (True, "réécriture probable")
    assert rewrite["explanation"].startswith("Même expérience, réécrite : ")
    assert "chiffres communs" in rewrite["explanation"]
    entry = warnings["annuaire-panier-des-sucs"]
    assert (entry["strong"], entry["strength"]) == (False, "proche")
    # strong ones first: the page shows them apart, under their own heading
    assert [w["strength"] for w in found.json()["duplicates"]] == sorted(
        (w["strength"] for w in found.json()["duplicates"]), key=lambda s: s != "réécriture probable"
    )


def test_publishing_over_a_rewrite_says_what_to_do_in_french_without_a_parameter_name(client):
    blocked = client.post("/documents", files={"file": ("r.md", REWRITE.read_bytes())})
    assert blocked.status_code == 409 and blocked.json()["conflict"] == "doublon"
    detail = blocked.json()["detail"]
    assert detail.startswith("Réécriture probable d'un document déjà publié : « Une épicerie solidaire")
    assert "duplicate_reason" not in detail and "en indiquant pourquoi" in detail
    reason = "Deux points de vue sur la même épicerie, voulus par le réseau."
    accepted = client.post(
        "/documents", params={"duplicate_reason": reason}, files={"file": ("r.md", REWRITE.read_bytes())}
    )
    assert accepted.status_code == 201


def test_warnings_stored_before_strength_existed_still_say_it():
    older = {"doc_id": "a", "title": "A", "similarity": 0.9, "title_similarity": 0.1, "semantic_similarity": 0.9}
    assert DuplicateWarning.model_validate({**older, "reasons": [], "strong": True}).strength == "réécriture probable"
    assert DuplicateWarning.model_validate({**older, "reasons": []}).strength == "proche"


def test_the_coordination_page_never_shows_a_parameter_name():
    for path in STATIC.glob("*.*"):
        if path.suffix not in (".js", ".html"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            # the API parameter is sent by the scripts, never written in a sentence the page shows
            if "duplicate_reason" in line:
                assert "duplicate_reason:" in line or "documents?duplicate_reason=" in line, (path.name, line)
    common = (STATIC / "common.js").read_text(encoding="utf-8")
    assert "Réécriture probable d'un document déjà publié" in common
    assert "Documents au contenu proche (pour information)" in common
