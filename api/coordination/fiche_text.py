"""Routes that edit a document's text (API key required) and show the page it will make: the
text by template section (or one Markdown body), a preview as sanitised HTML, the save (a
coordinator's is published, a contributor's proposed), and a proposal's page for review."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import ActorDep, KnowledgeBaseDep
from api.schemas import MetadataEdited, errors
from api.site.router import templates
from kb.records.proposals import PROPOSED
from services.fiche_text import FicheText

router = APIRouter(tags=["coordination"])


def get_fiche_text(kb: KnowledgeBaseDep) -> FicheText:
    return FicheText(kb)


FicheTextDep = Annotated[FicheText, Depends(get_fiche_text)]


class Section(BaseModel):
    key: str = Field(..., description="Nom de la section dans le modèle (`contexte`, `etapes`…).")
    label: str = Field(..., description="Son titre sur la page (« Contexte », « Étapes »…).")
    text: str = Field(..., description="Son texte (Markdown), vide si la fiche ne l'a pas.")


class EditableText(BaseModel):
    doc_id: str
    title: str
    version: str = Field(..., description="La version lue : à renvoyer avec le texte modifié.")
    form: Literal["modèle", "markdown", "fichier"] = Field(
        ...,
        description="`modèle` : une fiche du modèle de capitalisation, modifiée par sections (`summary`, "
        "`sections`) ; `markdown` : tout autre document Markdown, modifié d'un bloc (`body`) ; "
        "`fichier` : un autre format (PDF, DOCX…), dont le texte ne se modifie pas ici (`reason`).",
    )
    summary: str | None = Field(None, description="« En bref » (modèle).")
    sections: list[Section] = Field(..., description="Les sections du modèle, dans leur ordre (modèle).")
    body: str | None = Field(None, description="Le texte Markdown, sans l'en-tête de métadonnées (markdown).")
    reason: str | None = Field(None, description="Pourquoi ce texte ne se modifie pas dans la page (fichier).")


class TextChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: str | None = Field(None, max_length=3000, description="« En bref » (modèle).")
    sections: dict[str, str] | None = Field(
        None, description="Le texte de chaque section (modèle) ; une section absente ou vide est retirée."
    )
    body: str | None = Field(None, description="Le texte Markdown entier (markdown).")


class TextSave(TextChange):
    version: str = Field(..., min_length=1, max_length=200, description="La version lue avec `GET …/text`.")


class PageHtml(BaseModel):
    html: str = Field(..., description="La page telle qu'elle sera publiée, en HTML nettoyé (sans script).")


def _html(request: Request, page: dict) -> dict:
    return {"html": templates.get_template("_apercu.html").render(request=request, p=page)}


@router.get(
    "/documents/{doc_id}/text",
    summary="Lire le texte d'un document à modifier",
    response_model=EditableText,
    responses=errors(401, 404, 422, 503),
)
def read_text(texts: FicheTextDep, actor: ActorDep, doc_id: str) -> dict:
    """Le texte d'un document Markdown publié, avec sa version : par sections pour une fiche du
    modèle de capitalisation, d'un bloc pour tout autre document Markdown. Pour un autre format
    (PDF, DOCX…), `form` vaut `fichier` et `reason` dit quoi faire : remplacer son fichier."""
    return texts.read(doc_id)


@router.post(
    "/documents/{doc_id}/text/preview",
    summary="Aperçu de la page d'un texte modifié",
    response_model=PageHtml,
    responses=errors(401, 404, 422, 503),
)
def preview_text(request: Request, texts: FicheTextDep, actor: ActorDep, doc_id: str, body: TextChange) -> dict:
    """La page que ferait le texte envoyé, rendue comme la page publique du document (HTML
    nettoyé : ni script ni style) ; rien n'est enregistré. Mêmes contrôles que l'enregistrement."""
    return _html(request, texts.preview(doc_id, body.model_dump(exclude_none=True)))


@router.put(
    "/documents/{doc_id}/text",
    summary="Enregistrer le texte d'un document",
    response_model=MetadataEdited,
    responses={
        202: {"model": MetadataEdited, "description": "Clé de contributrice : mise à jour proposée."},
        **errors(401, 404, 409, 413, 422, 503, 507),
    },
)
async def save_text(
    texts: FicheTextDep,
    actor: ActorDep,
    doc_id: str,
    body: TextSave,
    duplicate_reason: str | None = Query(
        None, min_length=1, max_length=500, description="Publier malgré un doublon probable : pourquoi."
    ),
) -> JSONResponse:
    """Enregistrer le nouveau texte par le même chemin d'écriture que les autres modifications :
    avec une clé de coordination, le document est publié et ré-indexé aussitôt (journal :
    `modification du texte`, les parties changées) ; avec une clé de contributrice, c'est une
    proposition de mise à jour (202), relue par la coordination. Les métadonnées ne changent pas.

    409 (`conflict` : `version`) quand le document a changé depuis sa lecture (`version`) :
    rien n'est enregistré ; relire le texte et y reporter les modifications."""
    # embedding takes seconds: off the event loop, so searches keep answering
    result = await run_in_threadpool(texts.save, doc_id, body.model_dump(exclude_none=True), actor, duplicate_reason)
    return JSONResponse(status_code=202 if result.get("status") == PROPOSED else 200, content=result)


@router.get(
    "/documents/{doc_id}/proposal/page",
    summary="Aperçu de la page d'une proposition",
    response_model=PageHtml,
    responses=errors(401, 404, 422, 503),
)
def proposal_page(request: Request, texts: FicheTextDep, actor: ActorDep, doc_id: str) -> dict:
    """La page qu'une proposition fera une fois publiée, rendue comme la page publique (HTML
    nettoyé), pour la relire : son autrice ou la coordination."""
    return _html(request, texts.proposal_page(doc_id, actor))
