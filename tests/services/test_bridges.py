"""The bridge view's data (services/bridges.py) over a few documents of the sample corpus of
both sectors, and the funders a fiche names (kb/answer/funding.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.answer.funding import funders_named, funding_quotes
from kb.core.errors import FiltersInvalid
from kb.core.models import DocumentMetadata
from kb.core.settings import Settings
from kb.search.filters import Filters
from services import runtime
from services.bridge_links import card_passerelles_url, passerelles_url
from services.bridges import Bridges, subject_of
from tests.fakes import ToyEmbedder

CORPUS = Path(__file__).parents[2] / "corpus"
# alimentation and mobility on both sides, one transversal fiche, their structures
BRIDGE_FILES = [
    CORPUS / "experiences" / name
    for name in (
        "exp-epicerie-solidaire-sucs.md",  # action sociale, partners of both sectors
        "exp-legumerie-conserverie-marmite-des-monts.md",  # développement local
        "exp-cooperation-leader-alimentation-inclusion.md",  # transversal
        "exp-transport-solidaire-familles-rurales-lizon.md",  # action sociale
        "exp-garage-solidaire-roue-libre-brevenne.md",  # développement local
    )
] + [
    CORPUS / "annuaire" / name
    for name in (
        "annuaire-panier-des-sucs.md",
        "annuaire-marmite-des-monts.md",
        "annuaire-familles-rurales-lizon.md",
        "annuaire-roue-libre-brevenne.md",
    )
]


@pytest.fixture(scope="module")
def bridges(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("bridges") / "data")
    embedder = ToyEmbedder()
    runtime.ingest(settings, BRIDGE_FILES, embedder=embedder)
    kb = runtime.open_knowledge_base(settings, embedder)
    yield Bridges(kb)
    kb.close()


def _side(view: dict, sector: str) -> dict:
    return next(side for side in view["sides"] if side["sector"] == sector)


def test_a_subject_is_a_theme_of_the_base_a_public_or_a_question():
    themes = {"Restauration collective", "mobilité"}
    assert (
        subject_of("restauration collective", themes).kind,
        subject_of("restauration collective", themes).value,
    ) == (
        "theme",
        "Restauration collective",
    )
    assert subject_of("Seniors", themes).value == "personnes âgées"
    assert subject_of("RSA", themes).kind == "public"
    assert subject_of("comment financer un camion ?", themes).kind == "question"


def test_a_fiche_links_to_its_theme_in_its_departement():
    url = card_passerelles_url(
        {"themes": ["aide alimentaire"], "title": "T", "territory": "Pays des Sucs et Gorges (Haute-Loire)"}
    )
    assert url == "/passerelles?q=aide+alimentaire&territoire=Haute-Loire"
    assert card_passerelles_url({"themes": [], "title": "Un titre", "territory": None}) == "/passerelles?q=Un+titre"
    assert passerelles_url("  ") is None
    assert passerelles_url("mobilité", base_url="https://p.example/") == "https://p.example/passerelles?q=mobilit%C3%A9"


def test_the_funders_of_a_fiche_are_quoted_from_its_funding_section():
    text = (
        "## En bref\n\nLa CAF et la Région ont été rencontrées.\n\n"
        "## Budget et financements\n\n- LEADER 36 000 €, Département 16 000 €.\n"
        "- Fondation d'entreprise : 20 000 €.\n\n## Contact\n\nCAF : x@y.example\n"
    )
    quotes = funding_quotes(DocumentMetadata("d", "T", "fiche expérience"), text)
    assert [q.funder for q in quotes] == ["LEADER (Europe)", "Département", "Fondations"]  # not the CAF of "En bref"
    assert all(text[q.start :].startswith(q.quote[:10]) for q in quotes)
    assert funding_quotes(DocumentMetadata("d", "T", "annuaire"), text) == []
    # a fiche financement is funding from end to end
    assert funders_named("Bonus territoire de la CAF") == ["CAF"]
    assert [q.funder for q in funding_quotes(DocumentMetadata("f", "T", "fiche financement"), "La CAF finance.")] == [
        "CAF"
    ]


def test_a_theme_shows_each_sector_its_structures_and_funders_and_the_bridges_above(bridges):
    view = bridges.view("alimentation", None)
    assert view["subject"]["kind"] == "theme"
    bridging = {row["doc_id"]: row for row in view["bridges"]}
    # the transversal fiche above; the épicerie (its porteur of its own sector) in its column
    assert "exp-cooperation-leader-alimentation-inclusion" in bridging
    assert "exp-epicerie-solidaire-sucs" in [d["doc_id"] for d in _side(view, "action sociale")["documents"]]


def test_a_fiche_carried_by_the_other_sector_bridges_the_two(bridges):
    def meta(porteur: str) -> DocumentMetadata:
        return DocumentMetadata("d", "T", "fiche expérience", sector="action sociale", porteur=porteur)

    assert bridges._co_carried(meta("GAL LEADER Sucs et Gorges"))
    assert bridges._co_carried(meta("SCIC La Marmite des Monts"))  # its directory entry: développement local
    assert not bridges._co_carried(meta("Épicerie solidaire Le Panier des Sucs"))


def test_each_side_quotes_its_funders_with_a_link_to_the_passage(bridges):
    view = bridges.view("restauration collective", None)
    local = _side(view, "développement local")
    assert [d["doc_id"] for d in local["documents"]] == ["exp-legumerie-conserverie-marmite-des-monts"]
    funders = {f["funder"]: f["quotes"] for f in local["funding"]}
    assert funders, "the légumerie's fiche names its funders"
    for quotes in funders.values():
        for quote in quotes:
            assert quote["url"].startswith("/fiches/exp-legumerie-conserverie-marmite-des-monts#passage-")
            text = bridges.index.document_text("exp-legumerie-conserverie-marmite-des-monts")
            assert quote["quote"].split(" ")[0] in text
    assert any(s["doc_id"] == "annuaire-marmite-des-monts" and s["contact"] for s in local["structures"])
    social = _side(view, "action sociale")  # no fiche of its own is tagged so: what it says when empty
    assert social["empty"].startswith("Aucune expérience de l'action sociale sur ce sujet dans la base")


def test_a_public_lists_the_documents_concerning_it_and_the_publics_both_sides_share(bridges):
    public = "personnes âgées"
    view = bridges.view("seniors", None)
    assert view["subject"] == {"kind": "public", "label": "public", "value": public}
    stored = [s.metadata for s in bridges.index.documents() if s.metadata.doc_type != "annuaire"]
    for side in view["sides"]:
        if any(public in meta.publics and meta.sector == side["sector"] for meta in stored):
            assert side["documents"] and all(public in d["publics"] for d in side["documents"])
    assert public in bridges.choices()["publics"]
    for shared in view["shared_publics"]:
        assert shared["social"] >= 1 and shared["local"] >= 1


def test_a_territory_is_a_place(bridges):
    everywhere = bridges.view("mobilité solidaire", None)
    view = bridges.view("mobilité solidaire", "Haute-Loire")
    inside = Filters(territory="Haute-Loire")
    for side, unfiltered in zip(view["sides"], everywhere["sides"], strict=True):
        listed = [bridges.index.get(d["doc_id"]).metadata for d in side["documents"]]
        assert all(inside.accepts(meta) for meta in listed)
        assert len(listed) <= len(unfiltered["documents"])
    with pytest.raises(FiltersInvalid):
        bridges.view("mobilité", "Atlantide")
    assert bridges.view("", None)["subject"] is None  # the form alone


def test_a_free_question_is_embedded_once_and_judged_once_on_the_whole_base(bridges, monkeypatch):
    """Five searches (three sectors, two directory scopes) share one query: one embedding of
    the question, one search of the whole base to judge every sector's listing."""
    kb = bridges.kb
    embedded: list[str] = []
    unscoped: list[int] = []
    embed_query, search = kb.index.embedder.embed_query, kb.retriever.search

    def counted_embedding(text: str):
        embedded.append(text)
        return embed_query(text)

    def counted_search(query, k=10, filters=None, **options):
        if filters is None:
            unscoped.append(k)
        return search(query, k, filters, **options)

    monkeypatch.setattr(kb.index.embedder, "embed_query", counted_embedding)
    monkeypatch.setattr(kb.retriever, "search", counted_search)
    view = bridges.view("comment faire rouler un garage solidaire avec des familles ?", None)
    assert view["subject"]["kind"] == "question"
    assert len(embedded) == 1
    assert unscoped == [kb.evidence.params.depth]
