"""Catalogue routes of the coordination (API key required): edit a document's metadata,
download its stored file, read its history."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import Field

from api.deps import CoordinatorDep, KnowledgeBaseDep
from api.downloads import download
from api.schemas import History, MetadataEdit, MetadataEdited, errors
from ingest.writer import UPLOAD_TYPES
from kb.core.publics import PUBLIC_LABELS
from services.catalogue import Catalogue

router = APIRouter()


def get_catalogue(kb: KnowledgeBaseDep) -> Catalogue:
    return Catalogue(kb)


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]


class CatalogueEdit(MetadataEdit):
    """Les métadonnées à changer (les autres restent) ; `null` retire un champ facultatif."""

    publics: list[str] | None = Field(
        None,
        description=f"Publics concernés, parmi : {', '.join(PUBLIC_LABELS)}. Une liste vide les retire "
        "(ils sont alors de nouveau déduits du texte).",
    )


@router.patch(
    "/documents/{doc_id}",
    summary="Modifier les métadonnées d'un document",
    response_model=MetadataEdited,
    responses=errors(401, 403, 404, 413, 422, 503, 507),
    tags=["coordination"],
)
def edit_metadata(catalogue: CatalogueDep, actor: CoordinatorDep, doc_id: str, body: CatalogueEdit) -> dict:
    """Modifier les métadonnées d'un document publié, sans nouveau fichier : le fichier enregistré
    est gardé (même format, même identifiant), ses métadonnées réécrites, et le document aussitôt
    ré-indexé (un titre modifié est trouvable tout de suite).

    Seuls les champs envoyés changent ; `null` retire un champ facultatif (porteur, partenaires,
    date, adresse d'origine). Mêmes règles que la fiche : 422 avec chaque problème, champ par
    champ. Le journal garde la modification (`modification`, les champs et leurs valeurs avant et
    après). En cas d'échec, rien ne change.

    Un secteur, un territoire ou des publics que le document ne donnait pas ont été déduits de son
    texte (`extra.inferred`) : la valeur envoyée ici les remplace, est écrite dans les métadonnées
    du fichier enregistré et n'est plus marquée comme déduite, aux indexations suivantes comprises.
    Renvoyer la valeur déduite telle quelle la confirme."""
    return catalogue.edit(doc_id, body.model_dump(exclude_unset=True), actor.name)


_FILE_TYPES = {
    media_type: {"schema": {"type": "string", "format": "binary"}}
    for media_type in sorted(
        {mimetypes.guess_type("f" + suffix)[0] or "application/octet-stream" for suffix in UPLOAD_TYPES}
        | {"application/octet-stream"}
    )
}


@router.get(
    "/documents/{doc_id}/file",
    summary="Télécharger le fichier d'un document",
    tags=["documents"],
    response_class=Response,
    responses={
        200: {
            "description": "Le fichier tel qu'il est enregistré, avec le type de son format.",
            "content": _FILE_TYPES,
        },
        **errors(401, 403, 404, 422, 503),
    },
)
def document_file(catalogue: CatalogueDep, actor: CoordinatorDep, doc_id: str) -> Response:
    """Télécharger le fichier enregistré d'un document (les octets reçus, nommé
    `<identifiant><extension>`), par exemple avant de le remplacer par `PUT /documents/{doc_id}`."""
    return download(*catalogue.original_file(doc_id))


@router.get(
    "/documents/{doc_id}/history",
    summary="Historique d'un document",
    response_model=History,
    responses=errors(401, 403, 404, 422, 503),
    tags=["coordination"],
)
def document_history(catalogue: CatalogueDep, actor: CoordinatorDep, doc_id: str) -> dict:
    """L'historique d'un document d'après le journal : qui a fait quoi et quand (ajout,
    remplacement, modification, suppression), le plus récent d'abord. 404 quand l'identifiant
    n'a jamais existé."""
    return catalogue.history(doc_id)
