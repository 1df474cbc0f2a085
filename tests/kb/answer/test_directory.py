"""A contact is only the contact lines, one per structure; the differences a coordinator sees
(kb/answer/directory.py, kb/answer/contacts.py), on contact sections of the sample corpus."""

from __future__ import annotations

import pytest

from kb.answer.contacts import differences
from kb.answer.directory import contact_details, contact_lines, one_per_structure, structure_key

FIN_REGION = """## Contact

Chargé(e) de mission tiers-lieux et ingénierie territoriale, antenne régionale de la Région Auvergne-Rhône-Alpes — territoires@region-aura.example

Pour un premier repérage, l'équipe de Ressources Rurales AURA peut relire un projet de tiers-lieu avant dépôt : tierslieux@ressources-rurales-aura.example

Voir aussi la brève de veille « Appel à projets « Tiers-lieux ruraux, lieux de services et de solidarités » : deux vagues en 2024 », le questions-réponses « Comment financer durablement un poste d'animateur de tiers-lieu en milieu rural ? ».
"""

FIN_FONDS = """## Article 8 : communication

L'association mentionne le soutien de la CC Vercors-Roubion sur ses supports.

## Contact

Service vie associative, CC Vercors-Roubion, Beaufort-sur-Roubion. Le dossier de demande tient sur deux pages ; le service aide à le remplir sur rendez-vous. Courriel : vie.associative@vercors-roubion.example
"""

FIN_PVD = """## Contact

- Bureau des finances locales et de l'appui aux territoires, préfecture de l'Ardèche — dotations@prefecture-ardeche.example
- Référent Petites villes de demain de la direction départementale des territoires.
- Pour un retour d'expérience : cheffe de projet PVD, CC du Haut-Vernay — pvd@cc-haut-vernay.example
"""

# fin-departement-insertion-pdi-rsa.pdf as pypdf reads it: a heading line, wrapped lines
FIN_DEPARTEMENT_PDF = """Trésorerie
• Trésorerie : le solde arrive plusieurs mois après la fin de l'action.
Contact
Responsable  insertion,  Maison  départementale  des  solidarités  (MDS)  de  Sauvagnat,  Département  de
l'Allier — insertion.sauvagnat@allier-departement.example
Voir  aussi  la  fiche  financement  «  Fondation  Terres  Solidaires  :  appel  à  projets  «  Ruralités  solidaires  »
2025 » et la fiche méthode « Aller-vers et repérage du non-recours aux droits en milieu rural ».
"""

# meth-monter-dossier-leader.md: no Contact section, a contact line among the pointers
LEADER_SHEET = """## Pour aller plus loin

- Fiche méthode « Tenir une grille de veille et un tableau de suivi des partenaires ».
- Contact : équipe d'animation du GAL LEADER Sucs et Gorges — leader@pays-sucs-gorges.example
"""

SLIDES = """Et après
Une demi-journée d'échange de pratiques par trimestre.

Notes de l'intervenant : Contact : la directrice du CIAS, cias@haut-vernay.example.
"""


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            FIN_REGION,
            "Chargé(e) de mission tiers-lieux et ingénierie territoriale, antenne régionale de la Région "
            "Auvergne-Rhône-Alpes — territoires@region-aura.example",
        ),
        (
            FIN_FONDS,
            "Service vie associative, CC Vercors-Roubion, Beaufort-sur-Roubion. "
            "Courriel : vie.associative@vercors-roubion.example",
        ),
        (
            FIN_PVD,
            "Bureau des finances locales et de l'appui aux territoires, préfecture de l'Ardèche — "
            "dotations@prefecture-ardeche.example ; Référent Petites villes de demain de la direction "
            "départementale des territoires ; Pour un retour d'expérience : cheffe de projet PVD, CC du "
            "Haut-Vernay — pvd@cc-haut-vernay.example",
        ),
        (
            FIN_DEPARTEMENT_PDF,
            "Responsable insertion, Maison départementale des solidarités (MDS) de Sauvagnat, Département de "
            "l'Allier — insertion.sauvagnat@allier-departement.example",
        ),
        (LEADER_SHEET, "équipe d'animation du GAL LEADER Sucs et Gorges — leader@pays-sucs-gorges.example"),
        (SLIDES, None),  # a contact in the speaker's notes is not the document's
        ("## Présentation\n\nUne association du plateau.\n", None),
    ],
)
def test_a_contact_is_only_its_contact_lines(text, expected):
    assert contact_lines(text) == expected


def test_contact_details_are_compared_as_addresses_and_digits():
    emails, phones = contact_details("Accueil — Contact@Panier-des-Sucs.example, 04 71 23 45 67 ou +33 4 71 23 45 68")
    assert emails == {"contact@panier-des-sucs.example"}
    assert phones == {"0471234567", "0471234568"}


def test_what_a_fiche_and_the_directory_disagree_on():
    directory_line = "Animateur du GAL LEADER — contact@gal-sucs-et-gorges.example — 04 71 00 00 01"
    assert differences("Équipe d'animation — leader@pays-sucs-gorges.example", directory_line) == ["courriel"]
    assert differences("Animateur — contact@gal-sucs-et-gorges.example ; 04 71 00 00 02", directory_line) == [
        "téléphone"
    ]
    assert differences("Animateur — CONTACT@gal-sucs-et-gorges.example", directory_line) == []
    assert differences("Animateur du GAL LEADER", directory_line) == []  # nothing to compare


def contact(name: str, doc_id: str | None, text: str) -> dict:
    return {"name": name, "doc_id": doc_id, "territory": None, "contact": text, "reason": "r"}


def test_one_contact_per_structure_the_directorys_first():
    own = contact("Épicerie solidaire Le Panier des Sucs", None, "Responsable — contact@panierdessucs.example")
    listed = contact(
        "Épicerie Solidaire le Panier des Sucs", "annuaire-panier-des-sucs", "contact@panier-des-sucs.example"
    )
    again = contact("Autre nom", "annuaire-panier-des-sucs", "contact@panier-des-sucs.example")
    other = contact("GAL LEADER Sucs et Gorges", "annuaire-gal", "contact@gal-sucs-et-gorges.example")
    assert one_per_structure([own, None, listed, again, other, contact("Sans moyen", None, None)]) == [listed, other]


def test_structure_names_are_folded_without_their_article():
    assert structure_key("La Marmite des Monts") == structure_key("marmite des monts")
    assert structure_key("L'Épicerie du Bourg") == structure_key("epicerie du bourg")
