from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.metadata import build_metadata, normalise_date
from kb.core.errors import DocumentError
from kb.core.models import DocumentMetadata


@pytest.mark.parametrize(
    "raw, expected",
    [
        (dt.date(2023, 5, 12), "2023-05-12"),
        (dt.datetime(2023, 5, 12, 10, 30), "2023-05-12"),
        ("2023-05-12", "2023-05-12"),
        ("12/05/2023", "2023-05-12"),
        ("1er mars 2022", "2022-03-01"),
        ("mai 2023", "2023-05"),
        ("Décembre 2021", "2021-12"),
        ("2024", "2024"),
        ("printemps 2022", "printemps 2022"),
        ("31/02/2023", None),
        (None, None),
    ],
)
def test_dates_written_by_hand(raw, expected):
    assert normalise_date(raw) == expected


def test_keys_in_french_english_and_accented_are_mapped_and_unknown_kept():
    raw = {
        "Titre": "Café",
        "thèmes": "a, b",
        "Territoire": "Haut-Vernay",
        "type": "fiche méthode",
        "secteur": "transversal",
        "lien": "https://exemple.example/x",
        "financeur_principal": "LEADER",
        "date": dt.date(2022, 4, 7),
    }
    metadata = build_metadata(raw, path=Path("/x/Ma Fiche.md"), detected_title=None, content_hash="h")
    assert metadata.doc_id == "ma-fiche"
    assert metadata.title == "Café"
    assert metadata.themes == ("a", "b")
    assert metadata.territory == "Haut-Vernay"
    assert metadata.source_url == "https://exemple.example/x"
    assert metadata.date == "2022-04-07"
    assert metadata.extra == {"financeur_principal": "LEADER"}


def test_title_falls_back_to_detected_heading_then_file_name():
    path = Path("/x/compte_rendu.txt")
    assert build_metadata({}, path=path, detected_title="Réunion", content_hash="").title == "Réunion"
    assert build_metadata({}, path=path, detected_title=None, content_hash="").title == "compte rendu"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({"replaces": "exp-boutique-essai"}, ("exp-boutique-essai",)),
        ({"remplace": ["exp-a-2021", "exp-b"]}, ("exp-a-2021", "exp-b")),
        ({"Remplace": "exp-a, exp-b, exp-a"}, ("exp-a", "exp-b")),
        ({"replaces": ""}, ()),
        ({}, ()),
    ],
)
def test_the_documents_a_version_replaces(raw, expected):
    metadata = build_metadata(raw, path=Path("/x/v2.md"), detected_title=None, content_hash="")
    assert metadata.replaces == expected and "replaces" not in metadata.extra and "remplace" not in metadata.extra


@pytest.mark.parametrize(
    "raw, fragment",
    [
        (
            {"remplace": "Exp Boutique"},
            "champ « remplace » : identifiant mal formé « Exp Boutique » (minuscules, chiffres et tirets, comme « exp-boutique »)",
        ),
        ({"replaces": "experiences/exp-a.md"}, "identifiant mal formé"),
        ({"replaces": [2021]}, "« 2021 » n'est pas un identifiant de document"),
        ({"replaces": {"id": "exp-a"}}, "un identifiant de document ou une liste d'identifiants est attendu"),
        ({"id": "exp-a", "replaces": "exp-a"}, "un document ne peut pas se remplacer lui-même"),
    ],
)
def test_a_malformed_replaces_fails_the_file_in_french(raw, fragment):
    with pytest.raises(DocumentError) as error:
        build_metadata(raw, path=Path("/x/v2.md"), detected_title=None, content_hash="")
    assert fragment in str(error.value)


def test_replaces_survives_the_registry_round_trip_and_older_records_have_none():
    metadata = build_metadata({"replaces": "exp-a"}, path=Path("/x/v2.md"), detected_title=None, content_hash="")
    assert DocumentMetadata.from_dict(metadata.to_dict()) == metadata
    older = {k: v for k, v in metadata.to_dict().items() if k != "replaces"}
    assert DocumentMetadata.from_dict(older).replaces == ()
