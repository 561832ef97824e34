"""Benchmark the replay data layer on the shared SPX chains: import, then read every day back.

Run: ``python bench/bench_replay_import.py [--data DIR] [--repeats R]``.
Imports all chain files (cboe-delayed) into a fresh temporary store R times and prints the
median; then loads every day of the store (the whole table), builds each day's SPXW column view
and one chain request (two expiries, strikes within ±5 %) through ReplayBroker, also medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from datetime import time as clock_time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seeker.core.commissions import Commissions, CommissionSchedule
from seeker.core.replay.broker import ReplayBroker
from seeker.core.replay.history import load_index_history
from seeker.core.replay.importers import import_chains
from seeker.core.replay.market import ReplayListing
from seeker.core.replay.store import ChainStore

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = (ROOT / ".." / "shared" / "data", Path("/work/shared/data"))


def median_time(fn: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    """Return the median wall time of fn() in seconds and every run's time."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def size_mb(folder: Path, pattern: str) -> float:
    """Return the size of the files matching `pattern` under `folder`, MB."""
    return sum(p.stat().st_size for p in folder.rglob(pattern)) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = args.data or next((c for c in CANDIDATES if (c / "spx-2019-chains").is_dir()), None)
    if data is None:
        sys.exit("shared data not found; pass --data")
    files = sorted((data / "spx-2019-chains").glob("*.csv.gz"))
    print(
        f"pyarrow {pa.__version__}, {pa.cpu_count()} CPU threads; {len(files)} files, "
        f"{size_mb(data / 'spx-2019-chains', '*.csv.gz'):.1f} MB gzipped CSV"
    )

    with tempfile.TemporaryDirectory() as tmp:
        runs = iter(range(args.repeats))
        reports = []

        def run_import() -> None:
            reports.append(import_chains("cboe-delayed", files, Path(tmp) / f"s{next(runs)}"))

        import_s, import_all = median_time(run_import, args.repeats)
        report = reports[-1]
        store_path = Path(tmp) / "s0"
        print(report.as_text())
        print(
            f"import: median {import_s:.2f} s over {args.repeats} runs "
            f"({', '.join(f'{t:.2f}' for t in import_all)}), "
            f"{report.rows_in / import_s:,.0f} rows/s read, "
            f"{report.rows_kept / import_s:,.0f} rows/s kept; "
            f"store {size_mb(store_path, '*.parquet'):.1f} MB"
        )

        store = ChainStore(store_path)
        days = store.quote_dates()
        load_s, _ = median_time(lambda: [store.load_day(d) for d in days], args.repeats)
        print(
            f"load_day (all columns): median {load_s:.3f} s for {len(days)} days, "
            f"{load_s / len(days) * 1e3:.1f} ms/day, {report.rows_kept / load_s:,.0f} rows/s"
        )

        base = data / "index-history"
        history = load_index_history(
            "SPX", base / "spx_daily.csv", base / "vix_daily.csv", days[0], days[-1], 252
        )

        def replay_days() -> int:
            broker = ReplayBroker(
                store,
                {"SPXW": ReplayListing("SPXW", "SPX", "SPXW", "USD", 100)},
                {"SPXW": history},
                Commissions({"USD": CommissionSchedule("USD", 0.65, 1.0)}),
                0.3,
                1,
                "USD",
                {"USD": 1000.0},
                clock_time(15, 45),
                None,
            )
            broker.connect()
            quotes = 0
            for t in broker.decision_times():
                broker.advance_to(t)
                spot = broker.underlying_quote("SPXW").mid
                today: date = t.date()
                expiries = [e for e in broker.expiries("SPXW") if (e - today).days >= 30][:2]
                chain = broker.option_chain("SPXW", expiries, (spot * 0.95, spot * 1.05))
                quotes += len(chain.quotes)
            return quotes

        replay_s, _ = median_time(replay_days, args.repeats)
        n_quotes = replay_days()
        print(
            f"replay: median {replay_s:.3f} s for {len(days)} decision times "
            f"({replay_s / len(days) * 1e3:.1f} ms/day: load, SPXW view, chain of "
            f"{n_quotes / len(days):.0f} quotes)"
        )


if __name__ == "__main__":
    main()
