"""Inferring the sector, territory and publics a document's metadata does not give
(ingest/inference.py), on real-looking texts without front matter."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.inference import (
    FROM_HEADER,
    FROM_TEXT,
    FROM_VOCABULARY,
    complete,
    infer_publics,
    infer_sector,
    infer_territory,
    read_headers,
)
from ingest.metadata import build_metadata
from ingest.sector_model import MIN_DOCUMENTS_PER_SECTOR, SectorModel, porteur_kind
from kb.core.models import DocumentMetadata, StoredDocument
from kb.core.publics import PUBLIC_LABELS, normalise_publics, split_publics
from kb.core.territories import resolve

CCAS_MINUTE = """Compte rendu du conseil d'administration du CCAS de Tence
Séance du 12 mars 2024, salle du conseil municipal

Présents : la vice-présidente, six administrateurs, la directrice du CCAS.

1. Aides facultatives
Le conseil examine onze demandes de secours d'urgence de ménages en difficulté, orientés par
l'assistante sociale du Département. Neuf sont accordées, deux ajournées faute de pièces.

2. Analyse des besoins sociaux
La directrice présente le calendrier de l'ABS : isolement des personnes âgées, accès aux droits,
précarité énergétique. Les allocataires du RSA seront interrogés avec la MDS et la CAF.
"""

LEADER_FICHE = """Fiche-action n° 3 : soutenir les circuits courts et les commerces de proximité
GAL Sucs et Gorges, programme LEADER 2023-2027 (FEADER)

Objectifs : maintenir les commerces et les artisans des bourgs, aider l'installation des
producteurs, développer les magasins de producteurs et la vente directe.
Bénéficiaires : communes, EPCI, associations, agriculteurs.
Taux d'aide : 80 % de FEADER sur la dépense publique ; plancher 5 000 euros.
Le comité de programmation sélectionne les projets selon la grille de la stratégie locale.
"""

PDF_TEXT = """Diagnostic mobilité des jeunes du plateau
Territoire : CC du Haut-Lignon (Haute-Loire)
Porteur : Mission locale du Velay
Page 1

Les jeunes de 16 à 25 ans sans permis peinent à rejoindre les bassins d'emploi de la vallée.
La mission locale propose un prêt de scooters et un accompagnement au permis.
"""

# Labelled documents of a small base: what the classifier learns from.
BASE = {
    "action sociale": [
        "Le CCAS accompagne les ménages en difficulté : aides facultatives, secours d'urgence, accès aux droits.",
        "Le centre social anime un lieu d'accueil enfants-parents et soutient la parentalité des familles.",
        "L'épicerie solidaire reçoit les ménages orientés par les travailleurs sociaux et la CAF.",
        "La MDS suit les allocataires du RSA et les familles en précarité avec l'assistante sociale.",
    ],
    "développement local": [
        "Le GAL LEADER finance les projets de circuits courts et les commerces des bourgs (FEADER).",
        "La chambre d'agriculture accompagne l'installation des producteurs et la transmission des fermes.",
        "Le PETR anime la stratégie de développement économique et l'attractivité touristique du Pays.",
        "L'intercommunalité aide la création et la reprise d'entreprises artisanales et commerciales.",
    ],
    "transversal": [
        "Agents de développement et travailleurs sociaux croisent leurs diagnostics dans un groupe interprofessionnel.",
        "Le tiers-lieu accueille le coworking, le fablab et les permanences sociales du Département.",
        "Action sociale et développement local : une journée pour décloisonner les deux secteurs.",
        "Le diagnostic partagé de territoire réunit élus, CAF, PETR, centre social et entreprises.",
    ],
}


@pytest.fixture(scope="module")
def model() -> SectorModel:
    model = SectorModel()
    for sector, texts in BASE.items():
        for number, text in enumerate(texts):
            model.add(f"{sector[:5]}-{number}", "v1", sector, model.terms("", text))
    return model


def meta(doc_id: str = "doc", **values) -> DocumentMetadata:
    return DocumentMetadata(doc_id=doc_id, title=values.pop("title", "Un document"), **values)


# -- header lines ------------------------------------------------------------------------------


def test_header_lines_are_read_in_any_spelling():
    text = "Bilan 2024\n**Secteur** : Action sociale\n- Territoire : Yssingeaux (43)\nPORTEUR: CCAS\nSuite"
    assert read_headers(text) == {"sector": "Action sociale", "territory": "Yssingeaux (43)", "porteur": "CCAS"}
    assert read_headers("Texte sans en-tête.\nUn paragraphe : avec deux-points.") == {}


def test_a_sector_line_decides():
    text = "Note de service\nSecteur : développement local\nLe CCAS et la CAF…"
    assert infer_sector(text, "Note", None, None) == ("développement local", FROM_HEADER)


# -- sector --------------------------------------------------------------------------------------


def test_a_ccas_minute_is_social_action(model):
    assert infer_sector(CCAS_MINUTE, "Compte rendu du CCAS", None, model) == ("action sociale", FROM_TEXT)


def test_a_leader_fiche_is_local_development(model):
    assert infer_sector(LEADER_FICHE, "Fiche-action LEADER", None, model) == ("développement local", FROM_TEXT)


def test_without_enough_labelled_documents_the_rules_decide():
    empty = SectorModel()
    assert not empty.ready()
    assert infer_sector(CCAS_MINUTE, "Compte rendu", None, empty) == ("action sociale", FROM_VOCABULARY)
    assert infer_sector(LEADER_FICHE, "Fiche-action", None, None) == ("développement local", FROM_VOCABULARY)


def test_the_porteurs_kind_names_a_sector():
    assert porteur_kind("CCAS de Tence") == "action sociale"
    assert porteur_kind("Centre social rural La Passerelle") == "action sociale"
    assert porteur_kind("GAL LEADER Sucs et Gorges") == "développement local"
    assert porteur_kind("Chambre d'agriculture de la Drôme") == "développement local"
    assert porteur_kind("Groupe « Action sociale et développement local »") == "transversal"
    assert porteur_kind("Association Les Amis du Moulin") is None


def test_a_document_is_left_out_of_its_own_classification(model):
    """Leave-one-out: a document counted under an older version does not vote for itself."""
    terms = model.terms("", BASE["transversal"][2])
    alone = SectorModel()
    for sector, texts in BASE.items():
        for number, text in enumerate(texts):
            if (sector, number) != ("transversal", 2):
                alone.add(f"{sector[:5]}-{number}", "v1", sector, alone.terms("", text))
    assert model.scores(terms, exclude="trans-2") == pytest.approx(alone.scores(terms))
    assert model.scores(terms) != pytest.approx(alone.scores(terms))


def test_the_model_follows_the_base():
    stored = [
        StoredDocument(meta(f"{sector[:5]}-{n}", sector=sector), "v1", 1, "2026-01-01")
        for sector, texts in BASE.items()
        for n in range(len(texts))
    ]
    texts = {f"{sector[:5]}-{n}": text for sector, items in BASE.items() for n, text in enumerate(items)}
    read: list[str] = []

    def read_text(doc_id: str) -> str:
        read.append(doc_id)
        return texts[doc_id]

    model = SectorModel()
    model.sync(stored, read_text)
    assert model.ready() and len(read) == len(stored)
    read.clear()
    model.sync(stored, read_text)  # nothing new: nothing read again
    assert read == []
    # an inferred sector is not a label; a removed document is forgotten
    inferred = StoredDocument(
        meta("trans-0", sector="transversal", extra={"inferred": {"sector": "texte"}}), "v2", 1, "x"
    )
    model.sync(
        [inferred if s.metadata.doc_id == "trans-0" else s for s in stored if s.metadata.doc_id != "trans-1"], read_text
    )
    assert model.version("trans-0") is None and model.version("trans-1") is None and read == []
    assert model.ready() is (len(BASE["transversal"]) - 2 >= MIN_DOCUMENTS_PER_SECTOR)


# -- territory -----------------------------------------------------------------------------------


def test_a_territory_line_is_kept_as_written_when_it_is_a_real_place():
    territory, how = infer_territory(PDF_TEXT)
    assert (territory, how) == ("CC du Haut-Lignon (Haute-Loire)", FROM_HEADER)
    assert "epci:244301107" in resolve(territory).territory_codes


def test_an_unknown_place_is_not_inferred():
    assert infer_territory("Compte rendu\nTerritoire : Pays du Haut Val\nLe groupe s'est réuni.") is None
    assert infer_territory("Plan d'action 2024\nBilan de l'année\nLes actions menées.") is None


def test_a_place_in_the_first_lines_is_recognised():
    assert infer_territory(CCAS_MINUTE) == ("Tence (Haute-Loire)", FROM_TEXT)
    assert infer_territory("Réunion à Yssingeaux le 3 mai\nOrdre du jour") == ("Yssingeaux (Haute-Loire)", FROM_TEXT)
    # the département named in the first lines places a homonym
    text = "Département de l'Allier\nLa MDS de Sauvagnat reçoit le public"
    assert infer_territory(text) == ("Allier", FROM_TEXT)


# -- publics -------------------------------------------------------------------------------------


def test_publics_from_a_public_line():
    publics, how = infer_publics("Fiche\nPublic : jeunes de 16 à 25 ans et familles monoparentales.\nSuite.")
    assert publics == ("jeunes", "familles") and how == FROM_HEADER


def test_publics_from_a_section_and_from_the_text():
    text = (
        "## En bref\nUn service.\n\n## Public\n\nPersonnes âgées qui ne conduisent plus.\n\n## Étapes\nTrois étapes.\n"
    )
    assert infer_publics(text) == (("personnes âgées",), FROM_HEADER)
    # a short text needs one mention, a long one several (the word "jeunes" once in 600 words is not a public)
    assert infer_publics(text + "Les jeunes aussi.")[0] == ("jeunes", "personnes âgées")
    assert infer_publics(text + "Les jeunes aussi. " + "Une phrase de plus sur le service. " * 100)[0] == (
        "personnes âgées",
    )
    assert infer_publics(CCAS_MINUTE) == (
        ("personnes âgées", "allocataires du RSA", "personnes en précarité"),
        FROM_TEXT,
    )
    assert infer_publics(LEADER_FICHE)[0] == (
        "agriculteurs",
        "commerçants et artisans",
        "associations",
        "élus et collectivités",
    )


def test_hand_written_publics_are_normalised():
    assert normalise_publics(["Seniors", "RSA", "jeunes"]) == ("personnes âgées", "allocataires du RSA", "jeunes")
    assert split_publics("jeunes et familles ; bénévoles, marins") == (
        ("jeunes", "familles", "associations"),
        ("marins",),
    )
    assert normalise_publics("commerçants et artisans") == ("commerçants et artisans",)
    assert set(normalise_publics(list(PUBLIC_LABELS))) == set(PUBLIC_LABELS)


def test_front_matter_publics_are_a_field(tmp_path):
    raw = {
        "titre": "Fiche",
        "publics cibles": ["jeunes", "Seniors", "marins"],
        "public": "Particuliers",
        "inferred": {"sector": "texte"},  # reserved to ingestion: a file cannot claim an inference
    }
    metadata = build_metadata(raw, path=Path("fiche.md"), detected_title=None, content_hash="h")
    assert metadata.publics == ("jeunes", "personnes âgées")
    # not lost; ``public`` alone is service-public.fr's audience, kept as it is (evaluation/vdd.py)
    assert metadata.extra == {"autres_publics": ["marins"], "public": "Particuliers"}
    assert DocumentMetadata.from_dict(metadata.to_dict()) == metadata
    assert DocumentMetadata.from_dict({"doc_id": "a", "title": "A"}).publics == ()  # an older registry


# -- completing metadata -------------------------------------------------------------------------


def test_only_missing_fields_are_inferred_and_marked(model):
    completed = complete(meta(title="Compte rendu du CCAS"), CCAS_MINUTE, model)
    assert completed.sector == "action sociale"
    assert completed.territory == "Tence (Haute-Loire)"
    assert "personnes âgées" in completed.publics
    assert completed.extra["inferred"] == {"sector": FROM_TEXT, "territory": FROM_TEXT, "publics": FROM_TEXT}
    assert completed.inferred("sector") == FROM_TEXT

    given = meta(sector="transversal", territory="Drôme", publics=("jeunes",), extra={"inferred": {"sector": "x"}})
    kept = complete(given, CCAS_MINUTE, model)
    assert (kept.sector, kept.territory, kept.publics) == ("transversal", "Drôme", ("jeunes",))
    assert "inferred" not in kept.extra  # a hand-written key cannot claim an inference
    assert kept.inferred("sector") is None
