"""``seeker list`` and ``seeker check-config``: what Seeker runs, and whether a config is valid."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from seeker.cli.common import CONFIG_ENV, DEFAULT_CONFIG, console, load_checked_config


def list_strategies() -> None:
    """List the strategies Seeker can run."""
    from seeker.strategies.catalog import catalog

    table = Table(title="strategies", show_lines=False)
    table.add_column("name", style="bold")
    table.add_column("what it does")
    for name, entry in sorted(catalog().items()):
        table.add_row(name, entry.description)
    console.print(table)


def check_config(
    path: Annotated[
        Path, typer.Argument(help=f"Config file to check (or set {CONFIG_ENV}).", envvar=CONFIG_ENV)
    ] = DEFAULT_CONFIG,
) -> None:
    """Validate a config and print the effective values; exit 2 naming every problem."""
    from seeker.config.loading import flatten

    cfg = load_checked_config(path)
    table = Table(title=f"effective config: {path}", show_lines=False)
    table.add_column("key", style="cyan", no_wrap=True)
    table.add_column("value")
    for key, value in flatten(cfg):
        table.add_row(key, value)
    console.print(table)
    console.print(f"[green]ok[/]: {path} is valid")
