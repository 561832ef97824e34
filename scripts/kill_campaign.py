"""Kill a real-time Seeker run with SIGKILL at random moments, restart it each time, then check.

    .venv/bin/python scripts/kill_campaign.py                       # 20 kills, 3 strategies
    .venv/bin/python scripts/kill_campaign.py --kills 5 --speed 6000 --keep

Each round starts ``seeker run iron_condor credit_spread iron_fly --speed X --no-dashboard`` on the
shipped config and one log folder, waits a random 4–15 s of real time (seeded), and kills it with
SIGKILL. After the last kill a final run is stopped cleanly (SIGTERM). Then the folder must hold:
the simulated clock moving forward at every restart (never back), journal timestamps monotonic,
no id used twice, every execution of the simulated broker journaled exactly once, no order sent
twice, the journals' positions equal to the broker's and no cap exceeded
(``tests/crash_support.py``). Prints the figures; exits 1 if anything disagrees.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seeker.config.loading import load_config  # noqa: E402
from seeker.core.journal import read_events, read_jsonl, strategy_folders  # noqa: E402
from seeker.engine.registry import config_models  # noqa: E402
from seeker.strategies import load  # noqa: E402
from tests.crash_support import broker_executions, consistency_problems  # noqa: E402

STRATEGIES = ["iron_condor", "credit_spread", "iron_fly"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--speed", type=float, default=20000.0, help="sim seconds per real second")
    p.add_argument("--seed", type=int, default=7, help="seed of the kill times")
    p.add_argument("--min-seconds", type=float, default=4.0)
    p.add_argument("--max-seconds", type=float, default=15.0)
    p.add_argument("--config", type=Path, default=ROOT / "config" / "seeker.toml")
    p.add_argument("--log-dir", type=Path, default=None, help="(default: a temporary folder)")
    p.add_argument("--keep", action="store_true", help="keep the log folder")
    p.add_argument("strategies", nargs="*", default=STRATEGIES)
    return p.parse_args()


def sim_now(root: Path) -> datetime | None:
    """Return the simulated time the broker's clock snapshot holds."""
    path = root / "_seeker" / "sim_clock.json"
    if not path.exists():
        return None
    return datetime.fromisoformat(json.loads(path.read_text())["now"])


def start(args: argparse.Namespace, root: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "seeker", "run", *args.strategies, "--speed", str(args.speed)]
    cmd += ["--no-dashboard", "--config", str(args.config), "--log-dir", str(root)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEKER_TEST_")}
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def main() -> int:
    args = parse_args()
    rnd = random.Random(args.seed)
    root = args.log_dir or Path(tempfile.mkdtemp(prefix="seeker-kills-"))
    cfg = load_config(args.config, config_models(load()))
    times: list[datetime] = []
    began = time.monotonic()
    for k in range(1, args.kills + 1):
        proc = start(args, root)
        wait = rnd.uniform(args.min_seconds, args.max_seconds)
        time.sleep(wait)
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            print(f"kill {k}: the run ended by itself (exit {proc.returncode}): {err[-800:]}")
            return 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = sim_now(root)
        times.append(now) if now is not None else None
        print(f"kill {k:2d} after {wait:4.1f} s: simulated clock {now}", flush=True)
    proc = start(args, root)
    time.sleep(args.max_seconds)
    proc.send_signal(signal.SIGTERM)
    final = proc.wait(timeout=60)
    err = proc.stderr.read().decode() if proc.stderr else ""
    end = sim_now(root)
    print(f"final run stopped with SIGTERM: exit {final}; simulated clock {end}")
    elapsed = time.monotonic() - began

    problems = consistency_problems(root, cfg.caps())
    if final != 0:
        problems.append(f"the final run exited {final}: {err[-800:]}")
    back = [(a, b) for a, b in itertools.pairwise(times) if b < a]
    problems += [f"the clock went back from {a} to {b}" for a, b in back]
    names = strategy_folders(root, shadow=False)
    days = sorted({str(d["ts"])[:10] for n in names for d in read_events(root / n, ["DECISION"])})
    fills = [f for n in names for f in read_events(root / n, ["FILL"])]
    recovered = [f for f in fills if f.get("recovered")]
    orders = [o for n in names for o in read_events(root / n, ["ORDER"])]
    decisions = sum(len(read_events(root / n, ["DECISION"])) for n in names)
    runs = [r for r in read_jsonl(root / "_seeker" / "runs.jsonl") if r["status"] == "started"]
    risk = [r for n in [*names, "_seeker"] for r in read_events(root / n, ["RISK"])]
    by_rule: dict[str, int] = {}
    for r in risk:
        by_rule[r["rule"]] = by_rule.get(r["rule"], 0) + 1
    first = times[0] if times else None
    print(f"\nlog folder: {root}")
    print(
        f"{args.kills} SIGKILLs + 1 clean stop in {elapsed:.0f} s of real time; "
        f"runs that wrote their RUN line: {len(runs)}"
    )
    print(f"simulated clock: {first} (first kill) -> {end} (end)")
    span = f"{days[0]} .. {days[-1]}" if days else "-"
    print(f"sessions with decisions: {len(days)} ({span})")
    print(f"clock moved forward at every restart: {not back}")
    print(
        f"orders {len(orders)}, broker executions {len(broker_executions(root))}, combo FILLs "
        f"{len(fills)} (recovered from the broker: {len(recovered)}), decisions {decisions}"
    )
    print(f"RISK lines by rule: {dict(sorted(by_rule.items()))}")
    print(f"consistency problems: {len(problems)}")
    for p in problems[:40]:
        print(f"  {p}")
    if not args.keep and args.log_dir is None and not problems:
        import shutil

        shutil.rmtree(root)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
