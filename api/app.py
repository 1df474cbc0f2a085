"""The HTTP API: ``create_app(settings)``; models and the index are opened once, in the lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import routes
from api.coordination.router import router as coordination_router
from api.widget import router as widget_router
from kb.errors import KBError, NotFoundError
from kb.settings import Settings


logger = logging.getLogger("passerelles.api")

_HTTP_FRENCH = {
    404: "Ressource introuvable.",
    405: "Méthode non autorisée pour cette adresse.",
    413: "Requête trop volumineuse.",
}


def create_app(settings: Settings, index=None) -> FastAPI:
    """Build the app. ``index`` may be given (tests); otherwise it is opened at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from kb.runtime import open_index
        from kb.service import KnowledgeBase

        opened = index or open_index(settings)
        app.state.kb = KnowledgeBase.create(settings, opened)
        # documents written by a process killed between file and index are indexed now
        app.state.kb.writer.reconcile()
        try:
            yield
        finally:
            if index is None:
                opened.close()

    app = FastAPI(
        title="Passerelles",
        description="Recherche dans les méthodes et expériences partagées par les acteurs du "
        "développement rural et de l'action sociale.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization"],
    )
    app.include_router(routes.router)
    app.include_router(routes.reads)
    app.include_router(coordination_router)
    app.include_router(widget_router)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError):
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail
        if isinstance(detail, str):
            detail = {"detail": _HTTP_FRENCH.get(exc.status_code, detail)}
        return JSONResponse(status_code=exc.status_code, content=detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        logger.exception("unexpected error on %s", request.url.path)
        return JSONResponse(
            status_code=500,
            content={"detail": "Erreur interne du service : réessayez plus tard."},
        )

    @app.exception_handler(KBError)
    async def kb_error(request: Request, exc: KBError):
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        problems = [
            f"{'.'.join(str(p) for p in error['loc'] if p != 'body')} : {_french(error)}"
            for error in exc.errors()
        ]
        return JSONResponse(
            status_code=422,
            content={"detail": "Requête invalide.", "problems": problems},
        )

    return app


def _french(error: dict) -> str:
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    messages = {
        "missing": "paramètre obligatoire manquant",
        "json_invalid": "JSON mal formé",
        "int_parsing": "un nombre entier est attendu",
        "greater_than_equal": f"doit être supérieur ou égal à {context.get('ge')}",
        "less_than_equal": f"doit être inférieur ou égal à {context.get('le')}",
        "string_too_long": f"trop long (au plus {context.get('max_length')} caractères)",
        "string_too_short": "ne doit pas être vide",
        "extra_forbidden": "champ inconnu",
        "model_attributes_type": "un objet JSON est attendu",
        "dict_type": "un objet JSON est attendu",
        "string_type": "du texte est attendu",
    }
    return messages.get(kind, "valeur invalide")
