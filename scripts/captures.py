"""Regenerate the terminal captures in docs/captures/ from a real short simulated run.

    .venv/bin/python scripts/captures.py            # writes docs/captures/*.txt
    .venv/bin/python scripts/captures.py --out DIR  # elsewhere

1. ``seeker run iron_condor credit_spread iron_fly --days 40 --no-dashboard --log-dir <tmp>``
   (a subprocess, the real command, on the shipped config);
2. the live dashboard: a copy of those journals is resumed for one more session in this process,
   and when the simulated clock reaches 11:30 New York the frame is built from a snapshot taken
   the way ``seeker.ui.dashboard.Dashboard`` takes it (every strategy thread is asleep then,
   so the frame is the same at every run); the run then stops;
3. ``summary``, ``show`` (the newest open iron condor) and ``journal`` (the last 30 lines) are
   rendered from the 40-session journals with the same functions the commands call.

Each view is recorded as plain text by a rich console of fixed size: 80×24 and 160×50. The live
dashboard is one screen (exactly 24 or 50 lines); the other commands print as many lines as
they need at that width, as in a terminal that scrolls.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console, RenderableType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seeker.config.loading import load_config  # noqa: E402
from seeker.core.calendar import MARKET_TZ  # noqa: E402
from seeker.engine.registry import config_models  # noqa: E402
from seeker.engine.runner import run_strategies  # noqa: E402
from seeker.engine.wiring import build_sim_services  # noqa: E402
from seeker.reports.summary import build_report  # noqa: E402
from seeker.strategies import load  # noqa: E402
from seeker.ui.dashboard import Dashboard, render  # noqa: E402
from seeker.ui.journal_view import JournalFilter, select  # noqa: E402
from seeker.ui.lines import print_journal  # noqa: E402
from seeker.ui.position import load_position, position_ids  # noqa: E402
from seeker.ui.show import render_position  # noqa: E402
from seeker.ui.snapshot import Snapshot  # noqa: E402
from seeker.ui.summary_view import print_report  # noqa: E402

STRATEGIES = ("iron_condor", "credit_spread", "iron_fly")
DAYS = 40
SIZES = ((80, 24), (160, 50))
CONFIG = ROOT / "config" / "seeker.toml"
SNAPSHOT_AT = timedelta(hours=2)
"""When the dashboard is captured: this long after the next session opens (11:30 New York)."""
JOURNAL_TAIL = 30


def run_sessions(log_dir: Path) -> None:
    """Run the strategies for DAYS simulated sessions with the real command."""
    cmd = [sys.executable, "-m", "seeker", "run", *STRATEGIES, "--days", str(DAYS)]
    cmd += ["--no-dashboard", "--log-dir", str(log_dir), "--config", str(CONFIG)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"seeker run failed ({done.returncode}):\n{done.stderr[-3000:]}")


def dashboard_snapshot(cfg: Any, log_dir: Path) -> Snapshot:
    """Resume the run for one session and return the dashboard's snapshot at 11:30 New York."""
    services = build_sim_services(cfg, log_dir, days=1, emit=lambda _m: None)
    sink = Console(file=io.StringIO(), width=160, height=50)
    dash = Dashboard(services, list(STRATEGIES), console=sink, screen=False)
    services.emit = dash.emit
    target = services.calendars.next_union_open(services.clock.now()) + SNAPSHOT_AT
    reached, taken = threading.Event(), threading.Event()
    got: list[Snapshot] = []

    def on_advance(now: datetime) -> None:  # in the thread that advances the clock
        if now >= target and not reached.is_set():
            reached.set()
            taken.wait(timeout=60)  # every strategy sleeps until this returns
            services.clock.stop()

    def on_tick(manager: Any) -> None:  # in the main thread, as Dashboard.update is
        if reached.is_set() and not taken.is_set():
            got.append(dash.snapshot(manager))
            taken.set()

    services.clock.add_listener(on_advance)
    try:
        with dash:
            run_strategies(services, list(STRATEGIES), on_tick=on_tick, tick_seconds=0.05)
    finally:
        services.broker.close()
        services.close_journals()
    if not got:
        raise SystemExit("the resumed run ended before the dashboard could be captured")
    return got[0]


def record(draw: Callable[[Console], None], width: int, height: int) -> str:
    """Return what `draw` prints on a rich console of `width` × `height`, as plain text."""
    console = Console(
        record=True, width=width, height=height, file=io.StringIO(), color_system="truecolor"
    )
    draw(console)
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    return "\n".join(lines).rstrip("\n") + "\n"


def printer(parts: Iterable[RenderableType]) -> Callable[[Console], None]:
    """Return a `draw` that prints each part in turn."""
    items = list(parts)

    def draw(console: Console) -> None:
        for part in items:
            console.print(part)

    return draw


def newest_open(root: Path, strategy: str) -> str:
    """Return the id of the newest position of `strategy` still open (else its newest)."""
    ids = sorted(pid for pid, folder in position_ids(root).items() if folder == strategy)
    if not ids:
        raise SystemExit(f"the run opened no {strategy} position")
    for pid in reversed(ids):
        record_ = load_position(root, pid)
        if record_ is not None and record_.position.open_qty > 0:
            return pid
    return ids[-1]


def write(out: Path, name: str, command: str, text: str) -> None:
    """Write one capture: a `$ command` line, then the screen."""
    path = out / name
    path.write_text(f"$ {command}\n{text}", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main() -> None:
    """Run the simulation and write every capture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "captures")
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    cfg = load_config(CONFIG, config_models(load()))
    run = f"after `seeker run {' '.join(STRATEGIES)} --days {DAYS} --no-dashboard`"
    here = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="seeker-captures-") as tmp:
        logs = Path(tmp) / "logs"
        run_sessions(logs)
        resumed = Path(tmp) / "resumed"
        shutil.copytree(logs, resumed)
        snap = dashboard_snapshot(cfg, resumed)
        os.chdir(tmp)  # the views name the journal folder as the user typed it: logs/
        logs = Path("logs")
        when = f"{snap.clock.astimezone(MARKET_TZ):%Y-%m-%d %H:%M}"
        report = build_report(logs, cfg.caps(), None, None, cfg.account.capital_currency)
        pid = newest_open(logs, "iron_condor")
        record_ = load_position(logs, pid)
        assert record_ is not None
        entries = select(logs, JournalFilter(), JOURNAL_TAIL)
        pairs = [(e.source, e.line) for e in entries]
        for width, height in SIZES:
            size = f"{width}x{height}"
            write(
                out,
                f"dashboard-{size}.txt",
                f"seeker run {' '.join(STRATEGIES)}   # {run}, resumed; frame at {when} "
                f"(simulated clock), {width}×{height} terminal",
                record(lambda c, w=width, h=height: c.print(render(snap, w, h)), width, height),
            )
            write(
                out,
                f"summary-{size}.txt",
                f"seeker summary   # {run}, {width} columns",
                record(lambda c: print_report(c, report), width, height),
            )
            write(
                out,
                f"show-{size}.txt",
                f"seeker show {pid}   # {run}, {width} columns",
                record(printer(render_position(record_, cfg, None, width)), width, height),
            )
            write(
                out,
                f"journal-{size}.txt",
                f"seeker journal -n {JOURNAL_TAIL}   # {run}, {width} columns",
                record(lambda c: print_journal(c, pairs), width, height),
            )
        os.chdir(here)


if __name__ == "__main__":
    main()
