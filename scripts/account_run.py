"""The account's brakes over 400 simulated sessions (issue 11's "done when"), measured.

Three runs of the five strategies, each `seeker run --days 250` then `--days 150` in one log
folder (the second continues the paper account), in subprocesses:

* ``shipped`` — the shipped config;
* ``no_brakes`` — caps on the fixed capital and the daily-loss and drawdown limits at 100 %: the
  cash check alone stands between the strategies and a negative cash balance;
* ``flatten`` — the shipped config with ``max_drawdown_action = "flatten"``;
* ``equity_basis`` — the shipped config with the caps on the lower of capital and equity.

For each: the lowest cash after any fill (replayed from the journals: combo fills, settlements,
FX conversions — checked against the broker's final cash), start and end equity, the limits'
trips and resets, the openings after a trip (must be none), the flattening closes (limit orders
on the ladder) and the positions the broker holds at the end, the refusals for cash.

    python scripts/account_run.py [--out DIR] [--only NAME…]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seeker.core.journal import SYSTEM_FOLDER, read_events, strategy_folders  # noqa: E402

SHIPPED = ROOT / "config" / "seeker.toml"


def set_key(text: str, key: str, value: str) -> str:
    """Return the config text with `key = value` in the [limits] table (the rest kept)."""
    pattern = re.compile(rf"^{key} = [^#\n]*", re.M)
    if not pattern.search(text):
        raise SystemExit(f"no key {key} in {SHIPPED}")
    return pattern.sub(f"{key} = {value}", text, count=1)


SCENARIOS: dict[str, Callable[[str], str]] = {
    "shipped": lambda t: t,
    "no_brakes": lambda t: set_key(
        set_key(
            set_key(t, "capital_basis", '"capital"'),
            "daily_loss_pct",
            "100.0",
        ),
        "max_drawdown_pct",
        "100.0",
    ),
    "flatten": lambda t: set_key(t, "max_drawdown_action", '"flatten"'),
    "equity_basis": lambda t: set_key(t, "capital_basis", '"lower_of_capital_and_equity"'),
}


def run(config: Path, logs: Path, days: int) -> float:
    """Run the five strategies for `days` sessions; return the wall time (s)."""
    start = time.monotonic()
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "seeker",
            "run",
            "--days",
            str(days),
            "--no-dashboard",
            "--config",
            str(config),
            "--log-dir",
            str(logs),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        raise SystemExit(f"seeker run failed ({res.returncode}):\n{res.stderr[-3000:]}")
    return time.monotonic() - start


def cash_path(logs: Path, start: dict[str, float]) -> tuple[dict[str, float], dict[str, Any]]:
    """Return the final cash per currency and its lowest point, replayed from the journals."""
    flows: list[tuple[str, str, float]] = []
    for name in strategy_folders(logs, shadow=False):
        for f in read_events(logs / name, ["FILL"]):
            if f.get("kind", "combo") != "combo":
                continue
            mult = 100
            amount = -float(f["fill_price"]) * mult * int(f["qty"]) - float(f["commission"] or 0)
            flows.append((str(f["ts"]), str(f["currency"]), amount))
        for r in read_events(logs / name, ["RISK"]):
            c = r.get("conversion") or {}
            if r.get("rule") == "fx_conversion" and c.get("status") == "filled":
                sign = 1 if c["action"] == "BUY" else -1
                flows.append((str(r["ts"]), "USD", sign * c["qty"] - c["commission"]))
                flows.append((str(r["ts"]), "CAD", -sign * c["qty"] * c["fill_price"]))
    flows.sort(key=lambda x: datetime.fromisoformat(x[0]))
    cash = dict(start)
    low: dict[str, Any] = {c: {"cash": v, "ts": None} for c, v in cash.items()}
    for ts, ccy, amount in flows:
        cash[ccy] = cash.get(ccy, 0.0) + amount
        if cash[ccy] < low.get(ccy, {"cash": float("inf")})["cash"]:
            low[ccy] = {"cash": round(cash[ccy], 2), "ts": ts}
    return cash, low


def measure(name: str, logs: Path, walls: list[float]) -> dict[str, Any]:
    """Return the figures of one scenario's journals."""
    state = json.loads((logs / SYSTEM_FOLDER / "sim_state.json").read_text())
    cash, low = cash_path(logs, {"USD": 1000.0})
    for ccy, value in state["cash"].items():
        if abs(cash.get(ccy, 0.0) - value) > 0.01:
            raise SystemExit(f"{name}: replayed {ccy} cash {cash.get(ccy)} != broker's {value}")
    equity = [
        x for x in read_events(logs / SYSTEM_FOLDER, ["EQUITY"]) if x.get("equity") is not None
    ]
    limits = read_events(logs / SYSTEM_FOLDER, ["LIMIT"])
    trips = [x for x in limits if x["change"] == "trip"]
    first_trip = datetime.fromisoformat(str(trips[0]["ts"])) if trips else None
    orders: list[dict[str, Any]] = []
    decisions = 0
    for folder in strategy_folders(logs, shadow=False):
        orders += read_events(logs / folder, ["ORDER"])
        decisions += sum(
            1 for d in read_events(logs / folder, ["DECISION"]) if d.get("blocked_by") == "account"
        )
    after = [
        o
        for o in orders
        if first_trip
        and o["intent"] == "open"
        and datetime.fromisoformat(str(o["ts"])) >= first_trip
    ]
    flattening = [o for o in orders if o.get("exit_rule") == "flatten"]
    return {
        "scenario": name,
        "wall_s": [round(w, 1) for w in walls],
        "cash_min": low,
        "cash_end": {k: round(v, 2) for k, v in state["cash"].items()},
        "equity_start": equity[0]["equity"] if equity else None,
        "equity_end": equity[-1]["equity"] if equity else None,
        "equity_min": min((x["equity"] for x in equity), default=None),
        "openings": sum(1 for o in orders if o["intent"] == "open"),
        "trips": [
            {k: x.get(k) for k in ("ts", "limit", "action", "equity", "peak", "drawdown_pct")}
            for x in trips
        ],
        "resets": [
            {k: x.get(k) for k in ("ts", "limit", "by")} for x in limits if x["change"] == "reset"
        ],
        "openings_after_first_trip": len(after),
        "flatten_orders": len(flattening),
        "flatten_all_limits_on_ladder": all(
            o["ladder"][0] == o["limit_price"] and o["ladder"][-1] <= round(o["natural"], 2) + 0.01
            for o in flattening
        ),
        "broker_positions_at_end": len(state["positions"]),
        "refused_for_cash": decisions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="keep the journals here")
    parser.add_argument("--only", nargs="*", default=list(SCENARIOS), choices=list(SCENARIOS))
    args = parser.parse_args()
    base = args.out or Path(tempfile.mkdtemp(prefix="seeker-account-"))
    results = []
    for name in args.only:
        folder = base / name
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "seeker.toml"
        config.write_text(SCENARIOS[name](SHIPPED.read_text()))
        (folder / "events").mkdir(exist_ok=True)
        for f in (ROOT / "config" / "events").iterdir():
            (folder / "events" / f.name).write_bytes(f.read_bytes())
        logs = folder / "logs"
        walls = [run(config, logs, 250), run(config, logs, 150)]
        result = measure(name, logs, walls)
        results.append(result)
        print(json.dumps(result, indent=1), flush=True)
    print(f"journals under {base}")


if __name__ == "__main__":
    main()
