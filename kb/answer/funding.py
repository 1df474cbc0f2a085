"""Who funded what, as the documents say it: the funders a fiche names in its funding section.

The bridge view (``services/bridges.py``) shows, for each sector, the funding that sector's
experiences mobilised. Nothing is invented: a funder is listed only with the sentence (or list
item) of the document that names it, quoted as written, with the passage it comes from. The
funding section is the one whose heading speaks of budget, cost or funding ("Budget et
financements", "Coût et financement"…); a fiche financement is funding from end to end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.core.models import DocumentMetadata
from kb.core.sentences import document_sentences
from kb.core.text import fold
from kb.core.vocabulary import ANNUAIRE

FUNDING_TYPE = "fiche financement"
_FUNDING_HEADING = re.compile(r"\b(?:budget|financ\w*|cout|couts|moyens financiers|plan de financement)\b")

# (label shown, pattern over folded text): the funders practitioners of both sectors mobilise.
FUNDERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(rf"\b(?:{pattern})\b"))
    for label, pattern in (
        ("CAF", r"caf|caisse d'allocations familiales|prestations? de service"),
        ("MSA", r"msa"),
        ("LEADER (Europe)", r"leader|feader|gal"),
        ("Fonds européens", r"fse\+?|feder|fonds europeens?|union europeenne"),
        ("Département", r"departements?|conseil departemental|pdi"),
        ("Région", r"regions?|conseil regional"),
        ("État", r"etat|detr|dsil|fonds vert|prefecture|anct|france travail|postes? aides?|fonjep"),
        ("Communes et intercommunalités", r"communes?|mairies?|communaute de communes|cc|epci|intercommunalite"),
        ("CCAS / CIAS", r"ccas|cias"),
        ("Fondations", r"fondations?"),
        ("Caisses de retraite et ARS", r"carsat|ars|conference des financeurs|caisses? de retraite"),
        ("Banque des territoires", r"banque des territoires|caisse des depots"),
    )
)


@dataclass(frozen=True)
class FundingQuote:
    """One funder as a document names it: the sentence quoted and where it is."""

    funder: str
    quote: str
    start: int  # offset of the sentence in the document's text (its passage is found from it)


def funders_named(text: str) -> list[str]:
    """The funders a text names, in the order of ``FUNDERS``."""
    folded = fold(text)
    return [label for label, pattern in FUNDERS if pattern.search(folded)]


def funding_quotes(meta: DocumentMetadata, text: str, per_funder: int = 1) -> list[FundingQuote]:
    """The funders a document names where it speaks of money: its funding section's sentences
    (a fiche financement: every sentence), each funder with its first ``per_funder`` sentences.
    A directory entry funds nobody: none."""
    if meta.doc_type == ANNUAIRE:
        return []
    whole = meta.doc_type == FUNDING_TYPE
    found: dict[str, list[FundingQuote]] = {}
    for sentence in document_sentences(text):
        if sentence.is_heading or not (whole or _FUNDING_HEADING.search(fold(sentence.heading))):
            continue
        for funder in funders_named(sentence.text):
            quotes = found.setdefault(funder, [])
            if len(quotes) < per_funder:
                quotes.append(FundingQuote(funder, sentence.text, sentence.start))
    order = {label: rank for rank, (label, _) in enumerate(FUNDERS)}
    return [quote for funder in sorted(found, key=order.__getitem__) for quote in found[funder]]
