"""Regenerate the pictures in docs/plots/ from a real short simulated run.

    .venv/bin/python scripts/plots.py             # writes docs/plots/*.png
    .venv/bin/python scripts/plots.py --out DIR   # elsewhere (add --svg for SVG too)

1. ``seeker run --days 90 --no-dashboard --log-dir <tmp>``: the five strategies of the shipped
   config, a subprocess running the real command;
2. ``seeker plot equity``, ``seeker plot pnl`` and ``seeker plot payoff <id>`` on its journals,
   the payoff of the newest iron condor still open at the end (the newest one filled if none
   is), so its T+0 and T+X curves are drawn at the last journaled spot.

The simulated market is seeded: the same config gives the same pictures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "seeker.toml"
DAYS = 90
STRATEGY = "iron_condor"


def seeker(*args: str) -> str:
    """Run ``python -m seeker ARGS`` on the shipped config; return its output or exit."""
    cmd = [sys.executable, "-m", "seeker", *args]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def payoff_position(logs: Path) -> str:
    """Return the newest iron condor open at the end, else the newest one that filled."""
    opened: list[str] = []
    open_qty: dict[str, int] = {}
    with (logs / STRATEGY / "trades.jsonl").open() as fh:
        for raw in fh:
            line = json.loads(raw)
            if line.get("event") != "FILL" or line.get("kind") != "combo":
                continue
            pid = str(line["position_id"])
            sign = 1 if line["intent"] == "open" else -1 if line["intent"] == "close" else 0
            open_qty[pid] = open_qty.get(pid, 0) + sign * int(line["qty"])
            if line["intent"] == "open" and pid not in opened:
                opened.append(pid)
    if not opened:
        raise SystemExit(f"the run filled no {STRATEGY}")
    still_open = [p for p in opened if open_qty.get(p, 0) > 0]
    return (still_open or opened)[-1]


def main(argv: list[str] | None = None) -> int:
    """Run the sessions and write the pictures; print where."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "plots")
    p.add_argument("--days", type=int, default=DAYS)
    p.add_argument("--svg", action="store_true", help="write SVG copies too")
    args = p.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seeker-plots-") as tmp:
        logs = Path(tmp) / "logs"
        common = ("--config", str(CONFIG), "--log-dir", str(logs))
        seeker("run", "--days", str(args.days), "--no-dashboard", *common)
        pid = payoff_position(logs)
        suffixes = (".png", ".svg") if args.svg else (".png",)
        for suffix in suffixes:
            for what, extra in (("equity", ()), ("pnl", ()), ("payoff", (pid,))):
                target = out / f"{what}{suffix}"
                print(seeker("plot", what, *extra, "-o", str(target), *common).strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
