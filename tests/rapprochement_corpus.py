"""A small base for the rapprochement tests: two structures of the two sectors on one territory
that name each other, a third document of the other sector elsewhere, and a transversal one."""

from __future__ import annotations

from pathlib import Path

DOCUMENTS = {
    "epicerie-solidaire": """---
id: epicerie-solidaire
title: "Une épicerie solidaire itinérante sur le plateau"
doc_type: fiche expérience
sector: action sociale
themes: [aide alimentaire]
territory: "CC des Plateaux du Lizon (Haute-Loire)"
porteur: "Épicerie solidaire Le Panier du Plateau"
publics: [familles, personnes âgées]
partners: ["Projet alimentaire du Lizon"]
---

# Une épicerie solidaire itinérante

L'épicerie solidaire achète des légumes déclassés aux maraîchers du plateau, avec le projet alimentaire du Lizon.
Les familles et les personnes âgées orientées par le CCAS y font leurs courses à petit prix.

## Contact

Responsable de l'épicerie — epicerie@plateau.example
""",
    "projet-alimentaire": """---
id: projet-alimentaire
title: "Le projet alimentaire territorial du Lizon"
doc_type: annuaire
sector: développement local
themes: [circuits courts, aide alimentaire]
territory: "CC des Plateaux du Lizon (Haute-Loire)"
porteur: "Projet alimentaire du Lizon"
publics: [agriculteurs, familles]
---

# Projet alimentaire du Lizon

Le projet alimentaire met en relation les maraîchers avec les cantines et l'épicerie solidaire Le Panier du Plateau.
Il aide les familles modestes à manger des légumes locaux.

## Contact

Coordinatrice du projet alimentaire — pat@lizon.example
""",
    "boutique-essai": """---
id: boutique-essai
title: "Une boutique à l'essai dans une vitrine vide"
doc_type: fiche expérience
sector: développement local
themes: [commerce]
territory: "Drôme"
porteur: "Boutique à l'essai"
publics: [commerçants]
---

# Une boutique à l'essai

Un commerçant teste son activité dans une vitrine vacante du bourg pendant six mois, avec un loyer réduit.
""",
    "groupe-de-travail": """---
id: groupe-de-travail
title: "Le groupe de travail action sociale et développement local"
doc_type: compte rendu
sector: transversal
themes: [coopération]
territory: "Haute-Loire"
---

# Séance du groupe de travail

L'épicerie solidaire et le projet alimentaire ont présenté leurs actions aux familles.
""",
}


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, text in DOCUMENTS.items():
        (folder / f"{doc_id}.md").write_text(text, encoding="utf-8")
    return folder
