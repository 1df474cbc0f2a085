"""The practitioners' site as data: what each page shows, assembled from the knowledge base.

Pages (``api/site``) only render what these functions return; every list a page shows is
computed here, so the HTTP tests can check the figures a reader sees.
"""

from __future__ import annotations

import math
import mimetypes
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from kb.answer import directory
from kb.core.errors import NotFoundError
from kb.core.models import DocumentMetadata, Scope, page_url
from kb.core.territories import enclosing_names, territory_name
from kb.core.text import collation_key, fold
from kb.core.vocabulary import ANNUAIRE, LOCAL_DEVELOPMENT, OTHER_SECTOR, SECTORS, SOCIAL_ACTION, content_doc_types
from kb.search.area_facets import LEVELS as AREA_LEVELS
from kb.search.area_facets import area_counts, facet_rows
from kb.search.filters import Filters, area_codes
from kb.search.versions import version_links, versions_of
from kb.search.views import passage_views
from services.directory_map import directory_map
from services.knowledge_base import KnowledgeBase

PER_PAGE = 10
FACETS = (
    ("type", "Type de document"),
    ("secteur", "Secteur"),
    ("theme", "Thème"),
    ("departement", "Département"),
    ("region", "Région"),
    ("territoire", "Territoire"),
)
MARKDOWN_SOURCES = (".md", ".markdown", ".docx", ".html", ".htm")


@dataclass(frozen=True)
class Choice:
    value: str
    count: int
    selected: bool
    label: str | None = None  # shown instead of the value (a département's name for its code)


def card(meta: DocumentMetadata, base_url: str = "") -> dict:
    """What a list shows of a document."""
    return {
        "doc_id": meta.doc_id,
        "title": meta.title,
        "doc_type": meta.doc_type,
        "sector": meta.sector,
        "themes": list(meta.themes),
        "territory": meta.territory,
        "date": meta.date,
        "year": (meta.date or "")[:4] or None,
        "porteur": meta.porteur,
        "publics": list(meta.publics),
        # the fields ingestion inferred (the metadata did not give them): the fiche says so
        "inferred": {name: how for name in ("sector", "territory", "publics") if (how := meta.inferred(name))},
        "url": page_url(base_url, meta.doc_id),
    }


def _facet_values(meta: DocumentMetadata, facet: str) -> list[str]:
    if facet == "type":
        return [meta.doc_type]
    if facet == "secteur":
        return [meta.sector] if meta.sector else []
    if facet == "theme":
        return list(meta.themes)
    return [meta.territory] if meta.territory else []


def facets(documents: list[DocumentMetadata], selected: dict[str, list[str]], limit: int = 12) -> list[dict]:
    """Counts per value over the documents listed; selected values first, then the most common.
    A count is what choosing the value would list (a territory: the documents located inside it,
    or whose territory's name holds it, ``Filters.accepts``)."""
    groups = []
    for name, label in FACETS:
        if name in AREA_LEVELS:  # by code; a count is what the filter keeps (kb/search/area_facets.py)
            groups += area_facet(name, label, documents, selected.get(name) or [], limit)
            continue
        counts = Counter(value for meta in documents for value in _facet_values(meta, name))
        if name == "territoire":
            names = [fold(meta.territory or "") for meta in documents]
            counts = Counter({value: sum(fold(value) in n for n in names) for value in counts})
        chosen = selected.get(name) or []
        # the most common first, a tie in French order (not the order the documents came in)
        common = sorted(counts.items(), key=lambda item: (-item[1], collation_key(item[0])))
        ordered = [v for v in chosen] + [v for v, _ in common if v not in chosen]
        shown = ordered[: max(limit, len(chosen))]
        if name == "territoire":  # the shown values only: each is resolved to the place it names
            counts = Counter({v: sum(Filters(territory=v).accepts(meta) for meta in documents) for v in shown})
        choices = [Choice(v, counts.get(v, 0), v in chosen) for v in shown]
        if choices:
            groups.append({"name": name, "label": label, "choices": choices})
    return groups


def area_facet(name: str, label: str, documents: list[DocumentMetadata], chosen: list[str], limit: int) -> list[dict]:
    """The département or région facet: bare codes as values ("43"), names as labels."""
    counts = {row["code"]: row for row in facet_rows(area_counts((meta.territory for meta in documents), name))}
    shown = chosen + [code for code in counts if code not in chosen][: max(limit - len(chosen), 0)]
    choices = [
        Choice(code, counts[code]["count"] if code in counts else 0, code in chosen, _area_label(name, code, counts))
        for code in shown
    ]
    return [{"name": name, "label": label, "choices": choices}] if choices else []


def _area_label(level: str, code: str, counts: dict[str, dict]) -> str:
    return counts[code]["name"] if code in counts else territory_name(f"{level}:{code}") or code


class Site:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.index = kb.index
        self.base_url = kb.index.settings.public_url

    # -- accueil ---------------------------------------------------------------------------

    def home(self) -> dict:
        documents = [stored.metadata for stored in self.index.documents()]
        by_type = Counter(meta.doc_type for meta in documents)
        by_sector = Counter(meta.sector or "non précisé" for meta in documents)
        themes = Counter(theme for meta in documents for theme in meta.themes)
        latest = sorted(
            (meta for meta in documents if meta.doc_type != ANNUAIRE), key=lambda m: m.date or "", reverse=True
        )[:6]
        return {
            "total": len(documents),
            "by_type": by_type.most_common(),
            "by_sector": [(sector, by_sector.get(sector, 0)) for sector in SECTORS],
            "themes": sorted(themes.items(), key=lambda item: (-item[1], collation_key(item[0])))[:16],
            "latest": [card(meta, self.base_url) for meta in latest],
            "directory_size": by_type.get(ANNUAIRE, 0),
        }

    # -- recherche -------------------------------------------------------------------------

    def results(self, q: str, selected: dict[str, list[str]], page: int, ask: bool, spelling: bool = True) -> dict:
        """A query's documents (or the catalogue without one), facets, one page, and the cited
        answer when asked for. ``FiltersInvalid`` for unknown filter values. The query's
        misspelt words are corrected unless ``spelling`` is false (``corrected``: what was
        searched); ``confident`` false: the documents listed are the nearest ones, to check.
        ``rerank``: what reranking did for the list (``KnowledgeBase.rerank_state``); the answer
        carries its own, from the same query."""
        filters = self.kb.parse_filters(
            selected.get("type"),
            selected.get("secteur"),
            selected.get("theme"),
            territories[0] if (territories := selected.get("territoire")) else None,
            departement=selected.get("departement"),
            region=selected.get("region"),
        )
        for level in AREA_LEVELS:  # names typed in the address become the codes the facets show
            if selected.get(level) and filters is not None:
                selected[level] = [code.partition(":")[2] for code in getattr(filters, level)]
        q = q.strip()
        answer = None
        weak = False
        confident = True
        corrected = None
        rerank = None
        hits: list = []
        if q:
            # the documents that answer, cut where their scores fall away from the best one,
            # or the nearest ones (kb/search/listing.py)
            listing = self.kb.listing(q, PER_PAGE, filters, spelling)
            query, ranked, evidence = listing.query, listing.ranked, listing.evidence
            hits, confident, corrected = listing.hits, listing.confident, listing.query.corrected
            # what reranking did for the list, as GET /search says it (None without a reranker)
            rerank = self.kb.rerank_state(query)
            listed = [hit.metadata for hit in hits]
            rows = [
                {
                    **card(hit.metadata, self.base_url),
                    "passages": [],
                    "other_versions": version_links(hit.other_versions, self.base_url),
                }
                for hit in hits
            ]
            # one retrieval for the list, the notice and the answer: they agree by construction
            if ask and hits:
                answer = self.kb.extractive_answer(q, filters, hits=ranked, spelling=spelling, query=query)
                weak = confident and bool(rows) and not answer["found"]
            else:
                # without a threshold for the index's model, no answer is sure
                threshold = self.kb.answerer.params.min_score
                weak = confident and bool(rows) and (threshold is None or evidence < threshold)
        else:
            listed = sorted(
                (
                    stored.metadata
                    for stored in self.index.documents()
                    if filters is None or filters.accepts(stored.metadata)
                ),
                key=lambda meta: (meta.date or "", meta.title),
                reverse=True,
            )
            rows = [{**card(meta, self.base_url), "passages": []} for meta in listed]
        pages = max(1, math.ceil(len(rows) / PER_PAGE))
        page = min(max(page, 1), pages)
        shown = slice((page - 1) * PER_PAGE, page * PER_PAGE)
        if hits:  # snippets only for the page shown
            terms = query.terms
            for row, hit in zip(rows[shown], hits[shown], strict=True):
                row["passages"] = passage_views(self.kb.retriever, hit, terms, limit=1)
        return {
            "q": q,
            "total": len(rows),
            "page": page,
            "pages": pages,
            "rows": rows[shown],
            "facets": facets(listed, selected),
            "selected": selected,
            "weak": weak,
            "confident": confident,
            "corrected": corrected,
            # the page notes a reranker's failure (``fallback``): the list keeps the fused order
            "rerank": rerank,
            "answer": answer,
            # the page's synthesis script asks /ask/stream with the same question and filters
            "llm": bool(self.index.settings.llm_url),
            "ask_filters": _ask_filters(selected),
            "filters": filters,
        }

    def log_question(self, results: dict, asked: bool) -> None:
        """The page's question in the question log, channel ``site`` (its answer when asked)."""
        if not results["q"]:
            return
        if asked:
            answer = results["answer"] or {"found": False}
            self.kb.questions.answered(results["q"], results["filters"], answer, "site")
        else:
            shown = {"results": results["rows"], "confident": results["confident"]}
            self.kb.questions.searched(results["q"], results["filters"], shown, "site")

    # -- fiche -----------------------------------------------------------------------------

    def fiche(self, doc_id: str) -> dict:
        stored = self.index.get(doc_id)
        meta = stored.metadata
        suffix = Path(meta.source_path or "").suffix.lower()
        passages = []
        previous_end = 0
        full_text = self.index.document_text(doc_id) or ""
        for chunk in self.index.document_chunks(doc_id):
            start = max(chunk.start, previous_end)  # windows overlap: show each character once
            text = full_text[start : chunk.end] if start > chunk.start else chunk.text
            previous_end = max(previous_end, chunk.end)
            passages.append({"n": chunk.index, "text": text, "page": chunk.page, "section": chunk.section_label})
        centre = self.index.document_centre(doc_id)  # fetched once for both neighbour lists
        versions = versions_of(self.index)
        family = set(versions.family(doc_id))  # shown as versions, not as neighbours
        entry = directory.porteur_entry(self.index, meta)
        contact = directory.contact(self.index, entry, "porteur") if entry else None
        if meta.doc_type == ANNUAIRE:
            contact = directory.contact(self.index, meta, "cette structure")
        return {
            "meta": card(meta, self.base_url),
            "source_url": meta.source_url,
            "source_name": meta.source_name,
            "format": suffix.lstrip(".") or None,
            "markdown": suffix in MARKDOWN_SOURCES,
            "passages": passages,
            "contact": contact,
            "contact_entry": card(entry, self.base_url) if entry else None,
            # a replaced document says so at its top; the newer one names what it replaces
            "newer_versions": version_links(versions.newest_versions(doc_id), self.base_url),
            "replaces": version_links(versions.replaced(doc_id), self.base_url),
            "other_sector": self._other_side(doc_id, meta, centre, family),
            "related": self._related(doc_id, centre, Scope(doc_types=content_doc_types()), 5, family),
            "has_original": self.kb.writer.files.has_original(doc_id, meta.source_path),
            "ocr": meta.extra.get("ocr") if isinstance(meta.extra.get("ocr"), dict) else None,
            "indexed_at": stored.indexed_at,
        }

    def _other_side(self, doc_id: str, meta: DocumentMetadata, centre, family: set[str]) -> list[dict]:
        """« Dans l'autre secteur » of a fiche: its title asked of the other sector with the rule
        of /ask (kb/answer/other_sector.py; on the labelled rapprochements of the sample corpus
        it lists more true pairs than the nearest documents and no hard negative, see
        docs/answers.md); a transversal document keeps the nearest documents of both sectors."""
        if meta.sector not in OTHER_SECTOR:
            return self._related(doc_id, centre, self._other_sector_scope(meta), 3, family)
        found = []
        for listed in self.kb.answerer.other.told(self.kb.retriever.query(meta.title), meta.sector):
            stored = self.index.find(listed["doc_id"])
            if stored is not None and listed["doc_id"] != doc_id and listed["doc_id"] not in family:
                found.append({**card(stored.metadata, self.base_url), "score": listed["score"]})
        return found[:3]

    def _other_sector_scope(self, meta: DocumentMetadata) -> Scope | None:
        if meta.sector in OTHER_SECTOR:
            return Scope(doc_types=content_doc_types(), sectors=(OTHER_SECTOR[meta.sector],))
        if meta.sector is None:
            return None
        return Scope(doc_types=content_doc_types(), sectors=(SOCIAL_ACTION, LOCAL_DEVELOPMENT))

    def _related(
        self, doc_id: str, centre, scope: Scope | None, limit: int, exclude: frozenset[str] | set[str] = frozenset()
    ) -> list[dict]:
        if scope is None:
            return []
        found = []
        for other, score in self.index.related_documents(doc_id, centre, limit + len(exclude), scope):
            stored = self.index.find(other)
            if stored is not None and other not in exclude:
                found.append({**card(stored.metadata, self.base_url), "score": round(score, 3)})
        return found[:limit]

    def original(self, doc_id: str) -> tuple[bytes, str, str]:
        """(bytes, content type, download name) of a document's original, from the file store
        (the data directory's folder or the database); found by the index, never by the request."""
        meta = self.index.get(doc_id).metadata
        original = self.kb.writer.files.original(doc_id, meta.source_path)
        if original is None:
            raise NotFoundError(f"Le fichier original de « {doc_id} » n'est plus disponible.")
        media_type = mimetypes.guess_type(original.name)[0] or "application/octet-stream"
        return original.data, media_type, f"{doc_id}{original.suffix}"

    # -- annuaire --------------------------------------------------------------------------

    def directory(self, territory: str | None, theme: str | None, departement: str | None = None) -> dict:
        """The annuaire by département (a structure of a région as a whole under its région),
        each group with its count by sector; the territory filter is a place (a département, a
        région, an intercommunality) or a part of a structure's territory name; ``departement``
        (a code or a name, what the map links to) keeps that département's group. The map and
        its table count the structures of the theme chosen (services/directory_map.py)."""
        chosen = area_codes(departement, "departement")[:1] if departement else ()
        themed = Filters(doc_type=(ANNUAIRE,), theme=(theme,) if theme else ())
        filters = replace(themed, territory=territory or None, departement=chosen)
        everything = directory.entries(self.index)
        shown = [meta for meta in everything if filters.accepts(meta)]
        chosen_name = territory_name(chosen[0]) if chosen else None
        groups: dict[str, list[dict]] = {}
        for meta in sorted(shown, key=lambda m: (collation_key(m.territory or ""), collation_key(m.title))):
            text = self.index.document_text(meta.doc_id) or ""
            for area in _areas(meta.territory):
                if chosen_name and area != chosen_name:  # "Drôme et Ardèche" under the Ardèche only
                    continue
                groups.setdefault(area, []).append(
                    {
                        **card(meta, self.base_url),
                        "services": directory.section_text(text, "services")
                        or directory.section_text(text, "présentation"),
                        "contact": directory.section_text(text, "contact"),
                    }
                )
        departements = sorted(
            {d for m in everything for d in enclosing_names(m.territory, "departement")}, key=collation_key
        )
        regions = sorted({r for m in everything for r in enclosing_names(m.territory, "region")}, key=collation_key)
        return {
            "groups": [
                {"area": area, "entries": entries, "by_sector": _by_sector(entries)}
                for area, entries in sorted(
                    groups.items(), key=lambda item: (item[0] == UNPLACED, collation_key(item[0]))
                )
            ],
            "total": len(shown),
            "departements": departements,
            "regions": regions,
            "territories": sorted({m.territory for m in everything if m.territory}, key=collation_key),
            "themes": sorted({t for m in everything for t in m.themes}, key=collation_key),
            "territory": territory or "",
            "theme": theme or "",
            "departement": chosen_name,
            "unknown_departement": departement if departement and not chosen else None,
            "map": directory_map(
                [meta for meta in everything if themed.accepts(meta)],
                chosen[0].partition(":")[2] if chosen else None,
                theme or "",
            ),
        }


UNPLACED = "Territoire non précisé"


def _areas(territory: str | None) -> tuple[str, ...]:
    """Where the annuaire lists a structure: its départements, else its région, else nowhere
    precise (a fictional place whose département is not named)."""
    return enclosing_names(territory, "departement") or enclosing_names(territory, "region") or (UNPLACED,)


def _by_sector(entries: list[dict]) -> list[tuple[str, int]]:
    counts = Counter(entry["sector"] or "secteur non précisé" for entry in entries)
    return sorted(counts.items(), key=lambda item: collation_key(item[0]))


def _ask_filters(selected: dict[str, list[str]]) -> dict | None:
    """The page's filters as the body of POST /ask(/stream) names them."""
    names = {"type": "type", "secteur": "sector", "theme": "theme", "departement": "departement", "region": "region"}
    filters: dict[str, str | list[str]] = {api: selected[page] for page, api in names.items() if selected.get(page)}
    if selected.get("territoire"):
        filters["territory"] = selected["territoire"][0]
    return filters or None
