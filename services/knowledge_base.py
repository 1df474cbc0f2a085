"""The knowledge base as the API and the CLI see it: one object, one method per use case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ingest.writer import DocumentWriter, Submission
from kb.answer.answerer import Answerer, AnswerParams
from kb.core.errors import InvalidRequest
from kb.core.settings import Settings
from kb.core.text import collation_key
from kb.core.themes import ThemeLabels
from kb.core.vocabulary import vocabulary_payload
from kb.index.knowledge_index import KnowledgeIndex
from kb.search.area_facets import area_facets
from kb.search.calibration import Calibration, calibration_of, reranker_id
from kb.search.evidence import Evidence
from kb.search.filters import Filters, FilterValues, parse_filters
from kb.search.glossary import Glossary
from kb.search.listing import Listing, list_documents
from kb.search.query import Query
from kb.search.reranking import Reranking
from kb.search.retrieval import Retriever
from kb.search.versions import versions_of
from kb.search.views import document_summary, search_documents
from kb.storage.protocols import KeyStore
from services.bridge_links import passerelles_url
from services.generation import Event, Generator
from services.questions import Questions
from services.rapprochements import Rapprochements
from services.review import Review


@dataclass
class KnowledgeBase:
    index: KnowledgeIndex
    retriever: Retriever
    answerer: Answerer
    writer: DocumentWriter
    keys: KeyStore
    review: Review  # writes by role and proposals
    questions: Questions  # the question log and feedback (services/questions.py)
    generator: Generator | None = None  # the LLM of KB_LLM_URL, when one is configured
    _vocabulary: FilterValues = field(default_factory=lambda: FilterValues())
    # the coordinator's rapprochements (services/rapprochements.py), set by ``create``
    rapprochements: Rapprochements = field(init=False)
    # the thresholds in use for the index's model and reranker (kb/search/calibration.py), set by ``create``
    calibration: Calibration | None = field(default=None, init=False)

    @property
    def _site_url(self) -> str:
        return self.index.settings.public_url

    @property
    def evidence(self) -> Evidence:
        """Whether the base answers a query: the floor of /search and the threshold of /ask."""
        return self.answerer.evidence

    @classmethod
    def create(cls, settings: Settings, index: KnowledgeIndex) -> KnowledgeBase:
        retriever = Retriever(index, Glossary.load(settings.glossary_file), reranker=Reranking.from_settings(settings))
        calibration = calibration_of(index, reranker_id(retriever))
        weight = calibration.get("rerank_weight")
        if retriever.reranker is not None and weight is not None:  # fitted for this reranker, or KB_RERANK_WEIGHT
            retriever.reranker = retriever.reranker.with_weight(weight)
        answerer = Answerer(retriever, AnswerParams.from_settings(settings, calibration))
        writer = DocumentWriter(settings, index)
        keys = None
        try:  # the stores opened so far give their connections back if a later one fails
            generator = Generator.from_settings(settings, index)
            keys = index.backend.key_store()
            review = Review(writer, index.backend.proposal_store())
        except BaseException:
            if keys is not None:
                keys.close()
            writer.close()
            raise
        questions = Questions.from_settings(settings, index)
        kb = cls(index, retriever, answerer, writer, keys, review, questions, generator)
        kb.calibration = calibration
        try:
            marks = index.backend.rapprochement_store()
        except BaseException:  # the stores opened so far give their connections back
            review.close()
            questions.close()
            keys.close()
            writer.close()
            raise
        kb.rapprochements = Rapprochements(settings, index, marks, writer.audit, kb.known_values)
        return kb

    def rerank_state(self, query: Query) -> dict | None:
        """What reranking did for a request's searches (None without a reranker): whether it
        reordered the results, or fell back to the fused order and why (in French)."""
        return query.rerank.payload() if self.retriever.reranker is not None else None

    def close(self) -> None:
        if self.retriever.reranker is not None:
            self.retriever.reranker.close()
        self.rapprochements.close()
        self.review.close()
        self.questions.close()
        self.keys.close()
        self.writer.close()
        self.index.close()

    def warm_up(self) -> None:
        """Prepare what the first search and the first write would otherwise prepare: the
        model's first run (most of a second on e5-int8), the vector stores' search graphs
        (Chroma loads a collection's on its first query: 0.9 s at 100k passages), the lexical
        index, the registry snapshot and the values derived from every document. Each is
        computed under its own lock, so a request that comes meanwhile waits for it or finds it
        done, never half made."""
        self.retriever.search("passerelles", k=1)
        self.known_values()
        versions_of(self.index)
        self.writer.duplicates.prepare()
        self.rapprochements.ranking()  # the one full pass; later writes score their own pairs

    def health(self) -> dict:
        """``ok`` when every backend answers, else ``dégradé`` with what is wrong."""
        backends = self.index.check_backends()
        healthy = all(state == "ok" for state in backends.values())
        documents = self.index.counts()[0] if backends["registre"] == "ok" else None
        return {
            "status": "ok" if healthy else "dégradé",
            "documents": documents,
            "backends": backends,
            "calibration": self.calibration.summary() if self.calibration else None,
        }

    def submit(self, submission: Submission, actor: str, **options) -> dict:
        return self.writer.submit(submission, actor, **options)

    def delete(self, doc_id: str, actor: str) -> None:
        self.writer.delete(doc_id, actor)

    def check_question(self, text: str) -> None:
        """``InvalidRequest`` for an empty question."""
        _check_text(text)

    def search(self, query: str, k: int = 10, filters: Filters | None = None, spelling: bool = True) -> dict:
        """The documents of a query, cut where their scores fall away from the best one
        (kb/search/listing.py), ``confident`` when the base answers it (the same evidence as
        /ask, under the lower floor ``KB_SEARCH_MIN_EVIDENCE``), else the nearest documents
        (``confident`` false); none only when no word of the query is in the base.
        ``corrected_query``: what was searched when misspelt words were corrected
        (``spelling=False``: the query as typed)."""
        listing = self.listing(query, k, filters, spelling)
        return {
            **search_documents(self.retriever, listing.query, k, filters, hits=listing.hits),
            "confident": listing.confident,
            "corrected_query": listing.query.corrected,
            "rerank": self.rerank_state(listing.query),
            "facets": area_facets(hit.metadata for hit in listing.hits),
        }

    def listing(self, query: str, most: int, filters: Filters | None = None, spelling: bool = True) -> Listing:
        """What a search lists (``search``, the site's page): the query corrected unless
        ``spelling`` is false, its ranking, the documents listed and whether the base answers."""
        _check_text(query)
        return list_documents(self.evidence, self.retriever.query(query, spelling=spelling), most, filters)

    def ask(
        self,
        question: str,
        filters: Filters | None = None,
        hits: list | None = None,
        spelling: bool = True,
        from_sector: str | None = None,
    ) -> dict:
        """The cited answer: written by the LLM when one is configured and the base answers
        (checked, see services/generation.py), else extractive. ``hits``: the question's
        ranking when the caller already has it; ``spelling`` false: the question as typed;
        ``from_sector``: the asker's sector (``other_sector`` lists the other one)."""
        answer = self.extractive_answer(question, filters, hits, spelling, from_sector)
        return self.generator.generate(question, answer) if self.generator else answer

    def extractive_answer(
        self,
        question: str,
        filters: Filters | None = None,
        hits: list | None = None,
        spelling: bool = True,
        from_sector: str | None = None,
        query: Query | None = None,
    ) -> dict:
        """The extractive answer alone (what the site renders at once and ``ask_events`` starts
        from); ``query``: the question as the caller's listing searched it, with ``hits``."""
        _check_text(question)
        if query is None:  # built here: its record of the reranking is read below
            query = self.retriever.query(question, spelling=spelling)
        answer = self.answerer.answer(
            question, filters, hits=hits, spelling=spelling, from_sector=from_sector, query=query
        )
        answer["rerank"] = self.rerank_state(query)
        # the départements and régions of the documents the answer lists (its sources, else the nearest)
        listed = [item["doc_id"] for item in answer.get("sources") or answer.get("nearest") or []]
        found = (self.index.find(doc_id) for doc_id in listed)
        answer["facets"] = area_facets(stored.metadata for stored in found if stored is not None)
        # the same subject seen from both sectors, side by side (the site's /passerelles)
        answer["passerelles_url"] = passerelles_url(question, filters.territory if filters else None, self._site_url)
        return answer

    async def ask_events(self, question: str, extractive: dict) -> AsyncIterator[Event]:
        """The answer as events: ``answer`` and ``end`` for an extractive answer; with an LLM
        and evidence, ``sources``, ``delta``s as the text is written, the checked ``answer``,
        ``end``."""
        if self.generator is None:
            yield "answer", extractive
            yield "end", {}
            return
        async for event in self.generator.events(question, extractive):
            yield event

    def documents(self, offset: int = 0, limit: int = 20, filters: Filters | None = None) -> dict:
        matching = [stored for stored in self.index.documents() if filters is None or filters.accepts(stored.metadata)]
        page = matching[offset : offset + limit]
        return {
            "total": len(matching),
            "offset": offset,
            "limit": limit,
            "documents": [
                {
                    **document_summary(stored.metadata, base_url=self.index.settings.public_url),
                    "themes": list(stored.metadata.themes),
                    "territory": stored.metadata.territory,
                    "date": stored.metadata.date,
                    "porteur": stored.metadata.porteur,
                }
                for stored in page
            ],
        }

    def document(self, doc_id: str) -> dict:
        stored = self.index.get(doc_id)
        metadata = stored.metadata.to_dict()
        metadata["source"] = stored.metadata.source_name
        del metadata["source_path"]  # a path of the server's file system: never public
        return {
            **metadata,
            "version": stored.version,
            "chunks": stored.chunk_count,
            "indexed_at": stored.indexed_at,
            "text": self.index.document_text(doc_id),
        }

    def parse_filters(
        self,
        doc_type=None,
        sector=None,
        theme=None,
        territory=None,
        date_from=None,
        date_to=None,
        departement=None,
        region=None,
    ):
        """Filters from raw values, checked against the vocabulary of the indexed documents."""
        return parse_filters(
            self.known_values(), doc_type, sector, theme, territory, date_from, date_to, departement, region
        )

    def vocabulary(self) -> dict:
        """The domain vocabulary (types, sectors) and the themes and territories in use."""
        known = self.known_values()
        return {
            **vocabulary_payload(),
            "themes": sorted(known["themes"], key=collation_key),
            "territories": sorted(known["territories"], key=collation_key),
            "theme_labels": ThemeLabels.from_glossary(self.index.settings.glossary_file).labels(known["themes"]),
        }

    def known_values(self) -> dict[str, set[str]]:
        """The values filters may take: known themes and territories of the indexed documents."""
        return self._vocabulary.current(self.index.registry)

    def stats(self, with_paths: bool = False) -> dict:
        """Counts by type and sector; the index's location only for a coordinator."""
        status = self.index.status()
        if not with_paths:
            status.pop("index_path", None)
            status["vector_store"] = self.index.backend.public_vector_store_name()
        by_type: dict[str, int] = {}
        by_sector: dict[str, int] = {}
        for stored in self.index.documents():
            by_type[stored.metadata.doc_type] = by_type.get(stored.metadata.doc_type, 0) + 1
            sector = stored.metadata.sector or "non précisé"
            by_sector[sector] = by_sector.get(sector, 0) + 1
        return {**status, "by_type": by_type, "by_sector": by_sector}


def _check_text(text: str) -> None:
    if not text or not text.strip():
        raise InvalidRequest("La question est vide : écrivez quelques mots.")
