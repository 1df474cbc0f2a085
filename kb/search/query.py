"""A query as every step of a search reads it, computed once: its spelling corrected against
the base's words, the glossary's expansions, the accents the base writes, and the analysed
terms (``Retriever.query`` builds it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from kb.index.lexical_index import LexicalIndex


@dataclass(frozen=True)
class Query:
    text: str  # as typed
    expanded: str  # corrected, with the glossary's expansions ("CTG" also searches its long form)
    spelled: str  # the expansion with the accents and hyphens the base writes (for the dense model)
    lexical: LexicalIndex = field(repr=False, compare=False)
    # the text searched instead of ``text``, its misspelt words replaced by the base's nearest
    # ("tranport solidaire" -> "transport solidaire"); None when nothing was corrected
    corrected: str | None = None

    @property
    def searched(self) -> str:
        """The text searched: the corrected one, else as typed."""
        return self.corrected or self.text

    @cached_property
    def terms(self) -> frozenset[str]:
        """Its analysed terms, misspelt words matched to the base's nearest ones (highlights,
        evidence); computed when first read: a ranking alone does not need them."""
        return frozenset(self.lexical.query_terms(self.expanded))

    @cached_property
    def exact_terms(self) -> frozenset[str]:
        """Its analysed terms as typed (whether a document holds every one of them)."""
        return frozenset(self.lexical.analyzer.tokens(self.expanded))
