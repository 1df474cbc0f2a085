"""The real app over a test index: the lifespan opens it with the embedder given here."""

from __future__ import annotations

import shutil
from pathlib import Path

from api.app import create_app
from api.deps import get_embedder
from kb.core.settings import Settings
from services import runtime


def copy_index(index: Path, settings: Settings) -> Settings:
    """A private copy of an index ingested once per session (``mini_index``, ``toy_mini_index``
    in tests/conftest.py) as ``settings.data_dir``, for the test to read and write as if it had
    ingested it there; what the directory already holds (a key store) stays."""
    shutil.copytree(index, settings.data_dir, dirs_exist_ok=True)
    return settings


def app_over(settings: Settings, embedder, ingest: list[Path] | None = None, index: Path | None = None):
    """``create_app(settings)`` with ``embedder`` in place of the configured model, over a copy
    of ``index`` (a session's ingested data directory, see ``copy_index``) and/or after
    ingesting ``ingest`` (files or folders) with the normal pipeline."""
    if index:
        copy_index(index, settings)
    if ingest:
        runtime.ingest(settings, ingest, embedder=embedder)
    app = create_app(settings)
    app.dependency_overrides[get_embedder] = lambda: embedder
    return app
