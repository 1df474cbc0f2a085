"""Partner sites (the origins allowed to embed the widget): listed, added and removed by the
coordination, effective at once (key required)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.deps import CoordinatorDep, PartnerSitesDep
from api.schemas import ErrorBody, PartnerIn, PartnerList, PartnerOut, Responses, errors

router = APIRouter(prefix="/coordination", tags=["coordination"])
_NOT_FOUND: Responses = {404: {"model": ErrorBody, "description": "Site partenaire introuvable."}}
_CONFLICT: Responses = {409: {"model": ErrorBody, "description": "Le site est déjà autorisé."}}


@router.get(
    "/partners", summary="Lister les sites partenaires", response_model=PartnerList, responses=errors(401, 403, 503)
)
def list_partners(partners: PartnerSitesDep, actor: CoordinatorDep) -> dict:
    """Les sites autorisés à intégrer le widget : la liste de base (`KB_ALLOWED_ORIGINS`,
    configuration du serveur) et les sites partenaires ajoutés par la coordination."""
    return partners.listing()


@router.post(
    "/partners",
    summary="Ajouter un site partenaire",
    status_code=201,
    response_model=PartnerOut,
    responses={**errors(401, 403, 413, 422, 503, 507), **_CONFLICT},
)
def add_partner(partners: PartnerSitesDep, actor: CoordinatorDep, body: PartnerIn) -> dict:
    """Autoriser un site partenaire (`https://hôte[:port]`, sans chemin ni joker ; `http://`
    seulement pour localhost). Effectif immédiatement, sans redémarrage ; inscrit au journal.
    409 : le site est déjà autorisé."""
    return partners.add(body.origin, body.name, actor.name)


@router.delete(
    "/partners",
    summary="Retirer un site partenaire",
    response_model=PartnerOut,
    responses={**errors(401, 403, 422, 503, 507), **_NOT_FOUND},
)
def remove_partner(
    partners: PartnerSitesDep,
    actor: CoordinatorDep,
    origin: str = Query(..., max_length=300, description="L'origine du site à retirer."),
) -> dict:
    """Retirer un site partenaire : ses pages ne peuvent plus appeler l'API, immédiatement.
    Les sites de la liste de base ne se retirent pas d'ici (422)."""
    return partners.remove(origin, actor.name)
