"""A user's own chain file in the normalized schema — a few rows, written here — replays; with an
optional column left out it ends in the refusal the README documents for that column."""

from __future__ import annotations

import csv
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from seeker.cli.app import app
from seeker.core.calendar import MarketCalendars, expiry_close, years_between
from seeker.core.journal import read_events, read_jsonl
from seeker.core.pricing import bs_price_greeks
from tests.core.replay.test_replay_config import replay_spx
from tests.support import write_config

DAYS = (date(2019, 6, 3), date(2019, 6, 4))
LAST = date(2019, 6, 5)
"""The history files run to here."""
FRONT, NEXT = date(2019, 7, 19), date(2019, 8, 23)  # 46 and 81 DTE on the first day
SPOT, IV, RATE = 100.0, 0.20, 0.02
ALL = [
    "quote_date",
    "underlying",
    "underlying_price",
    "expiration",
    "strike",
    "right",
    "bid",
    "ask",
    "implied_vol",
    "delta",
    "volume",
    "open_interest",
]
ANY_LABEL = {
    "trend": ["up", "down", "none"],
    "structure": ["range", "breakout_up", "breakout_down", "neutral"],
    "ivr": ["high", "mid", "low"],
    "term": ["contango", "backwardation", "flat"],
    "skew": ["marked", "normal"],
}


Expiries = tuple[tuple[date, range | list[float]], ...]
SURFACE: Expiries = ((FRONT, range(80, 125, 5)), (NEXT, range(95, 110, 5)))
"""9 strikes of the front expiry, 3 of the next: what the regime and the condor read."""


def rows(days: tuple[date, ...] = DAYS, extra: Expiries = ()) -> list[dict[str, Any]]:
    """Return the file's rows: each day, the surface's expiries (and `extra` ones not yet
    expired), calls and puts of their strikes, priced with Black-Scholes at one IV."""
    out = []
    for day in days:
        for expiry, strikes in SURFACE + tuple(e for e in extra if e[0] >= day):
            years = years_between(expiry_close(day), expiry_close(expiry))
            for k in strikes:
                for right in ("C", "P"):
                    g = bs_price_greeks(SPOT, float(k), years, RATE, IV, right == "C")
                    mid = round(float(g["price"]), 2)
                    out.append(
                        {
                            "quote_date": day.isoformat(),
                            "underlying": "IDX",
                            "underlying_price": SPOT,
                            "expiration": expiry.isoformat(),
                            "strike": float(k),
                            "right": right,
                            "bid": max(round(mid - 0.02, 2), 0.0),
                            "ask": round(mid + 0.03, 2),
                            "implied_vol": IV,
                            "delta": round(float(g["delta"]), 4),
                            "volume": 50,
                            "open_interest": 1000,
                        }
                    )
    return out


def history(folder: Path) -> tuple[Path, Path]:
    """Write 60 sessions of daily bars (a mild swing) and of a volatility index before DAYS."""
    cal = MarketCalendars(["XNYS"], date(2019, 1, 1), date(2019, 12, 31))
    days = cal.sessions("XNYS", DAYS[0] - timedelta(days=100), LAST)[-62:]
    bars, vols = folder / "idx.csv", folder / "vol.csv"
    with bars.open("w") as fb, vols.open("w") as fv:
        fb.write("date,open,high,low,close\n")
        fv.write("date,open,high,low,close\n")
        for i, d in enumerate(days):
            c = SPOT + 3.0 * math.sin(i / 5.0)
            fb.write(f"{d},{c:.2f},{c + 1:.2f},{c - 1:.2f},{c:.2f}\n")
            v = 26.0 + 3.0 * math.cos(i / 7.0)
            fv.write(f"{d},{v:.2f},{v:.2f},{v:.2f},{v:.2f}\n")
    return bars, vols


def config(folder: Path, **condor: object) -> Path:
    """Write a replay config for the one index IDX, an iron condor taking any regime (its table
    updated with `condor`)."""
    raw = replay_spx()
    bars, vols = history(folder)
    raw["universe"] = {
        "IDX": {
            **raw["universe"]["SPX"],
            "symbol": "IDX",
            "dividend_yield": 0.0,
        }
    }
    raw["replay"]["listings"] = {"IDX": {"underlying": "IDX"}}  # the file names no root
    raw["replay"]["history"] = {"IDX": {"bars_file": str(bars), "iv_file": str(vols)}}
    raw["fx"]["cross_listings"] = []
    raw["regime"].update(
        sma_fast=5, sma_slow=10, adx_period=5, iv_rank_window=20, breakout_lookback=5,
        atr_period=5, front_min_dte=20, next_min_dte=50,
    )  # fmt: skip
    raw["clusters"]["window_sessions"] = 20
    raw["critic"].update(min_credit_to_risk=0.01, max_stress_loss_pct=100.0)
    raw["liquidity"].update(max_leg_spread=0.10, min_chain_volume=10, max_slippage_pct=100.0)
    ic = raw["strategies"]["iron_condor"]
    ic.update(
        underlyings=["IDX"], wing_widths=[5.0], short_delta_min=0.05, short_delta_max=0.30,
        min_credit=0.05, regime=ANY_LABEL,
    )  # fmt: skip
    ic.update(condor)
    raw["strategies"]["enabled"] = ["iron_condor"]
    raw["strategies"] = {"enabled": ["iron_condor"], "iron_condor": ic}
    return write_config(folder, raw, "own.toml")


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def replay(
    tmp: Path, names: list[str], data: list[dict[str, Any]], *imports: str, **ic: object
) -> Path:
    """Write `data` with the columns `names`, import it (extra `imports` options), replay it with
    the condor's table updated by `ic`; return the log folder."""
    src = tmp / "own.csv"
    with src.open("w", newline="") as fh:
        w = csv.DictWriter(fh, names, extrasaction="ignore")
        w.writeheader()
        w.writerows(data)
    store = str(tmp / "store")
    imported = cli("data", "import", "--format", "normalized", *imports, str(src), store)
    assert imported.exit_code == 0, imported.output
    assert "rows read" in imported.output
    cfg = config(tmp, **ic)
    logs = tmp / "logs"
    run = cli("replay", "--config", str(cfg), "--data", store, "--log-dir", str(logs),
              "--no-dashboard")  # fmt: skip
    assert run.exit_code == 0, run.output
    return logs


def replay_without(tmp: Path, left_out: tuple[str, ...]) -> list[dict[str, Any]]:
    """Write the file without some optional columns, import it, replay it; return DECISIONs."""
    logs = replay(tmp, [n for n in ALL if n not in left_out], rows())
    return read_events(logs / "iron_condor", ["DECISION"])  # in the full shape


def test_the_whole_file_replays_to_an_order(tmp_path: Path) -> None:
    decisions = replay_without(tmp_path, ())
    assert decisions[0]["outcome"] == "order", decisions[0]["reason"]
    assert decisions[0]["regime"]["front_expiry"] == FRONT.isoformat()


@pytest.mark.parametrize(
    ("left_out", "blocked_by", "reason"),
    [
        (("open_interest",), "data", "open interest unknown"),
        (("volume",), "data", "chain volume unknown"),
        (("delta", "open_interest"), "regime", "no delta known"),
        (("implied_vol",), "regime", "no IV at strike"),
    ],
)
def test_a_missing_optional_column_ends_in_its_documented_refusal(
    tmp_path: Path, left_out: tuple[str, ...], blocked_by: str, reason: str
) -> None:
    decisions = replay_without(tmp_path, left_out)
    assert decisions and all(d["outcome"] == "no_trade" for d in decisions)
    first = decisions[0]
    assert first["blocked_by"] == blocked_by and reason in first["reason"], first["reason"]
    if blocked_by == "data":
        liquidity = next(v for v in first["verdicts"] if v["agent"] == "liquidity")
        assert liquidity["details"]["missing_data"]


WEEKLY = date(2019, 6, 4)
"""A 1-day expiry: the condor sold on 06-03 expires the next day, a day without a snapshot."""
ONE_DAY = dict(
    dte_min=1, dte_target=1, dte_max=3, manage_dte=0, force_exit_dte=0, wing_widths=[1.0]
)


@pytest.mark.parametrize("settlement", ["PM", None])
def test_an_expired_position_settles_on_the_index_close_or_stays_unsettled(
    tmp_path: Path, settlement: str | None
) -> None:
    data = rows((date(2019, 6, 3), LAST), ((WEEKLY, [96.0 + 0.5 * i for i in range(17)]),))
    declared = ("--set", f"settlement={settlement}") if settlement else ()
    logs = replay(tmp_path, ALL, data, *declared, **ONE_DAY)
    trades = list(read_jsonl(logs / "iron_condor" / "trades.jsonl"))
    opened = [t for t in trades if t["event"] == "FILL" and t["intent"] == "open"]
    assert opened and opened[0]["legs"][0]["expiry"] == WEEKLY.isoformat()
    expiry = [t for t in trades if t["event"] == "FILL" and t.get("exit_rule") == "expiry"]
    risks = list(read_jsonl(logs / "iron_condor" / "risk_events.jsonl"))
    snaps = [x for x in read_jsonl(logs / "_seeker" / "replay.jsonl") if x["event"] == "SNAPSHOT"]
    if settlement is None:  # the data does not say how it settles: never guessed
        assert not expiry
        assert any(r["rule"] == "expired_unsettled" for r in risks)
        assert snaps[-1]["settled"] == []
        return
    assert len(expiry) == 1
    assert "PM: index close of 2019-06-04 (daily history)" in expiry[0]["reason"]
    close = next(
        float(line.split(",")[4])
        for line in (tmp_path / "idx.csv").read_text().splitlines()
        if line.startswith("2019-06-04")
    )
    settled = snaps[-1]["settled"]
    assert snaps[-1]["quote_date"] == LAST.isoformat() and len(settled) == 4
    assert {s["index_value"] for s in settled} == {close}
