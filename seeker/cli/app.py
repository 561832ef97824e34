"""The ``seeker`` command line: every command registered on one typer app.

The command modules import only typer and light helpers at the top; each command imports what
it needs when it runs, so ``seeker --help``, ``seeker list`` and shell completion start fast.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from seeker.cli import (
    calibrate,
    catalog,
    control,
    data,
    optimize,
    plot,
    replay,
    run,
    serve,
    status,
    views,
)

FLAGS_OFF: dict[str, Any] = {"help": False, "install_completion": False, "show_completion": False}
"""The defaults (click's ``default_map``) of the flags typer adds, as they are when not given.

typer coerces a parameter's value through a pydantic TypeAdapter unless it is already a bool;
a flag not given and without a default in the map is None, so without these ``seeker list``
would import pydantic (a third of its start-up) just to read ``--help`` as False. Every
command's ``--help`` gets the same default below, once the commands are registered.
"""

app = typer.Typer(
    add_completion=True,
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: fits 80 columns, no type shown for on/off flags
    help="Seeker: risk-defined option strategies side by side, under one Risk Guard.",
    context_settings={"default_map": FLAGS_OFF},
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("seeker")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "unknown (not installed)"
        typer.echo(f"seeker {number}")
        raise typer.Exit(0)


@app.callback()
def options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print Seeker's version and exit.",
        ),
    ] = False,
) -> None:
    """Seeker: risk-defined option strategies side by side, under one Risk Guard."""


app.command("list")(catalog.list_strategies)
app.command("check-config")(catalog.check_config)
app.command("run")(run.run)
app.command("status")(status.status)
app.command("summary")(views.summary)
app.command("show")(views.show)
app.command("journal")(views.journal)
app.command("serve")(serve.serve)
app.command("pause")(control.pause)
app.command("resume")(control.resume)
app.command("close")(control.close)
app.command("flatten")(control.flatten)
app.command("plot")(plot.plot)
app.command("optimize")(optimize.optimize)
app.command("replay")(replay.replay)
app.add_typer(data.app, name="data")
app.command("calibrate")(calibrate.calibrate)
_named = [*app.registered_commands, *app.registered_groups]
FLAGS_OFF.update({info.name: {"help": False} for info in _named if info.name is not None})


def main() -> None:
    """Entry point for ``python -m seeker``."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
