"""Read routes. Each route calls one service function; its docstring is the OpenAPI text."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

router = APIRouter()


@router.get("/health")
def health(request: Request) -> dict:
    """État du service : répond `ok` quand l'index est ouvert."""
    return {"status": "ok", "documents": request.app.state.index.registry.counts()[0]}


@router.get("/stats")
def stats(request: Request) -> dict:
    """Chiffres de l'index : documents, passages, modèle d'embeddings."""
    return request.app.state.index.status()


@router.get("/search")
def search(
    request: Request,
    q: str = Query(..., min_length=1, max_length=2000, description="La question posée."),
    k: int = Query(5, ge=1, le=50, description="Nombre de documents."),
) -> dict:
    """Documents les plus proches de la question, avec leurs meilleurs passages."""
    from kb.search import search_documents

    return search_documents(request.app.state.index, q, k)
