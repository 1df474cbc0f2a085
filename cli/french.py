"""The command line's own words in French: click and typer write their help and errors through
``gettext`` with no French catalogue, so their ``_``/``ngettext`` are pointed at this one.

Also: click 8.2+ gives ``Parameter`` a ``help`` of its own, which typer 0.25's ``TyperArgument``
overwrites with None after setting it; the arguments' help is put back (see ``install``). Click
8.5 then lists the arguments in a section of its own besides the one typer writes: only typer's
is kept. Section headings take French typography (a space before the colon), and the usage line
names the sub-commands in French (``SUBCOMMANDS``)."""

from __future__ import annotations

import importlib
from typing import Any

_FRENCH = {
    "Usage:": "Utilisation :",
    "Options": "Options",
    "Arguments": "Arguments",
    "Commands": "Commandes",
    "Positional arguments": "Arguments",
    "Show this message and exit.": "Afficher cette aide et quitter.",
    "Show the version and exit.": "Afficher la version et quitter.",
    "required": "obligatoire",
    "default: {default}": "par défaut : {default}",
    "env var: {var}": "variable d'environnement : {var}",
    "deprecated": "obsolète",
    "Error: {message}": "Erreur : {message}",
    "Aborted!": "Interrompu.",
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing command.": "Commande manquante.",
    "Missing {param_type}": "{param_type} manquant",
    "Missing parameter: {param_name}": "Paramètre manquant : {param_name}",
    "No such command {name!r}.": "Commande inconnue : {name!r}.",
    "No such option {name!r}.": "Option inconnue : {name!r}.",
    "Option {name!r} does not take a value.": "L'option {name!r} ne prend pas de valeur.",
    "Try '{command} {option}' for help.": "Essayez « {command} {option} » pour l'aide.",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "{value!r} is not a valid {number_type}.": "{value!r} n'est pas un nombre valide.",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} n'existe pas.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} est un dossier.",
    "{name} {filename!r} is a file.": "{name} {filename!r} est un fichier.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} n'est pas lisible.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} n'est pas modifiable.",
    "file": "fichier",
    "directory": "dossier",
    "path": "chemin",
    "[default: {}]": "[par défaut : {}]",
    "[required]": "[obligatoire]",
}
_FRENCH_PLURAL = {
    "Got unexpected extra argument ({args})": ("Argument en trop ({args})", "Arguments en trop ({args})"),
    "Option {name!r} requires an argument.": (
        "L'option {name!r} demande une valeur.",
        "L'option {name!r} demande {nargs} valeurs.",
    ),
    "Did you mean {possibility}?": (
        "Vouliez-vous dire {possibility} ?",
        "(Vouliez-vous dire l'une de : {possibilities} ?)",
    ),
    "{value!r} is not {choice}.": ("{value!r} n'est pas {choice}.", "{value!r} n'est pas l'une des valeurs {choices}."),
}


def gettext(message: str) -> str:
    return _FRENCH.get(message, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    forms = _FRENCH_PLURAL.get(singular)
    if forms is None:
        return singular if count == 1 else plural
    return forms[0] if count == 1 else forms[1]


def install() -> None:
    """Point the libraries' translation functions at the French ones (idempotent)."""
    for name in (
        "click.core",
        "click.formatting",
        "click.decorators",
        "click.exceptions",
        "click.types",
        "click.parser",
        "click.termui",
        "typer.core",
        "typer.main",
        "typer.rich_utils",
    ):
        try:
            module: Any = importlib.import_module(name)  # patched: its `_` and `ngettext` are replaced
        except ImportError:
            continue
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext
    _keep_argument_help()
    _one_arguments_section()
    _french_headings()


# the usage line's name for what follows a group, instead of click's "COMMAND [ARGS]..."
SUBCOMMANDS = "COMMANDE [ARGUMENTS]..."


def _one_arguments_section() -> None:
    """typer's ``format_options`` lists the arguments already: click's own section goes."""
    import typer.core

    def format_arguments(self, ctx, formatter) -> None:  # typer lists them with the options
        return None

    for command in (typer.core.TyperCommand, typer.core.TyperGroup):
        patched: Any = command  # patched: click's method is replaced
        patched.format_arguments = format_arguments


def _french_headings() -> None:
    """``Options :``, ``Arguments :``, ``Commandes :`` (a space before the colon, in French)."""
    import click.formatting

    formatter: Any = click.formatting.HelpFormatter  # patched: its write_heading is replaced

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading} :\n")

    formatter.write_heading = write_heading


def _keep_argument_help() -> None:
    import typer.core

    argument: Any = typer.core.TyperArgument  # patched: its __init__ is replaced
    if getattr(argument, "_help_kept", False):
        return
    original = argument.__init__

    def __init__(self, *args, help=None, **kwargs):  # noqa: A002 (click's own name)
        original(self, *args, help=help, **kwargs)
        self.help = help

    argument.__init__ = __init__
    argument._help_kept = True
