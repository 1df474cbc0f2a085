"""Preparing the working group's next meeting: the agenda of a period (JSON, Markdown, ODT),
the meetings recorded, and the page that shows and prints the agenda."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.coordination.questions import calendar_day
from api.deps import CoordinatorDep, KnowledgeBaseDep
from api.schemas import UnansweredGroup, errors
from services import meeting_export
from services.meeting import MAX_NOTE_CHARS, MeetingAgenda, rapprochements_of

router = APIRouter(tags=["coordination"])
_PAGE = Path(__file__).parent / "static" / "reunion.html"
_DAY = r"^\d{4}-\d{2}-\d{2}$"
ODT = "application/vnd.oasis.opendocument.text"
MARKDOWN = "text/markdown; charset=utf-8"


def get_agenda(kb: KnowledgeBaseDep) -> MeetingAgenda:
    return MeetingAgenda(kb, rapprochements_of(kb))


AgendaDep = Annotated[MeetingAgenda, Depends(get_agenda)]


class Meeting(BaseModel):
    date: str = Field(..., description="Le jour de la réunion (AAAA-MM-JJ).")
    note: str | None = Field(None, description="Une précision (lieu, objet), facultative.")
    recorded_by: str | None = Field(None, description="Qui l'a enregistrée (le nom de sa clé).")
    recorded_at: str | None = Field(None, description="Quand elle a été enregistrée.")


class MeetingRecord(BaseModel):
    """Une réunion du groupe de travail qui a eu lieu."""

    model_config = ConfigDict(extra="forbid")

    date: str = Field(..., pattern=_DAY, description="Le jour de la réunion (AAAA-MM-JJ), aujourd'hui ou avant.")
    note: str | None = Field(None, max_length=MAX_NOTE_CHARS, description="Une précision (lieu, objet), facultative.")


class ChangedDocument(BaseModel):
    doc_id: str
    title: str
    doc_type: str
    sector: str
    territory: str | None = None
    change: Literal["nouveau", "mis à jour", "indexé"] = Field(
        ...,
        description="`nouveau` : publié pour la première fois sur la période ; `mis à jour` : remplacé ou "
        "modifié ; `indexé` : ajouté ou réindexé par `kb ingest` (sans trace dans le journal).",
    )
    at: str = Field(..., description="Son dernier changement sur la période.")
    by: str | None = Field(None, description="Qui l'a fait (le nom de sa clé), quand le journal le dit.")
    url: str = Field(..., description="Sa page sur le site.")


class SectorChanges(BaseModel):
    sector: str
    documents: list[ChangedDocument]


class RemovedDocument(BaseModel):
    doc_id: str
    title: str
    at: str


class DocumentChanges(BaseModel):
    total: int
    new: int = Field(..., description="Combien sont nouveaux.")
    sectors: list[SectorChanges] = Field(..., description="Par secteur (chaque secteur, même vide).")
    removed: list[RemovedDocument] = Field(..., description="Les documents retirés sur la période.")


class UnansweredSubjects(BaseModel):
    log_enabled: bool
    total: int = Field(..., description="Questions sans réponse sur la période.")
    groups: list[UnansweredGroup] = Field(..., description="Les 15 sujets les plus demandés.")
    more_groups: int = Field(..., description="Les autres sujets, non listés.")


class PairSide(BaseModel):
    model_config = ConfigDict(extra="allow")

    doc_id: str
    title: str
    sector: str | None = None
    territory: str | None = None
    url: str


class OpenPair(BaseModel):
    model_config = ConfigDict(extra="allow")

    a: PairSide
    b: PairSide
    reason: str | None = None
    score: float | None = None
    same_territory: bool | None = None
    status: str | None = None


class OpenPairs(BaseModel):
    available: bool = Field(..., description="Faux tant que les rapprochements ne sont pas calculés.")
    total: int
    pairs: list[OpenPair] = Field(..., description="Les 10 premiers rapprochements à examiner.")


class ConsultedDocument(BaseModel):
    doc_id: str
    title: str
    sector: str
    doc_type: str
    count: int = Field(..., description="Nombre de questions auxquelles il a été proposé.")
    url: str


class MostConsulted(BaseModel):
    basis: str = Field(..., description="Ce que « consulté » veut dire ici.")
    documents: list[ConsultedDocument]


class Agenda(BaseModel):
    since: str
    until: str
    basis: Literal["dernière réunion", "par défaut", "choisie"] = Field(
        ...,
        description="D'où vient le début de la période : la dernière réunion, les 30 derniers jours "
        "(aucune réunion enregistrée) ou la date choisie.",
    )
    last_meeting: Meeting | None
    meetings: list[Meeting] = Field(..., description="Les dernières réunions enregistrées, la plus récente d'abord.")
    documents: DocumentChanges
    unanswered: UnansweredSubjects
    rapprochements: OpenPairs
    most_consulted: MostConsulted


@router.get(
    "/coordination/meeting",
    summary="Ordre du jour de la prochaine réunion",
    response_model=Agenda,
    responses={
        200: {
            "description": "L'ordre du jour : en JSON, ou à télécharger en Markdown ou en ODT (`format`).",
            "content": {
                "text/markdown": {"schema": {"type": "string"}},
                ODT: {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **errors(401, 403, 422, 503),
    },
)
def meeting_agenda(
    request: Request,
    agenda: AgendaDep,
    actor: CoordinatorDep,
    since: str | None = Query(
        None, pattern=_DAY, description="Premier jour (AAAA-MM-JJ) ; par défaut, le jour de la dernière réunion."
    ),
    until: str | None = Query(None, pattern=_DAY, description="Dernier jour, inclus ; par défaut, aujourd'hui (UTC)."),
    format: Literal["json", "markdown", "odt"] = Query("json", description="`markdown` ou `odt` : à télécharger."),
):
    """Préparer la prochaine réunion du groupe de travail : sur la période (par défaut depuis la
    dernière réunion enregistrée), les fiches nouvelles et mises à jour par secteur, les questions
    restées sans réponse regroupées par sujet, les rapprochements à examiner et les documents les
    plus consultés. `format=markdown` ou `format=odt` : le même ordre du jour, à envoyer."""
    data = agenda.agenda(calendar_day("since", since), calendar_day("until", until), str(request.base_url))
    if format == "json":
        return data
    if format == "markdown":
        body, media_type = meeting_export.markdown(data).encode("utf-8"), MARKDOWN
    else:
        body, media_type = meeting_export.odt(data), ODT
    name = meeting_export.filename(data, "md" if format == "markdown" else "odt")
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post(
    "/coordination/meetings",
    summary="Enregistrer une réunion",
    status_code=201,
    response_model=Meeting,
    responses=errors(401, 403, 422, 503),
)
def record_meeting(agenda: AgendaDep, actor: CoordinatorDep, body: MeetingRecord) -> dict:
    """Enregistrer la date d'une réunion du groupe de travail (gardée dans le journal, avec qui
    l'a enregistrée) : l'ordre du jour de la suivante part de la dernière."""
    return agenda.record_meeting(calendar_day("date", body.date) or dt.date.min, body.note, actor.name)


@router.get("/coordination/reunion", response_class=HTMLResponse, include_in_schema=False)
def meeting_page() -> HTMLResponse:
    """La page « Préparer la réunion » (ses scripts : /coordination/assets/meeting.js)."""
    return HTMLResponse(_PAGE.read_text(encoding="utf-8"))
