"""Benchmark ``seeker replay`` of the five strategies over the 58 shared SPX chain files.

Run: ``python bench/bench_replay_run.py [--data DIR] [--repeats R] [STRATEGY ...]``.

The chain files (``DIR/spx-2019-chains``) are imported once into a temporary store (timed: the
``seeker data import`` of the 58 files, in a subprocess); then each repeat runs ``python -m
seeker replay --config config/replay-spx.toml --data <store> --log-dir <tmp>`` in a subprocess,
its history files pointed at ``DIR/index-history``, and records wall time, CPU time (user +
system) and peak resident memory (``os.wait4`` rusage of that child). A run must exit 0, its
journals must pass the cap audit, and every repeat must write byte-identical journals. Figures
are medians; peak memory is the largest. The issue's goal: the five strategies over the 58 days
in under 15 s on this machine.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import dumps  # noqa: E402  (the TOML writer the tests use)

CANDIDATES = (ROOT / ".." / "shared" / "data", Path("/work/shared/data"))
GOAL_SECONDS = 15.0


@dataclass(frozen=True)
class Timed:
    """One subprocess: wall and CPU seconds, peak RSS in bytes, exit code, output tail."""

    wall: float
    cpu: float
    max_rss: int
    returncode: int
    tail: str


def timed(cmd: list[str], out_path: Path) -> Timed:
    """Run `cmd` in a subprocess from the project root and measure it."""
    with out_path.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    tail = "\n".join(out_path.read_text(errors="replace").splitlines()[-4:])
    return Timed(
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss * 1024,
        os.waitstatus_to_exitcode(status),
        tail,
    )


def config_for(data: Path, folder: Path) -> Path:
    """Write config/replay-spx.toml with its history files pointed at `data` (and its events)."""
    with (ROOT / "config" / "replay-spx.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    base = data / "index-history"
    raw["replay"]["history"]["SPX"] = {
        "bars_file": str(base / "spx_daily.csv"),
        "iv_file": str(base / "vix_daily.csv"),
        "iv_3m_file": str(base / "vix3m_daily.csv"),
    }
    path = folder / "replay-spx.toml"
    path.write_text(dumps(raw))
    shutil.copytree(ROOT / "config" / "events", folder / "events")
    return path


def same_journals(a: Path, b: Path) -> bool:
    """Return True when two log folders hold byte-identical journals."""
    files = sorted(p.relative_to(a) for p in a.rglob("*.jsonl*"))  # compressed parts too
    if files != sorted(p.relative_to(b) for p in b.rglob("*.jsonl*")):
        return False
    return all(filecmp.cmp(a / f, b / f, shallow=False) for f in files)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("strategies", nargs="*", help="strategies (default: strategies.enabled)")
    p.add_argument("--data", type=Path, default=None)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    data = args.data or next((c for c in CANDIDATES if (c / "spx-2019-chains").is_dir()), None)
    if data is None:
        sys.exit("shared data not found; pass --data")
    from seeker.config.loading import load_config
    from seeker.core.journal import strategy_folders
    from seeker.engine.registry import config_models
    from seeker.reports.audit import cap_violations
    from seeker.strategies import load

    tmp = Path(tempfile.mkdtemp(prefix="bench_replay_"))
    try:
        config = config_for(data, tmp)
        cfg = load_config(config, config_models(load()))
        files = sorted((data / "spx-2019-chains").glob("*.csv.gz"))
        store = tmp / "store"
        imp = timed(
            [sys.executable, "-m", "seeker", "data", "import", "--format", "cboe-delayed",
             *map(str, files), str(store)],
            tmp / "import.txt",
        )  # fmt: skip
        if imp.returncode != 0:
            sys.exit(f"import failed:\n{imp.tail}")
        print(
            f"seeker data import, {len(files)} files: wall {imp.wall:.2f} s, CPU {imp.cpu:.2f} s, "
            f"peak {imp.max_rss / 1e6:.0f} MB"
        )
        runs: list[Timed] = []
        for i in range(args.repeats):
            logs = tmp / f"logs{i}"
            cmd = [sys.executable, "-m", "seeker", "replay", *args.strategies]
            cmd += ["--config", str(config), "--data", str(store)]
            cmd += ["--log-dir", str(logs), "--no-dashboard"]
            r = timed(cmd, tmp / f"run{i}.txt")
            if r.returncode != 0:
                sys.exit(f"replay {i + 1} exited {r.returncode}:\n{r.tail}")
            found = cap_violations(logs, cfg.caps(), strategy_folders(logs, shadow=False))
            if found:
                sys.exit(f"replay {i + 1}: cap violations: {found[:3]}")
            if i and not same_journals(tmp / "logs0", logs):
                sys.exit(f"replay {i + 1} wrote journals that differ from the first run's")
            runs.append(r)
            print(
                f"  replay {i + 1}: wall {r.wall:.2f} s, CPU {r.cpu:.2f} s, "
                f"peak {r.max_rss / 1e6:.0f} MB"
            )
        wall = statistics.median(r.wall for r in runs)
        cpu = statistics.median(r.cpu for r in runs)
        peak = max(r.max_rss for r in runs) / 1e6
        verdict = "met" if wall < GOAL_SECONDS else "NOT met"
        names = ", ".join(args.strategies) or "strategies.enabled"
        print(
            f"seeker replay ({names}) over {len(cfg_days(store))} quote dates: median wall "
            f"{wall:.2f} s, CPU {cpu:.2f} s, peak {peak:.0f} MB over {args.repeats} runs; "
            f"goal < {GOAL_SECONDS:.0f} s {verdict}; cap violations 0; journals identical"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cfg_days(store: Path) -> list[object]:
    """Return the quote dates of a chain store."""
    from seeker.core.replay.store import ChainStore

    return list(ChainStore(store).quote_dates())


if __name__ == "__main__":
    main()
