"""``seeker data import``: vendor option chains into the Parquet chain store a replay reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from seeker.cli.common import console, fail
from seeker.core.replay.formats import CONSTANT_COLUMNS, FORMATS, Progress

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Import recorded option chains into a chain store (for replay).",
)

CHAIN_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".gz")
"""File endings taken from a source folder."""


def source_files(sources: list[Path]) -> list[Path]:
    """Return the files named, a folder standing for its chain files; fail on a missing one."""
    out: list[Path] = []
    problems = []
    for src in sources:
        if src.is_dir():
            found = sorted(
                p for p in src.iterdir() if p.is_file() and p.name.endswith(CHAIN_SUFFIXES)
            )
            if not found:
                problems.append(f"{src}: no .csv, .csv.gz or .parquet file in this folder")
            out.extend(found)
        elif src.is_file():
            out.append(src)
        else:
            problems.append(f"{src}: no such file or folder")
    if problems:
        fail(problems)
    return out


def parse_constants(items: list[str]) -> dict[str, str | int]:
    """Return ``--set NAME=VALUE`` pairs (multiplier as an integer); fail naming a bad one."""
    out: dict[str, str | int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not value or name not in CONSTANT_COLUMNS:
            names = ", ".join(CONSTANT_COLUMNS)
            fail([f"--set {item!r}: expected NAME=VALUE with NAME one of {names}"])
        if name == "multiplier":
            if not value.isdigit() or int(value) <= 0:
                fail([f"--set {item!r}: the multiplier is a positive whole number"])
            out[name] = int(value)
        else:
            out[name] = value
    return out


@contextmanager
def progress_bar(total: int) -> Iterator[Progress | None]:
    """Yield a progress callback drawing a rich bar on a terminal, None otherwise."""
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=total)

        def step(done: int, _total: int, name: str) -> None:
            bar.update(task, completed=done, description=name)

        yield step


@app.command("import")
def import_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Source files or folders (SRC…), then the store folder to write (DEST).",
            show_default=False,
            metavar="SRC… DEST",
        ),
    ],
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f", help=f"Vendor format: {', '.join(FORMATS)}.", show_default=False
        ),
    ],
    underlying: Annotated[
        str | None,
        typer.Option(
            "--underlying", help="Underlying symbol, for formats that omit it (optionsdx)."
        ),
    ] = None,
    constants: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help=f"Declare a column the files lack for every row: NAME=VALUE, NAME one of "
            f"{', '.join(CONSTANT_COLUMNS)} (e.g. --set root=SPXW --set settlement=PM).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Convert vendor option chains (SRC…) into the Parquet store DEST, one folder per quote date.

    Prints a validation report: rows read and kept, quote dates, expiries, rows dropped by reason
    (crossed or zero quotes…), days skipped (holiday repeats). Exit 2 on a file that is not what
    its format says, naming the file and the column.
    """
    from seeker.core.replay.columns import ChainFormatError
    from seeker.core.replay.importers import import_chains

    chosen = next((f for f in FORMATS if f == fmt), None)
    if chosen is None:
        fail([f"--format {fmt!r}: expected one of {', '.join(FORMATS)}"])
    if len(paths) < 2:
        fail(["give the source files (or folders) and then the store folder: SRC… DEST"])
    *sources, dest = paths
    if dest.exists() and not dest.is_dir():
        fail([f"{dest}: the destination exists and is not a folder"])
    files = source_files(sources)
    declared = parse_constants(constants or [])
    try:
        with progress_bar(len(files)) as step:
            report = import_chains(
                chosen,
                files,
                dest,
                step,
                underlying=underlying,
                constants=declared or None,
            )
    except (ChainFormatError, FileNotFoundError, ValueError) as exc:
        fail([str(exc)])
    if as_json:
        from seeker.core.journal import to_jsonable

        print(json.dumps(to_jsonable(report.as_dict()), indent=1))
        return
    console.print(report.as_text(), highlight=False, soft_wrap=True)
    console.print(f"store: {dest}/", highlight=False)
