"""What one document brings to a rapprochement, and the score of a pair.

Only a document of "action sociale" meets one of "développement local": a "transversal"
document already bridges the two sectors (the bridge view lists it above both columns), so it
is paired with neither; a document without a sector waits for one (inferred or corrected).

The score of a pair depends on its two documents only (so a write rescores its own pairs and
no other): the meaning they share, the mean cosine of their three closest passage pairs, plus
small bonuses fitted on the labelled pairs of evaluation/rapprochements.jsonl (see
docs/coordination.md#rapprochements): one names the other's structure (its ``partners`` or its
text), they work on the same territory, they name the same specific publics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from kb.core.models import StoredDocument
from kb.core.publics import PUBLICS
from kb.core.territories import resolve
from kb.core.text import fold
from kb.core.vocabulary import LOCAL_DEVELOPMENT, SOCIAL_ACTION

SIDES = (SOCIAL_ACTION, LOCAL_DEVELOPMENT)
# publics too broad to say two documents share anything
GENERIC_PUBLICS = frozenset({"habitants", "professionnels", "associations", "élus et collectivités"})
NAMED_BONUS = 0.02  # one document names the other's structure
TERRITORY_BONUS = 0.01  # the same territory (one holds the other, or the same text)
PUBLIC_BONUS = 0.003  # per specific public shared, up to three
MOST_PUBLICS = 3
CLOSEST_PASSAGES = 3  # the passage pairs whose mean cosine is the shared meaning
# A structure's name shorter than this is not looked for in a text (too many false matches);
# partners given in the metadata are compared whatever their length.
MIN_NAME_CHARS = 12

_LEADING_ARTICLE = re.compile(r"^(?:l'|le |la |les )")
_QUALIFIER = re.compile(r"\([^)]*\)")


def structure_key(name: str) -> str:
    """A structure's name as compared (as kb/answer/directory.py compares them)."""
    return _LEADING_ARTICLE.sub("", fold(name)).strip()


def territory_key(text: str | None) -> str:
    """A territory text without its qualifiers ("(Ardèche)"), folded."""
    return " ".join(_QUALIFIER.sub(" ", fold(text or "")).split())


@dataclass(frozen=True)
class Profile:
    doc_id: str
    version: str
    sector: str
    structure: str  # the porteur's key ("" when none)
    names: frozenset[str]  # the structures the document names (partners, and known porteurs in its text)
    publics: frozenset[str]  # specific publics only
    themes: frozenset[str]  # folded
    territory: str  # territory_key
    codes: frozenset[str]  # territory_codes
    named_codes: frozenset[str]
    centre: np.ndarray  # normalised mean of its passages' vectors


def paired_sector(stored: StoredDocument) -> str | None:
    """The document's side, or None when it takes part in no rapprochement."""
    sector = stored.metadata.sector
    return sector if sector in SIDES else None


def normalised(vectors: np.ndarray) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def profile(stored: StoredDocument, vectors: np.ndarray, text: str, porteurs: frozenset[str]) -> Profile | None:
    """A document's profile (``vectors``: its passages', normalised; ``porteurs``: the known
    structures' keys, looked for in its text), or None for a document of no side or no vector."""
    sector = paired_sector(stored)
    if sector is None or len(vectors) == 0:
        return None
    meta = stored.metadata
    centre = vectors.mean(axis=0)
    centre = centre / max(float(np.linalg.norm(centre)), 1e-12)
    folded = fold(text)
    given = meta.extra.get("partners")
    partners: list = given if isinstance(given, list) else []
    names = {structure_key(str(p)) for p in partners if str(p).strip()}
    names |= {name for name in porteurs if len(name) >= MIN_NAME_CHARS and name in folded}
    match = resolve(meta.territory)
    own = structure_key(meta.porteur) if meta.porteur else ""
    return Profile(
        doc_id=meta.doc_id,
        version=stored.version,
        sector=sector,
        structure=own,
        names=frozenset(names - {own}),
        publics=frozenset(p for p in meta.publics if p in PUBLICS and p not in GENERIC_PUBLICS),
        themes=frozenset(fold(t) for t in meta.themes),
        territory=territory_key(meta.territory),
        codes=frozenset(match.territory_codes),
        named_codes=frozenset(match.named_codes),
        centre=centre.astype(np.float32),
    )


def same_territory(a: Profile, b: Profile) -> bool:
    """The same territory: the same text (qualifiers aside; a fictional EPCI resolves to its
    département only), one text inside the other, or one's named territories holding the other
    (a département holds its EPCI) without both being a whole région or more."""
    if a.territory and b.territory and (a.territory in b.territory or b.territory in a.territory):
        return True
    if not a.named_codes or not b.named_codes:
        return False
    regional = all(c.startswith("region:") for c in a.named_codes | b.named_codes)
    return not regional and (bool(a.named_codes & b.codes) or bool(b.named_codes & a.codes))


@dataclass(frozen=True)
class Pair:
    """A scored pair, ``a`` before ``b`` in byte order; ``passages``: the indexes of the
    closest passage pair (for the quotes)."""

    a: str
    b: str
    score: float
    meaning: float
    named: bool
    same_territory: bool
    publics: tuple[str, ...]
    themes: tuple[str, ...]
    passages: tuple[int, int]
    versions: tuple[str, str]
    structures: tuple[str, str]  # the porteurs' keys ("" when none)
    group: tuple[str, str]  # the two structures (a document without a porteur stands for its own)


def score_pair(a: Profile, b: Profile, vectors_a: np.ndarray, vectors_b: np.ndarray, common: frozenset[str]) -> Pair:
    """The pair of two profiles of different sectors (``vectors_*``: their passages,
    normalised); ``common``: structures named by so many documents (the resource centre, the
    Région) that naming them says nothing."""
    if a.doc_id > b.doc_id:
        a, b, vectors_a, vectors_b = b, a, vectors_b, vectors_a
    cosines = vectors_a @ vectors_b.T
    flat = cosines.ravel()
    closest = min(CLOSEST_PASSAGES, flat.size)
    meaning = float(np.partition(flat, flat.size - closest)[flat.size - closest :].mean())
    best = int(np.argmax(flat))
    named = bool(
        (b.structure and b.structure in a.names and b.structure not in common)
        or (a.structure and a.structure in b.names and a.structure not in common)
    )
    territory = same_territory(a, b)
    publics = tuple(sorted(a.publics & b.publics))
    score = meaning + NAMED_BONUS * named + TERRITORY_BONUS * territory + PUBLIC_BONUS * min(len(publics), MOST_PUBLICS)
    return Pair(
        a=a.doc_id,
        b=b.doc_id,
        score=round(score, 6),
        meaning=meaning,
        named=named,
        same_territory=territory,
        publics=publics,
        themes=tuple(sorted(a.themes & b.themes)),
        passages=(best // cosines.shape[1], best % cosines.shape[1]),
        versions=(a.version, b.version),
        structures=(a.structure, b.structure),
        group=tuple(sorted((a.structure or a.doc_id, b.structure or b.doc_id))),  # type: ignore[arg-type]
    )
