"""Moving a whole base: `kb export`, `kb import` (an open zip archive) and `kb migrate`
(between the embedded base and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import SecretStr

from cli.common import console, fail, load_settings, out
from cli.progress import print_report, run_with_progress
from kb.core.errors import KBError


def export_command(
    archive: Path = typer.Argument(..., metavar="ARCHIVE.zip", help="Le fichier zip à écrire."),
    questions: bool = typer.Option(False, "--questions", help="Inclure le journal des questions des praticiens."),
) -> None:
    """Exporter toute la base dans une archive zip ouverte (fichiers originaux, métadonnées,
    journal, noms des clés sans les clés elles-mêmes, sites partenaires) : de quoi la
    reconstruire ailleurs avec « kb import »."""
    from services.portability import export_base

    try:
        report = export_base(load_settings(), archive, questions=questions)
    except KBError as exc:
        fail(str(exc))
    counts = report.counts
    out.print(
        f"Archive écrite : {archive} ({counts['documents']} documents, {counts['files']} fichiers, "
        f"{counts['audit_entries']} entrées du journal, {counts['keys']} clés, {counts['partners']} sites partenaires"
        + (f", {counts['proposals']} propositions" if "proposals" in counts else "")
        + (f", {counts['questions']} questions" if "questions" in counts else "")
        + (f", {counts['vectors']} vecteurs" if counts.get("vectors") else "")
        + ").",
        highlight=False,
        soft_wrap=True,
    )
    for doc_id in report.missing_sources:
        console.print(
            f"[yellow]attention[/yellow] : le fichier du document « {doc_id} » a disparu ; "
            "ses métadonnées sont dans l'archive, pas son contenu.",
            highlight=False,
            soft_wrap=True,
        )


def import_command(
    archive: Path = typer.Argument(..., metavar="ARCHIVE.zip", help="L'archive écrite par « kb export »."),
) -> None:
    """Reconstruire une base depuis une archive de « kb export », dans un dossier de données
    vide (KB_DATA_DIR) : l'archive est vérifiée avant toute écriture, puis les documents sont
    indexés."""
    from services.portability import import_base

    settings = load_settings()
    try:
        report = run_with_progress(lambda **cb: import_base(settings, archive, **cb), "Import", settings)
    except KBError as exc:
        fail(str(exc))
    counts = report.counts
    out.print(
        f"Base importée dans {settings.data_dir} : {counts['documents']} documents, "
        f"{counts['audit_entries']} entrées du journal, {counts['partners']} sites partenaires.",
        highlight=False,
        soft_wrap=True,
    )
    if report.indexing is not None:
        out.print(_vectors_line(report), highlight=False, soft_wrap=True)
        print_report(report.indexing, "Bilan de l'indexation")
    if counts["keys"]:
        out.print(
            f"{counts['keys']} clé(s) importée(s) par leur nom seulement, toutes révoquées (les clés ne sont "
            "jamais exportées) : créez de nouvelles clés avec « kb keys create NOM ».",
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(0 if report.indexing is None or report.indexing.ok else 1)


def _vectors_line(report) -> str:
    """Whether ``kb import`` reused the archive's vectors or embedded the passages again."""
    if report.archived_model is None:
        return f"Archive sans vecteurs : passages encodés avec le modèle {report.model}."
    if report.archived_model != report.model:
        return (
            f"Modèle différent : passages ré-encodés avec {report.model} "
            f"(les vecteurs de l'archive viennent de {report.archived_model})."
        )
    return (
        f"Vecteurs repris de l'archive ({report.model}) : {report.vectors_reused} vecteurs repris, "
        f"{report.vectors_embedded} textes ré-encodés."
    )


def migrate_command(
    to: str = typer.Option(
        ...,
        "--to",
        metavar="DESTINATION",
        help="Une URL postgresql://… (depuis la base embarquée de KB_DATA_DIR) ou un dossier de "
        "données vide (depuis la base PostgreSQL de KB_DATABASE_URL).",
    ),
) -> None:
    """Copier toute la base entre la base embarquée (dossier de données) et PostgreSQL, dans un
    sens ou dans l'autre, sans recalculer les vecteurs ; les nombres de documents, de passages
    et de vecteurs sont vérifiés à la fin. Les fichiers originaux des documents suivent. Les clés (qui restent valables, ou révoquées), les
    sites partenaires, les propositions, le journal des questions et des avis et le journal des
    modifications sont copiés aussi, ligne pour ligne. La destination doit être vide."""
    from kb.storage.backend import is_shared
    from services.migration import copy_side_stores, migrate, where

    source = load_settings()
    if to.startswith(("postgresql://", "postgres://")):
        if is_shared(source):
            fail("La base actuelle est déjà sur PostgreSQL (KB_DATABASE_URL) : « --to » doit être un dossier.")
        target = source.model_copy(update={"database_url": SecretStr(to)})
    else:
        if not is_shared(source):
            fail("Pour copier vers un dossier, la source est la base PostgreSQL de KB_DATABASE_URL (non définie).")
        target = source.model_copy(update={"database_url": None, "data_dir": Path(to)})
    try:
        report = migrate(source, target, copy_stores=copy_side_stores)
    except KBError as exc:
        fail(str(exc))
    copied = ", ".join(f"{count} {name}" for name, count in report.stores.items())
    out.print(
        f"Base copiée vers {where(target)} : {report.documents} documents, {report.passages} passages, "
        f"{report.vectors} vecteurs (vérifiés), {report.files} fichiers originaux"
        + (f" ; {copied}" if copied else "")
        + ".",
        highlight=False,
        soft_wrap=True,
    )
    for doc_id in report.missing_files:
        console.print(
            f"[yellow]attention[/yellow] : le fichier du document « {doc_id} » a disparu de la source ; "
            "le document est copié sans son original.",
            highlight=False,
            soft_wrap=True,
        )
