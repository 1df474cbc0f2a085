"""The HTTP API: ``create_app(settings)``; the model and the index are opened once, in the lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from api import routes
from api.coordination.router import router as coordination_router
from api.deps import get_embedder
from api.errors import install_error_handlers
from api.widget.router import router as widget_router
from kb.embeddings import create_embedder
from kb.settings import Settings
from services.runtime import open_knowledge_base


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        override = app.dependency_overrides.get(get_embedder)
        embedder = override() if override else create_embedder(settings)
        kb = await run_in_threadpool(open_knowledge_base, settings, embedder)
        app.state.kb = kb
        try:
            # documents written by a process killed between file and index are indexed now
            await run_in_threadpool(kb.writer.reconcile)
            yield
        finally:
            kb.close()

    app = FastAPI(
        title="Passerelles",
        description="Recherche dans les méthodes et expériences partagées par les acteurs du "
        "développement rural et de l'action sociale.",
        version="0.2.0",
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
    install_error_handlers(app)
    return app
