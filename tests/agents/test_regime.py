"""Tests for the Regime Classifier: config, surface points, labels, classify, the real sim market.

Histories and chains are built by hand so every label has a known answer; the last test runs the
classifier on the real simulated market built from the shipped config.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from seeker.agents.regime import (
    LABELS,
    Regime,
    RegimeConfig,
    SurfacePoints,
    classify,
    ivr_label,
    skew_label,
    structure_label,
    surface_points,
    term_expiries,
    term_label,
    trend_label,
)
from seeker.config.loading import validate_config
from seeker.core.calendar import MARKET_TZ
from seeker.core.models import (
    Chain,
    DailyHistory,
    DataUnavailable,
    OptionContract,
    OptionQuote,
    UnderlyingQuote,
)
from seeker.engine.wiring import build_sim_services
from tests.support import ROOT, shipped, shipped_regime_rules, strategy_config_models

TODAY = date(2026, 3, 2)
TS = datetime(2026, 3, 2, 11, 0, tzinfo=MARKET_TZ)
FRONT = TODAY + timedelta(days=25)
NEXT = TODAY + timedelta(days=60)


def regime_tables() -> dict[str, Any]:
    """Return the shipped config's [regime] table (under ``regime``)."""
    return {"regime": shipped()["regime"]}


def make_cfg(**over: Any) -> RegimeConfig:
    """Return the shipped regime config with some values replaced."""
    return RegimeConfig.model_validate({**regime_tables()["regime"], **over})


CFG = make_cfg()


# ---------------------------------------------------------------------- builders


def history(
    close: np.ndarray,
    iv: np.ndarray | None = None,
    high: np.ndarray | None = None,
    low: np.ndarray | None = None,
    lid: str = "XLF",
) -> DailyHistory:
    """Return a daily history ending on the session before TODAY (weekdays)."""
    n = close.size
    days: list[date] = []
    d = TODAY - timedelta(days=1)
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d -= timedelta(days=1)
    close = np.asarray(close, dtype=float)
    return DailyHistory(
        listing_id=lid,
        dates=tuple(reversed(days)),
        open=close.copy(),
        high=close * 1.002 if high is None else np.asarray(high, dtype=float),
        low=close * 0.998 if low is None else np.asarray(low, dtype=float),
        close=close,
        iv=mid_iv(n) if iv is None else np.asarray(iv, dtype=float),
    )


def mid_iv(n: int, today: float = 0.25) -> np.ndarray:
    """Return IVs at 0.25 with one 0.125 and one 0.375 in the last 252: today's rank is 50."""
    iv = np.full(n, 0.25)
    iv[-min(n, 100)] = 0.125
    iv[-min(n - 1, 50)] = 0.375
    iv[-1] = today
    return iv


def points(
    front: float = 0.20, nxt: float = 0.22, put25: float = 0.22, call25: float = 0.19
) -> SurfacePoints:
    """Return hand-made surface points (contango, skew 0.03 normal by default)."""
    return SurfacePoints("XLF", 100.0, FRONT, NEXT, 25, 60, front, nxt, put25, call25)


def uptrend(n: int = 300, step: float = 0.003) -> np.ndarray:
    """Return closes rising by `step` (log) every session."""
    return 100.0 * np.exp(step * np.arange(n))


def ranging(n: int = 300) -> np.ndarray:
    """Return closes oscillating ±1 % around 100 with a 10-session period (no trend)."""
    return 100.0 * (1.0 + 0.01 * np.sin(2.0 * np.pi * np.arange(n) / 10.0))


def quote(
    expiry: date, strike: float, right: str, iv: float, delta: float, spot: float = 100.0
) -> OptionQuote:
    """Return a hand-made option quote (only iv, delta and the contract matter here)."""
    return OptionQuote(
        contract=OptionContract("XLF", expiry, strike, right),  # type: ignore[arg-type]
        bid=1.0,
        ask=1.05,
        iv=iv,
        delta=delta,
        gamma=0.05,
        vega=0.1,
        theta=-0.02,
        open_interest=1000,
        volume=100,
        underlying_price=spot,
        ts=TS,
    )


def chain(rows: list[OptionQuote], spot: float = 100.0) -> Chain:
    """Return a chain of `rows` around an underlying quoted spot ± 0.01."""
    u = UnderlyingQuote("XLF", spot - 0.01, spot + 0.01, spot, TS)
    return Chain("XLF", u, tuple(rows), 5000, TS)


def flat_smile(expiry: date, atm: float, spot: float = 100.0) -> list[OptionQuote]:
    """Return calls and puts 80..120 step 5 at one IV, call deltas 0.95 → 0.05 linearly."""
    rows = []
    for k in range(80, 125, 5):
        call_delta = 0.95 - (k - 80) * 0.0225
        rows.append(quote(expiry, float(k), "C", atm, call_delta, spot))
        rows.append(quote(expiry, float(k), "P", atm, call_delta - 1.0, spot))
    return rows


# ---------------------------------------------------------------------- config


def test_shipped_tables_validate_and_need_252_sessions() -> None:
    assert CFG.sma_fast == 20 and CFG.sma_slow == 50 and CFG.adx_period == 14
    assert CFG.sessions_needed == 252
    assert set(shipped_regime_rules()) == set(shipped()["strategies"]["enabled"])


@pytest.mark.parametrize(
    ("over", "key", "words"),
    [
        ({"sma_fast": 50, "sma_slow": 50}, "sma_slow", "greater than sma_fast"),
        ({"low_ivr": 50.0, "high_ivr": 50.0}, "low_ivr", "less than high_ivr"),
        ({"adx_range": 26.0, "adx_trend": 25.0}, "adx_range", "at most adx_trend"),
        ({"next_min_dte": 20, "front_min_dte": 20}, "next_min_dte", "greater than front_min_dte"),
        ({"high_ivr": 120.0}, "high_ivr", "less than 100"),
        ({"adx_period": 14.0}, "adx_period", "valid integer"),
        ({"sma_fast": "20"}, "sma_fast", "valid integer"),
        ({"skew_marked": -0.01}, "skew_marked", "greater than 0"),
        ({"colour": 1}, "colour", "Extra inputs"),
    ],
)
def test_config_errors_name_the_field(over: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ValidationError) as err:
        make_cfg(**over)
    locs = {(e["loc"][0], e["msg"]) for e in err.value.errors()}
    assert any(loc == key and words in msg for loc, msg in locs), locs


def test_config_has_no_defaults() -> None:
    table = dict(regime_tables()["regime"])
    del table["breakout_lookback"]
    with pytest.raises(ValidationError) as err:
        RegimeConfig.model_validate(table)
    assert [e["loc"] for e in err.value.errors()] == [("breakout_lookback",)]


# ---------------------------------------------------------------------- surface points


def test_term_expiries_pick_front_and_next() -> None:
    days = [TODAY + timedelta(days=d) for d in (4, 11, 19, 20, 46, 50, 81)]
    assert term_expiries(days, TODAY, CFG) == (days[3], days[5])
    assert term_expiries(days, TODAY, make_cfg(front_min_dte=21)) == (days[4], days[5])
    with pytest.raises(DataUnavailable, match=r"no front expiry: none 20 or more days out"):
        term_expiries(days[:3], TODAY, CFG)
    with pytest.raises(DataUnavailable, match=r"no next expiry: none 50 or more days out"):
        term_expiries(days[:5], TODAY, CFG)


@pytest.mark.parametrize(
    ("front", "nxt", "label"),
    [(0.20, 0.24, "contango"), (0.30, 0.24, "backwardation"), (0.25, 0.252, "flat")],
)
def test_surface_points_term_structure(front: float, nxt: float, label: str) -> None:
    c = chain(flat_smile(FRONT, front) + flat_smile(NEXT, nxt))
    p = surface_points(c, TODAY, CFG)
    assert (p.front_expiry, p.next_expiry, p.front_dte, p.next_dte) == (FRONT, NEXT, 25, 60)
    assert p.spot == pytest.approx(100.0)
    assert p.front_iv == pytest.approx(front) and p.next_iv == pytest.approx(nxt)
    assert p.put25_iv == pytest.approx(front) and p.call25_iv == pytest.approx(front)
    assert term_label(p.next_iv - p.front_iv, CFG) == label
    r = classify("XLF", history(ranging()), p, CFG)
    assert r.term == label and r.term_slope == pytest.approx(nxt - front)


def test_surface_points_interpolate_atm_and_25_delta_by_hand() -> None:
    spot = 101.0
    front = [
        quote(FRONT, 85.0, "P", 0.36, -0.08, spot),
        quote(FRONT, 90.0, "P", 0.31, -0.18, spot),
        quote(FRONT, 95.0, "P", 0.27, -0.28, spot),
        quote(FRONT, 100.0, "P", 0.26, -0.45, spot),
        quote(FRONT, 100.0, "C", 0.24, 0.55, spot),
        quote(FRONT, 105.0, "P", 0.24, -0.68, spot),
        quote(FRONT, 105.0, "C", 0.22, 0.32, spot),
        quote(FRONT, 110.0, "C", 0.21, 0.22, spot),
        quote(FRONT, 115.0, "C", 0.21, 0.10, spot),
    ]
    nxt = [
        quote(NEXT, 100.0, "C", 0.27, 0.55, spot),
        quote(NEXT, 100.0, "P", math.nan, -0.45, spot),  # unknown put IV: the call's alone
        quote(NEXT, 105.0, "P", 0.25, -0.62, spot),  # no call at 105: the put's alone
    ]
    p = surface_points(chain(front + nxt, spot), TODAY, CFG)
    # ATM front: strike 100 → (0.24 + 0.26) / 2 = 0.25, strike 105 → (0.22 + 0.24) / 2 = 0.23;
    # spot 101 is 1/5 of the way: 0.25 + 0.2 × (0.23 − 0.25) = 0.246.
    assert p.front_iv == pytest.approx(0.246, abs=1e-12)
    # ATM next: 0.27 + 0.2 × (0.25 − 0.27) = 0.266.
    assert p.next_iv == pytest.approx(0.266, abs=1e-12)
    # 25Δ put between −0.18 (0.31) and −0.28 (0.27): w = 0.07 / 0.10 = 0.7 → 0.282.
    assert p.put25_iv == pytest.approx(0.282, abs=1e-12)
    # 25Δ call between 0.32 (0.22) and 0.22 (0.21): w = 0.07 / 0.10 = 0.7 → 0.213.
    assert p.call25_iv == pytest.approx(0.213, abs=1e-12)
    r = classify("XLF", history(ranging()), p, CFG)
    assert r.skew == pytest.approx(0.069, abs=1e-12) and r.skew_label == "marked"
    assert r.term_slope == pytest.approx(0.02, abs=1e-12) and r.term == "contango"


def test_surface_points_spot_on_a_strike_and_delta_on_a_strike() -> None:
    rows = flat_smile(FRONT, 0.2) + flat_smile(NEXT, 0.2)
    rows = [
        quote(FRONT, 105.0, "C", 0.3, 0.25)
        if (q.contract.expiry, q.contract.strike, q.contract.right) == (FRONT, 105.0, "C")
        else q
        for q in rows
    ]
    p = surface_points(chain(rows, 100.0), TODAY, CFG)
    assert p.front_iv == pytest.approx(0.2) and p.call25_iv == pytest.approx(0.3)


def _replace(rows: list[OptionQuote], expiry: date, strike: float, right: str, **kw: Any) -> list:
    out = []
    for q in rows:
        c = q.contract
        if (c.expiry, c.strike, c.right) == (expiry, strike, right):
            q = quote(expiry, strike, right, kw.get("iv", q.iv), kw.get("delta", q.delta))
        out.append(q)
    return out


GOOD = flat_smile(FRONT, 0.2) + flat_smile(NEXT, 0.22)
NO_SPOT = UnderlyingQuote("XLF", math.nan, math.nan, 100.0, TS)
MISSING_SURFACE: dict[str, tuple[Chain, str]] = {
    "one expiry": (chain(flat_smile(FRONT, 0.2)), r"chain holds 1 expiry\(ies\), two needed"),
    "no front": (
        chain(
            flat_smile(TODAY + timedelta(days=5), 0.2) + flat_smile(TODAY + timedelta(days=12), 0.2)
        ),
        r"^XLF: no front expiry: none 20 or more days out; the last is 2026-03-14 \(12 d\)$",
    ),
    "no next": (
        chain(flat_smile(TODAY + timedelta(days=5), 0.2) + flat_smile(NEXT, 0.2)),
        r"^XLF: no next expiry: none 50 or more days out after the front 2026-05-01$",
    ),
    "atm iv": (
        chain(_replace(_replace(GOOD, FRONT, 100.0, "C", iv=math.nan), FRONT, 100.0, "P", iv=0.0)),
        r"^XLF 2026-03-27: no IV at strike 100 next to spot 100 "
        r"\(neither call nor put IV is known\)$",
    ),
    "spot outside": (chain(GOOD, spot=130.0), r"spot 130 outside the chain's strikes 80..120"),
    "put deltas": (
        chain([q for q in GOOD if not (q.contract.right == "P" and q.contract.strike < 95)]),
        r"^XLF 2026-03-27 25-delta put: delta -0.25 not bracketed by adjacent strikes "
        r"\(deltas -0.950..-0.387\)$",
    ),
    "nan delta": (
        chain(_replace(GOOD, FRONT, 110.0, "C", delta=math.nan)),
        r"25-delta call: delta \+0.25 not bracketed .*, 1 delta\(s\) NaN\)$",
    ),
    "bracket iv": (
        chain(_replace(GOOD, FRONT, 115.0, "C", iv=math.nan)),
        r"25-delta call: IV unknown at strike 115 \(delta \+0.162\)$",
    ),
    "no spot": (
        Chain("XLF", NO_SPOT, tuple(GOOD), 1, TS),
        r"underlying bid/ask unusable \(nan/nan\), no spot",
    ),
}


@pytest.mark.parametrize("case", list(MISSING_SURFACE))
def test_surface_points_missing_data_says_why(case: str) -> None:
    c, reason = MISSING_SURFACE[case]
    with pytest.raises(DataUnavailable, match=reason):
        surface_points(c, TODAY, CFG)


def test_surface_points_skip_short_expiries() -> None:
    p = surface_points(chain(GOOD + flat_smile(TODAY + timedelta(days=5), 0.1)), TODAY, CFG)
    assert (p.front_expiry, p.front_iv) == (FRONT, pytest.approx(0.2))


# ---------------------------------------------------------------------- labels


def test_trend_labels_at_the_thresholds() -> None:
    cfg = CFG  # adx_trend 25
    assert trend_label(103.0, 102.0, 101.0, 25.0, cfg) == "up"
    assert trend_label(103.0, 102.0, 101.0, 24.999, cfg) == "none"
    assert trend_label(99.0, 100.0, 101.0, 25.0, cfg) == "down"
    assert trend_label(102.0, 102.0, 101.0, 40.0, cfg) == "none"  # close not above the fast SMA
    assert trend_label(103.0, 101.0, 101.0, 40.0, cfg) == "none"  # SMAs not ordered
    assert trend_label(100.5, 100.0, 101.0, 40.0, cfg) == "none"  # above fast, fast below slow


def test_structure_labels_at_the_thresholds() -> None:
    cfg = CFG  # adx_range 20
    assert structure_label(105.01, 105.0, 95.0, 10.0, cfg) == "breakout_up"
    assert structure_label(105.0, 105.0, 95.0, 19.999, cfg) == "range"  # on the bound is inside
    assert structure_label(95.0, 105.0, 95.0, 20.0, cfg) == "neutral"  # ADX 20 is not < 20
    assert structure_label(94.99, 105.0, 95.0, 45.0, cfg) == "breakout_down"


def test_ivr_term_skew_labels_at_the_thresholds() -> None:
    cfg = CFG  # high_ivr 50, low_ivr 30, term_flat_band 0.005, skew_marked 0.04
    assert [ivr_label(x, cfg) for x in (50.0, 49.99, 30.0, 29.99, 0.0, 100.0)] == [
        "high", "mid", "mid", "low", "low", "high"
    ]  # fmt: skip
    assert [term_label(x, cfg) for x in (0.005, 0.0049, 0.0, -0.0049, -0.005)] == [
        "contango", "flat", "flat", "flat", "backwardation"
    ]  # fmt: skip
    assert [skew_label(x, cfg) for x in (0.04, 0.0399, -0.02)] == ["marked", "normal", "normal"]


_ORDER = {"low": 0, "mid": 1, "high": 2, "backwardation": 0, "flat": 1, "contango": 2}
finite = st.floats(-1e3, 1e3, allow_nan=False)


@given(a=st.floats(0.0, 100.0), b=st.floats(0.0, 100.0))
def test_ivr_label_is_monotonic(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert _ORDER[ivr_label(lo, CFG)] <= _ORDER[ivr_label(hi, CFG)]


@given(a=st.floats(-0.5, 0.5), b=st.floats(-0.5, 0.5))
def test_term_and_skew_labels_are_monotonic(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert _ORDER[term_label(lo, CFG)] <= _ORDER[term_label(hi, CFG)]
    assert not (skew_label(lo, CFG) == "marked" and skew_label(hi, CFG) == "normal")


@given(close=finite, fast=finite, slow=finite, adx_value=st.floats(0.0, 100.0))
def test_trend_label_is_exclusive_and_exhaustive(
    close: float, fast: float, slow: float, adx_value: float
) -> None:
    label = trend_label(close, fast, slow, adx_value, CFG)
    up = close > fast > slow and adx_value >= CFG.adx_trend
    down = close < fast < slow and adx_value >= CFG.adx_trend
    assert not (up and down)
    assert label == ("up" if up else "down" if down else "none")


@given(close=finite, a=finite, b=finite, adx_value=st.floats(0.0, 100.0))
def test_structure_label_is_exclusive_and_exhaustive(
    close: float, a: float, b: float, adx_value: float
) -> None:
    lo, hi = sorted((a, b))
    label = structure_label(close, hi, lo, adx_value, CFG)
    conditions = {
        "breakout_up": close > hi,
        "breakout_down": close < lo,
        "range": lo <= close <= hi and adx_value < CFG.adx_range,
        "neutral": lo <= close <= hi and adx_value >= CFG.adx_range,
    }
    assert sum(conditions.values()) == 1 and conditions[label]


# ---------------------------------------------------------------------- classify


def test_clean_uptrend_and_downtrend() -> None:
    up = classify("XLF", history(uptrend()), points(), CFG)
    assert (up.trend, up.structure) == ("up", "breakout_up")
    assert up.adx == pytest.approx(100.0) and up.close > up.sma_fast > up.sma_slow
    down = classify("XLF", history(uptrend(step=-0.003)), points(), CFG)
    assert (down.trend, down.structure) == ("down", "breakout_down")


def test_flat_noisy_series_is_a_range() -> None:
    r = classify("XLF", history(ranging()), points(), CFG)
    assert r.adx < CFG.adx_range
    assert (r.trend, r.structure) == ("none", "range")
    assert r.channel_low <= r.close <= r.channel_high


def test_jump_above_the_20_day_high_is_a_breakout() -> None:
    close = ranging()
    base = classify("XLF", history(close), points(), CFG)
    for last, label in (
        (base.channel_high + 0.01, "breakout_up"),
        (base.channel_low - 0.01, "breakout_down"),
    ):
        c = close.copy()
        c[-1] = last
        h = history(c, high=np.maximum(c * 1.002, c), low=np.minimum(c * 0.998, c))
        assert classify("XLF", h, points(), CFG).structure == label
    # A close exactly on the channel high is inside it.
    c = close.copy()
    c[-1] = base.channel_high
    h = history(c, high=np.maximum(close * 1.002, c), low=close * 0.998)
    assert classify("XLF", h, points(), CFG).structure == "range"


def test_breakout_channel_is_the_prior_sessions() -> None:
    h = history(ranging())
    r = classify("XLF", h, points(), CFG)
    assert r.channel_high == h.high[-21:-1].max() and r.channel_low == h.low[-21:-1].min()
    high, low = h.high.copy(), h.low.copy()
    high[-1], low[-1] = 1000.0, 1.0  # today's own range never widens the channel
    r2 = classify("XLF", history(h.close, high=high, low=low), points(), CFG)
    assert (r2.channel_high, r2.channel_low) == (r.channel_high, r.channel_low)


@pytest.mark.parametrize(
    ("today", "over", "label"),
    [
        (0.25, {}, "high"),  # rank exactly 50 = high_ivr
        (0.25, {"high_ivr": 50.5}, "mid"),
        (0.1875, {"low_ivr": 25.0}, "mid"),  # rank exactly 25 = low_ivr: not below it
        (0.1875, {"low_ivr": 25.5}, "low"),
        (0.375, {}, "high"),
        (0.125, {}, "low"),
    ],
)
def test_iv_rank_thresholds(today: float, over: dict[str, Any], label: str) -> None:
    r = classify("XLF", history(ranging(), iv=mid_iv(300, today)), points(), make_cfg(**over))
    assert r.ivr == label
    assert r.iv == today


def test_iv_rank_and_percentile_known_values() -> None:
    r = classify("XLF", history(ranging(), iv=mid_iv(300)), points(), CFG)
    assert r.iv_rank == 50.0
    # Today's 0.25 is above one (0.125) of the 251 sessions before it.
    assert r.iv_percentile == pytest.approx(100.0 / 251.0)
    r = classify("XLF", history(ranging(), iv=mid_iv(300, 0.375 + 0.125)), points(), CFG)
    assert r.iv_rank == 100.0 and r.iv_percentile == 100.0


def test_atr_known_value_and_regime_outputs() -> None:
    c = np.full(300, 50.0)
    h = history(c, high=c + 0.5, low=c - 0.5)  # true range 1.00 every session
    r = classify("XLF", h, points(), CFG)
    assert r.atr == pytest.approx(1.0) and r.atr_pct == pytest.approx(2.0)
    assert r.adx == 0.0 and (r.trend, r.structure) == ("none", "range")
    assert r.sma_fast == 50.0 and r.sma_slow == 50.0 and r.day == h.dates[-1]
    assert r.labels() == {
        "trend": "none", "structure": "range", "ivr": "high", "term": "contango", "skew": "normal"
    }  # fmt: skip
    assert list(r.labels()) == list(LABELS)
    assert r.summary() == "no trend, range, IVR 50 high, contango, skew normal"
    d = r.as_dict()
    assert d["labels"] == r.labels() and d["day"] == h.dates[-1].isoformat()
    assert d["atr_pct"] == 2.0 and d["skew"] == 0.03 and d["term_slope"] == 0.02
    assert d["front_expiry"] == FRONT.isoformat()
    assert set(d) >= {"close", "sma_fast", "sma_slow", "adx", "iv_rank", "iv_percentile",
                      "channel_high", "channel_low", "front_iv", "next_iv", "put25_iv",
                      "call25_iv"}  # fmt: skip


def test_short_or_missing_history_is_data_unavailable() -> None:
    with pytest.raises(
        DataUnavailable,
        match=r"^no regime for XLF: 180 sessions of history, 252 needed "
        r"\(IV rank over 252 sessions\)$",
    ):
        classify("XLF", history(ranging(180)), points(), CFG)
    with pytest.raises(
        DataUnavailable, match=r"40 sessions of history, 252 needed \(SMA 50, IV rank"
    ):
        classify("XLF", history(ranging(40)), points(), CFG)

    h = history(ranging())
    iv = h.iv.copy()
    iv[-3] = math.nan
    with pytest.raises(
        DataUnavailable,
        match=rf"IV missing on 1 of the last 252 sessions \(first {h.dates[-3]}\)",
    ):
        classify("XLF", history(h.close, iv=iv), points(), CFG)

    close = h.close.copy()
    close[-1] = math.nan
    with pytest.raises(DataUnavailable, match=r"close missing on 1 of the last 50 sessions"):
        classify("XLF", history(close), points(), CFG)

    high = h.high.copy()
    high[-5] = math.inf
    with pytest.raises(DataUnavailable, match=r"high missing on 1 of the 20 sessions before"):
        classify("XLF", history(h.close, high=high, low=h.low), points(), CFG)

    high = h.high.copy()
    high[-25] = math.nan  # outside the channel, inside ADX's warm-up
    with pytest.raises(
        DataUnavailable,
        match=rf"ADX 14 needs 28 complete sessions, 24 since the bar missing on {h.dates[-25]}",
    ):
        classify("XLF", history(h.close, high=high, low=h.low), points(), CFG)

    with pytest.raises(DataUnavailable, match=r"IV flat at 0.2000 over the last 252 sessions"):
        classify("XLF", history(h.close, iv=np.full(300, 0.2)), points(), CFG)

    with pytest.raises(DataUnavailable, match=r"surface point put25_iv is nan"):
        classify("XLF", h, points(put25=math.nan), CFG)

    with pytest.raises(ValueError, match=r"history of 'XLF'"):
        classify("EEM", h, points(), CFG)


def test_gaps_older_than_needed_do_not_matter() -> None:
    h = history(ranging())
    iv, high = h.iv.copy(), h.high.copy()
    iv[:40] = math.nan  # beyond the 252-session IV window
    high[-60] = math.nan  # ADX restarts after it: 59 complete bars ≥ 28
    r = classify("XLF", history(h.close, iv=iv, high=high, low=h.low), points(), CFG)
    assert (r.trend, r.structure) == ("none", "range")


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    drift=st.floats(-0.004, 0.004),
    bump=st.floats(0.0, 0.5),
)
def test_classify_invariants_on_random_walks(seed: int, drift: float, bump: float) -> None:
    rng = np.random.default_rng(seed)
    n = 260
    close = 50.0 * np.exp(np.cumsum(drift + rng.normal(0.0, 0.012, n)))
    spread = close * rng.uniform(0.002, 0.02, n)
    high, low = close + spread * rng.random(n), close - spread * rng.random(n)
    iv = 0.2 * np.exp(np.cumsum(rng.normal(0.0, 0.04, n)))
    r = classify("XLF", history(close, iv=iv, high=high, low=low), points(), CFG)
    for dim, label in r.labels().items():
        assert label in LABELS[dim]
    assert 0.0 <= r.adx <= 100.0 and 0.0 <= r.iv_rank <= 100.0 and 0.0 <= r.iv_percentile <= 100
    assert (r.trend == "up") == (r.close > r.sma_fast > r.sma_slow and r.adx >= CFG.adx_trend)
    assert (r.structure == "breakout_up") == (r.close > r.channel_high)
    if r.structure == "range":
        assert r.adx < CFG.adx_range and r.trend == "none"
    # Raising today's IV never lowers the IV rank label (low < mid < high).
    iv2 = iv.copy()
    iv2[-1] *= 1.0 + bump
    r2 = classify("XLF", history(close, iv=iv2, high=high, low=low), points(), CFG)
    assert r2.iv_rank >= r.iv_rank and _ORDER[r2.ivr] >= _ORDER[r.ivr]


# ---------------------------------------------------------------------- the real simulated market


@pytest.fixture(scope="module")
def sim_regimes(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Regime], int]:
    """Classify the universe over 120 simulated sessions (each listing every third session)."""
    cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    services = build_sim_services(
        cfg, Path(tmp_path_factory.mktemp("sim")), days=5, emit=lambda _m: None
    )
    broker = services.broker
    start = services.clock.now().date()
    sessions = services.calendars.union_sessions(start, start + timedelta(days=200))[:120]
    listings = sorted(services.listings)
    out: list[Regime] = []
    for i, day in enumerate(sessions):
        broker.on_time(datetime.combine(day, time(10, 0), MARKET_TZ))
        for j, lid in enumerate(listings):
            if (i + j) % 3:
                continue
            hist = broker.history(lid, CFG.sessions_needed)
            front, nxt = term_expiries(broker.expiries(lid), day, CFG)
            spot = broker.underlying_quote(lid).mid
            width = 2.0 * float(hist.iv[-1]) * math.sqrt((nxt - day).days / 365.0)
            strikes = (spot * math.exp(-width), spot * math.exp(width))
            pts = surface_points(broker.option_chain(lid, [front, nxt], strikes), day, CFG)
            out.append(classify(lid, hist, pts, CFG))
    return out, len(sessions)


def test_sim_market_shows_every_trend_and_both_iv_rank_extremes(
    sim_regimes: tuple[list[Regime], int],
) -> None:
    regimes, sessions = sim_regimes
    assert sessions == 120
    assert {r.listing_id for r in regimes} == set(shipped()["universe"])
    counts = {dim: Counter(r.labels()[dim] for r in regimes) for dim in LABELS}
    assert set(counts["trend"]) == {"up", "down", "none"}, counts["trend"]
    assert {"high", "low"} <= set(counts["ivr"]), counts["ivr"]
    assert {"range", "breakout_up", "breakout_down"} <= set(counts["structure"])
    assert {"contango", "backwardation"} <= set(counts["term"]), counts["term"]
    assert set(counts["skew"]) == {"marked", "normal"}, counts["skew"]
    rules = shipped_regime_rules()
    fits = Counter(s for r in regimes for s, rule in rules.items() if not rule.failed(r.labels()))
    assert set(fits) == set(rules), fits
