"""Calibration statistics: recovered from a chain built with known shapes, measured on a tiny
window of the real SPX chains and of the simulator, judged, printed and plotted by the CLI."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from seeker.cli.app import app
from seeker.core.pricing import bs_price_greeks
from seeker.core.replay.importers import import_chains
from seeker.research.calibration.compare import judge
from seeker.research.calibration.observations import RV_SESSIONS, Observations, trailing_rv
from seeker.research.calibration.stats import STATISTICS, measure
from tests.core.replay.shared_data import chain_file
from tests.core.replay.test_replay_config import replay_spx
from tests.support import write_config

ATM, SKEW, CURVE, SLOPE = 0.20, 0.10, 0.02, 0.30
"""The synthetic surface: IV = atm(T) (1 − SKEW k + CURVE k²), atm(T) rising SLOPE per year."""
SPOT0 = 100.0


def _atm(dte: float, level: float) -> float:
    return level * (1.0 + SLOPE * (dte - 30.0) / 365.0)


def synthetic(days: int = 6) -> Observations:
    """Return quotes of a known surface: 30 and 90 DTE, strikes 60–140, on `days` days whose
    spot moves ±1 % and whose ATM level moves −5 × the return (ln IV)."""
    cols: dict[str, list[float]] = {k: [] for k in ("day", "dte", "k", "call", "bid", "ask")}
    cols.update(iv=[], delta=[], oi=[], volume=[])
    spots, levels = [SPOT0], [ATM]
    for n in range(1, days):
        r = 0.01 if n % 2 else -0.01
        spots.append(spots[-1] * math.exp(r))
        levels.append(levels[-1] * math.exp(-5.0 * r))
    for n, (s, level) in enumerate(zip(spots, levels, strict=True)):
        for dte in (10.0, 30.0, 90.0):
            atm = _atm(dte, level)
            t = dte / 365.0
            for strike in np.arange(60.0, 141.0, 1.0):
                k = math.log(strike / s) / (atm * math.sqrt(t))
                iv = atm * (1.0 - SKEW * k + CURVE * k * k)
                for call in (True, False):
                    g = bs_price_greeks(s, strike, t, 0.0, iv, call)
                    mid = float(g["price"])
                    half = 0.01 * mid  # bid/ask = 2 % of the mid everywhere
                    cols["day"].append(n)
                    cols["dte"].append(dte)
                    cols["k"].append(strike)
                    cols["call"].append(call)
                    cols["bid"].append(mid - half)
                    cols["ask"].append(mid + half)
                    cols["iv"].append(iv)
                    cols["delta"].append(float(g["delta"]))
                    cols["oi"].append(1000 if dte == 30.0 else 500)
                    cols["volume"].append(100)
    return Observations(
        name="synthetic",
        days=np.array([738000 + n for n in range(days)]),
        spot=np.array(spots),
        rv=np.full(days, ATM / 1.25),
        day=np.array(cols["day"], dtype=np.int64),
        dte=np.array(cols["dte"]),
        strike=np.array(cols["k"]),
        is_call=np.array(cols["call"], dtype=bool),
        bid=np.array(cols["bid"]),
        ask=np.array(cols["ask"]),
        iv=np.array(cols["iv"]),
        delta=np.array(cols["delta"]),
        oi=np.array(cols["oi"], dtype=np.int64),
        volume=np.array(cols["volume"], dtype=np.int64),
    )


def test_the_statistics_recover_the_shapes_a_chain_was_built_with() -> None:
    m = measure(synthetic())
    v = m.values
    # the level alternates between 0.200 and 0.190 (a 1 % move, −5 × in ln IV): median 0.195
    assert v["atm_iv"] == pytest.approx(ATM * (1 + math.exp(-0.05)) / 2, rel=0.01)
    assert v["iv_over_rv"] == pytest.approx(1.25 * (1 + math.exp(-0.05)) / 2, rel=0.01)
    assert v["term_slope"] == pytest.approx(SLOPE, rel=0.05)
    # 25-delta points sit near k = ∓0.7: the risk reversal is about 2 × SKEW × 0.7 of ATM
    assert 0.10 < v["rr25"] < 0.16
    assert 0.0 < v["bf25"] < 0.03
    for key in ("spread_wing", "spread_mid", "spread_atm"):
        assert v[key] == pytest.approx(0.02, rel=0.01)
    assert v["spread_elasticity"] == pytest.approx(1.0, abs=0.01)  # width ∝ price
    assert v["oi_wing"] == pytest.approx(1.0) and v["oi_far"] == pytest.approx(0.5)
    assert v["oi_near"] == pytest.approx(0.5) and v["volume_wing"] == pytest.approx(1.0)
    # ln IV moves −5 × the return, i.e. −5 × ATM IV per return in ATM-IV units (≈ −1)
    assert v["iv_spot_beta"] == pytest.approx(-5.0 * v["atm_iv"], rel=0.05)
    assert v["iv_spot_corr"] == pytest.approx(-1.0, abs=0.01)
    assert not m.missing


def test_a_statistic_without_data_says_why() -> None:
    obs = synthetic(2)
    blind = Observations(**{**obs.__dict__, "delta": np.full(obs.rows, math.nan)})
    m = measure(blind)
    assert math.isnan(m.values["rr25"]) and "25-delta" in m.missing["rr25"]
    assert math.isnan(m.values["iv_spot_corr"])


def test_trailing_realised_vol_uses_only_closes_before_the_day() -> None:
    days = [date(2019, 1, 1) + timedelta(days=i) for i in range(40)]
    closes = np.exp(np.cumsum([0.0] + [0.01 * (-1) ** i for i in range(39)]))
    rv = trailing_rv(closes, days, [days[RV_SESSIONS], days[RV_SESSIONS + 1], days[39]])
    assert math.isnan(rv[0])  # only 20 returns before it
    assert rv[1] == pytest.approx(np.std([0.01, -0.01] * 10 + [0.01], ddof=1) * math.sqrt(252))
    closes[39] = closes[38] * 10  # the day's own close never enters its figure
    assert trailing_rv(closes, days, [days[39]])[0] == pytest.approx(rv[2])


def test_verdicts() -> None:
    stat = next(s for s in STATISTICS if s.key == "rr25")
    assert judge(stat, 0.38, 0.36)[0] == "close"
    assert judge(stat, 0.38, 0.18)[0] == "sim lower"
    assert judge(stat, 0.38, 0.60)[0] == "sim higher"
    assert judge(stat, 0.38, math.nan) == ("n/a", "not measured on the simulator")
    level = next(s for s in STATISTICS if s.key == "atm_iv")
    assert judge(level, 0.13, 0.22)[0] == "not judged"


def test_seeker_calibrate_prints_the_table_and_saves_the_plots(tmp_path: Path) -> None:
    store = tmp_path / "store"
    import_chains("cboe-delayed", [chain_file("20190603"), chain_file("20190604")], store)
    config = write_config(tmp_path, replay_spx(), "replay.toml")
    out = tmp_path / "plots"
    args = ["calibrate", "--config", str(config), "--data", str(store), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--sessions", "20", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = {r["statistic"]: r for r in data["rows"]}
    assert set(rows) == {s.key for s in STATISTICS}
    assert rows["rr25"]["real"] > 0.2  # SPX puts far richer than calls
    assert rows["spread_elasticity"]["real"] > 0.0
    assert rows["iv_over_rv"]["sim"] is not None and rows["rr25"]["sim"] > 0
    assert all(
        r["verdict"] in ("close", "sim higher", "sim lower", "not judged", "n/a")
        for r in rows.values()
    )
    for name in ("smile", "term", "spreads", "liquidity", "iv_moves", "iv_vs_rv"):
        png = out / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = CliRunner().invoke(app, [*args, "--sessions", "20"])
    assert text.exit_code == 0 and "25Δ risk reversal" in text.output
