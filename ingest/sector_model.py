"""The sector of a text: the porteur's kind named in it, the vocabulary of each sector, and a
naive Bayes classifier over the lexical terms of the base's own labelled documents
(``SectorModel``), which ``ingest/inference.py`` uses when a document's metadata gives no
sector. The measured accuracy is in docs/evaluation.md (``python -m evaluation.sector_inference``).
"""

from __future__ import annotations

import math
import re
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterable

from kb.core.models import DocumentMetadata, StoredDocument
from kb.core.text import fold
from kb.core.vocabulary import CROSS_SECTOR, LOCAL_DEVELOPMENT, SECTORS, SOCIAL_ACTION
from kb.index.lexical import FrenchAnalyzer

# A classifier is used once the base holds this many labelled documents in every sector.
MIN_DOCUMENTS_PER_SECTOR = 3
# Laplace smoothing of the term counts.
ALPHA = 0.5


# -- the porteur's kind and the vocabulary of each sector ----------------------------------

# Structures and schemes whose name says the sector (folded, whole words).
_SOCIAL_KINDS = (
    r"caf|caisse d'allocations familiales|ccas|cias|centre (?:inter)?communal d'action sociale|centres? sociaux|"
    r"centre social|espaces? de vie sociale|evs|mds|maisons? departementales? des solidarites|"
    r"action sociale|pmi|aide sociale|msa|epiceries? solidaires?|aide alimentaire|banque alimentaire|"
    r"france services|familles rurales|relais petite enfance|rpe|creches?|micro creche|"
    r"ressourcerie|auto ecole sociale|chantiers? d'insertion|insertion|precarite|pauvrete|"
    r"non recours|acces aux droits|travailleurs sociaux|convention territoriale globale|ctg|mission locale"
)
_LOCAL_KINDS = (
    r"developpement local|leader|gal|groupe d'action locale|petr|pays|pnr|parc naturel regional|feader|"
    r"chambres? d'agriculture|chambres? de commerce|cci|chambres? de metiers|cma|chambres? consulaires?|"
    r"developpement economique|office de tourisme|tourisme|agricoles?|agriculture|boutiques? a l'essai|"
    r"petites villes de demain|pvd|espaces? tests?|cooperatives? d'activite|cae|scic|commerces?|"
    r"attractivite|entreprendre|creation reprise|reprise d'entreprises?|legumerie|"
    r"projet alimentaire territorial|pat|crte|amenagement|urbanisme|revitalisation"
)
_SOCIAL_KIND = re.compile(rf"\b(?:{_SOCIAL_KINDS})\b")
_LOCAL_KIND = re.compile(rf"\b(?:{_LOCAL_KINDS})\b")

# The vocabulary of each sector, counted over the whole text when the base cannot train a
# classifier yet.
_SOCIAL_WORDS = re.compile(
    r"\b(?:caf|ccas|cias|centres? sociaux|centre social|evs|travailleu\w* sociaux|assistantes? sociales?|"
    r"action sociale|mds|pmi|rsa|allocataires?|precarite|pauvrete|acces aux droits|non recours|aide alimentaire|"
    r"epiceries? solidaires?|insertion|petite enfance|parentalite|familles?|creches?|accompagnement social|"
    r"besoins sociaux|abs|ctg|convention territoriale globale|minima sociaux|personnes agees|handicap\w*|"
    r"vulnerab\w*|isolement|solidarites?|aller vers|mission locale|france services|hebergement|"
    r"demarches?|inclusion numerique|precarite energetique|aides? a domicile)\b"
)
_LOCAL_WORDS = re.compile(
    r"\b(?:leader|gal|groupe d'action locale|petr|feader|developpement economique|economie|economiques?|"
    r"tourisme|touristiques?|agricoles?|agriculture|agriculteurs?|chambres? d'agriculture|cci|cma|"
    r"commerces?|commercants?|artisans?|artisanat|entreprises?|entrepreneu\w*|reprise|installation|"
    r"filieres?|producteurs?|circuits? courts?|petites villes de demain|pvd|attractivite|amenagement|"
    r"urbanisme|foncier|zones? d'activites?|ess|scic|cooperatives?|investissements?|crte|detr|dsil|"
    r"fonds vert|maraich\w*|espaces? tests?|centre bourg|revitalisation|pat|projet alimentaire territorial|"
    r"tiers lieux?|coworking)\b"
)
# Share of the social vocabulary below which a text is of local development, above which of
# social action; in between, transversal (read on the sample corpus's distribution: 71.7 % of
# its documents right with the porteur's kind, docs/evaluation.md).
VOCABULARY_LOCAL_BELOW = 0.35
VOCABULARY_SOCIAL_ABOVE = 0.72


def porteur_kind(text: str | None) -> str | None:
    """The sector a porteur's (or a title's) words name: a CCAS, a centre social, a CAF… are
    social action; a GAL LEADER, a PETR, a chambre consulaire… local development; both, as
    "Groupe « Action sociale et développement local »", transversal; None when neither."""
    if not text:
        return None
    folded = fold(text)
    social = _SOCIAL_KIND.search(folded) is not None
    local = _LOCAL_KIND.search(folded) is not None
    if social and local:
        return CROSS_SECTOR
    return SOCIAL_ACTION if social else LOCAL_DEVELOPMENT if local else None


def vocabulary_sector(text: str) -> str:
    """The sector whose vocabulary dominates the text; transversal when both weigh."""
    folded = fold(text)
    social = len(_SOCIAL_WORDS.findall(folded))
    local = len(_LOCAL_WORDS.findall(folded))
    share = (social + 0.5) / (social + local + 1)
    if share < VOCABULARY_LOCAL_BELOW:
        return LOCAL_DEVELOPMENT
    return SOCIAL_ACTION if share > VOCABULARY_SOCIAL_ABOVE else CROSS_SECTOR


# -- the classifier over the base's labelled documents -------------------------------------


def is_labelled(metadata: DocumentMetadata) -> bool:
    """Whether a document's sector was given (front matter, sidecar, a coordinator), not inferred."""
    return metadata.sector in SECTORS and metadata.inferred("sector") is None


class SectorModel:
    """A multinomial naive Bayes over the presence of lexical terms (the French analyser of the
    lexical index: stems, stop words dropped) in the labelled documents of the base. It keeps
    counts per sector, so that adding or taking out a document costs only its own terms, and a
    document can be left out of its own classification (``exclude``). Thread-safe."""

    def __init__(self) -> None:
        self._analyzer: FrenchAnalyzer | None = None  # made at first use (it loads the stemmer)
        self._ids: dict[str, int] = {}
        self._per_sector: dict[str, Counter[int]] = {sector: Counter() for sector in SECTORS}
        self._documents_of: Counter[str] = Counter()
        self._terms_of: Counter[str] = Counter()
        self._frequency: Counter[int] = Counter()  # documents holding each term
        self._docs: dict[str, tuple[str, str, array]] = {}  # doc_id -> (version, sector, term ids)
        self._lock = threading.RLock()

    def terms(self, title: str, text: str) -> frozenset[str]:
        """The analysed terms of a document (its title and text)."""
        if self._analyzer is None:
            self._analyzer = FrenchAnalyzer()
        return frozenset(self._analyzer.tokens(f"{title}\n{text}"))

    # -- keeping the counts ------------------------------------------------------------------

    def version(self, doc_id: str) -> str | None:
        entry = self._docs.get(doc_id)
        return entry[0] if entry else None

    def add(self, doc_id: str, version: str, sector: str, terms: Iterable[str]) -> None:
        """Count a labelled document (replacing what was counted under its id)."""
        with self._lock:
            self.discard(doc_id)
            ids = array("I", sorted({self._ids.setdefault(term, len(self._ids)) for term in terms}))
            self._docs[doc_id] = (version, sector, ids)
            self._count(sector, ids, 1)

    def discard(self, doc_id: str) -> None:
        with self._lock:
            entry = self._docs.pop(doc_id, None)
            if entry is not None:
                self._count(entry[1], entry[2], -1)

    def _count(self, sector: str, ids: array, step: int) -> None:
        counts = self._per_sector[sector]
        for term in ids:
            counts[term] += step
            self._frequency[term] += step
        self._documents_of[sector] += step
        self._terms_of[sector] += step * len(ids)

    def sync(self, documents: Iterable[StoredDocument], read_text: Callable[[str], str | None]) -> None:
        """Follow the base: count its labelled documents not yet counted in their current
        version (reading their text), forget the others."""
        with self._lock:
            labelled = {stored.metadata.doc_id: stored for stored in documents if is_labelled(stored.metadata)}
            for doc_id in [doc_id for doc_id in self._docs if doc_id not in labelled]:
                self.discard(doc_id)
            for doc_id, stored in labelled.items():
                entry = self._docs.get(doc_id)
                if entry is not None and entry[0] == stored.version and entry[1] == stored.metadata.sector:
                    continue
                text = read_text(doc_id) or ""
                self.add(doc_id, stored.version, stored.metadata.sector or "", self.terms(stored.metadata.title, text))

    # -- classifying ---------------------------------------------------------------------------

    def ready(self, exclude: str | None = None) -> bool:
        """Whether every sector has enough labelled documents (``exclude`` left out)."""
        left_out = self._docs.get(exclude) if exclude else None
        return all(
            self._documents_of[sector] - (1 if left_out and left_out[1] == sector else 0) >= MIN_DOCUMENTS_PER_SECTOR
            for sector in SECTORS
        )

    def scores(self, terms: Iterable[str], exclude: str | None = None) -> dict[str, float]:
        """Each sector's log-probability of the terms, centred, per term (so that a bonus means
        the same for a short and a long document); ``exclude``: a document left out of the
        counts (the one classified, when it is counted under an older version)."""
        with self._lock:
            left_out = self._docs.get(exclude) if exclude else None
            own = set(left_out[2]) if left_out else set()
            own_sector = left_out[1] if left_out else None
            documents = {s: self._documents_of[s] - (1 if s == own_sector else 0) for s in SECTORS}
            totals = {s: self._terms_of[s] - (len(own) if s == own_sector else 0) for s in SECTORS}
            vocabulary = sum(1 for term, n in self._frequency.items() if n - (term in own) > 0)
            known = []
            for term in set(terms):
                term_id = self._ids.get(term)
                if term_id is not None and self._frequency[term_id] - (term_id in own) > 0:
                    known.append(term_id)
            all_documents = sum(documents.values())
            raw: dict[str, float] = {}
            for sector in SECTORS:
                if documents[sector] <= 0:
                    raw[sector] = -math.inf
                    continue
                counts = self._per_sector[sector]
                denominator = math.log(totals[sector] + ALPHA * vocabulary)
                score = math.log(documents[sector] / all_documents)
                for term_id in known:
                    count = counts[term_id] - (1 if sector == own_sector and term_id in own else 0)
                    score += math.log(count + ALPHA) - denominator
                raw[sector] = score
            finite = [value for value in raw.values() if value > -math.inf]
            centre = sum(finite) / len(finite) if finite else 0.0
            size = max(len(known), 1)
            return {sector: (value - centre) / size for sector, value in raw.items()}
