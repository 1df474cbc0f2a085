"""The bridge view (the site's ``/passerelles``): for one subject and optionally one territory,
what each sector has done, who to reach on each side, what each side can fund, and the
documents that already bridge the two.

A subject is a theme of the base (the documents tagged with it), a public (the documents
concerning it: ``kb/core/publics.py``) or a free question (a search scoped to each sector, with
the search page's confidence: ``kb/search/listing.py``). A territory is a place, as the search
filter reads it (``kb/search/filters.py``: a département holds its communes' documents).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from ingest.sector_model import porteur_kind
from kb.answer import directory
from kb.answer.funding import funding_quotes
from kb.core.models import DocumentMetadata, page_url
from kb.core.publics import PUBLIC_LABELS, public_label
from kb.core.territories import enclosing_names
from kb.core.text import collation_key, fold
from kb.core.vocabulary import (
    ANNUAIRE,
    CROSS_SECTOR,
    LOCAL_DEVELOPMENT,
    OTHER_SECTOR,
    SOCIAL_ACTION,
    content_doc_types,
)
from kb.search.filters import Filters
from kb.search.listing import list_documents
from kb.search.query import Query
from services.knowledge_base import KnowledgeBase
from services.site import card

SIDES = (SOCIAL_ACTION, LOCAL_DEVELOPMENT)
PER_SIDE = 6  # documents a column lists
BRIDGING = 8  # documents the bridges above both columns list
UNSURE = 3  # the nearest documents a column lists when none surely answers, to check
STRUCTURES = 4  # structures a column lists
QUOTES_PER_FUNDER = 3
# A structure of the directory is listed for a free question when it scores within this of
# the side's best document (the answerer's ``related_margin``).
STRUCTURE_MARGIN = 0.06
KINDS = {"theme": "thème", "public": "public", "question": "question"}


@dataclass(frozen=True)
class Subject:
    text: str
    kind: str  # "theme", "public" or "question"
    value: str  # the theme or the public's label as the base writes it; the question as typed

    def matches(self, meta: DocumentMetadata) -> bool:
        if self.kind == "theme":
            return fold(self.value) in {fold(t) for t in meta.themes}
        return self.kind == "public" and self.value in meta.publics


class _Searched:
    """A subject as the view's searches read it, each part computed once for them all: its
    query (one correction, one embedding: ``KnowledgeIndex.query_vector``) and its evidence on
    the whole base, which every sector's listing is judged on."""

    def __init__(self, kb: KnowledgeBase, subject: Subject) -> None:
        self.kb, self.subject = kb, subject

    @cached_property
    def query(self) -> Query:
        return self.kb.retriever.query(self.subject.value)

    @cached_property
    def judged(self) -> float:
        return self.kb.evidence.of(self.query)


def subject_of(text: str, themes: set[str]) -> Subject:
    """A theme of the base when ``text`` names one, else a public when it names one, else a question."""
    known = {fold(theme): theme for theme in themes}
    if fold(text) in known:
        return Subject(text, "theme", known[fold(text)])
    label = public_label(text)
    if label is not None:
        return Subject(text, "public", label)
    return Subject(text, "question", text)


class Bridges:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.index = kb.index
        self.base_url = kb.index.settings.public_url
        self._entries: dict[str, DocumentMetadata] | None = None

    def choices(self) -> dict:
        """The form's select lists, fed from the base: themes, publics and places in use."""
        documents = [stored.metadata for stored in self.index.documents()]
        publics = Counter(p for meta in documents for p in meta.publics)
        territories = [meta.territory for meta in documents if meta.territory]
        return {
            "themes": sorted(self.kb.known_values()["themes"], key=collation_key),
            "publics": [p for p in PUBLIC_LABELS if publics[p]],
            "departements": sorted(
                {d for t in set(territories) for d in enclosing_names(t, "departement")}, key=collation_key
            ),
            "regions": sorted({r for t in set(territories) for r in enclosing_names(t, "region")}, key=collation_key),
        }

    def view(self, q: str, territory: str | None, theme: str | None = None, public: str | None = None) -> dict:
        """The page's data for a typed subject ``q``, else the ``theme`` or ``public`` chosen in
        the form's lists; ``FiltersInvalid`` for a territory that is no place nor known name."""
        typed, territory = q.strip(), (territory or "").strip() or None
        q = typed or (theme or "").strip() or (public or "").strip()
        page: dict = {"q": q, "typed": typed, "territory": territory or "", "subject": None, **self.choices()}
        if territory:
            self.kb.parse_filters(territory=territory)  # a territory the base cannot read is refused
        if not q:
            return page
        themes = self.kb.known_values()["themes"]
        # chosen in the public's list: a public even when a theme has the same name
        subject = subject_of(q, set() if not typed and not theme and public else themes)
        searched = _Searched(self.kb, subject)
        found = {sector: self._documents(searched, sector, territory) for sector in (*SIDES, CROSS_SECTOR)}
        bridging = [meta for meta, _ in found[CROSS_SECTOR][0]]
        sides = {}
        for sector in SIDES:
            listed, confident = found[sector]
            own = [(meta, score) for meta, score in listed if not self._co_carried(meta)]
            bridging += [meta for meta, _ in listed if self._co_carried(meta)]
            sides[sector] = self._side(searched, sector, territory, own, confident)
        publics = {sector: Counter(p for row in sides[sector]["documents"] for p in row["publics"]) for sector in SIDES}
        shared = sorted(set(publics[SOCIAL_ACTION]) & set(publics[LOCAL_DEVELOPMENT]), key=collation_key)
        return {
            **page,
            "subject": {"kind": subject.kind, "label": KINDS[subject.kind], "value": subject.value},
            "bridges": [self._row(meta, co_carried=meta.sector != CROSS_SECTOR) for meta in bridging[:BRIDGING]],
            "bridges_confident": found[CROSS_SECTOR][1],
            "sides": [sides[sector] for sector in SIDES],
            "shared_publics": [
                {"public": p, "social": publics[SOCIAL_ACTION][p], "local": publics[LOCAL_DEVELOPMENT][p]}
                for p in shared
            ],
        }

    # -- one side ----------------------------------------------------------------------------

    def _documents(
        self, searched: _Searched, sector: str, territory: str | None
    ) -> tuple[list[tuple[DocumentMetadata, float | None]], bool]:
        """A sector's documents on the subject (with their search score, None when matched by
        metadata) and whether they surely answer: a theme's or a public's documents by their
        metadata, else (or when none is tagged so) a search scoped to the sector; for a question
        the nearest documents when none surely answers (``confident`` false), to check."""
        subject = searched.subject
        filters = Filters(doc_type=content_doc_types(), sector=(sector,), territory=territory)
        if subject.kind != "question":
            tagged = sorted(
                (
                    s.metadata
                    for s in self.index.documents()
                    if filters.accepts(s.metadata) and subject.matches(s.metadata)
                ),
                key=lambda meta: (meta.date or "", meta.title),
                reverse=True,
            )
            if tagged:
                return [(meta, None) for meta in tagged[:PER_SIDE]], True
        query = searched.query
        if subject.kind != "question":
            # nothing tagged: the documents that write the theme or public in full, else nothing
            # (an empty side is said plainly, never filled with a guess)
            terms = query.exact_terms
            hits = self.kb.retriever.search(query, k=PER_SIDE, filters=filters, mode="bm25")  # words, not meaning
            written = [h for h in hits if terms and terms <= self.index.document_terms(h.metadata.doc_id)]
            return [(hit.metadata, hit.score) for hit in written], True
        listing = list_documents(self.kb.evidence, query, PER_SIDE, filters, judged=searched.judged)
        # the search judges a filtered query on the whole base: the other sector's good answer
        # would make this side's nearest documents look sure; the side is judged on its own too
        evidence = self.kb.evidence
        sure = listing.confident and evidence.listed(query, None, listing.ranked, evidence.score(listing.ranked, query))
        return [(hit.metadata, hit.score) for hit in listing.hits[: PER_SIDE if sure else UNSURE]], sure

    def _side(
        self,
        searched: _Searched,
        sector: str,
        territory: str | None,
        listed: list[tuple[DocumentMetadata, float | None]],
        confident: bool,
    ) -> dict:
        texts = {meta.doc_id: self.index.document_text(meta.doc_id) or "" for meta, _ in listed}
        reached = [
            directory.reach(self.index, meta, texts[meta.doc_id], f"porteur de « {meta.title} »") for meta, _ in listed
        ]
        entries = self._structures(searched, sector, territory, listed)
        reached += [directory.contact(self.index, entry, "structure de l'annuaire sur ce sujet") for entry in entries]
        contacts = directory.one_per_structure(reached, limit=STRUCTURES + len(listed))[: STRUCTURES + 2]
        place = " dans ce territoire" if territory else ""
        return {
            "sector": sector,
            "slug": "social" if sector == SOCIAL_ACTION else "local",
            "documents": [self._row(meta) for meta, _ in listed],
            "confident": confident,
            "structures": [
                {**c, "url": page_url(self.base_url, c["doc_id"]) if c["doc_id"] else None} for c in contacts
            ],
            "funding": self._funding([meta for meta, _ in listed], texts),
            "empty": f"Aucune expérience {_of(sector)} sur ce sujet{place} dans la base — "
            "c'est peut-être une passerelle à créer.",
        }

    def _structures(
        self,
        searched: _Searched,
        sector: str,
        territory: str | None,
        listed: list[tuple[DocumentMetadata, float | None]],
    ) -> list[DocumentMetadata]:
        """The directory's structures of a sector on the subject: tagged with the theme or
        public; for a question, the entries a scoped search finds near the side's best document."""
        subject = searched.subject
        filters = Filters(doc_type=(ANNUAIRE,), sector=(sector,), territory=territory)
        if subject.kind != "question":
            entries = [
                meta for meta in directory.entries(self.index) if filters.accepts(meta) and subject.matches(meta)
            ]
            return sorted(entries, key=lambda meta: collation_key(meta.title))[:STRUCTURES]
        best = max((score for _, score in listed if score is not None), default=None)
        if best is None:
            return []
        hits = self.kb.retriever.search(searched.query, k=STRUCTURES, filters=filters, near_top_only=True)
        return [hit.metadata for hit in hits if hit.score >= best - STRUCTURE_MARGIN]

    def _funding(self, documents: list[DocumentMetadata], texts: dict[str, str]) -> list[dict]:
        """The funders the side's documents name in their funding sections, each with the
        sentences that name them, quoted and linked to their passage."""
        by_funder: dict[str, list[dict]] = {}
        for meta in documents:
            quotes = funding_quotes(meta, texts[meta.doc_id])
            chunks = self.index.document_chunks(meta.doc_id) if quotes else []
            for quote in quotes:
                passage = next((c.index for c in chunks if c.start <= quote.start < c.end), None)
                rows = by_funder.setdefault(quote.funder, [])
                if len(rows) < QUOTES_PER_FUNDER:
                    rows.append(
                        {
                            "quote": quote.quote,
                            "title": meta.title,
                            "doc_type": meta.doc_type,
                            "url": page_url(self.base_url, meta.doc_id, passage),
                        }
                    )
        ranked = sorted(by_funder.items(), key=lambda item: -len(item[1]))  # stable: FUNDERS' order on ties
        return [{"funder": funder, "quotes": quotes} for funder, quotes in ranked]

    # -- documents ---------------------------------------------------------------------------

    def _row(self, meta: DocumentMetadata, co_carried: bool = False) -> dict:
        return {**card(meta, self.base_url), "co_carried": co_carried}

    def _co_carried(self, meta: DocumentMetadata) -> bool:
        """A document of one sector carried by the other sector, or by structures of both
        (its porteur's sector, or what its porteur's name says: "CCAS et GAL LEADER…"). Partners
        do not count: nearly every fiche names some of the other sector."""
        if meta.sector not in OTHER_SECTOR or not meta.porteur:
            return False
        return self._sector_of(meta.porteur) in (OTHER_SECTOR[meta.sector], CROSS_SECTOR)

    def _sector_of(self, name: str) -> str | None:
        if self._entries is None:
            self._entries = {directory.structure_key(e.porteur or e.title): e for e in directory.entries(self.index)}
        entry = self._entries.get(directory.structure_key(name))
        return entry.sector if entry is not None else porteur_kind(name)


def _of(sector: str) -> str:
    return "de l'action sociale" if sector == SOCIAL_ACTION else "du développement local"
