"""The stored partner list: another process's change is seen at once, a damaged file allows none."""

from __future__ import annotations

import pytest

from kb.errors import InvalidRequest
from kb.partners import PartnerStore, normalise_origin


def test_a_change_written_by_another_store_is_seen_by_the_next_check(tmp_path):
    reader, writer = PartnerStore(tmp_path / "partners.json"), PartnerStore(tmp_path / "partners.json")
    assert reader.origins() == frozenset()
    writer.add("https://a.exemple.org", "A", "coordinatrice")
    assert reader.origins() == {"https://a.exemple.org"}
    writer.add("https://b.exemple.org", "B", "coordinatrice")
    writer.remove("https://a.exemple.org")
    assert reader.origins() == {"https://b.exemple.org"}


def test_a_damaged_file_allows_no_partner(tmp_path):
    (tmp_path / "partners.json").write_text("{pas du json")
    assert PartnerStore(tmp_path / "partners.json").origins() == frozenset()


@pytest.mark.parametrize("raw, expected", [("HTTPS://Site.Exemple.org/", "https://site.exemple.org"),
                                           ("http://127.0.0.1:8080", "http://127.0.0.1:8080")])
def test_origins_are_normalised_as_browsers_send_them(raw, expected):
    assert normalise_origin(raw) == expected


def test_a_wildcard_is_refused_with_its_reason():
    with pytest.raises(InvalidRequest) as refused:
        normalise_origin("https://*.exemple.org")
    assert "joker" in refused.value.problems[0].message
