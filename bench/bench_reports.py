"""Benchmark the read commands and the start-up of ``seeker`` on a year of journals.

Run: ``python bench/bench_reports.py [--log-dir DIR] [--days N] [--repeats R] [--config PATH]``.

Each figure is one command run ``--repeats`` times in a subprocess (``python -m seeker …``, its
output sent to ``/dev/null``); wall time is the median, peak memory the largest resident set of
the child (``os.wait4`` rusage, 1 MB = 10^6 bytes); CPU seconds (user + system, median) say
more than wall time on a machine other work shares — the load average is printed. The
commands:

* ``summary`` — every report of every strategy, one pass over the journals;
* ``journal -n 3`` — the last three lines of every journal (the tail reader);
* ``journal`` (all lines, printed plain to a pipe) — every line streamed in time order;
* ``journal --json`` (all lines) — every line as JSON, DECISION lines in the full shape;
* ``list`` and ``--help`` — start-up (the heavy libraries are imported by the commands that
  need them only).

As an in-run reference for this machine's load, the same is measured for a bare typer app (no
Seeker code) that prints a one-row rich table: what a typer command pays to start when it leaves
typer's flags without defaults (typer then imports pydantic to read them; ``seeker`` sets them).

``--log-dir`` names the journals to read; when the folder does not exist it is first filled by
``seeker run --days N --no-dashboard`` (the five strategies of the shipped config; 250 sessions
take about a minute). The goals are the issue's: summary ≤ 1 s and ≤ 100 MB, ``journal -n 3``
≤ 0.3 s, every line streamed in ≤ 100 MB, ``list`` and ``--help`` ≤ 0.25 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench_run import journal_size  # this folder: run as `python bench/bench_reports.py`

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LOGS = Path("/tmp/seeker-bench-year")


REFERENCE_APP = """
import typer
app = typer.Typer(add_completion=True, rich_markup_mode=None)
@app.callback()
def options() -> None:
    pass
@app.command()
def table() -> None:
    from rich.console import Console
    from rich.table import Table
    t = Table()
    t.add_column("name")
    t.add_row("value")
    Console().print(t)
app()
"""
"""A bare typer app with one command that prints a table (the start-up floor)."""


@dataclass(frozen=True)
class Goal:
    """A command to time and what it should stay within (None: no goal on that figure)."""

    label: str
    args: tuple[str, ...]
    seconds: float | None
    megabytes: float | None


@dataclass(frozen=True)
class Figure:
    """The medians of one command's runs."""

    goal: Goal
    wall: float
    runs: tuple[float, ...]
    cpu: float
    peak_mb: float
    returncode: int


def goals(logs: Path, config: Path) -> list[Goal]:
    """Return the commands to measure on the journals under `logs`."""
    read = ("--config", str(config), "--log-dir", str(logs))
    return [
        Goal("summary", ("summary", *read), 1.0, 100.0),
        Goal("journal -n 3", ("journal", "-n", "3", *read), 0.3, None),
        Goal("journal (all lines, plain)", ("journal", *read), None, 100.0),
        Goal("journal --json (all lines)", ("journal", "--json", *read), None, 100.0),
        Goal("list", ("list",), 0.25, None),
        Goal("--help", ("--help",), 0.25, None),
        Goal("reference: bare typer app", ("-c", REFERENCE_APP, "table"), None, None),
    ]


def run_once(args: tuple[str, ...]) -> tuple[float, int, int, float]:
    """Run ``python -m seeker ARGS`` (``python -c CODE`` for ``("-c", CODE)``); return (wall s,
    peak RSS in bytes, exit code, CPU s)."""
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    seeker = () if args[:1] == ("-c",) else ("-m", "seeker")
    cmd = [sys.executable, *seeker, *args]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr is not None:
        err = proc.stderr.read().decode(errors="replace").strip()
        proc.stderr.close()
        if proc.returncode != 0:
            print(f"  {' '.join(args)}: exit {proc.returncode}: {err[-300:]}", file=sys.stderr)
    return wall, usage.ru_maxrss * 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def measure(goal: Goal, repeats: int) -> Figure:
    """Return the median wall time and the peak memory of `repeats` runs of one command."""
    run_once(goal.args)  # warm the page cache and the byte-code cache
    runs = [run_once(goal.args) for _ in range(repeats)]
    walls = tuple(r[0] for r in runs)
    return Figure(
        goal,
        statistics.median(walls),
        walls,
        statistics.median(r[3] for r in runs),
        max(r[1] for r in runs) / 1e6,
        max(r[2] for r in runs),
    )


def verdict(value: float, limit: float | None) -> str:
    """Return ``ok``/``NOT MET`` against a goal, ``—`` without one."""
    if limit is None:
        return "—"
    return "ok" if value <= limit else "NOT MET"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--log-dir", type=Path, default=DEFAULT_LOGS, help=f"({DEFAULT_LOGS})")
    p.add_argument("--days", type=int, default=250, help="sessions to generate when missing")
    p.add_argument("--repeats", type=int, default=5, help="runs per command (5)")
    p.add_argument("--config", type=Path, default=ROOT / "config" / "seeker.toml")
    args = p.parse_args(argv)
    if args.repeats < 1 or args.days < 1:
        p.error("--repeats and --days must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Print the table of figures; return 0."""
    args = parse_args(argv)
    logs: Path = args.log_dir.resolve()
    if not logs.exists():
        print(f"generating {args.days} sessions of journals in {logs}/ …", flush=True)
        config = str(args.config.resolve())
        days = str(args.days)
        wall, _, code, _ = run_once(
            ("run", "--config", config, "--days", days, "--no-dashboard", "--log-dir", str(logs))
        )
        if code != 0:
            print(f"the run failed (exit {code})", file=sys.stderr)
            return 1
        print(f"  done in {wall:.0f} s", flush=True)
    size = journal_size(logs)
    print(
        f"journals: {logs}/ — {size.stored / 1e6:.1f} MB on disk ({size.written / 1e6:.1f} MB of "
        f"lines), {size.lines} lines; {args.repeats} runs each, medians"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'command':<28} {'wall s':>7} {'CPU s':>6} {'runs, wall (s)':<34} {'peak MB':>7}  goal")
    for goal in goals(logs, args.config.resolve()):
        f = measure(goal, args.repeats)
        runs = " ".join(f"{w:.2f}" for w in f.runs)
        target = []
        if goal.seconds is not None:
            target.append(f"≤ {goal.seconds:g} s {verdict(f.wall, goal.seconds)}")
        if goal.megabytes is not None:
            target.append(f"≤ {goal.megabytes:g} MB {verdict(f.peak_mb, goal.megabytes)}")
        code = "" if f.returncode == 0 else f"  (exit {f.returncode})"
        print(
            f"{goal.label:<28} {f.wall:>7.2f} {f.cpu:>6.2f} {runs:<34} {f.peak_mb:>7.0f}  "
            f"{', '.join(target) or '—'}{code}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
