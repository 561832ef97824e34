"""Benchmark a whole ``seeker run`` on the shipped config: wall time and peak memory.

Run: ``python bench/bench_run.py [STRATEGY ...] [--days N] [--repeats R] [--config PATH]``.

Each repeat runs ``python -m seeker run <strategies> --days N --log-dir <tmp>`` in a subprocess
and records its wall time, CPU time (user + system) and peak resident memory (``os.wait4``
rusage of that child). The run must exit 0 and its journals must pass the cap audit
(``seeker.reports.audit.cap_violations``). As an in-run reference for this machine's speed, the
bare simulated market is advanced through the same N sessions, asking each listing's option
chain once per session (the regime's request: front and next expiry, ±10 % of spot); the ratio
run / reference survives a noisy, shared machine better than raw seconds. Figures are medians
of the repeats; peak memory is the largest of them. The package's bytecode is compiled first, as
an installed package has it (``--cold`` skips that: this machine sets PYTHONDONTWRITEBYTECODE,
so every run would compile every module it imports again, ~0.3 s).

Default strategies: every registered strategy that the config enables (``strategies.enabled``).
The issue's goal (≤ 12 s and ≤ 200 MB, 1 MB = 10^6 bytes) is for the five strategies trading
over 250 sessions; for other runs (fewer strategies or sessions, or a run whose account limits
stopped entries) the verdict is printed as indicative. On the shipped config the
account's drawdown limit stops entries after about 68 sessions, and the rest of the year costs
little: ``--lift-limits`` runs a copy of the config (beside it, removed afterwards) whose daily
loss and drawdown limits are 100 %, so the strategies trade the whole year.

When the time goal is not met the bench says how far (the ratio to the goal, the cost of one
strategy-session against what the goal allows) and why: one more run sampled by py-spy through
``bench/run_profile.py``, its busy time split by duty (what the engine was doing) and by area
(whose code it was in). ``--why always`` prints that for every bench, ``--why never`` skips it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_SECONDS = 12.0
GOAL_MB = 200.0
GOAL_JOURNAL_MB = 30.0
"""The issue's goal for a year of journals on disk, MB."""
GOAL_STRATEGIES = frozenset(
    {"iron_condor", "credit_spread", "diagonal", "iron_fly", "broken_wing_butterfly"}
)
GOAL_DAYS = 250
REFERENCE_RANGE = 0.10
"""Half-width of the reference loop's strike range, as a fraction of spot."""


@dataclass(frozen=True)
class RunResult:
    """One subprocess run: wall and CPU seconds, peak RSS in bytes, exit code, audit result."""

    wall: float
    cpu: float
    max_rss: int
    returncode: int
    violations: list[str]
    tail: str
    trips: list[str]
    journal_bytes: int
    line_bytes: int
    decisions: int


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("strategies", nargs="*", help="strategies (default: enabled and registered)")
    p.add_argument("--days", type=int, default=GOAL_DAYS, help="simulated sessions (250)")
    p.add_argument("--repeats", type=int, default=3, help="runs to take the median of (3)")
    p.add_argument("--config", type=Path, default=ROOT / "config" / "seeker.toml")
    p.add_argument("--keep", action="store_true", help="keep the log folders (printed)")
    p.add_argument("--no-reference", action="store_true", help="skip the bare-market reference")
    p.add_argument(
        "--cold",
        action="store_true",
        help="do not compile seeker's bytecode first (each run compiles what it imports)",
    )
    p.add_argument(
        "--why",
        choices=("auto", "always", "never"),
        default="auto",
        help="after the timed runs, one more run sampled by bench/run_profile.py to say where "
        "its time goes: when the goal is not met (auto), always or never",
    )
    p.add_argument(
        "--lift-limits",
        action="store_true",
        help="lift the daily-loss and drawdown limits to 100 %% (a whole trading year)",
    )
    args = p.parse_args(argv)
    if args.days < 1 or args.repeats < 1:
        p.error("--days and --repeats must be at least 1")
    return args


def load(config: Path) -> tuple[Any, list[str]]:
    """Return the validated config and the registered strategies it enables, in its order."""
    from seeker.config.loading import load_config
    from seeker.engine.registry import config_models
    from seeker.strategies import load as load_strategies

    registered = load_strategies()
    cfg = load_config(config, config_models(registered))
    return cfg, [n for n in cfg.strategies.enabled if n in registered]


def lifted_copy(config: Path) -> Path:
    """Write a copy of `config` beside it whose daily-loss and drawdown limits are 100 %."""
    import tomlkit

    doc = tomlkit.parse(config.read_text())
    limits = doc["limits"]
    assert isinstance(limits, dict)
    limits["daily_loss_pct"] = 100.0
    limits["max_drawdown_pct"] = 100.0
    copy = config.with_name(f".bench-lifted-{os.getpid()}.toml")
    copy.write_text(tomlkit.dumps(doc))
    return copy


def limit_trips(logs: Path) -> list[str]:
    """Return 'limit on date' for each account limit that tripped in a run's journals."""
    import json

    path = logs / "_seeker" / "account.jsonl"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        if '"LIMIT"' in line:
            row = json.loads(line)
            if row.get("change") == "trip":
                out.append(f"{row['limit']} on {str(row['ts'])[:10]}")
    return out


def run_once(names: list[str], days: int, config: Path, cfg: Any, keep: bool) -> RunResult:
    """Run seeker once in a subprocess; return its timings, peak memory and audit."""
    from seeker.core.journal import strategy_folders
    from seeker.reports.audit import cap_violations

    tmp = Path(tempfile.mkdtemp(prefix="bench_run_"))
    logs = tmp / "logs"
    cmd = [sys.executable, "-m", "seeker", "run", *names, "--config", str(config)]
    cmd += ["--days", str(days), "--log-dir", str(logs)]
    out_path = tmp / "stdout.txt"
    with out_path.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    tail = "\n".join(out_path.read_text(errors="replace").splitlines()[-5:])
    violations: list[str] = []
    trips = limit_trips(logs)
    size = journal_size(logs)
    if logs.is_dir():
        found = cap_violations(logs, cfg.caps(), strategy_folders(logs, shadow=False))
        violations = [str(v) for v in found]
    if keep:
        print(f"  logs kept in {logs}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return RunResult(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        max_rss=usage.ru_maxrss * 1024,  # kilobytes on Linux
        returncode=proc.returncode,
        violations=violations,
        tail=tail,
        trips=trips,
        journal_bytes=size.stored,
        line_bytes=size.written,
        decisions=size.decisions,
    )


@dataclass(frozen=True)
class JournalSize:
    """What the journals under a folder take: bytes on disk (plain ``*.jsonl`` and compressed
    ``*.jsonl.gz`` parts), bytes of their lines decompressed, lines, and DECISION lines."""

    stored: int
    written: int
    lines: int
    decisions: int


def journal_size(logs: Path) -> JournalSize:
    """Return the size of the journals under `logs` (read through Seeker's own reader)."""
    from seeker.core.journal_files import GZ_SUFFIX, forward_lines, parts

    names = {p.with_name(p.name.removesuffix(GZ_SUFFIX)) for p in logs.rglob("*.jsonl*")}
    stored = written = lines = decisions = 0
    for path in sorted(n for n in names if n.suffix == ".jsonl"):
        stored += sum(part.stat().st_size for part in parts(path))
        for raw in forward_lines(path):
            written += len(raw) + 1
            lines += 1
            decisions += path.name == "decisions.jsonl" and raw.startswith(b'{"event":"DECISION"')
    return JournalSize(stored, written, lines, decisions)


def compile_bytecode() -> int:
    """Write the bytecode of every module of the ``seeker`` package; return how many were stale.

    An installed package (``pip install``) comes with its bytecode, and Python writes it on a
    user's first run; a machine that sets ``PYTHONDONTWRITEBYTECODE`` (this one does) would
    otherwise compile every imported module again on every run (~0.3 s a run).
    """
    import compileall
    import importlib.util

    package = ROOT / "seeker"
    stale = sum(
        not Path(importlib.util.cache_from_source(str(src))).is_file()
        for src in package.rglob("*.py")
    )
    if not compileall.compile_dir(package, quiet=1, workers=1):
        raise SystemExit("could not compile seeker's bytecode")
    return stale


def reference(cfg: Any, days: int) -> tuple[float, float, int]:
    """Return (build seconds, loop seconds, chains asked) of the bare-market reference loop.

    The market is built as ``seeker run`` builds it, then advanced through `days` sessions; at
    31 minutes after each session's open every listing's chain is asked once (front and next
    expiry, ±10 % of spot).
    """
    from seeker.core.calendar import MarketCalendars
    from seeker.core.models import DataUnavailable
    from seeker.core.sim.market import SimMarket, sim_calendar_span

    sim = cfg.sim
    listings = cfg.listings()
    t0 = time.perf_counter()
    span = sim_calendar_span(sim, sim.start + timedelta(days=int(days * 1.6) + 30))
    calendars = MarketCalendars({x.calendar for x in listings.values()}, *span)
    market = SimMarket(sim, listings, calendars, dict(cfg.rates))
    build = time.perf_counter() - t0
    start: date = market.now.date()
    sessions = calendars.union_sessions(start, start + timedelta(days=int(days * 1.6) + 30))
    chains = 0
    t0 = time.perf_counter()
    for day in sessions[:days]:
        span_day = calendars.union_session(day)
        assert span_day is not None
        market.advance_to(span_day[0] + timedelta(minutes=31))
        today = market.now.date()
        for lid in listings:
            expiries = market.expiries(lid)
            front = next(e for e in expiries if (e - today).days >= 20)
            nxt = next(e for e in expiries if e > front and (e - today).days >= 50)
            spot = market.spot(lid)
            try:
                market.chain(lid, [front, nxt], (spot * 0.9, spot * 1.1))
            except DataUnavailable:
                continue
            chains += 1
    return build, time.perf_counter() - t0, chains


def mb(n_bytes: float) -> float:
    """Return bytes in MB (10^6 bytes)."""
    return n_bytes / 1e6


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; return 0 when every run was clean."""
    args = parse_args(argv)
    config = args.config.resolve()
    if args.lift_limits:
        config = lifted_copy(config)
    try:
        return _bench(args, config)
    finally:
        if args.lift_limits:
            config.unlink(missing_ok=True)


def _bench(args: argparse.Namespace, config: Path) -> int:
    """Run the repeats and the reference on `config`; print the figures."""
    cfg, enabled = load(config)
    names = list(dict.fromkeys(args.strategies or enabled))
    if not names:
        print("no strategy to run: none registered is in strategies.enabled", file=sys.stderr)
        return 2
    print(f"seeker run {' '.join(names)} --days {args.days}  ({config.name}, {args.repeats} runs)")
    stamp = f"{datetime.now():%Y-%m-%d %H:%M}"
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {stamp}")
    if args.cold:
        print("bytecode: not compiled first (--cold): each run compiles the modules it imports")
    else:
        stale = compile_bytecode()
        print(f"bytecode: seeker's modules compiled first, as installed ({stale} were stale)")
    results: list[RunResult] = []
    refs: list[float] = []
    for k in range(args.repeats):
        r = run_once(names, args.days, config, cfg, args.keep)
        results.append(r)
        ok = "ok" if r.returncode == 0 and not r.violations else "FAILED"
        print(
            f"  run {k + 1}: {r.wall:6.2f} s wall, {r.cpu:6.2f} s cpu, "
            f"{mb(r.max_rss):6.1f} MB peak  exit {r.returncode}, "
            f"{len(r.violations)} cap violation(s)  {ok}"
        )
        print(f"    account limits tripped: {', '.join(r.trips) or 'none'}")
        print(
            f"    journals {mb(r.journal_bytes):.1f} MB on disk ({mb(r.line_bytes):.1f} MB of "
            f"lines), {r.decisions} DECISION lines"
        )
        if r.returncode != 0:
            print("    " + r.tail.replace("\n", "\n    "))
        for v in r.violations[:5]:
            print(f"    violation: {v}")
        if not args.no_reference:
            build, loop, chains = reference(cfg, args.days)
            refs.append(loop)
            print(
                f"  reference {k + 1}: market built in {build:5.2f} s, {args.days} sessions × "
                f"each listing's chain ({chains} chains) in {loop:5.2f} s"
            )
    wall = statistics.median(r.wall for r in results)
    cpu = statistics.median(r.cpu for r in results)
    peak = max(r.max_rss for r in results)
    clean = all(r.returncode == 0 and not r.violations for r in results)
    print(f"median wall {wall:.2f} s, median cpu {cpu:.2f} s, peak RSS {mb(peak):.1f} MB")
    size = statistics.median(r.journal_bytes for r in results)
    lines = statistics.median(r.line_bytes for r in results)
    per_year = mb(size) * GOAL_DAYS / args.days
    print(
        f"journals {mb(size):.1f} MB on disk for {args.days} sessions ({per_year:.0f} MB a year; "
        f"{mb(lines):.1f} MB of lines decompressed); goal ≤ {GOAL_JOURNAL_MB:.0f} MB a year: "
        f"{'ok' if per_year <= GOAL_JOURNAL_MB else 'NOT MET'}"
    )
    if refs:
        ref = statistics.median(refs)
        print(f"reference (bare market) median {ref:.2f} s; run / reference = {wall / ref:.1f}")
    print(f"runs exited 0 with a clean cap audit: {'yes' if clean else 'NO'}")
    met = wall <= GOAL_SECONDS and mb(peak) <= GOAL_MB and clean
    verdict = "met" if met else "NOT met"
    goal_run = set(names) == GOAL_STRATEGIES and args.days == GOAL_DAYS
    trips = sorted({t for r in results for t in r.trips})
    if not goal_run:
        scope = " (indicative: the goal is for the five strategies, 250 sessions)"
    elif trips:  # entries stopped early: a cheaper year than the one the goal is about
        scope = (
            f" (indicative: the account's limits stopped entries ({', '.join(trips)}); the goal "
            "is for five strategies trading the whole year: run with --lift-limits)"
        )
    else:
        scope = ""
    print(
        f"goal ≤ {GOAL_SECONDS:.0f} s and ≤ {GOAL_MB:.0f} MB: {verdict}{scope} — "
        f"wall {wall:.1f} s {'≤' if wall <= GOAL_SECONDS else '>'} {GOAL_SECONDS:.0f} s, "
        f"peak {mb(peak):.0f} MB {'≤' if mb(peak) <= GOAL_MB else '>'} {GOAL_MB:.0f} MB"
    )
    if wall > GOAL_SECONDS:
        print(
            f"how far: {wall / GOAL_SECONDS:.2f} × the goal's time, {wall - GOAL_SECONDS:.1f} s "
            f"over; each of the {len(names)} strategies' {args.days} sessions costs "
            f"{1000 * wall / (len(names) * args.days):.1f} ms where the goal allows "
            f"{1000 * GOAL_SECONDS / (len(GOAL_STRATEGIES) * GOAL_DAYS):.1f} ms"
        )
    if args.why == "always" or (args.why == "auto" and not met):
        print("why: one more run, sampled by py-spy (bench/run_profile.py):")
        from run_profile import profile_run, report

        profile = profile_run(names, args.days, config)
        print("  " + "\n  ".join(report(profile)))
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
