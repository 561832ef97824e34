"""Say where a ``seeker run`` spends its time: sample its threads' stacks, sum by duty and area.

Run: ``python bench/run_profile.py [STRATEGY ...] [--days N] [--config PATH] [--lift-limits]
[--rate HZ] [--json]``.

The run is ``python -m seeker run … --no-dashboard`` in a subprocess, as ``bench_run.py`` times
it, under `py-spy <https://github.com/benfred/py-spy>`_ (``py-spy record --idle --nonblocking
--format raw``): ``--rate`` (200) times a second it reads every thread's Python stack from outside
the process, without the GIL, so a sample is as likely at any moment of the run. Non-blocking: it
does not pause the process to read (pausing lengthened the fsyncs it caught, 12 % of a 30-day run
where ``strace -T`` counts 5 %); a stack read while it changes is rare and counted as read.
A stack whose innermost frame waits (a condition, an event, a socket's ``accept``, a queue) is
idle and not counted: the strategies take turns on the simulated clock, so at most one of them
is busy at a time. A busy stack is counted twice:

* by **duty** — what the engine was doing it for: the innermost frame of a known step (the
  regime's daily classification, an entry's chain request, a scan, the critic, orders, position
  management, the account's marks and limits, decision lines...);
* by **area** — whose code the time was spent in: the innermost frame in ``seeker/`` (the
  simulated exchange, the broker and its ledger, journals, the engine, agents, strategies, the
  clock), start-up when Python was importing, or the disk when that frame waits in ``fsync``.

Time in a library (numpy, zlib, ``os.fsync``) counts for the seeker code that called it. Shares
are of busy samples; seconds are those shares of the run's wall time.
"""

from __future__ import annotations

import argparse
import json
import linecache
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEKER_DIR = str(ROOT / "seeker") + os.sep

IDLE_LEAVES = frozenset(
    {
        ("threading.py", "wait"),
        ("threading.py", "_wait_for_tstate_lock"),
        ("threading.py", "join"),
        ("socket.py", "accept"),
        ("selectors.py", "select"),
        ("queue.py", "get"),
    }
)
"""(file name, function) of an innermost frame that waits: the thread is idle."""

DUTIES: tuple[tuple[str, str], ...] = (
    ("Services._classify", "regime: the daily classification (its chain, history, indicators)"),
    ("EntryPipeline.chain", "entries: chain requests"),
    ("EntryPipeline.critique", "entries: the critic"),
    ("EntryPipeline.refresh_clusters", "entries: correlation clusters"),
    ("EntryPipeline.route", "entries: FX routing"),
    ("EntryPipeline.event_verdict", "entries: event risk"),
    (".scan", "entries: the strategies' scans"),
    ("Executor.work", "orders: placing, watching, journaling"),
    ("DecisionLog.flush", "journals: DECISION lines"),
    ("EntryPipeline.evaluate", "entries: vetoes, sizing, decisions"),
    ("EntryPipeline.consider", "entries: vetoes, sizing, decisions"),
    ("AccountWatch.check", "account: marks, limits, state"),
    ("PositionManager.manage", "positions: marks, confidence, exits"),
    ("OptionStrategy.poll_once", "engine: the rest of a poll"),
    ("SimClock.", "clock: turns of the simulated clock"),
    ("Strategy.run", "engine: a strategy thread's loop"),
    ("run_strategies", "engine: the run loop"),
    ("SimMarket.advance_to", "simulated market: moving time"),
)
"""(qualified name, or a prefix ending or suffix starting with "."): the innermost seeker frame
that matches names the duty."""

AREAS: tuple[tuple[str, str], ...] = (
    ("core/sim/market.py", "simulated exchange (chains, quotes)"),
    ("core/sim/chain.py", "simulated exchange (chains, quotes)"),
    ("core/sim/surface.py", "simulated exchange (chains, quotes)"),
    ("core/sim/paths.py", "simulated exchange (chains, quotes)"),
    ("core/pricing/", "pricing (Black-Scholes, implied vol)"),
    ("core/sim/", "simulated broker (orders, fills, ledger)"),
    ("core/journal", "journals (encode, compress, write)"),
    ("core/decision_lines.py", "journals (encode, compress, write)"),
    ("core/clock.py", "simulated clock"),
    ("agents/regime/", "agents: regime"),
    ("agents/account/", "account limits and equity"),
    ("engine/account_watch.py", "account limits and equity"),
    ("agents/", "agents: critic, vetoes, confidence, clusters"),
    ("strategies/", "strategies (scans, exits)"),
    ("engine/", "engine (pipeline, positions, orders, decisions)"),
    ("core/", "core (models, positions, execution, calendar)"),
    ("", "other seeker code (CLI, config)"),
)
"""(path prefix under seeker/, area): the first that matches the innermost seeker frame."""

STARTUP = "start-up: imports"
FSYNC = "disk: waiting for fsync (journals, state files)"
OUTSIDE = "outside seeker (no seeker frame)"
OTHER_DUTY = "other (set-up, CLI, threads' start)"


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of a sampled stack: qualified function name, file (absolute), line."""

    name: str
    file: str
    line: int


def parse_frame(text: str, cwd: Path = ROOT) -> Frame:
    """Return the frame of one py-spy raw entry, ``name (file:line)`` (a relative file is under
    `cwd`, the sampled process's working folder)."""
    name, _, rest = text.rpartition(" (")
    where = rest.rstrip(")")
    file, _, line = where.rpartition(":")
    if not file:  # no line number
        file, line = where, "0"
    if file and not os.path.isabs(file) and "/" in file:
        file = str(cwd / file)
    return Frame(name or text, file, int(line) if line.isdigit() else 0)


def _matches(qual: str, marker: str) -> bool:
    if marker.startswith("."):
        return qual.endswith(marker)
    if marker.endswith("."):
        return qual.startswith(marker)
    return qual == marker


def classify(stack: Sequence[Frame]) -> tuple[str, str] | None:
    """Return (duty, area) of a stack given innermost first; None when the thread waits."""
    leaf = stack[0]
    if (os.path.basename(leaf.file), leaf.name.rpartition(".")[2]) in IDLE_LEAVES:
        return None
    area = ""
    if leaf.file.startswith(SEEKER_DIR) and "fsync(" in linecache.getline(leaf.file, leaf.line):
        area = FSYNC  # the innermost frame is in that call: the disk, not the CPU
    duty = ""
    for frame in stack:
        if "importlib" in frame.file and frame.file.startswith("<frozen"):
            return STARTUP, STARTUP
        if not frame.file.startswith(SEEKER_DIR):
            continue
        if not area:
            rel = frame.file[len(SEEKER_DIR) :].replace(os.sep, "/")
            area = next(name for prefix, name in AREAS if rel.startswith(prefix))
        if not duty:
            duty = next((name for marker, name in DUTIES if _matches(frame.name, marker)), "")
    return duty or OTHER_DUTY, area or OUTSIDE


@dataclass(frozen=True)
class Profile:
    """A sampled run: wall seconds, samples, busy ones by duty, area and (duty, area); its exit."""

    wall: float
    samples: int
    busy: int
    duties: dict[str, int]
    areas: dict[str, int]
    pairs: list[tuple[str, str, int]]
    returncode: int


def tally(raw_lines: Sequence[str], cwd: Path = ROOT) -> tuple[int, Counter[tuple[str, str]]]:
    """Return (samples, busy samples by (duty, area)) of py-spy raw output (outermost first)."""
    pairs: Counter[tuple[str, str]] = Counter()
    samples = 0
    for raw in raw_lines:
        text, _, count = raw.rstrip("\n").rpartition(" ")
        if not text or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [parse_frame(f, cwd) for f in text.split(";")]
        found = classify(frames[::-1])
        if found is not None:
            pairs[found] += n
    return samples, pairs


def py_spy() -> str:
    """Return the py-spy executable (beside this Python, else on PATH)."""
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.is_file() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("py-spy is not installed: pip install py-spy (it is in the dev extra)")
    return found


def profile_run(names: list[str], days: int, config: Path, rate: int = 200) -> Profile:
    """Run ``seeker run`` once in a subprocess under py-spy; return what it counted."""
    with tempfile.TemporaryDirectory(prefix="run_profile_") as tmp:
        out = Path(tmp) / "stacks.txt"
        cmd = [
            py_spy(),
            "record",
            "--idle",
            "--nonblocking",
            "--format",
            "raw",
            "--rate",
            str(rate),
        ]
        cmd += ["--output", str(out), "--", sys.executable, "-m", "seeker", "run", *names]
        cmd += ["--config", str(config), "--days", str(days), "--no-dashboard"]
        cmd += ["--log-dir", str(Path(tmp) / "logs")]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t0
        if not out.is_file():
            raise SystemExit(f"py-spy wrote no stacks: {proc.stderr.decode()[-500:]}")
        samples, pairs = tally(out.read_text().splitlines())
    duties: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    for (duty, area), n in pairs.items():
        duties[duty] += n
        areas[area] += n
    return Profile(
        wall=wall,
        samples=samples,
        busy=sum(pairs.values()),
        duties=dict(duties),
        areas=dict(areas),
        pairs=[(d, a, n) for (d, a), n in pairs.items()],
        returncode=proc.returncode,
    )


def report(profile: Profile, top_pairs: int = 12) -> list[str]:
    """Return the lines that say where the run's time went (shares and seconds of wall)."""
    busy = max(profile.busy, 1)
    wall = profile.wall
    lines = [
        f"sampled run: {wall:.1f} s wall under py-spy, {profile.samples} thread samples, "
        f"{profile.busy} of them busy, exit {profile.returncode}"
    ]

    def table(title: str, counts: dict[str, int]) -> None:
        lines.append(title)
        for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {100 * n / busy:5.1f} %  {wall * n / busy:6.2f} s  {name}")

    table("by duty (what the engine was doing):", profile.duties)
    table("by area (whose code the time was spent in):", profile.areas)
    lines.append(f"largest duty × area pairs (top {top_pairs}):")
    for duty, area, n in sorted(profile.pairs, key=lambda p: (-p[2], p[0], p[1]))[:top_pairs]:
        lines.append(f"  {100 * n / busy:5.1f} %  {duty}  ←  {area}")
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("strategies", nargs="*", help="strategies (default: enabled and registered)")
    p.add_argument("--days", type=int, default=250, help="simulated sessions (250)")
    p.add_argument("--config", type=Path, default=ROOT / "config" / "seeker.toml")
    p.add_argument("--lift-limits", action="store_true", help="daily-loss and drawdown at 100 %%")
    p.add_argument("--rate", type=int, default=200, help="samples a second (200)")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Profile one run and print where its time went."""
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_run import compile_bytecode, lifted_copy, load

    config = args.config.resolve()
    if args.lift_limits:
        config = lifted_copy(config)
    try:
        _, enabled = load(config)
        names = list(dict.fromkeys(args.strategies or enabled))
        compile_bytecode()
        profile = profile_run(names, args.days, config, args.rate)
    finally:
        if args.lift_limits:
            config.unlink(missing_ok=True)
    if args.json:
        print(json.dumps(asdict(profile), indent=1))
    else:
        print(f"seeker run {' '.join(names)} --days {args.days}  ({config.name})")
        print("\n".join(report(profile)))
    return 0 if profile.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
