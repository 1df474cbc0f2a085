"""The index's own commands: `kb ingest`, `kb status`, `kb remove`, `kb reindex`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from cli.common import fail, load_settings, out
from cli.progress import print_report, run_with_progress
from kb.core.errors import KBError, MissingPathError, NotFoundError


def ingest_command(
    paths: list[Path] = typer.Argument(..., metavar="CHEMINS…", help="Fichiers ou dossiers à indexer (récursif)."),
    prune: bool = typer.Option(False, "--prune", help="Retirer de l'index les documents dont le fichier a disparu."),
) -> None:
    """Indexer des fichiers ou des dossiers (Markdown, PDF, y compris scannés, DOCX, PPTX, ODT, HTML, texte)."""
    from services import runtime

    settings = load_settings()
    try:
        report = run_with_progress(
            lambda **cb: runtime.ingest(settings, paths, prune=prune, **cb), "Indexation", settings
        )
    except MissingPathError as exc:
        fail(str(exc), code=2)
    except KBError as exc:
        fail(str(exc))
    print_report(report, "Bilan de l'indexation")
    raise typer.Exit(0 if report.ok else 1)


def status_command(
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON (pour les scripts)."),
) -> None:
    """Afficher l'état de l'index : documents, passages, modèle, emplacement."""
    from services import runtime

    try:
        index = runtime.open_index(load_settings())
    except KBError as exc:
        fail(str(exc))
    from services.calibration import index_status

    try:
        status = index.status()
        status["calibration"] = index_status(index)
    finally:
        index.close()
    if as_json:
        out.print_json(json.dumps(status, ensure_ascii=False))
        return
    table = Table(title="État de l'index", show_header=False)
    for key, value in status.items():
        shown = value["message"] if key == "calibration" else value
        table.add_row(STATUS_LABELS.get(key, key), str(shown))
    out.print(table)


# French labels of `kb status` (the --json keys stay as they are, for scripts)
STATUS_LABELS = {
    "documents": "documents",
    "chunks": "passages",
    "embedding_model": "modèle d'embeddings",
    "dimension": "dimension des vecteurs",
    "index_path": "emplacement de l'index",
    "generation": "génération",
    "vector_store": "base de vecteurs",
    "vectors": "vecteurs",
    "calibration": "calibration",
}


def remove_command(doc_id: str = typer.Argument(..., metavar="IDENTIFIANT", help="Identifiant du document.")) -> None:
    """Retirer un document de l'index."""
    from services import runtime

    try:
        runtime.remove(load_settings(), doc_id)
    except NotFoundError as exc:
        fail(str(exc))
    except KBError as exc:
        fail(str(exc))
    out.print(f"Document « {doc_id} » retiré de l'index.")


def reindex_command() -> None:
    """Reconstruire tout l'index depuis les fichiers sources (après un changement de modèle)."""
    from services import runtime

    settings = load_settings()
    try:
        report = run_with_progress(lambda **cb: runtime.reindex(settings, **cb), "Reconstruction", settings)
    except KBError as exc:
        fail(str(exc))
    print_report(report, "Bilan de la reconstruction")
    raise typer.Exit(0 if report.ok else 1)
