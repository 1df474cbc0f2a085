"""Routes of the embeddable widget. The script is served as is: no build step."""

from __future__ import annotations

import hashlib
import html
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["widget"])

STATIC = Path(__file__).parent / "static"
API_PLACEHOLDER = "__PASSERELLES_API__"


@cache
def _asset(name: str) -> tuple[bytes, str]:
    content = (STATIC / name).read_bytes()
    return content, '"' + hashlib.sha256(content).hexdigest()[:20] + '"'


@router.get(
    "/widget.js",
    summary="Script du widget",
    response_class=Response,
    responses={200: {"content": {"application/javascript": {}}, "description": "Le script du widget."}},
)
def widget_js(request: Request) -> Response:
    """Le widget de recherche à intégrer sur un site partenaire, en une ligne :

    `<script src="https://…/widget.js" data-api="https://…" async></script>`

    Il s'affiche dans `<div id="passerelles"></div>` (ou juste avant la balise script). Attributs
    `data-placeholder`, `data-label`, `data-type`, `data-sector`, `data-k`, `data-target` et
    couleurs `data-accent`, `data-accent-text`, `data-link` (texte couleur d'accent : dérivé de
    l'accent s'il est trop clair), `data-background`, `data-text`, `data-muted`, `data-border`,
    `data-highlight`, `data-focus`, `data-radius`, `data-font`. Le site doit figurer dans
    `KB_ALLOWED_ORIGINS`."""
    content, etag = _asset("widget.js")
    headers = {
        "Cache-Control": "public, max-age=3600",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="application/javascript; charset=utf-8", headers=headers)


@router.get("/demo", summary="Page de démonstration du widget", response_class=HTMLResponse)
def demo(request: Request) -> HTMLResponse:
    """Page de démonstration : le site (fictif) d'une communauté de communes partenaire qui
    intègre le widget de recherche, comme le ferait un site réel."""
    content, _ = _asset("demo.html")
    api = html.escape(str(request.base_url).rstrip("/"), quote=True)
    page = content.decode("utf-8").replace(API_PLACEHOLDER, api)
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})
