"""The capitalisation template: a fiche as JSON, validated field by field, rendered to Markdown.

Every problem is reported at once, in French, with the field it concerns, so that the
coordinator fixes the whole form in one go.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import yaml

from kb.core.errors import FicheInvalid, InvalidRequest, Problem
from kb.core.text import fold
from kb.core.vocabulary import (
    CHOSEN_DOC_TYPES,
    CROSS_SECTOR,
    REQUIRED_FIELDS,
    SECTORS,
    derived_doc_id,
    is_doc_id,
    known_doc_type,
    normalise_sector,
    web_address_problem,
)
from kb.search.filters import DATE_PATTERN

SECTION_TITLES = {
    "contexte": "Contexte",
    "objectifs": "Objectifs",
    "public": "Public",
    "etapes": "Étapes",
    "quand_l_utiliser": "Quand l'utiliser",
    "moyens_et_financements": "Moyens et financements",
    "difficultes": "Difficultés",
    "conseils": "Conseils d'animation",
    "pieges": "Pièges à éviter",
    "resultats": "Résultats",
    "suites": "Suites",
    "contact": "Contact",
}
_DATE = re.compile(DATE_PATTERN)
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,120}$")
MAX_REPLACED = 10  # documents one fiche may declare it replaces (``replaces``)


@dataclass(frozen=True)
class Fiche:
    doc_id: str
    title: str
    doc_type: str
    sector: str
    themes: tuple[str, ...]
    territory: str
    summary: str
    sections: tuple[tuple[str, str], ...]
    porteur: str | None = None
    partners: tuple[str, ...] = ()
    date: str | None = None
    source_url: str | None = None
    replaces: tuple[str, ...] = ()

    def to_markdown(self) -> str:
        front: dict[str, Any] = {
            "id": self.doc_id,
            "title": self.title,
            "doc_type": self.doc_type,
            "sector": self.sector,
            "themes": list(self.themes),
            "territory": self.territory,
            "date": self.date,
            "porteur": self.porteur,
            "partners": list(self.partners) or None,
            "source_url": self.source_url,
            "replaces": list(self.replaces) or None,
        }
        front = {k: v for k, v in front.items() if v is not None}
        body = [f"# {self.title}", "", "## En bref", "", self.summary.strip(), ""]
        for key, text in self.sections:
            body += [f"## {SECTION_TITLES[key]}", "", text.strip(), ""]
        header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
        return f"---\n{header}---\n" + "\n".join(body)


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def _section_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(name)).strip("_")


# The metadata a fiche, an uploaded file or an edit (PATCH) describes, checked by one set of
# rules and messages (REQUIRED_FIELDS are required of every document written through the API).
METADATA_FIELDS = (*REQUIRED_FIELDS, "porteur", "partners", "date", "source_url")


def _check_title(data: dict, problems: list[Problem]) -> str:
    title = _text(data, "title")
    if not title:
        problems.append(Problem("title", "le titre est obligatoire"))
    elif not 5 <= len(title) <= 200:
        problems.append(Problem("title", "le titre doit faire entre 5 et 200 caractères"))
    return title


def _check_doc_type(data: dict, problems: list[Problem]) -> str:
    doc_type = known_doc_type(_text(data, "doc_type")) or ""
    if not _text(data, "doc_type"):
        problems.append(Problem("doc_type", "le type de document est obligatoire"))
    elif doc_type not in CHOSEN_DOC_TYPES:
        problems.append(Problem("doc_type", f"type inconnu (valeurs possibles : {', '.join(CHOSEN_DOC_TYPES)})"))
    return doc_type


def _check_sector(data: dict, problems: list[Problem]) -> str | None:
    sector = normalise_sector(_text(data, "sector"))
    if not _text(data, "sector"):
        problems.append(Problem("sector", "le secteur est obligatoire"))
    elif sector is None:
        problems.append(Problem("sector", f"secteur inconnu (valeurs possibles : {', '.join(SECTORS)})"))
    return sector


def _check_themes(data: dict, problems: list[Problem]) -> tuple[str, ...]:
    raw_themes = data.get("themes")
    if isinstance(raw_themes, str):
        raw_themes = raw_themes.split(",")
    if not isinstance(raw_themes, (list, tuple)) or not [t for t in raw_themes if isinstance(t, str) and t.strip()]:
        problems.append(Problem("themes", "indiquez au moins un thème"))
        return ()
    themes = [t.strip().lower() for t in raw_themes if isinstance(t, str) and t.strip()]
    if len(themes) > 10:
        problems.append(Problem("themes", "10 thèmes au plus"))
    return tuple(dict.fromkeys(themes))


def _check_territory(data: dict, problems: list[Problem]) -> str:
    territory = _text(data, "territory")
    if not territory:
        problems.append(Problem("territory", "le territoire est obligatoire"))
    return territory


def _check_porteur(data: dict, problems: list[Problem]) -> str | None:
    return _text(data, "porteur") or None


def _check_partners(data: dict, problems: list[Problem]) -> tuple[str, ...]:
    partners = data.get("partners") or []
    if not isinstance(partners, list) or not all(isinstance(p, str) for p in partners):
        problems.append(Problem("partners", "une liste de noms est attendue"))
        return ()
    return tuple(p.strip() for p in partners if p.strip())


def _check_date(data: dict, problems: list[Problem]) -> str | None:
    date = _text(data, "date") or None
    if date is not None and not _DATE.match(date):
        problems.append(Problem("date", "date attendue au format AAAA-MM-JJ (ou AAAA-MM, AAAA)"))
    elif date is not None and len(date) == 10:
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            problems.append(Problem("date", "cette date n'existe pas"))
    return date


def _check_source_url(data: dict, problems: list[Problem]) -> str | None:
    source_url = _text(data, "source_url") or None
    problem = web_address_problem(source_url) if source_url is not None else None
    if problem:
        problems.append(Problem("source_url", f"adresse web refusée : {problem}"))
    return source_url


def _check_summary(data: dict, problems: list[Problem]) -> str:
    summary = _text(data, "summary")
    if len(summary) < 40:
        problems.append(Problem("summary", "le résumé est obligatoire (40 caractères au moins)"))
    elif len(summary) > 3000:
        problems.append(Problem("summary", "le résumé doit faire 3 000 caractères au plus"))
    return summary


_CHECKS = {
    "title": _check_title,
    "doc_type": _check_doc_type,
    "sector": _check_sector,
    "themes": _check_themes,
    "territory": _check_territory,
    "porteur": _check_porteur,
    "partners": _check_partners,
    "date": _check_date,
    "source_url": _check_source_url,
    "summary": _check_summary,
}


def check_metadata(data: dict, fields: tuple[str, ...] | list[str], problems: list[Problem]) -> dict[str, Any]:
    """The normalised values of ``fields`` (``METADATA_FIELDS`` and ``summary``) read from ``data``;
    what is wrong with them is appended to ``problems``, one problem per field."""
    return {name: _CHECKS[name](data, problems) for name in fields}


def validate_fiche(data: Any) -> Fiche:
    """A valid ``Fiche``, or ``FicheInvalid`` listing every problem found."""
    if not isinstance(data, dict):
        raise FicheInvalid([Problem("fiche", "un objet JSON est attendu")])
    problems: list[Problem] = []
    known = {
        "id",
        "title",
        "doc_type",
        "sector",
        "themes",
        "territory",
        "summary",
        "sections",
        "porteur",
        "partners",
        "date",
        "source_url",
        "replaces",
    }
    for key in data:
        if key not in known:
            problems.append(Problem(str(key), f"champ inconnu (champs possibles : {', '.join(sorted(known))})"))

    values = check_metadata(data, METADATA_FIELDS, problems)
    title, doc_type = values["title"], values["doc_type"]

    summary = _check_summary(data, problems)

    sections: list[tuple[str, str]] = []
    raw_sections = data.get("sections") or {}
    if not isinstance(raw_sections, dict):
        problems.append(Problem("sections", "un objet { nom de section : texte } est attendu"))
        raw_sections = {}
    for name, text in raw_sections.items():
        key = _section_key(str(name))
        if key not in SECTION_TITLES:
            problems.append(
                Problem(f"sections.{name}", f"section inconnue (sections possibles : {', '.join(SECTION_TITLES)})")
            )
        elif not isinstance(text, str) or not text.strip():
            problems.append(Problem(f"sections.{name}", "le texte de la section est vide"))
        elif len(text) > 20_000:
            problems.append(Problem(f"sections.{name}", "20 000 caractères au plus par section"))
        else:
            sections.append((key, text))
    if doc_type == "fiche expérience" and not any(k in ("contexte", "etapes", "resultats") for k, _ in sections):
        problems.append(
            Problem("sections", "une fiche expérience décrit au moins le contexte, les étapes ou les résultats")
        )
    if doc_type == "fiche expérience" and not _text(data, "porteur"):
        problems.append(Problem("porteur", "le porteur est obligatoire pour une fiche expérience"))

    doc_id = _text(data, "id") or (derived_doc_id(title) if title else "")
    if _text(data, "id") and not _ID.match(doc_id):
        problems.append(Problem("id", "identifiant attendu en minuscules, chiffres et tirets (3 à 120 caractères)"))

    replaces = data.get("replaces", [])
    if isinstance(replaces, str):
        replaces = [replaces]
    if not isinstance(replaces, list) or not all(is_doc_id(r) for r in replaces):
        problems.append(
            Problem(
                "replaces", "identifiant (ou liste d'identifiants) de document attendu : minuscules, chiffres et tirets"
            )
        )
        replaces = []
    elif len(replaces) > MAX_REPLACED:
        problems.append(Problem("replaces", f"{MAX_REPLACED} documents remplacés au plus"))
    elif doc_id in replaces:
        problems.append(Problem("replaces", "une fiche ne peut pas se remplacer elle-même"))

    if problems:
        raise FicheInvalid(problems)
    order = list(SECTION_TITLES)
    sections.sort(key=lambda item: order.index(item[0]))
    return Fiche(
        doc_id=doc_id,
        title=title,
        doc_type=doc_type,
        sector=values["sector"] or CROSS_SECTOR,
        themes=values["themes"],
        territory=values["territory"],
        summary=summary,
        sections=tuple(sections),
        porteur=values["porteur"],
        partners=values["partners"],
        date=values["date"] or dt.date.today().isoformat(),
        source_url=values["source_url"],
        replaces=tuple(dict.fromkeys(replaces)),
    )


def check_upload_metadata(merged: dict[str, Any]) -> None:
    """``InvalidRequest`` unless the metadata of an uploaded file (its front matter or sidecar and
    the form fields, merged under canonical names) has every required field, with a known type
    and sector: the same rules as a typed fiche, one problem per field."""
    problems: list[Problem] = []
    check_metadata({name: _plain(merged.get(name)) for name in REQUIRED_FIELDS}, REQUIRED_FIELDS, problems)
    if problems:
        raise InvalidRequest("Métadonnées du document manquantes ou invalides.", problems)


def _plain(value: Any) -> Any:
    """Hand-written YAML values as the checks read them: lists of text, or text."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value if item is not None]
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)
