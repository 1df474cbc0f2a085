"""The publics a document concerns: a small controlled vocabulary with French labels.

A document says whom its action is for ("jeunes", "personnes âgées", "allocataires du RSA"…):
in its ``publics:`` front matter when written (any spelling of the labels below, or one of
their variants: "seniors", "RSA", "demandeurs d'emploi"…), else inferred from its text
(``ingest/inference.py``). One list, read by ingestion, the catalogue's checks and the pages.
"""

from __future__ import annotations

import re
from typing import Any

from kb.core.text import fold

# label -> the variants a hand-written value may use (folded; the label itself always matches)
PUBLICS: dict[str, tuple[str, ...]] = {
    "jeunes": ("jeune", "jeunesse", "16-25 ans", "adolescents", "ados", "etudiants", "apprentis"),
    "enfants": ("enfant", "petite enfance", "jeunes enfants", "tout-petits", "eleves"),
    "familles": ("famille", "parents", "parentalite", "familles monoparentales"),
    "personnes âgées": ("seniors", "senior", "retraites", "aines", "personnes agees isolees"),
    "personnes handicapées": ("handicap", "personnes en situation de handicap", "personnes handicapees"),
    "allocataires du RSA": ("rsa", "beneficiaires du rsa", "allocataires rsa", "minima sociaux"),
    "personnes en insertion": (
        "insertion",
        "demandeurs d'emploi",
        "salaries en insertion",
        "personnes eloignees de l'emploi",
    ),
    "personnes en précarité": ("precarite", "menages modestes", "personnes precaires", "bas revenus", "pauvrete"),
    "nouveaux arrivants": ("nouveaux habitants", "neo-ruraux", "neoruraux", "nouveaux arrives"),
    "agriculteurs": ("agriculteur", "exploitants agricoles", "producteurs", "maraichers", "eleveurs", "paysans"),
    "commerçants et artisans": ("commercants", "artisans", "commerces", "entreprises", "tpe"),
    "porteurs de projet": ("porteurs de projets", "createurs", "repreneurs", "entrepreneurs", "createurs d'entreprise"),
    "associations": ("association", "benevoles", "collectifs d'habitants"),
    "élus et collectivités": ("elus", "collectivites", "communes", "epci", "intercommunalites", "maires"),
    "professionnels": ("travailleurs sociaux", "agents de developpement", "techniciens", "professionnels du social"),
    "habitants": ("tous publics", "tout public", "population", "habitant"),
}
PUBLIC_LABELS = tuple(PUBLICS)


def _key(text: str) -> str:
    return re.sub(r"[\s\-_']+", " ", fold(text)).strip(" .;:")


_BY_VARIANT = {_key(variant): label for label, variants in PUBLICS.items() for variant in (label, *variants)}


def public_label(value: Any) -> str | None:
    """The label of one hand-written public ("Seniors", "RSA", "jeunes"), or None."""
    return _BY_VARIANT.get(_key(str(value))) if value is not None else None


def split_publics(value: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(labels recognised, values not recognised) of a hand-written ``publics`` field: a list,
    or a text separated by commas, semicolons or "et"; each label once, in the order written."""
    if value is None or value == "":
        return (), ()
    items = value if isinstance(value, (list, tuple, set)) else [value]
    labels: list[str] = []
    unknown: list[str] = []
    for item in items:
        if item is None:
            continue
        text = str(item).strip()
        whole = public_label(text)
        parts = [text] if whole else [p for p in re.split(r"[,;|/]|\s+et\s+", text) if p.strip()]
        for part in parts:
            label = public_label(part)
            if label is not None:
                if label not in labels:
                    labels.append(label)
            elif part.strip() and part.strip() not in unknown:
                unknown.append(part.strip())
    return tuple(labels), tuple(unknown)


def normalise_publics(value: Any) -> tuple[str, ...]:
    """The labels of a hand-written ``publics`` field (what is not recognised is left out)."""
    return split_publics(value)[0]
