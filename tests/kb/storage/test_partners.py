"""The stored partner list, on every backend (``store_settings``): another process's change is
seen by the next check (PostgreSQL: once KB_PARTNERS_REFRESH_S has passed), a damaged file
allows none."""

from __future__ import annotations

import pytest

from kb.core.errors import ConflictError, InvalidRequest, NotFoundError
from kb.records.partners import Partner, normalise_origin
from kb.storage.backend import open_backend
from kb.storage.embedded.partners import PartnerStore


@pytest.fixture
def stores(store_settings):
    """Two stores of one base, re-reading at every check."""
    settings = store_settings.model_copy(update={"partners_refresh_s": 0})
    opened = open_backend(settings).partner_store(), open_backend(settings).partner_store()
    yield opened
    for store in opened:
        store.close()


def test_a_change_written_by_another_store_is_seen_by_the_next_check(stores):
    reader, writer = stores
    assert reader.origins() == frozenset()
    writer.add("https://a.exemple.org", "A", "coordinatrice")
    assert reader.origins() == {"https://a.exemple.org"}
    writer.add("https://b.exemple.org", "B", "coordinatrice")
    writer.remove("https://a.exemple.org")
    assert reader.origins() == {"https://b.exemple.org"}


def test_partners_are_listed_in_the_order_added_and_each_origin_once(stores):
    store, _ = stores
    added = store.add("HTTPS://B.exemple.org/", " Site B ", "coordinatrice")
    assert (added.origin, added.name, added.added_by) == ("https://b.exemple.org", "Site B", "coordinatrice")
    store.add("https://a.exemple.org", "Site A", "Marie")
    assert [p.origin for p in store.list()] == ["https://b.exemple.org", "https://a.exemple.org"]
    with pytest.raises(ConflictError, match="déjà un site partenaire"):
        store.add("https://b.exemple.org", "Encore B", "Marie")
    with pytest.raises(InvalidRequest):
        store.add("https://c.exemple.org", "  ", "Marie")
    assert store.remove("https://B.exemple.org/") == added
    with pytest.raises(NotFoundError, match="Aucun site partenaire « https://b.exemple.org »"):
        store.remove("https://b.exemple.org")


def test_an_import_replaces_the_whole_list(stores):
    store, other = stores
    store.add("https://a.exemple.org", "A", "coordinatrice")
    imported = [Partner("https://c.exemple.org", "C", "2025-01-01T00:00:00+00:00", "Marie")]
    store.replace_all(imported)
    assert store.list() == imported and other.origins() == {"https://c.exemple.org"}


def test_a_damaged_file_allows_no_partner(tmp_path):
    (tmp_path / "partners.json").write_text("{pas du json")
    assert PartnerStore(tmp_path / "partners.json").origins() == frozenset()


@pytest.mark.parametrize(
    "raw, expected",
    [("HTTPS://Site.Exemple.org/", "https://site.exemple.org"), ("http://127.0.0.1:8080", "http://127.0.0.1:8080")],
)
def test_origins_are_normalised_as_browsers_send_them(raw, expected):
    assert normalise_origin(raw) == expected


def test_a_wildcard_is_refused_with_its_reason():
    with pytest.raises(InvalidRequest) as refused:
        normalise_origin("https://*.exemple.org")
    assert "joker" in refused.value.problems[0].message
