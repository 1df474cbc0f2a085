"""What every command module of `kb` shares: the two consoles, the settings, the French error exit."""

from __future__ import annotations

import typer
from rich.console import Console

from kb.core.settings import Settings

console = Console(stderr=True)  # messages, warnings, progress
out = Console()  # the command's result


def load_settings() -> Settings:
    return Settings()


def fail(message: str, code: int = 1) -> None:
    console.print(f"[red]Erreur :[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
