"""The API documentation pages, served with no outside host: Swagger UI and ReDoc come from the
installed ``fastapi-offline`` package, and their start-up code from a file (no inline script)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
_TYPES = {".js": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".png": "image/png"}


@lru_cache(maxsize=1)
def _vendor_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = (
        f'<!doctype html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{title}</title>\n'
        f'<link rel="icon" href="/docs/assets/favicon.png">\n{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n'
    )
    return HTMLResponse(html)


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return _page(
        "Passerelles — documentation de l'API",
        '<link rel="stylesheet" href="/docs/assets/swagger-ui.css">',
        '<div id="swagger-ui"></div>\n<script src="/docs/assets/swagger-ui-bundle.js"></script>\n'
        '<script src="/docs/assets/swagger-init.js"></script>',
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return _page(
        "Passerelles — documentation de l'API (ReDoc)",
        "",
        '<redoc spec-url="/openapi.json"></redoc>\n<script src="/docs/assets/redoc.standalone.js"></script>',
    )


@router.get("/docs/assets/{name}")
def asset(name: str) -> Response:
    """Only the known files, looked up by name (never a path from the request)."""
    own = {p.name: p for p in STATIC.iterdir()}
    vendor = {p.name: p for p in _vendor_dir().iterdir()}
    path = own.get(name) or vendor.get(name)
    if path is None:
        return Response(status_code=404)
    return Response(
        path.read_bytes(),
        media_type=_TYPES.get(path.suffix, "application/octet-stream"),
        headers={"Cache-Control": "public, max-age=86400"},
    )
