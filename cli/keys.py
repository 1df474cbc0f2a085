"""`kb keys …`: the access keys of the write API (create, list, revoke)."""

from __future__ import annotations

from contextlib import contextmanager

import typer
from rich.table import Table

from cli.common import console, fail, load_settings, out
from cli.french import SUBCOMMANDS
from kb.core.errors import KBError

keys_app = typer.Typer(
    help="Clés d'accès à l'API d'écriture : coordination (publier, relire) ou contributeur (proposer).",
    no_args_is_help=True,
    subcommand_metavar=SUBCOMMANDS,
)


@contextmanager
def _keys():
    """The key store of the base (its files, or KB_DATABASE_URL), closed after the command."""
    from kb.storage.backend import open_backend

    store = open_backend(load_settings()).key_store()
    try:
        yield store
    finally:
        store.close()


@keys_app.command("create")
def keys_create(
    name: str = typer.Argument(..., metavar="NOM", help="Nom de la clé (personne ou usage)."),
    role: str = typer.Option(
        "coordination",
        "--role",
        metavar="RÔLE",
        help="contributeur (propose des documents, relus avant publication) ou coordination "
        "(publie, relit, modifie et supprime) ; par défaut coordination.",
    ),
) -> None:
    """Créer une clé : elle n'est affichée qu'une fois, conservez-la."""
    try:
        with _keys() as keys:
            key = keys.create(name, role=role)
    except KBError as exc:
        fail(str(exc))
    console.print(f"Clé « {name} » ({role}) créée. Elle ne sera plus jamais affichée :", highlight=False)
    out.print(key, highlight=False, soft_wrap=True)


@keys_app.command("list")
def keys_list() -> None:
    """Lister les clés (noms et dates, jamais les clés elles-mêmes)."""
    table = Table(title="Clés d'accès")
    table.add_column("nom")
    table.add_column("rôle")
    table.add_column("créée le")
    table.add_column("état")
    try:
        with _keys() as keys:
            listed = keys.list()
    except KBError as exc:
        fail(str(exc))
    for key in listed:
        table.add_row(key.name, key.role, key.created_at, "active" if key.active else f"révoquée le {key.revoked_at}")
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(name: str = typer.Argument(..., metavar="NOM", help="Nom de la clé à révoquer.")) -> None:
    """Révoquer une clé : elle est refusée immédiatement."""
    try:
        with _keys() as keys:
            keys.revoke(name)
    except KBError as exc:
        fail(str(exc))
    out.print(f"Clé « {name} » révoquée.")
