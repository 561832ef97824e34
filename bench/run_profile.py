"""Say where a ``seeker run`` spends its time: sample every thread's stack, sum by duty and area.

Run: ``python bench/run_profile.py [STRATEGY ...] [--days N] [--config PATH] [--lift-limits]
[--interval-ms MS] [--json]``.

The run is ``python -m seeker run … --no-dashboard`` in a subprocess, as ``bench_run.py`` times
it, with one more thread: every ``--interval-ms`` (5 ms) it reads every other thread's Python
stack (``sys._current_frames``). A stack whose innermost frame waits (a condition, an event, a
socket's ``accept``, a queue) is idle and not counted: the strategies take turns on the
simulated clock, so at most one of them is busy at a time. A busy stack is counted twice:

* by **duty** — what the engine was doing it for: the innermost frame of a known step (the
  regime's daily classification, an entry's chain request, a scan, the critic, orders, position
  management, the account's marks and limits, decision lines...);
* by **area** — whose code the time was spent in: the innermost frame in ``seeker/`` (the
  simulated exchange, the broker and its ledger, journals, the engine, agents, strategies, the
  clock), start-up when Python was importing, or the disk when that frame waits in ``fsync``.

Time in a library (numpy, zlib, ``os.fsync``) counts for the seeker code that called it. The
sampler holds the GIL while it reads the stacks (about 1-3 % of the run). Shares are of busy
samples; seconds are shares of the run's wall time measured without the sampler's own time.
"""

from __future__ import annotations

import argparse
import json
import linecache
import os
import runpy
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

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
"""(qualified name or its prefix/suffix, duty): the innermost frame that matches names the duty."""

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

SWITCH_INTERVAL = 0.0001
"""Seconds a thread runs before it must offer the GIL (Python's default is 0.005)."""

STARTUP = "start-up: imports"
FSYNC = "disk: waiting for fsync (journals, state files)"
OUTSIDE = "outside seeker (no seeker frame)"


def _qualname(frame: FrameType) -> str:
    return frame.f_code.co_qualname


def classify(stack: Sequence[FrameType]) -> tuple[str, str] | None:
    """Return (duty, area) of a stack given innermost first; None when the thread waits."""
    leaf = stack[0].f_code
    if (os.path.basename(leaf.co_filename), leaf.co_name) in IDLE_LEAVES:
        return None
    area = ""
    if leaf.co_filename.startswith(SEEKER_DIR):
        line = linecache.getline(leaf.co_filename, stack[0].f_lineno)
        if "fsync(" in line:  # the innermost frame is in that call: the disk, not the CPU
            area = FSYNC
    duty = ""
    for frame in stack:
        filename = frame.f_code.co_filename
        if filename.startswith("<frozen importlib"):
            return STARTUP, STARTUP
        if not area and filename.startswith(SEEKER_DIR):
            rel = filename[len(SEEKER_DIR) :].replace(os.sep, "/")
            area = next(name for prefix, name in AREAS if rel.startswith(prefix))
        if not duty and filename.startswith(SEEKER_DIR):
            qual = _qualname(frame)
            for marker, name in DUTIES:
                if qual == marker or (
                    (marker.startswith(".") and qual.endswith(marker))
                    or (marker.endswith(".") and qual.startswith(marker))
                ):
                    duty = name
                    break
    return duty or "other (set-up, CLI, threads' start)", area or OUTSIDE


@dataclass
class Tally:
    """Busy samples counted by duty, by area and by (duty, area); all samples taken."""

    duties: Counter[str]
    areas: Counter[str]
    pairs: Counter[tuple[str, str]]
    samples: int = 0
    busy: int = 0
    sampler_seconds: float = 0.0


class StackSampler:
    """Read every other thread's stack every `interval` seconds, in a daemon thread."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.tally = Tally(Counter(), Counter(), Counter())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stack-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> Tally:
        self._stop.set()
        self._thread.join()
        return self.tally

    def _loop(self) -> None:
        me = threading.get_ident()
        tally = self.tally
        while not self._stop.wait(self.interval):
            t0 = time.perf_counter()
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                tally.samples += 1
                stack: list[FrameType] = []
                f: FrameType | None = frame
                while f is not None:
                    stack.append(f)
                    f = f.f_back
                found = classify(stack)
                if found is None:
                    continue
                tally.busy += 1
                tally.duties[found[0]] += 1
                tally.areas[found[1]] += 1
                tally.pairs[found] += 1
            tally.sampler_seconds += time.perf_counter() - t0


def child(out: Path, interval: float, seeker_args: list[str]) -> int:
    """Run seeker in this process under the sampler; write the tally to `out`; return its code."""
    sampler = StackSampler(interval)
    sys.path[0] = str(ROOT)  # as `python -m seeker` run from the repository
    # The sampler needs the GIL to read stacks. With the default 5 ms switch interval it would
    # mostly get it when the busy thread releases it for I/O (a write, an fsync), and count
    # those far too often; a short interval makes the running thread hand over within 0.1 ms.
    sys.setswitchinterval(SWITCH_INTERVAL)
    sys.argv = ["seeker", *seeker_args]
    code = 0
    t0 = time.perf_counter()
    sampler.start()
    try:
        runpy.run_module("seeker", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        wall = time.perf_counter() - t0
        tally = sampler.stop()
        out.write_text(
            json.dumps(
                {
                    "wall": wall,
                    "samples": tally.samples,
                    "busy": tally.busy,
                    "sampler_seconds": tally.sampler_seconds,
                    "duties": dict(tally.duties),
                    "areas": dict(tally.areas),
                    "pairs": [[d, a, n] for (d, a), n in tally.pairs.items()],
                }
            )
        )
    return code


@dataclass(frozen=True)
class Profile:
    """A sampled run: wall seconds, busy samples, sampler seconds, counts by duty/area/pair."""

    wall: float
    busy: int
    sampler_seconds: float
    duties: dict[str, int]
    areas: dict[str, int]
    pairs: list[tuple[str, str, int]]
    returncode: int

    @property
    def busy_wall(self) -> float:
        """Return the run's wall seconds without the sampler's own reading time."""
        return self.wall - self.sampler_seconds


def profile_run(names: list[str], days: int, config: Path, interval_ms: float = 5.0) -> Profile:
    """Run ``seeker run`` once in a subprocess under the sampler; return what it counted."""
    with tempfile.TemporaryDirectory(prefix="run_profile_") as tmp:
        out = Path(tmp) / "tally.json"
        cmd = [sys.executable, __file__, "--child", str(out), "--interval-ms", str(interval_ms)]
        cmd += ["--", "run", *names, "--config", str(config), "--days", str(days)]
        cmd += ["--no-dashboard", "--log-dir", str(Path(tmp) / "logs")]
        proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not out.is_file():
            raise SystemExit(f"the sampled run wrote no tally: {proc.stderr.decode()[-500:]}")
        raw = json.loads(out.read_text())
    return Profile(
        wall=raw["wall"],
        busy=raw["busy"],
        sampler_seconds=raw["sampler_seconds"],
        duties=raw["duties"],
        areas=raw["areas"],
        pairs=[(d, a, n) for d, a, n in raw["pairs"]],
        returncode=proc.returncode,
    )


def report(profile: Profile, top_pairs: int = 12) -> list[str]:
    """Return the lines that say where the run's time went (shares and seconds of wall)."""
    busy = max(profile.busy, 1)
    wall = profile.busy_wall
    lines = [
        f"sampled run: {profile.wall:.1f} s wall ({profile.sampler_seconds:.2f} s of it reading "
        f"stacks), {profile.busy} busy samples, exit {profile.returncode}"
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
    p.add_argument("--interval-ms", type=float, default=5.0, help="sampling period (5 ms)")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    return p.parse_known_args(argv)[0]


def main(argv: list[str] | None = None) -> int:
    """Profile one run and print where its time went."""
    raw = sys.argv[1:] if argv is None else argv
    if "--child" in raw:  # the sampled process: options before "--", seeker's after
        split = raw.index("--")
        args = parse_args(raw[:split])
        return child(args.child, args.interval_ms / 1000.0, raw[split + 1 :])
    args = parse_args(raw)
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_run import compile_bytecode, lifted_copy, load

    config = args.config.resolve()
    if args.lift_limits:
        config = lifted_copy(config)
    try:
        _, enabled = load(config)
        names = list(dict.fromkeys(args.strategies or enabled))
        compile_bytecode()
        profile = profile_run(names, args.days, config, args.interval_ms)
    finally:
        if args.lift_limits:
            config.unlink(missing_ok=True)
    if args.json:
        print(json.dumps(profile.__dict__, indent=1))
    else:
        print(f"seeker run {' '.join(names)} --days {args.days}  ({config.name})")
        print("\n".join(report(profile)))
    return 0 if profile.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
