"""The département and région filters (a name or a code, kept as official codes) and their
facets, whose counts are what the filters keep."""

from __future__ import annotations

import pytest

from kb.core.errors import FiltersInvalid
from kb.core.models import DocumentMetadata
from kb.search.area_facets import area_facets
from kb.search.filters import Filters, area_codes, parse_filters

VOCABULARY: dict[str, set[str]] = {"themes": set(), "territories": set()}


def located(territory: str | None, doc_id: str = "d") -> DocumentMetadata:
    return DocumentMetadata(doc_id=doc_id, title="t", doc_type="fiche expérience", territory=territory)


@pytest.mark.parametrize(
    ("value", "level", "codes"),
    [
        ("Haute-Loire", "departement", ("departement:43",)),
        ("haute loire", "departement", ("departement:43",)),
        ("43", "departement", ("departement:43",)),
        ("07", "departement", ("departement:07",)),
        ("2a", "departement", ("departement:2A",)),
        ("974", "departement", ("departement:974",)),
        ("departement:26", "departement", ("departement:26",)),
        ("Drôme et Ardèche", "departement", ("departement:07", "departement:26")),
        ("84", "region", ("region:84",)),  # a région's code, not the Vaucluse
        ("Auvergne-Rhône-Alpes", "region", ("region:84",)),
        ("AURA", "region", ("region:84",)),
        ("Yssingeaux", "departement", ()),  # a commune is not a département
        ("Bretagne", "departement", ()),
        ("Rhône-Alpes", "region", ()),  # a région before 2016: its départements, not a région
        ("Haute-Loire", "region", ()),
        ("Paname", "departement", ()),
    ],
)
def test_a_value_names_the_codes_of_its_level(value, level, codes):
    assert area_codes(value, level) == codes


def test_parsed_filters_hold_codes_and_refuse_unknown_values_in_french():
    filters = parse_filters(VOCABULARY, departement=["Ardèche, 43", "07"], region="84")
    assert filters is not None
    assert filters.departement == ("departement:07", "departement:43") and filters.region == ("region:84",)
    with pytest.raises(FiltersInvalid) as refused:
        parse_filters(VOCABULARY, departement="Yssingeaux", region=["Bretagne", "Rhône-Alpes"])
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("departement", "département inconnu « Yssingeaux »"),
        ("region", "région inconnue « Rhône-Alpes »"),
    ]


@pytest.mark.parametrize(
    ("filters", "territory", "kept"),
    [
        (Filters(departement=("departement:43",)), "Yssingeaux", True),
        (Filters(departement=("departement:43",)), "Communauté de communes du Haut-Lignon", True),
        (Filters(departement=("departement:43",)), "PETR du Pays des Sucs et Gorges (Haute-Loire)", True),
        (Filters(departement=("departement:43",)), "Auvergne-Rhône-Alpes", False),
        (Filters(departement=("departement:07",)), "Drôme et Ardèche (territoires ruraux)", True),
        (Filters(departement=("departement:07", "departement:43")), "Tence", True),  # either
        (Filters(region=("region:84",)), "CC du Haut-Vernay (Ardèche)", True),
        (Filters(region=("region:84",)), "Auvergne-Rhône-Alpes", True),
        (Filters(region=("region:53",)), "Yssingeaux", False),
        (Filters(region=("region:84",)), "France", False),
        (Filters(region=("region:84",)), None, False),
        # both levels: a document in both
        (Filters(departement=("departement:43",), region=("region:84",)), "Yssingeaux", True),
    ],
)
def test_the_filters_keep_the_documents_located_inside(filters, territory, kept):
    assert not filters.is_empty() and filters.needs_document_list()
    assert filters.accepts(located(territory)) is kept


def test_facet_counts_are_what_each_filter_keeps():
    documents = [
        located(text, str(n))
        for n, text in enumerate(
            [
                "Yssingeaux",
                "CC du Haut-Vernay (Ardèche)",
                "Drôme et Ardèche (territoires ruraux)",
                "Auvergne-Rhône-Alpes",
                "Communauté de communes du Val Fleuri (Drôme)",
                "Pays de Sauvagnat",
                None,
            ]
        )
    ]
    facets = area_facets(documents)
    assert facets["departements"] == [
        {"code": "07", "name": "Ardèche", "count": 2},
        {"code": "26", "name": "Drôme", "count": 2},
        {"code": "43", "name": "Haute-Loire", "count": 1},
    ]
    assert facets["regions"] == [{"code": "84", "name": "Auvergne-Rhône-Alpes", "count": 5}]
    for level in ("departement", "region"):
        for row in facets[f"{level}s"]:
            chosen = parse_filters(VOCABULARY, **{level: row["code"]})
            assert chosen is not None and sum(chosen.accepts(meta) for meta in documents) == row["count"]
