"""One place maps every error to its HTTP response, in French (``ErrorBody``)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kb.core.errors import KBError

logger = logging.getLogger("passerelles.api")

_HTTP_FRENCH = {
    400: "Requête invalide.",
    401: "Authentification requise.",
    403: "Accès refusé.",
    404: "Ressource introuvable.",
    405: "Méthode non autorisée pour cette adresse.",
    413: "Requête trop volumineuse.",
    415: "Format de requête non pris en charge.",
}

# English details that libraries put in their 400s, said in French (matched by prefix).
_DETAILS_FRENCH = (
    ("There was an error parsing the body", 422, "Corps de la requête illisible : JSON mal formé ou trop imbriqué."),
    ("Too many files", 400, "Trop de fichiers dans le formulaire : un seul fichier est accepté."),
    ("Too many fields", 400, "Trop de champs dans le formulaire."),
    ("Part exceeded maximum size", 413, "Un champ du formulaire est trop volumineux."),
    ("Missing boundary", 400, "Formulaire multipart mal formé (délimiteur absent)."),
    ("Invalid multipart", 400, "Formulaire multipart mal formé."),
    ("Missing Content-Type", 400, "Formulaire multipart mal formé (type de contenu absent)."),
)

_VALIDATION_FRENCH = {
    "missing": "paramètre obligatoire manquant",
    "json_invalid": "JSON mal formé",
    "int_parsing": "un nombre entier est attendu",
    "bool_parsing": "une valeur booléenne est attendue (true ou false)",
    "float_parsing": "un nombre est attendu",
    "extra_forbidden": "champ inconnu",
    "model_attributes_type": "un objet JSON est attendu",
    "dict_type": "un objet JSON est attendu",
    "list_type": "une liste est attendue",
    "string_type": "du texte est attendu",
    "string_too_short": "ne doit pas être vide",
    "string_pattern_mismatch": "date attendue au format AAAA, AAAA-MM ou AAAA-MM-JJ",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KBError)
    async def kb_error(request: Request, exc: KBError):
        return JSONResponse(status_code=exc.http_status, content=exc.body(), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        problems = [
            {
                "field": ".".join(str(p) for p in error["loc"] if p not in ("body", "query", "path")) or None,
                "message": _french(error),
            }
            for error in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": "Requête invalide.", "problems": problems})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        status, detail = exc.status_code, _HTTP_FRENCH.get(exc.status_code, "Erreur.")
        if status == 404 and _wants_html(request):
            from api.site.router import error_page

            return error_page(request, 404, "Page introuvable", "Cette adresse ne correspond à aucune page du site.")
        headers = dict(getattr(exc, "headers", None) or {})
        if status == 405:
            headers["Allow"] = ", ".join(_allowed_methods(app, request))
        for english, french_status, french in _DETAILS_FRENCH:
            if isinstance(exc.detail, str) and exc.detail.startswith(english):
                status, detail = french_status, french
                break
        return JSONResponse(status_code=status, content={"detail": detail}, headers=headers or None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        logger.exception("unexpected error on %s", request.url.path)
        return JSONResponse(
            status_code=500,
            content={"detail": "Erreur interne du service : réessayez plus tard."},
        )


def _wants_html(request: Request) -> bool:
    """A browser asking for a page (JSON clients keep JSON errors)."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    from starlette.routing import Match

    methods: set[str] = set()
    for route in app.router.routes:
        for method in getattr(route, "methods", None) or ():
            if route.matches({**request.scope, "method": method})[0] == Match.FULL:
                methods.add(method)
    return sorted(methods)


def _french(error: dict) -> str:
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    bounded = {
        "greater_than_equal": f"doit être supérieur ou égal à {context.get('ge')}",
        "less_than_equal": f"doit être inférieur ou égal à {context.get('le')}",
        "string_too_long": f"trop long (au plus {context.get('max_length')} caractères)",
        "too_long": f"trop d'éléments (au plus {context.get('max_length')})",
    }
    return bounded.get(kind) or _VALIDATION_FRENCH.get(kind, "valeur invalide")
