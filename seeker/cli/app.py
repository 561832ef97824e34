"""The ``seeker`` command line: every command registered on one typer app."""

from __future__ import annotations

import sys

import typer

from seeker.cli import calibrate, catalog, data, replay, run, status, views

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Seeker: risk-defined option strategies side by side, under one Risk Guard.",
)
app.command("list")(catalog.list_strategies)
app.command("check-config")(catalog.check_config)
app.command("run")(run.run)
app.command("status")(status.status)
app.command("summary")(views.summary)
app.command("show")(views.show)
app.command("journal")(views.journal)
app.command("replay")(replay.replay)
app.add_typer(data.app, name="data")
app.command("calibrate")(calibrate.calibrate)


def main() -> None:
    """Entry point for ``python -m seeker``."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
