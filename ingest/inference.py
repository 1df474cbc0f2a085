"""What a document's metadata does not say, inferred from its text and from the base.

Most files a resource centre holds (PDF, DOCX, HTML pages, minutes) have no front matter and no
sidecar: without a sector, a document could never be shown "in the other sector". When the
metadata does not give them, ``complete`` fills in:

- the **sector**: a "Secteur : …" line among the document's first lines (``"en-tête"``); else
  a naive Bayes classifier over the lexical terms of the base's own labelled documents
  (``SectorModel``), nudged towards the sector of the porteur's kind named in the title or a
  "Porteur : …" line (CAF, CCAS, centre social… vs LEADER, PETR, chambre consulaire…)
  (``"texte"``); on a base with too few labelled documents, the vocabulary of each sector and
  the porteur's kind alone (``"vocabulaire"``);
- the **territory**: the place of a "Territoire : …" line, or a place written in the first
  lines, kept only when ``kb/core/territories.resolve`` recognises a real place
  (``"en-tête"`` or ``"texte"``);
- the **publics** (labels of ``kb/core/publics.py``): a "Public(s) : …" line, a "Public(s)"
  section, or the text's repeated mentions (``"en-tête"`` or ``"texte"``).

Each inferred field is recorded in ``metadata.extra["inferred"]`` (``{"sector": "texte"}``),
which the fiche page shows ("secteur déduit du texte") and which a coordinator's correction
removes: a corrected field is written in the stored file's metadata, so it is given, not
inferred, at every later ingestion. The measured accuracy is in docs/evaluation.md
(``python -m evaluation.sector_inference``).
"""

from __future__ import annotations

import dataclasses
import math
import re

from ingest.sector_model import SectorModel, porteur_kind, vocabulary_sector
from kb.core.models import DocumentMetadata
from kb.core.publics import PUBLIC_LABELS, split_publics
from kb.core.territories import TerritoryMatch, resolve, territory_name
from kb.core.text import fold
from kb.core.vocabulary import SECTORS, normalise_sector

INFERRED = "inferred"  # the key of ``extra`` listing the inferred fields
FROM_HEADER, FROM_TEXT, FROM_VOCABULARY = "en-tête", "texte", "vocabulaire"

# "Secteur : …", "Territoire : …", "Porteur : …" are read among the first lines of the text.
HEADER_LINES = 25
# Added to the classifier's (per-term) score of the sector of the porteur's kind. Leave-one-out
# on the sample corpus (evaluation/sector_inference.py --bonus): 0 gives 79.8 %, 0.02 to 0.1
# 80.8 to 81.8 %, 0.2 78.8 %; the middle of the plateau, not its best point, as it was read
# on the very corpus it is measured on.
PORTEUR_BONUS = 0.05

_HEADER_KEYS = {
    "sector": ("secteur", "secteur d'activite", "secteur d'intervention"),
    "territory": ("territoire", "territoires", "territoire concerne", "territoire d'intervention", "lieu"),
    "porteur": ("porteur", "porteurs", "porteur de projet", "porteur du projet", "structure porteuse"),
    "publics": (
        "public",
        "publics",
        "public vise",
        "publics vises",
        "public cible",
        "publics cibles",
        "public concerne",
        "publics concernes",
        "beneficiaires",
    ),
}
_KEY_OF = {fold(alias): name for name, aliases in _HEADER_KEYS.items() for alias in aliases}
_HEADER_LINE = re.compile(r"^[\s>#*•·\-–—|]*(?P<key>[^\W\d_][^:\n]{0,40}?)\s*\**\s*[:：]\s*\**\s*(?P<value>.*?)\s*$")


# -- header lines -------------------------------------------------------------------------


def header_lines(text: str, limit: int = HEADER_LINES) -> list[str]:
    """The first ``limit`` non-empty lines of a text."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip():
            lines.append(line.strip())
            if len(lines) >= limit:
                break
    return lines


def read_headers(text: str, limit: int = HEADER_LINES) -> dict[str, str]:
    """The values of the "Secteur : …", "Territoire : …", "Porteur : …", "Public(s) : …" lines
    among the first lines (the first of each; keys accented or not, in bold or a list)."""
    found: dict[str, str] = {}
    for line in header_lines(text, limit):
        match = _HEADER_LINE.match(line)
        if not match:
            continue
        name = _KEY_OF.get(fold(match["key"].strip("* ")))
        value = match["value"].strip("* ").strip()
        if name and value and name not in found:
            found[name] = value[:300]
    return found


# -- the three inferences ------------------------------------------------------------------


def infer_sector(
    text: str,
    title: str,
    porteur: str | None,
    model: SectorModel | None,
    *,
    doc_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[str, str]:
    """(sector, how): a "Secteur : …" line; else the classifier nudged by the porteur's kind;
    else (too few labelled documents) the porteur's kind, else the vocabulary."""
    headers = read_headers(text) if headers is None else headers
    written = normalise_sector(headers.get("sector"))
    if written:
        return written, FROM_HEADER
    kind = porteur_kind(headers.get("porteur")) or porteur_kind(porteur) or porteur_kind(title)
    if model is not None and model.ready(exclude=doc_id):
        scores = model.scores(model.terms(title, text), exclude=doc_id)
        if kind:
            scores[kind] += PORTEUR_BONUS
        return max(SECTORS, key=lambda sector: scores[sector]), FROM_TEXT
    return kind or vocabulary_sector(text), FROM_VOCABULARY


# A line that may name a place: not too long (a sentence is not a header).
_PLACE_LINE_CHARS = 200
_FIRST_LINES = 6
_NAME = r"[A-ZÀ-Ý][\w'’-]*(?:(?:\s+|-)(?:(?:de|du|des|la|le|les|sur|sous|en|et|d'|l')\s*)*[A-ZÀ-Ý][\w'’-]*)*"
# A place inside a sentence: a name after what introduces a place ("CCAS de Tence", "à Yssingeaux",
# "CC du Haut-Lignon"), with a département in parentheses when there is one.
_PLACE = re.compile(
    r"(?:\b(?:CCAS|CIAS|[Mm]airie|[Cc]ommune|[Vv]ille|CC|CA|[Cc]ommunauté de communes|[Cc]ommunauté "
    r"d'agglomération|[Dd]épartement|[Pp]ays)\s+(?:de la |de l'|d'|du |des |de )?|\b(?:à|sur|en)\s+)"
    rf"(?P<name>{_NAME}(?:\s*\((?:\d{{2,3}}|{_NAME})\))?)"
)


def infer_territory(text: str, headers: dict[str, str] | None = None) -> tuple[str, str] | None:
    """(territory, how): the place of a "Territoire : …" line as written (up to its first
    sentence), when it resolves to a real place; else the first place recognised in the first
    lines ("CCAS de Tence", "à Yssingeaux", "CC du Haut-Lignon", a département), by its
    official name; None when no real place is found."""
    headers = read_headers(text) if headers is None else headers
    written = headers.get("territory")
    if written:
        place = re.split(r"\s*[;.]\s+|\s+[–—-]\s+", written, maxsplit=1)[0].strip(" ,.;")[:200]
        if place and resolve(place):
            return place, FROM_HEADER
    # a line without capitals would be read as a filter typed quickly ("l'écart se creuse" is
    # the Creuse): only lines with capitals are read
    first = [line.strip("#*>-• ") for line in header_lines(text, _FIRST_LINES) if re.search(r"[A-ZÀ-Ý]", line)]
    # the départements the first lines name place their communes: "MDS de Sauvagnat" after
    # "Département de l'Allier" is not the Puy-de-Dôme's Sauvagnat
    context = sorted(
        {
            territory_name(code) or ""
            for line in first
            for code in resolve(line).named_codes
            if code.startswith("departement:")
        }
    )
    lines = [line for line in first if len(line) <= _PLACE_LINE_CHARS]
    for line in lines:
        for candidate in _PLACE.finditer(line):
            match = resolve(candidate.group(0)) or resolve(candidate.group("name"))
            if match and context:
                match = resolve(f"{candidate.group('name')}, {', '.join(context)}")
            if match and match.level in ("commune", "epci"):
                return _official(match), FROM_TEXT
    for line in lines:
        match = resolve(line)
        if match and match.level == "departement":
            return _official(match), FROM_TEXT
    return None


def _official(match: TerritoryMatch) -> str:
    """A match written with official names: "Tence (Haute-Loire)", "CC du Haut Lignon
    (Haute-Loire)", "Haute-Loire"."""
    names = [territory_name(code) or code for code in match.named_codes]
    departements = [
        territory_name(code) or code
        for code in match.territory_codes
        if code.startswith("departement:") and code not in match.named_codes
    ]
    label = ", ".join(names)
    return f"{label} ({', '.join(departements)})" if departements and match.level != "departement" else label


# Publics: patterns over folded text; a mention inside a "Public(s) : …" line or a "Public(s)"
# section counts at once, elsewhere a label needs its number of mentions (None: never from the
# text alone, the word being everywhere: "habitants", "communes", "associations"). Set on the
# calibration half of evaluation/publics_labels.jsonl.
_PUBLIC_PATTERNS: dict[str, tuple[str, int | None]] = {
    "jeunes": (
        r"\bjeunes?\b(?! (?:enfants?|familles?|parents?|menages?|retraites|agriculteurs|pousses))|"
        r"\b1[68] (?:a )?2[56] ans\b|\bmoins de 2[56] ans\b|\bapprentis?\b|\betudiants?\b|\badolescents?\b|"
        r"\bjeunesse\b|\bneet\b",
        4,
    ),
    "enfants": (
        r"\benfants?\b|\bpetite enfance\b|\bjeune enfant\b|\btout petits\b|\beleves\b|\bcreches?\b|"
        r"\bassistantes? maternelles?\b|\brestaurants? scolaires?\b|\bcantines?\b",
        4,
    ),
    "familles": (r"\bfamilles?\b(?! rurales)|\bparents\b|\bparentalite\b|\bmonoparentales?\b", 4),
    "personnes âgées": (
        r"\bpersonnes? agees?\b|\bseniors?\b|\bretraites agricoles\b|\baines\b|\bvieillissement\b|"
        r"\bplus de [6-9]\d ans\b|\b(?:habitants|menages|personnes) ages\b|\bage(?:e|s|es)? et isole",
        3,
    ),
    "personnes handicapées": (r"\bhandicap\w*\b|\bmdph\b|\baah\b", 2),
    "allocataires du RSA": (r"\brsa\b|\bminima sociaux\b", 2),
    "personnes en insertion": (
        r"\binsertion\b|\bdemandeurs? d'emploi\b|\beloigne\w* (?:de|du) (?:l'emploi|marche)|\biae\b|"
        r"\bni en emploi\b|\bcontrats? d'insertion\b|\bretour a l'emploi\b",
        3,
    ),
    "personnes en précarité": (
        r"\bprecari\w*\b|\bmodestes?\b|\bfaibles? (?:ressources|revenus)\b|\bbas revenus\b|\bpauvre\w*\b|"
        r"\baide alimentaire\b|\ben difficulte\b|\bsans domicile\b|\breste a vivre\b",
        3,
    ),
    "nouveaux arrivants": (
        r"\bnouveaux? (?:habitants|arrivants|actifs|venus)\b|\bnouvellement (?:arrive|installe)\w*\b|"
        r"\bneo ?ruraux\b|\bpolitique d'accueil\b|\barrives? recemment\b",
        2,
    ),
    "agriculteurs": (
        r"\bagriculteurs?\b|\bexploitants? agricoles?\b|\bproducteurs?\b|\bmaraichers?\b|\beleveurs?\b|"
        r"\bpaysans?\b|\bchefs? d'exploitation\b|\binstallation agricole\b",
        3,
    ),
    "commerçants et artisans": (
        r"\bcommercants?\b|\bartisans?\b|\bartisanat\b|\bchefs? d'entreprises?\b|\bcommerces?\b",
        4,
    ),
    "porteurs de projet": (
        r"\bporteurs? de projets?\b|\bcreateurs?\b|\brepreneurs?\b|\bentrepreneurs?\b|"
        r"\bcreation d'entreprises?\b|\bcandidats? a l'installation\b|\btesteurs?\b",
        3,
    ),
    "associations": (r"\bassociations\b|\bbenevoles\b|\bcollectifs? d'habitants\b", None),
    "élus et collectivités": (r"\belus\b|\bcollectivites\b|\bepci\b|\bmaires\b|\bcommunes,", None),
    "professionnels": (
        r"\btravailleurs? sociaux\b|\bagents? de developpement\b|\bprofessionnels\b|\btechniciens\b|"
        r"\breseaux? de developpement\b",
        None,
    ),
    "habitants": (
        r"\btous les habitants\b|\bhabitants de tous\b|\btous publics?\b|\btout public\b|\bouvert a tous\b",
        None,
    ),
}
# ... and one mention per this many words of the text, up to the label's number.
WORDS_PER_MENTION = 200
_PUBLIC_REGEX = {label: (re.compile(pattern), mentions) for label, (pattern, mentions) in _PUBLIC_PATTERNS.items()}
assert set(_PUBLIC_REGEX) == set(PUBLIC_LABELS), "every public of kb/core/publics.py has its patterns"

# over folded lines (lowercase, no accents, hyphens as spaces)
_PUBLIC_LINE = re.compile(
    r"^[\s>*•|]*\**\s*(?:le |les )?(?:publics?|beneficiaires)(?: vises?| cibles?| concernes?)?\s*\**\s*[:：]\s*(.*)$"
)
_PUBLIC_HEADING = re.compile(r"^\s*(?:#+\s*)?(?:territoire et )?publics?(?: vises?| cibles?| concernes?)?\s*$")
_HEADING = re.compile(r"^\s*#+\s")
_SECTION_CHARS = 1500


def public_passages(text: str) -> list[str]:
    """The parts of a text that say whom it concerns: "Public(s) : …" lines (with the list
    that follows an empty one) and the sections headed "Public(s)" (a "Territoire et public"
    section: its "Public :" line when it has one, else all of it)."""
    passages: list[str] = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        folded = fold(line)
        match = _PUBLIC_LINE.match(folded)
        if match:
            value = match.group(1).strip()
            if not value.strip("* "):  # "Publics :" then a list
                value = " ".join(lines[number + 1 : number + 8])
            passages.append(value)
            continue
        if _PUBLIC_HEADING.match(folded):
            body: list[str] = []
            for following in lines[number + 1 :]:
                if _HEADING.match(following) or _is_plain_heading(following, body):
                    break
                body.append(following)
            section = "\n".join(body)[:_SECTION_CHARS]
            if not any(_PUBLIC_LINE.match(fold(part)) for part in body):
                passages.append(section)
    return passages


def _is_plain_heading(line: str, body: list[str]) -> bool:
    """A heading of a text without Markdown (PDF, DOCX): a short line, capitalised, without
    final punctuation, after some text."""
    stripped = line.strip()
    return (
        bool(body)
        and any(part.strip() for part in body)
        and 0 < len(stripped) <= 60
        and stripped[:1].isupper()
        and stripped[-1] not in ".,;:!?»)"
    )


def infer_publics(text: str) -> tuple[tuple[str, ...], str]:
    """(labels, how): a label is inferred when a "Public(s)" line or section names it
    (``"en-tête"``), or when the whole text mentions it often enough (``"texte"``)."""
    passages = public_passages(text)
    found: list[str] = []
    for passage in passages:
        labels, _ = split_publics(passage) if len(passage) < 40 else ((), ())
        for label in labels:
            if label not in found:
                found.append(label)
        folded = fold(passage)
        for label, (regex, _) in _PUBLIC_REGEX.items():
            if label not in found and regex.search(folded):
                found.append(label)
    how = FROM_HEADER if found else FROM_TEXT
    folded_text = fold(text)
    # a short text (a minute, a notice) needs fewer mentions than a long one
    scale = max(1, math.ceil(len(folded_text.split()) / WORDS_PER_MENTION))
    for label, (regex, mentions) in _PUBLIC_REGEX.items():
        if label not in found and mentions is not None and len(regex.findall(folded_text)) >= min(mentions, scale):
            found.append(label)
            how = FROM_TEXT
    ordered = tuple(label for label in PUBLIC_LABELS if label in found)
    return ordered, how


# -- completing a document's metadata ------------------------------------------------------


def missing(metadata: DocumentMetadata) -> tuple[str, ...]:
    """The inferable fields a document's metadata lacks."""
    absent = []
    if metadata.sector is None:
        absent.append("sector")
    if not metadata.territory:
        absent.append("territory")
    if not metadata.publics:
        absent.append("publics")
    return tuple(absent)


def complete(metadata: DocumentMetadata, text: str, model: SectorModel | None) -> DocumentMetadata:
    """The metadata with its missing sector, territory and publics inferred from the text (and
    the base's labelled documents, ``model``), each recorded in ``extra["inferred"]``. A field
    the metadata gives is never touched nor marked."""
    extra = {key: value for key, value in metadata.extra.items() if key != INFERRED}
    marks: dict[str, str] = {}
    changes: dict[str, object] = {}
    headers = read_headers(text)
    if metadata.sector is None:
        sector, how = infer_sector(
            text, metadata.title, metadata.porteur, model, doc_id=metadata.doc_id, headers=headers
        )
        changes["sector"], marks["sector"] = sector, how
    if not metadata.territory:
        territory = infer_territory(text, headers)
        if territory is not None:
            changes["territory"], marks["territory"] = territory
    if not metadata.publics:
        publics, how = infer_publics(text)
        if publics:
            changes["publics"], marks["publics"] = publics, how
    if marks:
        extra[INFERRED] = marks
    return dataclasses.replace(metadata, extra=extra, **changes)  # type: ignore[arg-type]
