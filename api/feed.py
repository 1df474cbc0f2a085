"""The Atom feed of newly published documents (public read, like /documents)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.deps import KnowledgeBaseDep, require_read
from api.schemas import errors
from kb.search.filters import MAX_VALUES
from services.feed import atom_feed

router = APIRouter(tags=["documents"], dependencies=[Depends(require_read)])
ATOM = "application/atom+xml; charset=utf-8"


@router.get(
    "/flux.atom",
    summary="Flux Atom des nouveautés",
    response_class=Response,
    responses={
        200: {"description": "Le flux Atom.", "content": {"application/atom+xml": {"schema": {"type": "string"}}}},
        **errors(401, 422, 503),
    },
)
def atom(
    request: Request,
    kb: KnowledgeBaseDep,
    type: list[str] | None = Query(None, max_length=MAX_VALUES, description="Type de document."),
    secteur: list[str] | None = Query(None, max_length=MAX_VALUES, description="Secteur."),
) -> Response:
    """Le flux Atom des 50 fiches publiées le plus récemment (date de première publication),
    filtrable par type et par secteur : de quoi suivre les nouvelles fiches dans un lecteur de
    flux ou sur le site d'un partenaire. Chaque entrée : titre, lien vers la page de la fiche,
    résumé, type, secteur et thèmes, porteur."""
    body = atom_feed(kb, kb.parse_filters(type, secteur), str(request.base_url))
    return Response(body, media_type=ATOM, headers={"Cache-Control": "public, max-age=300"})
