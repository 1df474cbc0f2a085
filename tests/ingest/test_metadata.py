from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.metadata import build_metadata, normalise_date


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
