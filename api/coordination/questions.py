"""The coordinator's dashboard of what practitioners ask: its data (JSON, CSV); and the
contacts on which a fiche and the directory disagree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import CoordinatorDep, KnowledgeBaseDep
from api.schemas import QuestionsDashboard, errors
from kb.answer.contacts import contact_conflicts
from kb.core.errors import InvalidRequest, Problem

router = APIRouter(tags=["coordination"])

Channel = Literal["widget", "site", "api"]
_DAY = r"^\d{4}-\d{2}-\d{2}$"  # a day written out: lax parsing would take "0" for 1970-01-01
_SINCE = Query(None, pattern=_DAY, description="Premier jour (AAAA-MM-JJ) ; par défaut, 90 jours avant la fin.")
_UNTIL = Query(None, pattern=_DAY, description="Dernier jour, inclus (AAAA-MM-JJ) ; par défaut, aujourd'hui (UTC).")
_FOUND = Query(None, description="`false` : seulement les questions sans réponse ; `true` : seulement les autres.")
_CHANNEL = Query(None, description="Seulement un canal : `widget`, `site` ou `api`.")


@dataclass
class QuestionPeriod:
    """The period and filters both views of the log take (query parameters)."""

    since: str | None = _SINCE
    until: str | None = _UNTIL
    found: bool | None = _FOUND
    channel: Channel | None = _CHANNEL

    def arguments(self) -> tuple:
        return calendar_day("since", self.since), calendar_day("until", self.until), self.found, self.channel


def calendar_day(field: str, value: str | None) -> dt.date | None:
    """``value`` (YYYY-MM-DD) as a date, None when absent, or a French 422 naming ``field``."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidRequest(
            "Date invalide.", [Problem(field, f"« {value} » n'est pas une date du calendrier")]
        ) from exc


PeriodDep = Annotated[QuestionPeriod, Depends()]


@router.get(
    "/coordination/questions",
    summary="Tableau de bord des questions",
    response_model=QuestionsDashboard,
    responses=errors(401, 403, 422, 503),
)
async def questions_dashboard(
    kb: KnowledgeBaseDep,
    actor: CoordinatorDep,
    period: PeriodDep,
) -> dict:
    """Ce que cherchent les praticiens sur la période : les questions les plus fréquentes, les
    questions sans réponse regroupées par sens (chaque groupe avec sa question représentative,
    son nombre et ses dates : les sujets à capitaliser), les réponses jugées inutiles avec leurs
    commentaires, le volume par semaine et la couverture de la base par thème et secteur."""
    # grouping embeds the unanswered questions: off the event loop
    return await run_in_threadpool(kb.questions.dashboard, *period.arguments())


@router.get(
    "/coordination/questions.csv",
    summary="Exporter les questions en CSV",
    response_class=Response,
    responses={
        200: {
            "description": "Le journal des questions de la période, en CSV (UTF-8, séparateur `;`).",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **errors(401, 403, 422, 503),
    },
)
def questions_csv(
    kb: KnowledgeBaseDep,
    actor: CoordinatorDep,
    period: PeriodDep,
) -> Response:
    """Le journal des questions de la période, une ligne par question (date, type, question,
    filtres, trouvé, documents, canal), à ouvrir dans un tableur."""
    return Response(
        kb.questions.csv(*period.arguments()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="questions-passerelles.csv"'},
    )


class ContactConflict(BaseModel):
    structure: str = Field(..., description="La structure (son nom dans l'annuaire).")
    doc_id: str = Field(..., description="Le document dont la section Contact diffère de l'annuaire.")
    title: str
    url: str = Field(..., description="La page de ce document sur le site.")
    fiche: str = Field(..., description="Les lignes de contact du document.")
    entry_id: str = Field(..., description="La fiche annuaire de la structure.")
    entry_title: str
    entry_url: str
    annuaire: str = Field(
        ..., description="Les lignes de contact de la fiche annuaire (celles que montrent les réponses)."
    )
    differs: list[str] = Field(..., description="Ce qui diffère : `courriel`, `téléphone`.")


class ContactConflicts(BaseModel):
    conflicts: list[ContactConflict] = Field(
        ..., description="Les documents dont le courriel ou le téléphone diffère de l'annuaire, par structure."
    )


@router.get(
    "/coordination/contacts",
    summary="Coordonnées à vérifier",
    response_model=ContactConflicts,
    responses=errors(401, 403, 503),
)
def contacts_to_check(kb: KnowledgeBaseDep, actor: CoordinatorDep) -> dict:
    """Coordonnées divergentes : les documents dont la section Contact donne un autre courriel ou
    un autre téléphone que la fiche annuaire de leur structure (les réponses montrent celui de
    l'annuaire). Calculé une fois par révision de l'index."""
    return {"conflicts": contact_conflicts(kb.index, kb.index.settings.public_url)}
