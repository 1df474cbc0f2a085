"""Review routes: proposals read, published, sent back or rejected; the coordinator's catalogue."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Body, Query

from api.deps import ActorDep, CoordinatorDep, KnowledgeBaseDep
from api.schemas import (
    CataloguePage,
    ChangesRequest,
    Deleted,
    Proposal,
    ProposalDetail,
    PublishRequest,
    RejectRequest,
    WriteResult,
    errors,
)

router = APIRouter(tags=["coordination"])
_REVIEW_ERRORS = errors(401, 403, 404, 409, 413, 422, 503, 507)


@router.get(
    "/documents/{doc_id}/proposal",
    summary="Lire une proposition",
    response_model=ProposalDetail,
    responses=errors(401, 404, 422, 503),
)
def proposal(kb: KnowledgeBaseDep, actor: ActorDep, doc_id: str) -> dict:
    """Une proposition, pour son autrice ou la coordination : ses métadonnées, son texte extrait,
    les doublons trouvés et le dernier commentaire de la coordination. 404 : aucune proposition
    de ce nom (ou celle d'une autre personne, pour une contributrice)."""
    return kb.review.proposal(doc_id, actor)


@router.delete(
    "/documents/{doc_id}/proposal",
    summary="Retirer une proposition",
    response_model=Deleted,
    responses=errors(401, 404, 422, 503, 507),
)
def withdraw(kb: KnowledgeBaseDep, actor: ActorDep, doc_id: str) -> dict:
    """Retirer une proposition : son autrice (ou la coordination) la supprime ; elle n'a jamais
    été publique. `status` vaut `retirée`."""
    return kb.review.withdraw(doc_id, actor)


@router.post(
    "/documents/{doc_id}/publish",
    summary="Publier une proposition",
    response_model=WriteResult,
    responses=_REVIEW_ERRORS,
)
def publish(
    kb: KnowledgeBaseDep,
    actor: CoordinatorDep,
    doc_id: str,
    body: PublishRequest | None = Body(None),
) -> dict:
    """Publier une proposition (coordination) : elle entre dans la base et devient trouvable
    aussitôt (`status` : `publié`). Les doublons sont recherchés à nouveau : un doublon probable
    donne un 409 (`conflict` : `doublon`), sauf si `duplicate_reason` dit pourquoi publier quand
    même (la raison est gardée dans le journal). 409 aussi pour une proposition rejetée ou à
    revoir (elle doit d'abord être proposée à nouveau)."""
    return kb.review.publish(doc_id, actor, body.duplicate_reason if body else None)


@router.post(
    "/documents/{doc_id}/request-changes",
    summary="Demander des modifications",
    response_model=Proposal,
    responses=_REVIEW_ERRORS,
)
def request_changes(kb: KnowledgeBaseDep, actor: CoordinatorDep, doc_id: str, body: ChangesRequest) -> dict:
    """Demander des modifications (coordination), avec un commentaire pour l'autrice : la
    proposition passe à `à revoir` ; elle redevient `proposé` quand son autrice la soumet à nouveau."""
    return kb.review.request_changes(doc_id, actor, body.comment)


@router.post(
    "/documents/{doc_id}/reject", summary="Rejeter une proposition", response_model=Proposal, responses=_REVIEW_ERRORS
)
def reject(kb: KnowledgeBaseDep, actor: CoordinatorDep, doc_id: str, body: RejectRequest | None = Body(None)) -> dict:
    """Rejeter une proposition (coordination), avec un commentaire facultatif : elle passe à
    `rejeté` et reste visible de son autrice, qui peut la proposer à nouveau."""
    return kb.review.reject(doc_id, actor, body.comment if body else None)


@router.get(
    "/coordination/catalogue",
    summary="Catalogue des documents",
    response_model=CataloguePage,
    responses=errors(401, 403, 422, 503),
)
def catalogue(
    kb: KnowledgeBaseDep,
    actor: CoordinatorDep,
    q: str | None = Query(
        None,
        max_length=200,
        description="Extrait du titre, de l'identifiant, du porteur ou du territoire (sans accents ni majuscules).",
    ),
    status: Literal["publié", "proposé", "à revoir", "rejeté"] | None = Query(None, description="État du document."),
    type: str | None = Query(None, max_length=200, description="Type de document."),
    sector: str | None = Query(None, max_length=200, description="Secteur."),
    offset: int = Query(0, ge=0, description="Position du premier document."),
    limit: int = Query(50, ge=1, le=500, description="Nombre de documents (1 à 500)."),
) -> dict:
    """Le catalogue de la coordination : chaque document, publié ou proposé, sur une ligne, avec
    son état et son dernier changement (qui, quoi, quand), le plus récent d'abord."""
    return kb.review.catalogue(q, status, type, sector, offset, limit)
