"""Extractive answers: a digest of the documents that answer, source by source.

Nothing is generated. The answer opens with what was found ("Deux expériences et une fiche
méthode répondent à votre question."), then gives one block per document, in the order of the
ranking /search shows for the same question: the document's own sentences that best answer,
its key figures when the question asks about money, people or time, and how to reach its
porteur. Every sentence is followed by ``[n]`` and ``citations[n-1].quote`` holds it.

Below the evidence threshold the answer says so: plainly when nothing comes close, with a doubt
("Je ne suis pas sûr…") in the grey zone just under it; both list the nearest documents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kb.answer import directory
from kb.answer.digest import Block, Digester, Quoted, asked_figures, quote_of
from kb.answer.other_sector import OtherSector, OtherSectorParams
from kb.answer.summary import short_answer
from kb.core.models import DocumentMetadata, page_url
from kb.core.settings import Settings
from kb.core.vocabulary import ANNUAIRE, MINUTES, OTHER_SECTOR
from kb.search.calibration import Calibration
from kb.search.evidence import Evidence, EvidenceParams
from kb.search.filters import Filters
from kb.search.hits import DocumentHit
from kb.search.query import Query
from kb.search.retrieval import Retriever
from kb.search.versions import version_links
from kb.search.views import document_summary

NOTHING = "La base ne contient pas de document qui réponde à cette question."
UNSURE = "Je ne suis pas sûr que la base réponde à cette question ; voici les documents les plus proches."


@dataclass(frozen=True)
class AnswerParams:
    # The answer's threshold on the evidence (kb/search/evidence.py), calibrated on the
    # unanswerable questions for the index's model (kb/search/calibration.py, docs/calibration.md).
    # None: no calibration for this model, every answer is the grey zone's.
    min_score: float | None
    evidence: EvidenceParams
    grey_margin: float = 0.01  # below min_score by less than this: "not sure", not "nothing"
    results_margin: float = 0.08  # blocks only for documents the search page lists
    related_margin: float = 0.06  # annuaire contacts
    sources: int = 4
    # A later document gets a block only if it answers as well as the first: its score within
    # block_gap of the best and its best sentence matching the question at least
    # block_match_ratio times as well as the first block's, or its score within titled_gap and
    # its title and themes carrying titled_share of the question's weight. Fitted on the
    # labelled answer sources of the calibration half (docs/answers.md#which-documents-get-a-block).
    block_gap: float = 0.003
    block_match_ratio: float = 1.0
    titled_gap: float = 0.01
    titled_share: float = 0.15
    # "Dans l'autre secteur" (kb/answer/other_sector.py)
    other: OtherSectorParams = OtherSectorParams()

    @classmethod
    def from_settings(cls, settings: Settings, calibration: Calibration | None = None) -> AnswerParams:
        """The threshold from ``calibration`` (kb/search/calibration.py); without one, the
        settings' as they stand (the evaluation scripts measure them)."""
        return cls(
            min_score=settings.answer_min_score if calibration is None else calibration.get("answer_min_score"),
            evidence=EvidenceParams.from_settings(settings, calibration),
            grey_margin=settings.answer_grey_margin,
            results_margin=settings.results_margin,
        )


class Answerer:
    def __init__(self, retriever: Retriever, params: AnswerParams) -> None:
        self.retriever = retriever
        self.index = retriever.index
        self.params = params
        self.base_url = self.index.settings.public_url
        self.digester = Digester(self.index)
        self.evidence = Evidence(retriever, params.evidence)
        self.other = OtherSector(retriever, self.digester, self.evidence, params.other)

    # -- entry points ----------------------------------------------------------------------

    def answer(
        self,
        question: str,
        filters: Filters | None = None,
        hits: list[DocumentHit] | None = None,
        spelling: bool = True,
        from_sector: str | None = None,
        query: Query | None = None,
    ) -> dict:
        """The answer to a question; ``hits`` when the caller has already searched it with the
        same filters (the search page), so that the answer cites what the page lists, and
        ``query`` the ``Query`` it searched (``spelling`` is then the query's own);
        ``spelling`` false: the question as typed, misspelt words left as they are;
        ``from_sector``: the asker's sector, whose other side ``other_sector`` lists."""
        if query is None:
            query = self.retriever.query(question, spelling=spelling)
        # what was searched when misspelt words were corrected (None: as typed)
        return {**self._answered(question, query, filters, hits, from_sector), "corrected_query": query.corrected}

    def _answered(
        self,
        question: str,
        query: Query,
        filters: Filters | None,
        hits: list[DocumentHit] | None,
        from_sector: str | None,
    ) -> dict:
        if hits is None:
            hits = self.retriever.search(query, k=self.evidence.params.depth, filters=filters)
        content, entries = _split_annuaire(hits, filters)
        known = self.index.lexical.knows_any(query.terms)
        if not known:
            content = []  # no word of the question is in the base: nothing is near it ("xqzw")
        # told the asker's sector, the other side is judged on its own: what it did may answer a
        # question the asker's sector does not
        told = from_sector in OTHER_SECTOR and known
        other = self.other.told(query, from_sector) if told and from_sector else []
        if self.params.min_score is None:  # no threshold fitted for this model: never sure either way
            if not content:
                return self._not_found(content, NOTHING, uncertain=False, other=other)
            return self._not_found(content, UNSURE, uncertain=True, other=other)
        evidence = self.evidence.of(query, filters, hits)
        if evidence < self.params.min_score - self.params.grey_margin:
            return self._not_found(content, NOTHING + _nearest_titles(content), uncertain=False, other=other)
        blocks = self._blocks(question, content, query.terms)
        if evidence < self.params.min_score or not blocks:
            return self._not_found(content, UNSURE, uncertain=True, other=other)
        if not told:
            other = self.other.guessed(query, blocks, content)
        return self._digest(blocks, content, entries, other)

    # -- blocks ------------------------------------------------------------------------------

    def _blocks(self, question: str, hits: list[DocumentHit], terms: frozenset[str]) -> list[Block]:
        """One block per document that answers, among those the search page lists."""
        if not hits:
            return []
        floor = hits[0].score - self.params.results_margin
        weights = self.index.lexical.idf(sorted(terms))
        asks = asked_figures(question)
        blocks: list[Block] = []
        total = sum(weights.values()) or 1.0

        def title_share(meta: DocumentMetadata) -> float:
            named = set(self.index.lexical.analyzer.tokens(" ".join((meta.title, *meta.themes))))
            return sum(w for t, w in weights.items() if t in named) / total

        for hit in hits[: self.params.sources + 2]:
            if hit.score < floor or len(blocks) >= self.params.sources:
                break
            block = self.digester.block(hit, terms, weights, asks, matched_only=bool(blocks))
            if block is None or not block.sentences:
                continue
            if blocks and not self._answers_as_well(block, blocks[0], hits[0].score, title_share):
                continue
            blocks.append(block)
        # a sheet whose title is the question's subject before a minute that mentions it

        def titled(block: Block) -> bool:
            meta = block.hit.metadata
            title_terms = set(self.index.lexical.analyzer.tokens(meta.title))
            return meta.doc_type != MINUTES and sum(w for t, w in weights.items() if t in title_terms) / total >= 0.5

        return sorted(blocks, key=lambda block: block.hit.metadata.doc_type == MINUTES and any(map(titled, blocks)))

    def _answers_as_well(
        self, block: Block, first: Block, best: float, title_share: Callable[[DocumentMetadata], float]
    ) -> bool:
        """Whether a later document answers the question as well as the first block does."""
        gap = best - block.hit.score
        params = self.params
        if gap <= params.block_gap and block.match >= params.block_match_ratio * first.match:
            return True
        return gap <= params.titled_gap and title_share(block.hit.metadata) >= params.titled_share

    # -- the answer --------------------------------------------------------------------------

    def _digest(
        self, blocks: list[Block], content: list[DocumentHit], entries: list[DocumentHit], other: list[dict]
    ) -> dict:
        citations: list[dict] = []
        number_of: dict[tuple[str, int], int] = {}

        def cite(quoted: Quoted, meta: DocumentMetadata, text: str) -> int:
            """The citation number of a sentence's passage; a later sentence of the same passage
            may run past the chunk's window, and the quote must hold it too."""
            key = (meta.doc_id, quoted.chunk.index)
            quote = quote_of(text, quoted)
            if key not in number_of:
                number_of[key] = len(citations) + 1
                citations.append(self._citation(number_of[key], quoted, meta, quote))
            elif len(quote) > len(citations[number_of[key] - 1]["quote"]):
                citations[number_of[key] - 1]["quote"] = quote
            return number_of[key]

        sources: list[dict] = []
        lines = [lead_sentence([block.hit.metadata.doc_type for block in blocks])]
        self.digester.steps_once(blocks)  # a method's steps once, on the first block that has some
        for block in blocks:
            meta = block.hit.metadata
            text = self.index.document_text(meta.doc_id) or ""
            sentences = [{"text": q.text, "n": cite(q, meta, text)} for q in block.sentences]
            figures = [{"text": q.text, "n": cite(q, meta, text)} for q in block.figures]
            steps = [{"text": q.text, "n": cite(q, meta, text)} for q in block.steps]
            contact = self._reach(meta, text)
            sources.append(
                {
                    **document_summary(meta, block.hit.score, self.base_url),
                    "territory": meta.territory,
                    "porteur": meta.porteur,
                    "year": (meta.date or "")[:4] or None,
                    "sentences": sentences,
                    "figures": figures,
                    "steps": steps,
                    "contact": contact,
                    "other_versions": version_links(block.hit.other_versions, self.base_url),
                }
            )
            lines.append(_block_text(sources[-1]))
        floor = content[0].score - self.params.related_margin
        return {
            "found": True,
            "uncertain": False,
            "mode": "extractive",
            "answer": "\n\n".join(lines),
            "sources": sources,
            "summary": short_answer(sources),
            "citations": citations,
            "contacts": self._contacts(sources, entries, floor),
            "other_sector": other,
        }

    def _not_found(self, hits: list[DocumentHit], answer: str, uncertain: bool, other: list[dict]) -> dict:
        return {
            "found": False,
            "uncertain": uncertain,
            "mode": "extractive",
            "answer": answer,
            "sources": [],
            "citations": [],
            "contacts": [],
            "other_sector": other,
            "nearest": [document_summary(h.metadata, h.score, self.base_url) for h in hits[:3]],
        }

    def _citation(self, number: int, quoted: Quoted, meta: DocumentMetadata, quote: str) -> dict:
        return {
            "n": number,
            "doc_id": meta.doc_id,
            "title": meta.title,
            "url": page_url(self.base_url, meta.doc_id, quoted.chunk.index),
            "source_url": meta.source_url,
            "source": meta.source_name,
            "section": quoted.chunk.section_label,
            "page": quoted.chunk.page,
            "quote": quote,
        }

    # -- who to contact ----------------------------------------------------

    def _reach(self, meta: DocumentMetadata, text: str) -> dict | None:
        """How to reach the porteur of a document (``text``: its text): its directory entry's
        contact lines, which win, else the document's own; ``None`` when neither says how."""
        return directory.reach(self.index, meta, text, f"porteur de « {meta.title} »")

    def _contacts(self, sources: list[dict], entries: list[DocumentHit], floor: float) -> list[dict]:
        """The porteurs of the sources and the directory's structures on the subject, one per
        structure (same directory entry or same name), each with its way to reach it."""
        found: list[dict | None] = [source["contact"] for source in sources]
        for hit in entries:
            if hit.score < floor:
                break
            found.append(directory.contact(self.index, hit.metadata, "structure qui intervient sur ce sujet"))
        return directory.one_per_structure(found)


def _split_annuaire(hits: list[DocumentHit], filters: Filters | None) -> tuple[list[DocumentHit], list[DocumentHit]]:
    """Answers quote fiches; the annuaire feeds the contacts, unless the question asks for it."""
    if filters and filters.doc_type and ANNUAIRE in filters.doc_type:
        return hits, [h for h in hits if h.metadata.doc_type == ANNUAIRE]
    content = [h for h in hits if h.metadata.doc_type != ANNUAIRE]
    return content, [h for h in hits if h.metadata.doc_type == ANNUAIRE]


def _nearest_titles(hits: list[DocumentHit]) -> str:
    titles = ", ".join(f"« {h.metadata.title} »" for h in hits[:3])
    return f" Documents les plus proches, à vérifier : {titles}." if titles else ""


def _block_text(source: dict) -> str:
    """A block as plain text: the title and its facts, then its sentences with their markers."""
    facts = ", ".join(str(v) for v in (source["doc_type"], source["territory"], source["porteur"], source["year"]) if v)
    lines = [f"« {source['title']} » ({facts})"]
    lines.append(" ".join(f"{s['text']} [{s['n']}]" for s in source["sentences"]))
    if source.get("steps"):
        lines.append("Étapes : " + " ".join(f"{i}. {s['text']} [{s['n']}]" for i, s in enumerate(source["steps"], 1)))
    if source["figures"]:
        lines.append("Chiffres clés : " + " ; ".join(f"{f['text']} [{f['n']}]" for f in source["figures"]))
    if source["contact"]:
        lines.append(f"Contact : {source['contact']['name']} — {source['contact']['contact']}")
    return "\n".join(lines)


# How each type is counted in the lead: (singular, plural, feminine)
_TYPE_NOUNS = {
    "fiche expérience": ("expérience", "expériences", True),
    "fiche méthode": ("fiche méthode", "fiches méthode", True),
    "compte rendu": ("compte rendu", "comptes rendus", False),
    "fiche financement": ("fiche financement", "fiches financement", True),
    "questions-réponses": ("fiche questions-réponses", "fiches questions-réponses", True),
    "veille": ("note de veille", "notes de veille", True),
    "annuaire": ("structure de l'annuaire", "structures de l'annuaire", True),
}
_NUMBERS = {2: "deux", 3: "trois", 4: "quatre", 5: "cinq", 6: "six"}


def lead_sentence(doc_types: list[str]) -> str:
    """ "Trois expériences et une fiche méthode répondent à votre question." """
    counts: dict[str, int] = {}
    for doc_type in doc_types:
        counts[doc_type] = counts.get(doc_type, 0) + 1
    parts = []
    for doc_type, count in counts.items():
        singular, plural, feminine = _TYPE_NOUNS.get(doc_type, ("document", "documents", False))
        if count == 1:
            parts.append(f"{'une' if feminine else 'un'} {singular}")
        else:
            parts.append(f"{_NUMBERS.get(count, str(count))} {plural}")
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]
    verb = "répond" if len(doc_types) == 1 else "répondent"
    return f"{listed[0].upper()}{listed[1:]} {verb} à votre question."
