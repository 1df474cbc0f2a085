"""What a document gives to quote (kb/answer/units.py), on excerpts of the sample corpus as
ingestion reads them: a Q&A fiche in plain text, a scanned minute, slides, a method sheet."""

from __future__ import annotations

from kb.answer.units import parse
from kb.core.models import Chunk

# qr-financer-poste-animateur-tiers-lieu.txt: plain-text headings, the question in « »
QA_TEXT = """Comment financer durablement un poste d'animateur de tiers-lieu en milieu rural ?
=================================================================================


LA QUESTION

« Notre association gère depuis deux ans un tiers-lieu dans un village de 1 200 habitants : un café-épicerie, un atelier de réparation, une salle de réunion et quelques bureaux. Tout repose sur des bénévoles et sur un animateur en contrat aidé qui se termine dans six mois. Comment financer ce poste dans la durée ? »


CONTEXTE

Le lieu accueille environ 150 personnes par semaine. Le coût d'un poste d'animateur à temps plein est estimé à 38 000 € par an charges comprises.


RESSOURCES COMMENTÉES

- Fiche expérience « La Fabrique des Combes : un tiers-lieu coopératif qui accueille aussi les permanences sociales » : budget 2024 détaillé (168 000 €, dont 71 000 € de recettes propres) et gestion de la fin du financement Fabrique de territoire.
- Compte rendu de la séance 5 du groupe « Action sociale et développement local » : témoignage du coordinateur de La Fabrique des Combes sur les financeurs économiques et sociaux.
"""

# cr-gal-sucs-gorges-comite-programmation-juin-2024.pdf as OCR reads it: the minute's header,
# its sections, its signature
MINUTE_TEXT = """Comité de programmation LEADER du 20 juin 2024 : relevé de décisions

GAL Sucs et Gorges, programme LEADER 2023-2027. Séance du jeudi 20 juin
2024, de 14hà17h, salle du conseil du PETR à Montregard- les-Sucs.

Point d' information

Depuis 2023, le GAL a programmé 612 000 euros de FEADER, soit 34 % de son
enveloppe de 1,8 million d'euros. La prochaine séance aura lieu le 10 octobre
2024.

Page 1/2

Fait à Montregard-les-Sucs, le 20 juin 2024. Le président du comité de
programmation. .
"""

# meth-aide-demarches-en-ligne-mairie-diaporama.pptx as its reader gives it: slide titles,
# bullets as lines, speaker notes
SLIDES_TEXT = """Aider à faire, pas faire à la place
La personne reste devant le clavier autant que possible : on montre, elle fait.
Ne jamais noter ni garder un mot de passe, même à la demande de la personne.

Notes de l'intervenant : Beaucoup de secrétaires de mairie connaissent les mots de passe de personnes âgées du village. Expliquer le risque pour elles en cas de litige.

Les démarches les plus demandées
Démarche | Durée moyenne | Si c'est bloqué
Carte grise et permis (ANTS) | 40 minutes | bus France services
Prime d'activité et aides CAF | 30 minutes | bus France services ou CAF
"""

# cr-asdl-seance-1-lancement.md: a witness quoted over several sentences
WITNESS_TEXT = """## Tour de table

Nadia (coordinatrice CTG, Haut-Vernay) : « La CTG a été signée avec la CAF en 2021. Dans le diagnostic, la mobilité des familles ressort comme le premier frein. J'ai appris trois mois plus tard que le service développement économique lançait une étude mobilité pour Petites villes de demain. Nous sommes au même étage. »

Sophie (PAT) : « Le PAT veut travailler l'accès de tous à une alimentation de qualité. Pourquoi personne ne nous a prévenus ? »
"""

# meth-monter-dossier-leader.md: its numbered steps
STEPS_TEXT = """## Objet

LEADER est le volet de développement local du fonds européen agricole pour le développement rural (FEADER).

## Étapes

1. **Premier contact avec l'équipe d'animation du GAL, avant toute dépense.** Présentation de l'idée, vérification de l'éligibilité et du rattachement à une fiche action.
2. **Plan de financement** : identifier le cofinanceur public national. Sur le GAL Sucs et Gorges, l'aide LEADER couvre en règle générale 80 % de l'aide publique.
3. **Dépôt de la demande d'aide** : formulaire, devis, statuts, RIB. La date de l'accusé de réception marque le début de l'éligibilité des dépenses.

## Conseils

- Venir au GAL **avec une idée, pas avec un dossier bouclé** : l'équipe peut aider à calibrer le projet.
"""


def whole(text: str, section: tuple[str, ...] = ()) -> tuple[Chunk, ...]:
    return (Chunk("doc", 0, text, 0, len(text), section),)


def texts(text: str, doc_type: str = "", section: tuple[str, ...] = ()) -> list[str]:
    return [unit.text for unit in parse(text, whole(text, section), doc_type).units]


def test_the_question_of_a_qa_fiche_and_its_pointers_are_not_quoted():
    found = texts(QA_TEXT, "questions-réponses")
    assert found == [
        "Le lieu accueille environ 150 personnes par semaine.",
        "Le coût d'un poste d'animateur à temps plein est estimé à 38 000 € par an charges comprises.",
    ]


def test_a_minutes_header_signature_and_page_numbers_are_not_quoted():
    found = texts(MINUTE_TEXT, "compte rendu")
    assert found == [
        "Depuis 2023, le GAL a programmé 612 000 euros de FEADER, soit 34 % de son enveloppe de 1,8 million d'euros.",
        "La prochaine séance aura lieu le 10 octobre 2024.",
    ]


def test_speaker_notes_and_a_slides_table_header_are_not_quoted():
    found = texts(SLIDES_TEXT, "fiche méthode")
    assert "La personne reste devant le clavier autant que possible : on montre, elle fait." in found
    assert not any("secrétaires de mairie connaissent" in text or "Expliquer le risque" in text for text in found)
    assert not any(text.startswith("Démarche") for text in found)


def test_a_quotation_is_quoted_whole_or_not_at_all():
    found = texts(WITNESS_TEXT, "compte rendu", ("Tour de table",))
    # completed up to its closing mark
    assert found == [
        "Nadia (coordinatrice CTG, Haut-Vernay) : « La CTG a été signée avec la CAF en 2021. Dans le diagnostic, "
        "la mobilité des familles ressort comme le premier frein. J'ai appris trois mois plus tard que le service "
        "développement économique lançait une étude mobilité pour Petites villes de demain. Nous sommes au même "
        "étage. »"
    ]  # Sophie's ends with a question: neither her first sentence nor the question is quoted


def test_the_steps_of_a_method_in_order_each_cut_to_its_first_sentence():
    parsed = parse(STEPS_TEXT, whole(STEPS_TEXT, ("Étapes",)), "fiche méthode")
    assert [[unit.text for unit in steps] for steps in parsed.steps] == [
        [
            "Premier contact avec l'équipe d'animation du GAL, avant toute dépense.",
            "Plan de financement : identifier le cofinanceur public national.",
            "Dépôt de la demande d'aide : formulaire, devis, statuts, RIB.",
        ]
    ]  # "Conseils" is not a steps section
    for unit in parsed.steps[0]:
        assert STEPS_TEXT[unit.start : unit.end].replace("**", "") == unit.text
