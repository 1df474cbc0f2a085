"""Read routes. Each route calls one service method; its docstring is the OpenAPI text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ChannelDep, ClientDep, KnowledgeBaseDep, OptionalActorDep, require_read
from api.schemas import (
    ASK_STREAM_EVENT,
    AskResponse,
    DocumentDetail,
    DocumentsOrProposals,
    FeedbackAck,
    FeedbackRequest,
    Health,
    SearchResponse,
    Stats,
    Vocabulary,
    errors,
)
from kb.core.errors import ServiceUnavailable, Unauthorized
from kb.search.filters import DATE_PATTERN, MAX_VALUES
from services.knowledge_base import KnowledgeBase

router = APIRouter(tags=["service"])
# Reads are public unless KB_PUBLIC_READ is false; /health always is.
reads = APIRouter(dependencies=[Depends(require_read)], responses=errors(401, 422, 503))

MAX_QUESTION = 1000
MAX_LIST = MAX_VALUES  # values of one filter list, checked again after comma-splitting
DATE = DATE_PATTERN


FilterValues = (
    Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=MAX_LIST)]
    | Annotated[str, Field(max_length=2000)]
    | None
)


_DEPARTEMENT = (
    "Département(s), par nom ou code (« Haute-Loire », « 43 », « 2A ») : les documents situés dedans "
    "(une fiche d'Yssingeaux est en Haute-Loire)."
)
_REGION = "Région(s), par nom ou code (« Auvergne-Rhône-Alpes », « 84 ») : les documents situés dedans."


class AskFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: FilterValues = Field(None, description="Type(s) de document.")
    sector: FilterValues = Field(None, description="Secteur(s).")
    theme: FilterValues = Field(None, description="Thème(s).")
    territory: str | None = Field(None, max_length=200, description="Territoire (extrait du nom).")
    departement: FilterValues = Field(None, description=_DEPARTEMENT)
    region: FilterValues = Field(None, description=_REGION)
    date_from: str | None = Field(None, pattern=DATE, description="Date minimale (AAAA, AAAA-MM, AAAA-MM-JJ).")
    date_to: str | None = Field(None, pattern=DATE, description="Date maximale (AAAA, AAAA-MM, AAAA-MM-JJ).")


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., min_length=1, max_length=MAX_QUESTION, description="La question posée.")
    filters: AskFilters | None = None
    from_sector: Literal["action sociale", "développement local"] | None = Field(
        None,
        description="Le secteur de la personne qui pose la question : « Dans l'autre secteur » "
        "(`other_sector`) liste alors ce que fait l'autre secteur. Sans lui, l'autre secteur est "
        "déduit des sources de la réponse.",
    )
    spelling: StrictBool = Field(
        True,
        description="Corriger les mots mal orthographiés d'après le vocabulaire de la base "
        "(`corrected_query` de la réponse) ; `false` : la question telle qu'écrite.",
    )


@router.get(
    "/health",
    summary="État du service",
    response_model=Health,
    responses={503: {"model": Health, "description": "Service dégradé."}},
)
def health(request: Request) -> JSONResponse:
    """État du service et de chaque composant (registre, vecteurs, écriture) : `ok`, ou
    `dégradé` avec une réponse 503 quand l'un d'eux ne répond pas."""
    holder = request.app.state.holder
    try:
        body = holder.get().health()
    except ServiceUnavailable as exc:
        body = {"status": "dégradé", "documents": None, "backends": {"base": "indisponible"}, "detail": str(exc)}
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


@reads.get("/stats", summary="Chiffres de l'index", response_model=Stats, tags=["recherche"])
def stats(kb: KnowledgeBaseDep, actor: OptionalActorDep) -> dict:
    """Chiffres de l'index : documents (par type et par secteur), passages, modèle d'embeddings.
    L'emplacement de l'index n'est donné qu'avec une clé de coordination."""
    return kb.stats(with_paths=actor is not None and actor.is_coordinator)


@reads.get("/vocabulary", summary="Vocabulaire du domaine", response_model=Vocabulary, tags=["recherche"])
def vocabulary(kb: KnowledgeBaseDep) -> dict:
    """Le vocabulaire du domaine : types de document, secteurs, et les thèmes et territoires des
    documents de la base. Le widget et les pages construisent leurs listes à partir d'ici."""
    return kb.vocabulary()


# /search and /ask run in the thread pool: nothing that may block (an embedding, a lexical
# rebuild after a write) runs on the event loop, so /health and the other requests never wait.
# Both return plain JSON-ready dicts: their schema is documented (``responses``) and checked by
# the tests rather than re-validated on every request.
@reads.get(
    "/search",
    summary="Chercher des documents",
    response_model=None,
    responses={200: {"model": SearchResponse}},
    tags=["recherche"],
)
def search(
    kb: KnowledgeBaseDep,
    channel: ChannelDep,
    q: str = Query(..., min_length=1, max_length=MAX_QUESTION, description="La question ou les mots cherchés."),
    k: int = Query(10, ge=1, le=50, description="Nombre de documents (1 à 50)."),
    type: list[str] | None = Query(
        None, max_length=MAX_LIST, description="Type de document (fiche expérience, fiche méthode…)."
    ),
    sector: list[str] | None = Query(
        None, max_length=MAX_LIST, description="Secteur : action sociale, développement local, transversal."
    ),
    theme: list[str] | None = Query(None, max_length=MAX_LIST, description="Thème."),
    territory: str | None = Query(None, max_length=200, description="Territoire (extrait du nom)."),
    departement: list[str] | None = Query(None, max_length=MAX_LIST, description=_DEPARTEMENT),
    region: list[str] | None = Query(None, max_length=MAX_LIST, description=_REGION),
    date_from: str | None = Query(None, pattern=DATE, description="Date minimale (AAAA, AAAA-MM ou AAAA-MM-JJ)."),
    date_to: str | None = Query(None, pattern=DATE, description="Date maximale (AAAA, AAAA-MM ou AAAA-MM-JJ)."),
    spelling: bool = Query(
        True,
        description="Corriger les mots mal orthographiés d'après les mots de la base (`false` : "
        "chercher exactement ce qui est écrit).",
    ),
) -> JSONResponse:
    """Les documents qui répondent à la question, chacun avec ses meilleurs passages.

    Recherche hybride (sens + mots-clés), acronymes développés par le glossaire, mots mal
    orthographiés corrigés d'après les mots de la base (`corrected_query` dit alors ce qui a été
    cherché) ; les filtres s'appliquent pendant la recherche. La liste s'arrête là où les scores
    s'éloignent du meilleur. Quand aucun document ne répond sûrement, `confident` vaut `false` et
    la liste donne les documents les plus proches, à vérifier ; elle n'est vide que si aucun mot
    de la question n'existe dans la base. Chaque passage a un `snippet` et, dans `highlights`, les
    positions `[début, fin]` des termes trouvés dans ce snippet. `facets` compte les documents
    listés par département et par région."""
    filters = kb.parse_filters(type, sector, theme, territory, date_from, date_to, departement, region)
    results = kb.search(q, k, filters, spelling=spelling)
    kb.questions.searched(q, filters, results, channel)
    return JSONResponse(results)


@reads.post(
    "/ask",
    summary="Poser une question",
    response_model=None,
    responses={200: {"model": AskResponse}, **errors(413)},
    tags=["recherche"],
)
def ask(kb: KnowledgeBaseDep, channel: ChannelDep, body: AskRequest) -> JSONResponse:
    """Une réponse rédigée avec les phrases des meilleures fiches, chaque phrase suivie de sa
    source `[n]`, les structures à contacter et les documents de l'autre secteur.

    Quand la base ne contient rien de suffisamment proche, `found` vaut `false` et la réponse
    le dit, avec les documents les plus proches.

    Quand un modèle de langage est configuré (`KB_LLM_URL`), il rédige la réponse à partir des
    mêmes passages (`mode` vaut `llm`) ; chaque phrase doit citer un passage existant, sinon elle
    est retirée, et la réponse extractive est donnée si rien ne reste ou si le modèle ne répond
    pas à temps."""
    filters = _ask_filters(kb, body)
    answer = kb.ask(body.question, filters, spelling=body.spelling, from_sector=body.from_sector)
    kb.questions.answered(body.question, filters, answer, channel)
    return JSONResponse(answer)


_STREAM_EVENTS = """Un flux `text/event-stream` (Server-Sent Events) ; chaque événement porte du JSON :

- `sources` (avec un modèle de langage seulement, en premier) : `{"sources": [...], "citations": [...]}`, de quoi afficher les sources pendant la rédaction ;
- `delta` (avec un modèle de langage) : `{"text": "..."}`, le texte au fil de sa rédaction ;
- `answer` : la réponse finale, comme celle de `POST /ask`, vérifiée : elle remplace le texte reçu par les `delta` (des phrases sans source valable ont pu être retirées, ou la réponse extractive donnée) ;
- `end` : `{}`, la fin du flux."""


@reads.post(
    "/ask/stream",
    summary="Poser une question, réponse en flux",
    tags=["recherche"],
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": _STREAM_EVENTS,
            "content": {"text/event-stream": {"schema": ASK_STREAM_EVENT}},
        },
        **errors(413),
    },
)
async def ask_stream(kb: KnowledgeBaseDep, channel: ChannelDep, body: AskRequest) -> EventSourceResponse:
    """La réponse de `POST /ask`, envoyée au fil de sa rédaction (Server-Sent Events).

    Même corps que `POST /ask`. Sans modèle de langage, ou quand la base ne contient rien de
    suffisamment proche, le flux ne porte qu'un événement `answer` (puis `end`). Avec un modèle
    de langage : `sources`, puis des `delta` de texte, puis la réponse vérifiée (`answer`), qui
    remplace le texte reçu, puis `end`. Une requête invalide reçoit une erreur JSON (422, 503…)
    avant tout flux."""
    # validated and searched before the stream starts: errors keep their JSON responses

    def extractive_logged() -> dict:
        filters = _ask_filters(kb, body)
        answer = kb.extractive_answer(body.question, filters, spelling=body.spelling, from_sector=body.from_sector)
        # logged with the extractive answer's `found`: a written answer rests on the same evidence
        kb.questions.answered(body.question, filters, answer, channel)
        return answer

    extractive = await run_in_threadpool(extractive_logged)
    return EventSourceResponse(_server_sent(kb.ask_events(body.question, extractive)))


@reads.post(
    "/feedback",
    summary="Donner un avis sur une réponse",
    status_code=201,
    response_model=FeedbackAck,
    responses=errors(413, 429, 507),
    tags=["recherche"],
)
def feedback(kb: KnowledgeBaseDep, channel: ChannelDep, client: ClientDep, body: FeedbackRequest) -> dict:
    """Dire si une réponse a aidé (« Oui » / « Non »), avec un commentaire facultatif.

    Enregistré avec la question et l'heure, sans adresse ni identifiant ; au plus
    `KB_FEEDBACK_PER_MINUTE` avis par minute depuis une même adresse (429 au-delà, avec
    l'en-tête `Retry-After`)."""
    return kb.questions.feedback(body.question, body.useful, body.comment, body.doc_ids, channel, client)


def _ask_filters(kb: KnowledgeBase, body: AskRequest):
    if body.filters is None:
        return None
    f = body.filters
    return kb.parse_filters(f.type, f.sector, f.theme, f.territory, f.date_from, f.date_to, f.departement, f.region)


async def _server_sent(events: AsyncIterator[tuple[str, dict]]) -> AsyncIterator[dict]:
    async for name, payload in events:
        yield {"event": name, "data": json.dumps(payload, ensure_ascii=False)}


@reads.get(
    "/documents",
    summary="Lister les documents ou les propositions",
    response_model=DocumentsOrProposals,
    tags=["documents"],
)
def documents(
    kb: KnowledgeBaseDep,
    actor: OptionalActorDep,
    status: Literal["publié", "proposé", "à revoir", "rejeté"] | None = Query(
        None,
        description="`publié` (par défaut) : les documents de la base. `proposé`, `à revoir`, `rejeté` : les "
        "propositions (clé requise ; une contributrice ne voit que les siennes).",
    ),
    offset: int = Query(0, ge=0, description="Position du premier document."),
    limit: int = Query(20, ge=1, le=100, description="Nombre de documents (1 à 100)."),
    type: list[str] | None = Query(None, max_length=MAX_LIST, description="Type de document."),
    sector: list[str] | None = Query(None, max_length=MAX_LIST, description="Secteur."),
    theme: list[str] | None = Query(None, max_length=MAX_LIST, description="Thème."),
    territory: str | None = Query(None, max_length=200, description="Territoire."),
) -> dict:
    """La liste des documents de la base, par pages, filtrable ; avec `status`, les propositions."""
    if status in (None, "publié"):
        return kb.documents(offset, limit, kb.parse_filters(type, sector, theme, territory))
    if actor is None:
        raise Unauthorized("Clé d'accès requise pour voir les propositions.")
    return kb.review.list(actor, status, offset, limit)


@reads.get(
    "/documents/{doc_id}",
    summary="Lire un document",
    response_model=DocumentDetail,
    responses=errors(404),
    tags=["documents"],
)
def document(kb: KnowledgeBaseDep, doc_id: str) -> dict:
    """Un document : ses métadonnées et son texte."""
    return kb.document(doc_id)
