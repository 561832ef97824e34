"""Benchmark the runs behind ``seeker optimize``: one trial run, and a batch on 1 or N processes.

Run: ``python bench/bench_optimize.py [--strategy NAME] [--sessions N] [--batch B]
[--workers W] [--repeats R]``.

A *run* is what every trial is made of: the real engine on the simulated market for `sessions`
sessions of the strategy (on the listings given), its journals read back through the reports.
Printed: the median wall time of one run in this process, then the median wall time of a batch
of `batch` distinct seeds run in this process and in `workers` local processes (spawned fresh,
so each batch pays the workers' start), and the speed-up. Figures are medians of `repeats`.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seeker.reports.trials import read_trades  # noqa: E402
from seeker.research.executors import Executor, ProcessExecutor, SerialExecutor  # noqa: E402
from seeker.research.sources import SimSource  # noqa: E402
from seeker.research.trial import TrialJob, run_job, trial_config_data  # noqa: E402

RUNNER = functools.partial(run_job, reader=read_trades)


def jobs(strategy: str, listings: list[str], sessions: int, seeds: list[int]) -> list[TrialJob]:
    """Return one run per seed of the strategy's shipped table on `listings`."""
    from seeker.config.loading import read_toml

    config = ROOT / "config" / "seeker.toml"
    data = read_toml(config)
    table = dict(data["strategies"][strategy], underlyings=listings)
    base = trial_config_data(data, strategy, table)
    return [
        TrialJob(strategy, base, str(config.parent), SimSource(seed=s, sessions=sessions))
        for s in seeds
    ]


def timed(executor: Executor, batch: list[TrialJob]) -> float:
    """Return the wall seconds of running `batch` (and closing the executor)."""
    start = time.perf_counter()
    try:
        executor.run(RUNNER, batch)
    finally:
        executor.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", default="iron_condor")
    parser.add_argument("--listings", default="IWM,EEM,XLF,XLE,GDX,SLV,TLT,BAC,F,PFE,INTC,SOFI")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    listings = args.listings.split(",")
    one = [
        timed(SerialExecutor(), jobs(args.strategy, listings, args.sessions, [100 + r]))
        for r in range(args.repeats)
    ]
    seeds = list(range(200, 200 + args.batch))
    batch = jobs(args.strategy, listings, args.sessions, seeds)
    serial = [timed(SerialExecutor(), batch) for _ in range(args.repeats)]
    pooled = [timed(ProcessExecutor(args.workers), batch) for _ in range(args.repeats)]
    s, p = statistics.median(serial), statistics.median(pooled)
    print(
        f"{args.strategy}, {args.sessions} sessions on {len(listings)} listings, "
        f"medians of {args.repeats}:"
    )
    print(f"  one run in this process     {statistics.median(one):6.2f} s")
    print(f"  {args.batch} runs in this process    {s:6.2f} s")
    print(f"  {args.batch} runs on {args.workers} processes    {p:6.2f} s  (speed-up ×{s / p:.2f})")


if __name__ == "__main__":
    main()
