"""The lexical index's tiers (``kb/index/lexical_index.py``): a *tier* is passages analysed
together (postings, rows, spellings); a *view* is what searches read, swapped as one: the main
tier, its mask (the rows of documents written since it was built), the delta tier, and their
union's statistics and spellings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kb.core.bounded_cache import BoundedCache
from kb.index.bm25 import CorpusStats, Postings, Rows
from kb.index.lexical import FrenchAnalyzer, _Spellings

QUERIES_SCORED = 8  # queries whose unscoped scores a view keeps (a page searches one in several scopes)


@dataclass(frozen=True)
class Tier:
    """Passages analysed together: their postings, rows and spellings."""

    postings: Postings
    rows: Rows
    spellings: _Spellings
    accents: dict[str, str]
    words: frozenset[str]

    @classmethod
    def build(cls, analyzer: FrenchAnalyzer, registry_rows, cache: dict | None = None) -> Tier:
        ids, types, sectors, corpus = [], [], [], []
        spellings = _Spellings()
        for chunk_id, title, section, text, doc_type, sector in registry_rows:
            ids.append(chunk_id)
            types.append(doc_type)
            sectors.append(sector)
            if cache is None:  # the main: analysed once, in one go
                corpus.append(analyzer.tokens(f"{title}\n{section}\n{text}"))
                spellings.add(text)
                continue
            analysed = cache.get(chunk_id)
            if analysed is None:
                own = _Spellings()
                own.add(text)
                analysed = cache[chunk_id] = (analyzer.tokens(f"{title}\n{section}\n{text}"), own)
            corpus.append(analysed[0])
            spellings.merge(analysed[1])
        return cls(
            Postings.build(corpus),
            Rows(ids, types, sectors),
            spellings,
            spellings.accented(),
            frozenset(spellings.words()),
        )


@dataclass(frozen=True)
class View:
    """What searches read, swapped as one: the main, its mask, the delta and their union's
    statistics and spellings."""

    revision: int
    main: Tier
    main_revision: int
    masked: np.ndarray  # over the main's rows
    delta: Tier
    stats: CorpusStats
    accents: dict[str, str]
    words: list[str]  # sorted, for typo matching
    known: frozenset[str]
    main_frequencies: np.ndarray  # document frequency of each main term, masked rows left out
    delta_frequencies: np.ndarray
    pending: int  # rows the delta and the mask hold: what a fold of the main would absorb
    # a query's scores over each tier before any scope (``LexicalIndex.search``): one page
    # searches one query in several scopes; they go with the view they were computed on
    scored: BoundedCache[str, list[np.ndarray]] = field(
        default_factory=lambda: BoundedCache(QUERIES_SCORED), compare=False, repr=False
    )

    def document_frequency(self, term: str) -> int:
        return self.main.postings.document_frequency(
            term, self.main_frequencies
        ) + self.delta.postings.document_frequency(term, self.delta_frequencies)


def view_of(revision: int, main: Tier, main_revision: int, changed: set[str], delta: Tier) -> View:
    masked = main.rows.doc.allows(changed) if changed else np.zeros(len(main.rows.ids), dtype=bool)
    lengths = main.postings.lengths
    stats = CorpusStats(
        len(lengths) - int(masked.sum()) + len(delta.postings),
        float(lengths.sum() - lengths[masked].sum() + delta.postings.lengths.sum()),
    )
    # Adding the delta's spellings is exact; the masked chunks' spellings stay until the next
    # fold (their text is gone from the registry), so a removed word may still be offered.
    accents, words = main.accents, main.words
    if delta.rows.ids:
        touched: dict[str, dict[str, int]] = {}
        for folded, forms in delta.spellings.counts.items():
            merged = dict(main.spellings.counts.get(folded, {}))
            for form, count in forms.items():
                merged[form] = merged.get(form, 0) + count
            touched[folded] = merged
        accents = {folded: form for folded, form in main.accents.items() if folded not in touched}
        accents.update(_Spellings(touched).accented())
        words = main.words | delta.words
    return View(
        revision,
        main,
        main_revision,
        masked,
        delta,
        stats,
        accents,
        sorted(words),
        words,
        main.postings.document_frequencies(masked),
        delta.postings.document_frequencies(),
        len(delta.rows.ids) + int(masked.sum()),
    )
