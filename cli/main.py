"""The `kb` command line. Help texts and messages are in French: coordinators read them.

The commands live in rooms by topic; this module holds the Typer app and registers them, in the
order `kb --help` lists them:

- ``cli/indexing.py``: ingest, status, remove, reindex (with ``cli/progress.py``, what they show
  while they work);
- ``cli/query.py``: search, ask;
- ``cli/calibration.py``: calibrate; ``cli/evaluation.py``: eval …;
- ``cli/keys.py``: keys …;
- ``cli/portability.py``: export, import, migrate;
- ``cli/serving.py``: serve.

Shared by all: ``cli/common.py`` (the consoles, the settings, the French error exit) and
``cli/french.py`` (click's and typer's own words in French)."""

from __future__ import annotations

import sys

import typer

from cli import french, indexing, portability, query, serving
from cli.calibration import calibrate_command
from cli.common import console
from cli.evaluation import eval_app
from cli.french import SUBCOMMANDS
from cli.keys import keys_app

french.install()

app = typer.Typer(
    help="Passerelles : base de connaissances des méthodes et expériences du développement rural.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    subcommand_metavar=SUBCOMMANDS,
)

app.command("ingest")(indexing.ingest_command)
app.command("status")(indexing.status_command)
app.command("remove")(indexing.remove_command)
app.command("reindex")(indexing.reindex_command)
app.command("search")(query.search_command)
app.command("ask")(query.ask_command)
app.command("calibrate")(calibrate_command)
app.add_typer(eval_app, name="eval")
app.add_typer(keys_app, name="keys")
app.command("export")(portability.export_command)
app.command("import")(portability.import_command)
app.command("migrate")(portability.migrate_command)
app.command("serve")(serving.serve_command)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        console.print("Interrompu.")
        sys.exit(130)


if __name__ == "__main__":
    main()
