"""The real app over a test index: the lifespan opens it with the embedder given here."""

from __future__ import annotations

from pathlib import Path

from api.app import create_app
from api.deps import get_embedder
from kb.core.settings import Settings
from services import runtime


def app_over(settings: Settings, embedder, ingest: list[Path] | None = None):
    """``create_app(settings)`` with ``embedder`` in place of the configured model, after
    ingesting ``ingest`` (files or folders) with the normal pipeline."""
    if ingest:
        runtime.ingest(settings, ingest, embedder=embedder)
    app = create_app(settings)
    app.dependency_overrides[get_embedder] = lambda: embedder
    return app
