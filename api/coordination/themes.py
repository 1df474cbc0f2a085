"""The theme vocabulary of the coordination (coordination key): the themes in use with the
near-duplicates to confirm, and the merge of one theme into another, previewed first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CoordinatorDep, KnowledgeBaseDep
from api.schemas import errors
from services.themes import MAX_THEME_CHARS, ThemeVocabulary

router = APIRouter(prefix="/coordination/themes", tags=["coordination"])


def get_themes(kb: KnowledgeBaseDep) -> ThemeVocabulary:
    return ThemeVocabulary(kb)


ThemesDep = Annotated[ThemeVocabulary, Depends(get_themes)]


class ThemeUse(BaseModel):
    theme: str = Field(..., description="Le thème tel qu'il est enregistré (en minuscules).")
    label: str = Field(..., description="Le thème tel qu'il s'affiche (sigles en majuscules : « CAF »).")
    documents: int = Field(..., description="Nombre de documents qui l'ont.")


class ThemeSuggestion(BaseModel):
    source: str = Field(..., description="Le thème à fusionner (le moins employé).")
    target: str = Field(..., description="Le thème qui le remplacerait.")
    reason: str = Field(..., description="Pourquoi les deux semblent n'en faire qu'un.")
    source_documents: int
    target_documents: int


class ThemeOverview(BaseModel):
    themes: list[ThemeUse] = Field(..., description="Les thèmes employés, dans l'ordre alphabétique français.")
    suggestions: list[ThemeSuggestion] = Field(
        ..., description="Des paires de thèmes voisins, à confirmer : rien n'est fusionné sans demande."
    )


class ThemeMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(..., min_length=1, max_length=MAX_THEME_CHARS, description="Le thème à fusionner.")
    target: str = Field(
        ..., min_length=1, max_length=MAX_THEME_CHARS, description="Le thème qui le remplace (existant ou nouveau)."
    )


class MergedDocument(BaseModel):
    doc_id: str
    title: str
    before: list[str] = Field(..., description="Ses thèmes avant la fusion.")
    after: list[str] = Field(..., description="Ses thèmes après la fusion.")


class MergeFailure(BaseModel):
    doc_id: str
    detail: str


class ThemeMergeResult(BaseModel):
    source: str
    target: str
    documents: list[MergedDocument] = Field(..., description="Les documents touchés par la fusion.")
    merged: list[str] = Field(..., description="Les documents réécrits (vide pour un aperçu).")
    failed: list[MergeFailure] = Field(..., description="Les documents qui n'ont pas pu être réécrits.")


@router.get(
    "", summary="Thèmes employés et doublons possibles", response_model=ThemeOverview, responses=errors(401, 403, 503)
)
def theme_overview(themes: ThemesDep, actor: CoordinatorDep) -> dict:
    """Les thèmes des documents de la base, chacun avec son nombre de documents, et les paires
    qui semblent n'en faire qu'un (singulier et pluriel, l'un qui précise l'autre, orthographe
    voisine). Ce ne sont que des suggestions : la coordination confirme chaque fusion."""
    return themes.overview()


@router.post(
    "/merge",
    summary="Fusionner un thème dans un autre",
    response_model=ThemeMergeResult,
    responses=errors(401, 403, 404, 413, 422, 503, 507),
)
def merge_themes(
    themes: ThemesDep,
    actor: CoordinatorDep,
    body: ThemeMerge,
    dry_run: bool = Query(False, description="Montrer les documents touchés sans rien écrire."),
) -> dict:
    """Remplacer le thème `source` par `target` dans chaque document qui l'a (un thème nouveau
    renomme simplement `source`). Chaque document est réécrit comme une modification du
    catalogue (fichier et index, sans risque en cas d'arrêt) et inscrit au journal, la fusion
    aussi. Avec `dry_run`, seulement l'aperçu des documents touchés. Un document qui n'a pas pu
    être réécrit est dans `failed` ; refaire la fusion termine le reste."""
    if dry_run:
        return themes.preview(body.source, body.target)
    return themes.merge(body.source, body.target, actor.name)
