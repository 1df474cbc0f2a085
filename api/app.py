"""The HTTP API: ``create_app(settings)``; the model and the index are opened once, in the lifespan."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api import routes
from api.coordination.catalogue import router as catalogue_router
from api.coordination.fiche_text import router as fiche_text_router
from api.coordination.guide import router as guide_router
from api.coordination.meeting import router as meeting_router
from api.coordination.partners import router as partners_router
from api.coordination.questions import router as questions_router
from api.coordination.rapprochements import router as rapprochements_router
from api.coordination.review import router as review_router
from api.coordination.router import router as coordination_router
from api.coordination.themes import router as themes_router
from api.deps import get_embedder
from api.docs.router import router as docs_router
from api.errors import install_error_handlers
from api.feed import router as feed_router
from api.middleware import BodyLimit, CatchAll, FrenchCORSMiddleware, SecurityHeaders
from api.openapi import install_openapi
from api.site.router import public as site_assets
from api.site.router import router as site_router
from api.widget.router import router as widget_router
from kb.core.errors import ServiceUnavailable
from kb.core.settings import Settings
from kb.index.embeddings import create_embedder
from services.partners import PartnerSites
from services.runtime import KnowledgeBaseHolder

# The sections of /docs and /redoc, in this order; every operation of the schema has exactly one
# of these tags (tests/api/test_openapi.py). The HTML pages are not in the schema.
OPENAPI_TAGS = [
    {
        "name": "recherche",
        "description": "Chercher dans la base et lui poser une question : résultats, réponse citée (aussi en flux), "
        "avis sur une réponse, vocabulaire et chiffres de l'index.",
    },
    {
        "name": "documents",
        "description": "Lire les documents de la base : leur liste (et celle des propositions), un document, "
        "son fichier enregistré, le flux Atom des nouveautés.",
    },
    {
        "name": "coordination",
        "description": "Le travail des coordinatrices et des contributrices (clé requise) : ajouts, remplacements, "
        "modifications, suppressions, relecture des propositions, catalogue, sites partenaires, questions posées.",
    },
    {
        "name": "widget",
        "description": "Le widget de recherche à intégrer sur un site partenaire, et sa page de démonstration.",
    },
    {"name": "service", "description": "L'état du service et de chacun de ses composants."},
]


_REPLACED_DOCUMENT = re.compile(r"/documents/[^/]+")


def _is_upload(method: str, path: str) -> bool:
    """The routes that receive a document (``KB_MAX_UPLOAD_MB``): POST /documents, PUT
    /documents/{doc_id}; every other body is bounded by ``KB_MAX_BODY_KB``."""
    return (method == "POST" and path == "/documents") or (method == "PUT" and bool(_REPLACED_DOCUMENT.fullmatch(path)))


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        override = app.dependency_overrides.get(get_embedder)
        embedder = override() if override else create_embedder(settings)
        holder = app.state.holder = KnowledgeBaseHolder(settings, embedder)
        try:
            # opened now (and documents a killed process left between file and index indexed);
            # with a backend down, the API starts anyway and answers 503 until it is back
            await run_in_threadpool(holder.get)
        except ServiceUnavailable:
            pass
        try:
            yield
        finally:
            holder.close()
            app.state.partner_sites.close()

    app = FastAPI(
        title="Passerelles",
        description="Recherche dans les méthodes et expériences partagées par les acteurs du "
        "développement rural et de l'action sociale.",
        version="0.2.0",
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    install_openapi(app, settings)
    # the last added is the outermost
    app.add_middleware(CatchAll)
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes + 256 * 1024,  # the file and its form fields
        upload_mb=settings.max_upload_mb,
        is_upload=_is_upload,
    )
    partners = app.state.partner_sites = PartnerSites(settings)

    def framers() -> str:
        return " ".join(["'self'", *partners.base, *sorted(partners.store.origins())])

    app.add_middleware(SecurityHeaders, frame_ancestors=[("/coordination", "'none'")], default_ancestors=framers)
    app.add_middleware(
        FrenchCORSMiddleware,
        allows=partners.allows,
        allow_origins=settings.allowed_origins,  # the base list; "*" there still allows any site
        allow_methods=["GET", "POST", "OPTIONS"],
        # X-Passerelles-Canal: the widget marks its requests for the question log (api/deps.py)
        allow_headers=["Content-Type", "Authorization", "X-Passerelles-Canal"],
    )
    app.include_router(routes.router)
    app.include_router(docs_router)
    app.include_router(site_router)
    app.include_router(site_assets)
    app.include_router(routes.reads)
    app.include_router(feed_router)
    app.include_router(coordination_router)
    app.include_router(catalogue_router)
    app.include_router(fiche_text_router)
    app.include_router(themes_router)
    app.include_router(partners_router)
    app.include_router(rapprochements_router)
    app.include_router(guide_router)
    app.include_router(review_router)
    app.include_router(questions_router)
    app.include_router(meeting_router)
    app.include_router(widget_router)
    install_error_handlers(app)
    return app
