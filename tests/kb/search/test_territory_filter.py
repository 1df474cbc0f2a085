"""The territory filter: a commune, an EPCI, a département or a région (name or code) holds
the documents located inside it; any other text matches the territories whose name holds it."""

from __future__ import annotations

import pytest

from kb.core.errors import FiltersInvalid
from kb.core.models import DocumentMetadata
from kb.search.filters import Filters, parse_filters


def located(territory: str | None) -> DocumentMetadata:
    return DocumentMetadata(doc_id="d", title="t", doc_type="fiche expérience", territory=territory)


@pytest.mark.parametrize(
    ("area", "territory", "inside"),
    [
        ("Haute-Loire", "Yssingeaux", True),
        ("Haute-Loire", "Communauté de communes du Haut-Lignon", True),
        ("haute loire", "Tence (43)", True),
        ("43", "Yssingeaux", True),
        ("Auvergne-Rhône-Alpes", "Communauté de communes des Hauts Plateaux (Cantal)", True),
        ("Auvergne-Rhône-Alpes", "CC du Haut-Vernay (Ardèche)", True),
        ("Ardèche", "Yssingeaux", False),
        ("Drôme", "CC du Haut-Vernay (Ardèche)", False),
        ("Haute-Loire", "Auvergne-Rhône-Alpes", False),  # a région is not inside a département
        ("Yssingeaux", "Haute-Loire", False),
        ("Plateaux", "CC des Plateaux du Lizon (Haute-Loire)", True),  # a name's part, as before
        ("Haute-Loire", None, False),
        # a name the découpage does not know is not its whole département
        ("CC du Val Fleuri (Drôme)", "CC du Val Fleuri (Drôme)", True),
        ("CC du Val Fleuri (Drôme)", "Valence", False),
        ("Yssingeaux (43)", "Yssingeaux", True),
    ],
)
def test_an_area_holds_the_documents_located_inside_it(area, territory, inside):
    assert Filters(territory=area).accepts(located(territory)) is inside


def test_a_real_place_is_a_valid_filter_even_when_no_document_names_it():
    vocabulary = {"themes": set(), "territories": {"Yssingeaux"}}
    filters = parse_filters(vocabulary, territory="Haute-Loire")
    assert filters is not None and filters.territory == "Haute-Loire"
    assert parse_filters(vocabulary, territory="yssin") is not None  # a part of a known name
    with pytest.raises(FiltersInvalid) as refused:
        parse_filters(vocabulary, territory="Atlantide")
    assert "territoire inconnu « Atlantide »" in str(refused.value.problems[0].message)
