"""Bearer API keys: writes always need one; reads too when KB_PUBLIC_READ is false."""

from __future__ import annotations

from fastapi import HTTPException, Request


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def require_key(request: Request) -> str:
    """The name of the presented key, or 401 (missing, wrong or revoked key)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorised("Clé d'accès manquante : ajoutez l'en-tête « Authorization: Bearer <clé> ».")
    name = request.app.state.kb.keys.verify(token.strip())
    if name is None:
        raise _unauthorised("Clé d'accès invalide ou révoquée.")
    return name


def require_read(request: Request) -> str | None:
    if request.app.state.settings.public_read:
        return None
    return require_key(request)
