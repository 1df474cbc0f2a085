"""Write routes: add, replace and remove documents (API key required; a contributor's key
proposes, a coordination key publishes). Review routes: ``api/coordination/review.py``."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import ActorDep, CoordinatorDep, KnowledgeBaseDep
from api.schemas import Deleted, Responses, WriteResult, errors
from ingest.fiche import MAX_REPLACED
from kb.core.errors import InvalidRequest, NotFoundError, Problem, UnsupportedMediaType
from kb.core.vocabulary import DOC_ID_MAX_CHARS, DOC_ID_PATTERN, derived_doc_id
from kb.records.keys import Actor
from kb.records.proposals import PROPOSED
from kb.search.filters import DATE_PATTERN
from services.knowledge_base import KnowledgeBase

router = APIRouter(tags=["coordination"])
_WRITE_ERRORS = errors(400, 401, 404, 409, 413, 415, 422, 503, 507)
_PROPOSED: Responses = {
    202: {
        "model": WriteResult,
        "description": "Clé de contributrice : la proposition est enregistrée "
        "(`status` : `proposé`), hors de la base publique, en attente de la coordination.",
    }
}
_DUPLICATE_REASON = Query(
    None,
    min_length=1,
    max_length=500,
    description="Clé de coordination : publier malgré un doublon probable (réponse 409, `conflict` : "
    "`doublon`) ; la raison est gardée dans le journal.",
)

_UPLOAD_FIELDS = (
    "id",
    "title",
    "doc_type",
    "sector",
    "themes",
    "territory",
    "porteur",
    "date",
    "source_url",
    "replaces",
)
_REPLACED_ID = {"type": "string", "pattern": DOC_ID_PATTERN, "maxLength": DOC_ID_MAX_CHARS}

_BODY_DOC = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "Fiche au format du modèle de capitalisation.",
                    "properties": {
                        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{2,120}$"},
                        "title": {"type": "string", "minLength": 5, "maxLength": 200},
                        "doc_type": {"type": "string", "minLength": 1},
                        "sector": {"type": "string", "minLength": 1},
                        "themes": {
                            "type": "array",
                            "items": {"type": "string", "minLength": 1},
                            "minItems": 1,
                            "maxItems": 10,
                        },
                        "territory": {"type": "string", "minLength": 1},
                        "porteur": {"type": "string"},
                        "partners": {"type": "array", "items": {"type": "string"}},
                        "date": {"type": "string", "pattern": DATE_PATTERN},
                        "summary": {"type": "string", "minLength": 40, "maxLength": 3000},
                        "source_url": {"type": "string", "pattern": "^https?://[^\\s<>\"']+$"},
                        "replaces": {
                            "description": "Le ou les identifiants des documents que cette fiche remplace "
                            "(une version plus récente) ; ils peuvent ne pas exister encore.",
                            "anyOf": [_REPLACED_ID, {"type": "array", "items": _REPLACED_ID, "maxItems": MAX_REPLACED}],
                        },
                        "sections": {
                            "type": "object",
                            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 20000},
                        },
                    },
                    "additionalProperties": False,
                    "required": ["title", "doc_type", "sector", "themes", "territory", "summary"],
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}}
                    | {name: {"type": "string"} for name in _UPLOAD_FIELDS},
                    "required": ["file"],
                    "additionalProperties": False,
                }
            },
        },
        "required": True,
    }
}


async def _read_submission(request: Request, kb: KnowledgeBase):
    """A fiche (JSON) or an uploaded file (multipart), size-checked before and while reading."""
    writer = kb.writer
    declared = request.headers.get("content-length")
    if declared and declared.isdigit():
        writer.check_size(
            int(declared) - 64 * 1024 if "multipart" in request.headers.get("content-type", "") else int(declared)
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        body = await _bounded_body(request, writer)
        try:
            data = json.loads(body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidRequest("JSON mal formé.", [Problem(None, _json_error(exc))]) from exc
        except RecursionError as exc:
            raise InvalidRequest("JSON trop imbriqué.", [Problem(None, "structure imbriquée trop profonde")]) from exc
        submission, fiche = writer.from_fiche(data)
        return submission, fiche.doc_id
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=len(_UPLOAD_FIELDS) + 2)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidRequest("Fichier manquant.", [Problem("file", "champ obligatoire")])
        data = await upload.read(writer.settings.max_upload_bytes + 1)
        fields = {name: str(form.get(name)) for name in _UPLOAD_FIELDS if form.get(name) not in (None, "")}
        submission = writer.from_upload(upload.filename or "", data, fields)
        return submission, derived_doc_id(fields.get("title") or (upload.filename or "document").rsplit(".", 1)[0])
    raise UnsupportedMediaType(
        "Format de requête non pris en charge : envoyez une fiche en JSON ou un fichier en multipart/form-data."
    )


def _json_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return (
            f"ligne {exc.lineno}, colonne {exc.colno} : {_JSON_REASONS.get(exc.msg.split(':')[0], 'syntaxe invalide')}"
        )
    return "le texte n'est pas encodé en UTF-8"


_JSON_REASONS = {
    "Expecting value": "valeur attendue",
    "Expecting property name enclosed in double quotes": "nom de champ entre guillemets attendu",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendus",
    "Unterminated string starting at": "texte non refermé",
    "Extra data": "données en trop après le JSON",
    "Invalid control character at": "caractère de contrôle interdit",
}


async def _bounded_body(request: Request, writer) -> bytes:
    received = bytearray()
    async for part in request.stream():
        received.extend(part)
        writer.check_size(len(received))
    return bytes(received)


async def _write(
    request: Request, kb: KnowledgeBase, actor: Actor, replace: str | None, dry_run: bool, duplicate_reason: str | None
) -> JSONResponse:
    submission, hint = await _read_submission(request, kb)
    # embedding a document takes seconds: off the event loop, so searches keep answering
    result = await run_in_threadpool(
        kb.review.write,
        submission,
        actor,
        filename_hint=hint,
        replace=replace,
        dry_run=dry_run,
        duplicate_reason=duplicate_reason,
    )
    if result.get("status") == PROPOSED:
        status = 202
    elif dry_run or replace:
        status = 200
    else:
        status = 201
    return JSONResponse(status_code=status, content=result)


_STATIC = Path(__file__).parent / "static"


@router.get("/coordination", response_class=HTMLResponse, include_in_schema=False)
def coordination_page() -> HTMLResponse:
    """La page de la coordinatrice : remplir le modèle ou téléverser un fichier, vérifier, publier."""
    return HTMLResponse((_STATIC / "coordination.html").read_text(encoding="utf-8"))


_ASSET_TYPES = {".js": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@router.get("/coordination/assets/{name}", include_in_schema=False)
def coordination_asset(name: str) -> Response:
    """The page's scripts and style sheet (served apart: the page has no inline script)."""
    path = _STATIC / name
    media_type = _ASSET_TYPES.get(path.suffix)
    if media_type is None or path.name != name or not path.is_file():
        raise NotFoundError("Fichier introuvable.")
    return Response(
        path.read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.post(
    "/documents",
    summary="Ajouter ou proposer un document",
    status_code=201,
    openapi_extra=_BODY_DOC,
    response_model=WriteResult,
    responses={
        200: {"model": WriteResult, "description": "Vérification seule (`dry_run`)."},
        **_PROPOSED,
        **_WRITE_ERRORS,
    },
)
async def add_document(
    request: Request,
    kb: KnowledgeBaseDep,
    actor: ActorDep,
    dry_run: bool = Query(False, description="Valider et chercher les doublons sans enregistrer."),
    duplicate_reason: str | None = _DUPLICATE_REASON,
) -> JSONResponse:
    """Ajouter un document : une fiche JSON (modèle de capitalisation) ou un fichier (md, pdf,
    y compris scanné : lu par reconnaissance de texte, docx, pptx, odt, html, txt) avec des
    champs de métadonnées facultatifs.

    Avec une clé de coordination, réponse 201 : le document est publié et déjà trouvable par
    `/search` et `/ask`. Avec une clé de contributrice, réponse 202 : le document est gardé comme
    proposition (`status` : `proposé`), invisible du public jusqu'à sa publication par la
    coordination ; la même personne peut le proposer à nouveau pour le corriger.
    `duplicates` liste les documents existants les plus proches (similarité et raison).
    422 : chaque problème de la fiche, champ par champ. 409 : l'identifiant existe déjà ou est
    proposé par une autre personne (`conflict` : `identifiant`), ou un document très proche est
    déjà publié (`conflict` : `doublon`, clé de coordination : publier quand même avec
    `duplicate_reason`)."""
    return await _write(request, kb, actor, None, dry_run, duplicate_reason)


@router.put(
    "/documents/{doc_id}",
    summary="Remplacer un document",
    openapi_extra=_BODY_DOC,
    response_model=WriteResult,
    responses={**_PROPOSED, **_WRITE_ERRORS},
)
async def replace_document(
    request: Request,
    kb: KnowledgeBaseDep,
    actor: ActorDep,
    doc_id: str,
    dry_run: bool = Query(False, description="Valider et chercher les doublons sans enregistrer."),
    duplicate_reason: str | None = _DUPLICATE_REASON,
) -> JSONResponse:
    """Remplacer un document existant (mêmes formats que l'ajout) ; 200 quand c'est fait (clé de
    coordination), 202 pour une mise à jour proposée par une contributrice."""
    return await _write(request, kb, actor, doc_id, dry_run, duplicate_reason)


@router.delete(
    "/documents/{doc_id}",
    summary="Supprimer un document",
    response_model=Deleted,
    responses=errors(401, 403, 404, 422, 503, 507),
)
def delete_document(kb: KnowledgeBaseDep, actor: CoordinatorDep, doc_id: str) -> dict:
    """Retirer un document de la base (et son fichier) ; réservé à la coordination."""
    kb.delete(doc_id, actor.name)
    return {"doc_id": doc_id, "status": "deleted"}
