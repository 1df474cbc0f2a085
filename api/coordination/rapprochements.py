"""Rapprochements: pairs of documents of the two sectors the working group should hear about,
the coordinator's marks on them, and their CSV for the next meeting (coordination key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import CoordinatorDep, KnowledgeBaseDep
from api.schemas import ErrorBody, Responses, errors
from kb.records.rapprochements import STATUSES, TO_REVIEW
from services.rapprochements import CSV_PAIRS

router = APIRouter(tags=["coordination"])
_NOT_FOUND: Responses = {404: {"model": ErrorBody, "description": "Ces deux documents ne sont pas proposés ensemble."}}
_STATUS_TEXT = "Le statut : " + ", ".join(f"« {s} »" for s in STATUSES) + "."


class RapprochementContact(BaseModel):
    name: str = Field(..., description="La structure à contacter.")
    contact: str | None = Field(
        None, description="Comment la joindre (les lignes de contact de l'annuaire, sinon du document)."
    )
    doc_id: str | None = Field(None, description="Sa fiche annuaire, quand elle en a une.")


class RapprochementSide(BaseModel):
    doc_id: str
    title: str
    sector: str | None = Field(None, description="« action sociale » ou « développement local ».")
    territory: str | None = Field(None, description="Le territoire, tel que le document l'écrit.")
    doc_type: str
    porteur: str | None = None
    url: str = Field(..., description="La page du document sur le site (/fiches/{doc_id}).")
    contact: RapprochementContact | None = Field(
        None, description="Qui contacter de ce côté ; absent si rien ne le dit."
    )


class PairIds(BaseModel):
    a: str
    b: str


class Rapprochement(BaseModel):
    id: str = Field(..., description="L'identifiant de la paire : les deux identifiants de documents joints par « ~ ».")
    a: RapprochementSide
    b: RapprochementSide
    reason: str = Field(..., description="Une phrase : ce qu'ils partagent, avec une courte citation de chaque côté.")
    score: float = Field(
        ..., description="Plus il est haut, plus ils travaillent sur le même sujet (sens commun + bonus)."
    )
    same_territory: bool = Field(..., description="Le même territoire (l'un contient l'autre, ou le même texte).")
    publics: list[str] = Field(..., description="Les publics précis qu'ils nomment tous les deux.")
    named: bool = Field(..., description="L'un nomme la structure de l'autre (partenaires ou texte).")
    status: str = Field(..., description=_STATUS_TEXT)
    marked_by: str | None = Field(None, description="Qui a donné le statut (absent pour « à examiner »).")
    marked_at: str | None = Field(None, description="Quand (ISO 8601, UTC).")
    also: list[PairIds] = Field(..., description="Les autres paires de documents des deux mêmes structures.")


class RapprochementList(BaseModel):
    pairs: list[Rapprochement]
    total: int = Field(..., description="Les paires de ce statut sous ces filtres.")
    offset: int
    limit: int
    counts: dict[str, int] = Field(..., description="Le nombre de paires de chaque statut sous ces filtres.")


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(..., max_length=40, description=_STATUS_TEXT + " « à examiner » rouvre la paire.")


class RapprochementFilters:
    def __init__(
        self,
        territory: str | None = Query(
            None,
            max_length=200,
            description="Un lieu (commune, EPCI, département ou région, nom ou code) : les paires dont un "
            "document s'y trouve, comme le filtre de la recherche.",
        ),
        theme: str | None = Query(None, max_length=200, description="Un thème : les paires dont un document le porte."),
        status: str | None = Query(TO_REVIEW, max_length=40, description=_STATUS_TEXT + " Vide : tous les statuts."),
    ) -> None:
        self.territory = territory or None
        self.theme = theme or None
        self.status = status or None


FiltersDep = Annotated[RapprochementFilters, Depends()]


@router.get(
    "/coordination/rapprochements",
    summary="Lister les rapprochements",
    response_model=RapprochementList,
    responses=errors(401, 403, 422, 503),
)
async def list_rapprochements(
    kb: KnowledgeBaseDep,
    actor: CoordinatorDep,
    filters: FiltersDep,
    offset: int = Query(0, ge=0, le=100_000),
    limit: int = Query(20, ge=1, le=100),
) -> dict:
    """Les rapprochements à proposer au groupe de travail : des documents (et leurs structures)
    de l'action sociale et du développement local qui travaillent sur le même sujet ou le même
    public, le même territoire d'abord ; chacun avec la phrase qui dit ce qu'ils partagent, les
    deux pages et qui contacter de chaque côté. Par défaut, ceux « à examiner »."""
    return await run_in_threadpool(
        kb.rapprochements.pairs, filters.territory, filters.theme, filters.status, offset, limit
    )


@router.put(
    "/coordination/rapprochements/{pair_id}",
    summary="Classer un rapprochement",
    response_model=Rapprochement,
    responses={**errors(401, 403, 413, 422, 503, 507), **_NOT_FOUND},
)
async def set_rapprochement_status(
    kb: KnowledgeBaseDep,
    actor: CoordinatorDep,
    body: StatusIn,
    pair_id: str = Path(..., max_length=300, description="L'identifiant de la paire (« a~b »)."),
) -> dict:
    """Marquer un rapprochement « mis en relation », « déjà en lien » ou « non pertinent » (ou le
    rouvrir : « à examiner »). Inscrit au journal ; la paire n'est plus proposée tant qu'aucun
    des deux documents ne change."""
    return await run_in_threadpool(kb.rapprochements.set_status, pair_id, body.status, actor.name)


@router.get(
    "/coordination/rapprochements.csv",
    summary="Exporter les rapprochements en CSV",
    response_class=Response,
    responses={
        200: {
            "description": "Les rapprochements en CSV (UTF-8 avec BOM, séparateur `;`), pour la prochaine réunion.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **errors(401, 403, 422, 503),
    },
)
async def rapprochements_csv(
    kb: KnowledgeBaseDep,
    actor: CoordinatorDep,
    filters: FiltersDep,
    limit: int = Query(CSV_PAIRS, ge=1, le=1000, description="Les meilleures paires, au plus ce nombre."),
) -> Response:
    """Les meilleurs rapprochements sous ces filtres, une ligne par paire (statut, score, même
    territoire, ce qu'ils partagent, puis pour chaque côté : document, secteur, territoire,
    contact, page)."""
    text = await run_in_threadpool(kb.rapprochements.csv, filters.territory, filters.theme, filters.status, limit)
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="rapprochements-passerelles.csv"'},
    )
