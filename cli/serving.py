"""`kb serve`: the HTTP API and the site."""

from __future__ import annotations

import typer

from cli.common import fail, load_settings
from kb.core.errors import KBError


def serve_command(
    host: str | None = typer.Option(
        None, "--host", metavar="ADRESSE", help="Adresse d'écoute (par défaut KB_HOST, 127.0.0.1)."
    ),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, metavar="PORT", help="Port d'écoute (par défaut KB_PORT, 8000)."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        max=64,
        metavar="N",
        help="Nombre de processus qui répondent (par défaut KB_WORKERS, 1). Plus d'un demande une "
        "base PostgreSQL (KB_DATABASE_URL), que tous partagent.",
    ),
) -> None:
    """Démarrer l'API HTTP et le site (documentation de l'API sur /docs).

    Les sites autorisés à appeler l'API depuis un navigateur (widget) : la liste de base de la
    variable KB_ALLOWED_ORIGINS (par défaut http://127.0.0.1:8000 et http://localhost:8000),
    séparés par des virgules, et les sites partenaires ajoutés depuis la page de la
    coordination (effectifs sans redémarrage)."""
    from api.server import check_workers, serve

    settings = load_settings()
    try:
        check_workers(settings, workers or settings.workers)
    except KBError as exc:
        fail(str(exc))
    serve(settings, host, port, workers)
