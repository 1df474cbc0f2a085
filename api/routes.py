"""Read routes. Each route calls one service method; its docstring is the OpenAPI text."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import require_read
from api.filters import parse_filters

router = APIRouter()
# Reads are public unless KB_PUBLIC_READ is false; /health always is.
reads = APIRouter(dependencies=[Depends(require_read)])

MAX_QUESTION = 1000


class AskFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Optional[list[str] | str] = Field(None, description="Type(s) de document.")
    sector: Optional[list[str] | str] = Field(None, description="Secteur(s).")
    theme: Optional[list[str] | str] = Field(None, description="Thème(s).")
    territory: Optional[str] = Field(None, max_length=200, description="Territoire (extrait du nom).")
    date_from: Optional[str] = Field(None, description="Date minimale (AAAA, AAAA-MM, AAAA-MM-JJ).")
    date_to: Optional[str] = Field(None, description="Date maximale.")


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., min_length=1, max_length=MAX_QUESTION, description="La question posée.")
    filters: Optional[AskFilters] = None


def _kb(request: Request):
    return request.app.state.kb


@router.get("/health")
def health(request: Request) -> dict:
    """État du service : `ok` quand l'index est ouvert, avec le nombre de documents."""
    return {"status": "ok", "documents": _kb(request).index.registry.counts()[0]}


@reads.get("/stats")
def stats(request: Request) -> dict:
    """Chiffres de l'index : documents (par type et par secteur), passages, modèle d'embeddings."""
    return _kb(request).stats()


# /search runs on the event loop: it is short and CPU-bound, and skipping the thread-pool hop
# measured 53 instead of 40 requests/s with 8 clients. /ask, three times longer, stays in the
# pool (on the loop it would hold every other request back: 17 instead of 26 requests/s).
@reads.get("/search")
async def search(
    request: Request,
    q: str = Query(..., min_length=1, max_length=MAX_QUESTION, description="La question ou les mots cherchés."),
    k: int = Query(10, ge=1, le=50, description="Nombre de documents (1 à 50)."),
    type: Optional[list[str]] = Query(None, description="Type de document (fiche expérience, fiche méthode…)."),
    sector: Optional[list[str]] = Query(None, description="Secteur : action sociale, développement local, transversal."),
    theme: Optional[list[str]] = Query(None, description="Thème."),
    territory: Optional[str] = Query(None, max_length=200, description="Territoire (extrait du nom)."),
    date_from: Optional[str] = Query(None, description="Date minimale (AAAA, AAAA-MM ou AAAA-MM-JJ)."),
    date_to: Optional[str] = Query(None, description="Date maximale."),
) -> JSONResponse:
    """Les documents qui répondent à la question, chacun avec ses meilleurs passages.

    Recherche hybride (sens + mots-clés), acronymes développés par le glossaire ; les filtres
    s'appliquent pendant la recherche. Chaque passage a un `snippet` et, dans `highlights`, les
    positions `[début, fin]` des termes trouvés dans ce snippet."""
    kb = _kb(request)
    filters = parse_filters(kb.vocabulary(), type, sector, theme, territory, date_from, date_to)
    # plain JSON-ready dicts: skipping FastAPI's re-encoding saves milliseconds per request
    return JSONResponse(kb.search(q, k, filters))


@reads.post("/ask")
def ask(request: Request, body: AskRequest) -> JSONResponse:
    """Une réponse rédigée avec les phrases des meilleures fiches, chaque phrase suivie de sa
    source `[n]`, les structures à contacter et les documents de l'autre secteur.

    Quand la base ne contient rien de suffisamment proche, `found` vaut `false` et la réponse
    le dit, avec les documents les plus proches."""
    kb = _kb(request)
    filters = None
    if body.filters is not None:
        f = body.filters
        filters = parse_filters(kb.vocabulary(), f.type, f.sector, f.theme, f.territory, f.date_from, f.date_to)
    return JSONResponse(kb.ask(body.question, filters))


@reads.get("/documents")
def documents(
    request: Request,
    offset: int = Query(0, ge=0, description="Position du premier document."),
    limit: int = Query(20, ge=1, le=100, description="Nombre de documents (1 à 100)."),
    type: Optional[list[str]] = Query(None, description="Type de document."),
    sector: Optional[list[str]] = Query(None, description="Secteur."),
    theme: Optional[list[str]] = Query(None, description="Thème."),
    territory: Optional[str] = Query(None, max_length=200, description="Territoire."),
) -> dict:
    """La liste des documents de la base, par pages, filtrable."""
    kb = _kb(request)
    filters = parse_filters(kb.vocabulary(), type, sector, theme, territory)
    return kb.documents(offset, limit, filters)


@reads.get("/documents/{doc_id}")
def document(request: Request, doc_id: str) -> dict:
    """Un document : ses métadonnées et son texte."""
    return _kb(request).document(doc_id)
