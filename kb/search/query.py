"""A query as every step of a search reads it, computed once: its spelling corrected against
the base's words, the glossary's expansions, the accents the base writes, and the analysed
terms (``Retriever.query`` builds it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from kb.index.lexical_index import LexicalIndex
from kb.search.rerank import RerankOutcome


@dataclass(frozen=True)
class Query:
    text: str  # as typed
    expanded: str  # corrected, with the glossary's expansions ("CTG" also searches its long form)
    spelled: str  # the expansion with the accents and hyphens the base writes (for the dense model)
    lexical: LexicalIndex = field(repr=False, compare=False)
    # the text searched instead of ``text``, its misspelt words replaced by the base's nearest
    # ("tranport solidaire" -> "transport solidaire"); None when nothing was corrected
    corrected: str | None = None
    # what reranking did for the searches of this request (kb/search/reranking.py): each
    # request builds its own Query, so this mutable record never crosses requests
    rerank: RerankOutcome = field(default_factory=RerankOutcome, repr=False, compare=False)
    # the base's nearest written words of its words the base never writes, searched by the
    # lexical side only (kb/search/word_neighbours.py): "voiture" also searches "véhicule"
    neighbours: tuple[str, ...] = ()

    @property
    def searched(self) -> str:
        """The text searched: the corrected one, else as typed."""
        return self.corrected or self.text

    @property
    def lexical_text(self) -> str:
        """What the lexical side searches: the expansion and the word neighbours."""
        return f"{self.expanded} {' '.join(self.neighbours)}" if self.neighbours else self.expanded

    @cached_property
    def terms(self) -> frozenset[str]:
        """Its analysed terms, misspelt words matched to the base's nearest ones (evidence,
        the answer's sentences), without the word neighbours: they search for the question's
        words, they do not say the base covers them; computed when first read: a ranking
        alone does not need them."""
        return frozenset(self.lexical.query_terms(self.expanded))

    @cached_property
    def highlighted_terms(self) -> frozenset[str]:
        """``terms`` and the word neighbours': what a snippet marks (a fiche found through
        "épicerie" for "supérette" shows why)."""
        if not self.neighbours:
            return self.terms
        return frozenset(self.lexical.query_terms(self.lexical_text))

    @cached_property
    def exact_terms(self) -> frozenset[str]:
        """Its analysed terms as typed (whether a document holds every one of them, and the
        share of its words no document writes), without the word neighbours: a neighbour
        searches for an unwritten word, it does not make the base write it ("organiser un
        festival de musique" in a base that never says "musique" still names an unknown
        subject)."""
        return frozenset(self.lexical.analyzer.tokens(self.expanded))
