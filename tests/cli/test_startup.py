"""Commands import only what they use: `--help`, `list` and `journal` start without the heavy
libraries (checked with ``python -X importtime``; the time itself is measured by bench/).

typer itself imports pydantic to coerce a command's parameters, so only ``--help``,
``--version`` and ``list`` (no parameter but typer's own flags, whose defaults the app sets) go
without it; no read command loads Seeker's config models, agents or engine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from seeker.strategies import load
from seeker.strategies.catalog import catalog, classes_in
from tests.reports.test_reports import write_journals
from tests.support import ROOT

HEAVY = frozenset(
    {
        "numpy",
        "scipy",
        "pandas",
        "ib_async",
        "exchange_calendars",
        "pyarrow",
        "optuna",
        "matplotlib",
        "seeker.config",
        "seeker.agents",
        "seeker.engine",
        "seeker.research",
    }
)


def modules(*args: str) -> set[str]:
    """Return the full names of the modules ``python -m seeker ARGS`` imports."""
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "seeker", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip()
        for line in res.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def imported(*args: str) -> set[str]:
    """Return the packages ``python -m seeker ARGS`` imports (and ``seeker.<layer>``)."""
    names = set()
    for name in modules(*args):
        parts = name.split(".")
        names.add(parts[0])
        names.add(".".join(parts[:2]))
    return names


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("list",), ("data", "--help")])
def test_help_version_and_list_import_neither_heavy_libraries_nor_pydantic(
    args: tuple[str, ...],
) -> None:
    assert not imported(*args) & (HEAVY | {"pydantic"})


@pytest.mark.parametrize("args", [("list",), ("journal", "--help"), ("summary", "--help")])
def test_list_and_command_help_import_no_heavy_library(args: tuple[str, ...]) -> None:
    assert not imported(*args) & HEAVY


def test_journal_tail_imports_no_heavy_library(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_journals(logs)
    assert not imported("journal", "-n", "3", "--log-dir", str(logs)) & HEAVY


def test_summary_reads_journals_without_pandas_or_numpy(tmp_path: Path) -> None:
    """pandas (through exchange_calendars) alone costs summary 0.7 s and 65 MB; numpy 60 ms."""
    logs = tmp_path / "logs"
    write_journals(logs)
    found = imported("summary", "--log-dir", str(logs))
    assert not found & {"pandas", "exchange_calendars", "numpy"}


CLI_ONLY_WHEN_USED = frozenset(
    {
        "seeker.core.control",  # the control socket's client: pause, resume, close, flatten
        "seeker.core.journal",  # the journal helpers: run, replay, the read commands
        "seeker.cli.settings",  # the config's read keys (tomllib): summary, journal, plot
        "seeker.core.tz",  # zoneinfo: --since
        "seeker.ui.names",  # run and replay's first line
    }
)
"""What the command modules import only inside the commands that need it (socket, tomllib and
zoneinfo themselves are not checked: typer's pydantic imports them for `list`)."""


@pytest.mark.parametrize("args", [("--help",), ("list",)])
def test_help_and_list_import_no_command_s_own_helpers(args: tuple[str, ...]) -> None:
    assert not modules(*args) & CLI_ONLY_WHEN_USED


def test_the_catalog_is_the_registry_read_from_source() -> None:
    registry = load()
    listed = catalog()
    assert set(listed) <= set(registry) and len(listed) >= 5
    for name, entry in listed.items():
        assert entry.description == registry[name].description
        assert entry.module == registry[name].__module__


def test_a_description_that_is_not_a_literal_makes_the_catalog_import() -> None:
    source = (
        "@register\nclass A:\n    name = 'a'\n    description = 'plain'\n"
        "@register\nclass B:\n    name = 'b'\n    description = f'{1 + 1} built'\n"
        "class C:\n    name = 'not registered'\n"
    )
    assert list(classes_in(source)) == [("a", "plain"), ("b", None)]
