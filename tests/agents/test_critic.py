"""Critic / Stress: hand-checked scenario P&Ls, limits and reasons, multi-expiry repricing, ranking,
and properties (a single-expiry structure never loses more than its max loss; score in 0..100)."""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from seeker.agents import critic
from seeker.agents.critic import CriticConfig, critique, rank
from seeker.agents.verdict import Verdict
from seeker.core.calendar import MARKET_TZ
from seeker.core.models import Action, Leg, OptionContract, OptionQuote
from seeker.core.pricing import bs_price, bs_price_greeks
from seeker.core.structures import Setup
from tests.support import ROOT

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=MARKET_TZ)
EXP = date(2026, 4, 17)  # 46 DTE
R, Q = 0.04, 0.015
SPOT = 50.0
MULT = 100
YEAR = 365.0 * 86400.0

BASE: dict[str, Any] = {
    "gap_pct": 5.0,
    "iv_spike_points": 10.0,
    "max_stress_loss_pct": 90.0,
    "min_credit_to_risk": 0.15,
    "min_reward_to_risk": 0.05,
    "weight_stress": 0.5,
    "weight_reward": 0.3,
    "weight_theta": 0.2,
}


def cfg(**kw: Any) -> CriticConfig:
    return CriticConfig.model_validate({**BASE, **kw})


def years(expiry: date, now: datetime = NOW) -> float:
    return (datetime.combine(expiry, time(16), MARKET_TZ) - now).total_seconds() / YEAR


def bs(s: float, k: float, t: float, iv: float, right: str, r: float = R, q: float = Q) -> float:
    return float(bs_price(s, k, t, r, iv, right == "C", q))


def quote(
    expiry: date,
    strike: float,
    right: str,
    iv: float,
    spot: float = SPOT,
    r: float = R,
    q: float = Q,
    half: float = 0.005,
) -> OptionQuote:
    """Return a quote whose mid is the Black-Scholes price at `iv` (so model value = mid)."""
    g = bs_price_greeks(spot, strike, years(expiry), r, iv, right == "C", q)
    p = float(g["price"])
    half = min(half, p)
    return OptionQuote(
        OptionContract("XLF", expiry, strike, right),  # type: ignore[arg-type]
        bid=p - half,
        ask=p + half,
        iv=iv,
        delta=float(g["delta"]),
        gamma=float(g["gamma"]),
        vega=float(g["vega"]),
        theta=float(g["theta"]),
        open_interest=5000,
        volume=100,
        underlying_price=spot,
        ts=NOW,
    )


LegSpec = tuple[Action, date, float, str, float] | tuple[Action, date, float, str, float, int]


def make_setup(
    kind: str,
    specs: list[LegSpec],
    spot: float = SPOT,
    fixed: float | None = None,
    r: float = R,
    q: float = Q,
) -> Setup:
    legs, quotes = [], []
    for spec in specs:
        action, expiry, strike, right, iv = spec[:5]
        ratio = spec[5] if len(spec) == 6 else 1  # type: ignore[misc]
        oq = quote(expiry, strike, right, iv, spot, r, q)
        legs.append(Leg(oq.contract, action, ratio))
        quotes.append(oq)
    dte = (min(s[1] for s in specs) - NOW.date()).days
    return Setup("test", "XLF", kind, tuple(legs), tuple(quotes), spot, dte, kind, {}, fixed)


def put_credit_spread(short: float = 48.0, long: float = 47.0, expiry: date = EXP) -> Setup:
    return make_setup("pcs", [("SELL", expiry, short, "P", 0.25), ("BUY", expiry, long, "P", 0.26)])


def fragile() -> Setup:
    """Return an at-the-money 1 $ put spread expiring in 2 days: a 5 % gap nearly maxes it out."""
    return put_credit_spread(50.0, 49.0, date(2026, 3, 4))


def iron_condor() -> Setup:
    return make_setup(
        "ic",
        [
            ("SELL", EXP, 47.0, "P", 0.25),
            ("BUY", EXP, 46.0, "P", 0.26),
            ("SELL", EXP, 53.0, "C", 0.21),
            ("BUY", EXP, 54.0, "C", 0.21),
        ],
    )


def long_put() -> Setup:
    return make_setup("long_put", [("BUY", EXP, 50.0, "P", 0.23)])


def scenario(v: Verdict, name: str) -> dict[str, Any]:
    found = [s for s in v.details["scenarios"] if s["name"] == name]
    assert found, [s["name"] for s in v.details["scenarios"]]
    return found[0]


# ---------------------------------------------------------------------------- hand-checked


def test_put_credit_spread_gap_down_matches_bs_by_hand() -> None:
    s = put_credit_spread()
    rt = 2.60  # 2 legs × 0.65 $ × open and close, $ per unit
    v = critique(s, R, Q, NOW, 21, rt, MULT, cfg())
    t = years(EXP)
    value = -bs(47.5, 48.0, t, 0.25, "P") + bs(47.5, 47.0, t, 0.26, "P")
    expected = value - s.mid - rt / MULT
    gap = scenario(v, "gap −5 %")
    assert gap["spot"] == 47.5
    assert gap["pnl"] == pytest.approx(expected, abs=1e-4)
    assert gap["pnl_usd"] == pytest.approx(expected * MULT, abs=0.01)
    touch = scenario(v, "touch 48P")
    t_value = -bs(48.0, 48.0, t, 0.25, "P") + bs(48.0, 47.0, t, 0.26, "P")
    assert touch["pnl"] == pytest.approx(t_value - s.mid - rt / MULT, abs=1e-4)
    # max loss = width − credit + commissions
    assert v.details["max_loss"] == pytest.approx(1.0 + s.mid + rt / MULT, abs=1e-4)
    assert v.details["credit_to_risk"] == pytest.approx(-s.mid / (1.0 + s.mid + 0.026), abs=1e-4)
    assert v.details["worst_stress"]["name"] in ("gap −5 %", "touch 48P")
    assert v.agent == "critic" and 0.0 <= (v.score or -1) <= 100.0


def test_iv_spike_hurts_short_vega_and_helps_long_vega() -> None:
    short = critique(iron_condor(), R, Q, NOW, 21, 0.0, MULT, cfg())
    long = critique(long_put(), R, Q, NOW, 21, 0.0, MULT, cfg())
    # Quotes are priced at their IV, so the unshocked P&L at mid is 0 without commissions.
    assert scenario(short, "IV +10 pts")["pnl"] < -0.05
    assert scenario(long, "IV +10 pts")["pnl"] > 0.2
    t = years(EXP)
    expected = bs(SPOT, 50.0, t, 0.33, "P") - bs(SPOT, 50.0, t, 0.23, "P")
    assert scenario(long, "IV +10 pts")["pnl"] == pytest.approx(expected, abs=1e-4)


def test_decay_to_management_date_favours_short_premium() -> None:
    rt = 5.20  # 4 legs
    ic = critique(iron_condor(), R, Q, NOW, 21, rt, MULT, cfg())
    lp = critique(long_put(), R, Q, NOW, 21, 1.30, MULT, cfg(min_reward_to_risk=0.0))
    assert ic.details["theta_captured"] > 0.0
    assert scenario(ic, "decay to 21 DTE")["pnl"] > 0.0  # even after round-trip commissions
    assert lp.details["theta_captured"] < 0.0
    assert scenario(ic, "decay to 21 DTE")["days_forward"] == pytest.approx(
        (EXP - NOW.date()).days - 21 + 5.5 / 24, abs=1e-3
    )
    theta_only = cfg(weight_stress=0.0, weight_reward=0.0, weight_theta=1.0, min_reward_to_risk=0)
    ic_t = critique(iron_condor(), R, Q, NOW, 21, rt, MULT, theta_only)
    lp_t = critique(long_put(), R, Q, NOW, 21, 1.30, MULT, theta_only)
    assert ic_t.score is not None and lp_t.score is not None
    assert ic_t.score > lp_t.score == 0.0
    assert ic_t.score == pytest.approx(
        100.0 * ic.details["theta_captured"] / ic.details["max_loss"], abs=0.1
    )


def test_decay_already_inside_management_window_does_not_move_time() -> None:
    v = critique(iron_condor(), R, Q, NOW, 60, 0.0, MULT, cfg(min_credit_to_risk=0.0))
    assert scenario(v, "decay to 60 DTE")["days_forward"] == 0.0
    assert v.details["theta_captured"] == 0.0


def test_score_formula() -> None:
    v = critique(iron_condor(), R, Q, NOW, 21, 5.2, MULT, cfg())
    c = v.details["components"]
    ml = v.details["max_loss"]
    assert c["stress"] == pytest.approx(1.0 - v.details["worst_stress"]["loss"] / ml, abs=1e-3)
    assert c["reward"] == pytest.approx(v.details["credit_to_risk"], abs=1e-4)
    expected = 100.0 * (0.5 * c["stress"] + 0.3 * c["reward"] + 0.2 * c["theta"])
    assert v.score == pytest.approx(expected, abs=0.06)


# ---------------------------------------------------------------------------- limits


def test_stress_limit_reason_names_the_scenario_and_figures() -> None:
    s = fragile()
    v = critique(s, R, Q, NOW, 21, 2.6, MULT, cfg(min_credit_to_risk=0.0))
    assert not v.allowed
    w = v.details["worst_stress"]
    assert w["name"] == "gap −5 %"
    assert w["loss_pct_of_max"] > 90.0
    assert v.reason == (
        f"gap −5 % loses {w['loss']:.2f} $ = {w['loss_pct_of_max']:.0f} % of max loss > 90 %"
    )
    assert v.score is not None  # scored even when refused, for the journal


def test_stress_limit_can_be_met_by_a_wider_margin() -> None:
    v = critique(iron_condor(), R, Q, NOW, 21, 5.2, MULT, cfg(min_credit_to_risk=0.0))
    assert v.allowed, v.reason
    pct = v.details["worst_stress"]["loss_pct_of_max"]
    tight = critique(
        iron_condor(),
        R,
        Q,
        NOW,
        21,
        5.2,
        MULT,
        cfg(min_credit_to_risk=0.0, max_stress_loss_pct=pct - 1),
    )
    assert not tight.allowed
    assert re.fullmatch(
        rf"{re.escape(v.details['worst_stress']['name'])} loses \d+\.\d\d \$ = \d+ % of max loss "
        rf"> {pct - 1:g} %",
        tight.reason,
    )


def test_credit_to_risk_limit() -> None:
    s = iron_condor()
    v = critique(s, R, Q, NOW, 21, 5.2, MULT, cfg(min_credit_to_risk=0.9))
    assert not v.allowed
    ml = v.details["max_loss"]
    assert v.reason == f"credit {-s.mid:.2f} $ / max loss {ml:.2f} $ = {-s.mid / ml:.2f} < 0.9"


def test_reward_to_risk_limit_for_debit_structures() -> None:
    v = critique(long_put(), R, Q, NOW, 21, 1.30, MULT, cfg())
    assert not v.allowed
    decay = scenario(v, "decay to 21 DTE")["pnl"]
    ml = v.details["max_loss"]
    assert decay < 0.0
    assert v.reason.startswith(f"reward at 21 DTE {decay:.2f} $ / max loss {ml:.2f} $ = ")
    assert v.reason.endswith("< 0.05")
    assert v.details["reward_to_risk"] == pytest.approx(decay / ml, abs=1e-3)


def test_several_limits_are_all_named() -> None:
    v = critique(fragile(), R, Q, NOW, 21, 2.6, MULT, cfg(min_credit_to_risk=0.9))
    assert not v.allowed
    assert v.reason.startswith("gap −5 % loses") and "; credit " in v.reason


def test_nan_iv_is_missing_data() -> None:
    s = iron_condor()
    quotes = (s.quotes[0]._replace(iv=math.nan), *s.quotes[1:])
    v = critique(replace(s, quotes=quotes), R, Q, NOW, 21, 5.2, MULT, cfg())
    assert not v.allowed and v.details["missing_data"] is True
    assert "XLF 2026-04-17 47P: IV missing or NaN" in v.reason
    quotes = (*s.quotes[:3], s.quotes[3]._replace(bid=math.nan))
    v = critique(replace(s, quotes=quotes), R, Q, NOW, 21, 5.2, MULT, cfg())
    assert v.details["missing_data"] is True and "bid/ask missing" in v.reason
    v = critique(s, math.nan, Q, NOW, 21, 5.2, MULT, cfg())
    assert v.details["missing_data"] is True and "risk-free rate missing" in v.reason


def test_naked_and_expired_are_refused() -> None:
    naked = make_setup("naked", [("SELL", EXP, 47.0, "P", 0.25), ("SELL", EXP, 53.0, "C", 0.2)])
    v = critique(naked, R, Q, NOW, 21, 2.6, MULT, cfg())
    assert not v.allowed and "not risk-defined" in v.reason
    later = datetime(2026, 4, 17, 16, 5, tzinfo=MARKET_TZ)
    v = critique(iron_condor(), R, Q, later, 21, 5.2, MULT, cfg())
    assert not v.allowed and "already expired" in v.reason


def test_mismatched_quotes_are_a_programming_error() -> None:
    s = iron_condor()
    with pytest.raises(ValueError, match="does not match"):
        critique(replace(s, quotes=s.quotes[::-1]), R, Q, NOW, 21, 5.2, MULT, cfg())
    with pytest.raises(ValueError, match="aware"):
        critique(s, R, Q, NOW.replace(tzinfo=None), 21, 5.2, MULT, cfg())


# ---------------------------------------------------------------------------- multi-expiry


def test_diagonal_reprices_each_leg_on_its_own_time() -> None:
    near, far = date(2026, 3, 27), date(2026, 5, 15)
    s = make_setup(
        "diagonal",
        [("SELL", near, 49.0, "P", 0.27), ("BUY", far, 48.0, "P", 0.24)],
        fixed=0.60,
    )
    rt = 2.6
    v = critique(s, R, Q, NOW, 7, rt, MULT, cfg(min_reward_to_risk=0.0))
    t_near, t_far = years(near), years(far)
    gap = -bs(47.5, 49.0, t_near, 0.27, "P") + bs(47.5, 48.0, t_far, 0.24, "P")
    assert scenario(v, "gap −5 %")["pnl"] == pytest.approx(gap - s.mid - rt / MULT, abs=1e-4)
    # Managed when the short leg has 7 days left: 2026-03-20 16:00; the long has 56 days then.
    assert v.details["manage_at"] == "2026-03-20T16:00:00-04:00"
    decay = -bs(SPOT, 49.0, 7 / 365, 0.27, "P") + bs(SPOT, 48.0, 56 / 365, 0.24, "P")
    assert scenario(v, "decay to 7 DTE")["pnl"] == pytest.approx(
        decay - s.mid - rt / MULT, abs=1e-4
    )
    # A long-vega structure: the IV spike helps.
    assert scenario(v, "IV +10 pts")["pnl"] > 0.0
    # Pricing both legs on the short leg's time would give a very different value.
    wrong = -bs(47.5, 49.0, t_near, 0.27, "P") + bs(47.5, 48.0, t_near, 0.24, "P")
    assert abs(wrong - gap) > 0.3
    assert v.details["max_loss"] == pytest.approx(0.60 + rt / MULT, abs=1e-4)


# ---------------------------------------------------------------------------- batch


def test_critique_many_gives_each_setup_its_own_verdict_bit_for_bit() -> None:
    near, far = date(2026, 3, 27), date(2026, 5, 15)
    diagonal = make_setup(
        "diagonal", [("SELL", near, 49.0, "P", 0.27), ("BUY", far, 48.0, "P", 0.24)], fixed=0.6
    )
    naked = make_setup("naked", [("SELL", EXP, 47.0, "P", 0.25), ("SELL", EXP, 53.0, "C", 0.2)])
    s = iron_condor()
    missing = replace(s, quotes=(s.quotes[0]._replace(iv=math.nan), *s.quotes[1:]))
    setups = [iron_condor(), naked, fragile(), missing, diagonal, long_put(), put_credit_spread()]
    commissions = [5.2, 2.6, 2.6, 5.2, 2.6, 1.3, 2.6]
    c = cfg(min_reward_to_risk=0.0)
    many = critic.critique_many(setups, R, Q, NOW, 7, commissions, MULT, c)
    alone = [
        critique(replace(s), R, Q, NOW, 7, rt, MULT, c)
        for s, rt in zip(setups, commissions, strict=True)
    ]
    assert [repr(v) for v in many] == [repr(v) for v in alone]
    assert [v.allowed for v in many].count(True) >= 1
    assert critic.critique_many([], R, Q, NOW, 7, [], MULT, c) == []


# ---------------------------------------------------------------------------- ranking


def test_rank_keeps_survivors_best_first() -> None:
    verdicts = [
        ("a", Verdict("critic", True, "", score=50.0)),
        ("b", Verdict("critic", False, "fragile", score=90.0)),
        ("c", Verdict("critic", True, "", score=70.0)),
        ("d", Verdict("critic", True, "", score=50.0)),
    ]
    assert [name for name, _ in rank(verdicts)] == ["c", "a", "d"]
    ranked = rank(
        [
            (s, critique(s, R, Q, NOW, 21, 2.6, MULT, cfg(min_credit_to_risk=0.0)))
            for s in (fragile(), iron_condor())
        ]
    )
    assert [s.kind for s, _ in ranked] == ["ic"]


# ---------------------------------------------------------------------------- config


def test_config_is_strict_and_snippet_validates() -> None:
    for bad in (
        {"gap_pct": 0.0},
        {"max_stress_loss_pct": 120.0},
        {"min_credit_to_risk": -0.1},
        {"weight_stress": 0.0, "weight_reward": 0.0, "weight_theta": 0.0},
        {"extra": 1},
        {"gap_pct": "5"},
    ):
        with pytest.raises(ValidationError):
            CriticConfig.model_validate({**BASE, **bad})
    for key in BASE:
        with pytest.raises(ValidationError, match="Field required"):
            CriticConfig.model_validate({k: v for k, v in BASE.items() if k != key})
    with (ROOT / "config" / "seeker.toml").open("rb") as fh:
        data = tomllib.load(fh)
    assert CriticConfig.model_validate(data["critic"]) == cfg()


# ---------------------------------------------------------------------------- properties

FAMILIES = ("put_credit", "call_credit", "put_debit", "call_debit", "condor", "fly", "bwb")


@st.composite
def structures(draw: st.DrawFn) -> tuple[Setup, float, float, float]:
    """Draw a risk-defined single-expiry structure priced on one IV, with r, q ≥ 0 and a fee.

    One IV per structure: with a different IV per leg (skew), model values need not respect the
    bounds of the payoff at expiry, and neither would the property.
    """
    spot = draw(st.floats(10.0, 300.0))
    iv = draw(st.floats(0.08, 0.9))
    r = draw(st.floats(0.0, 0.06))
    q = draw(st.floats(0.0, 0.05))
    dte = draw(st.integers(3, 90))
    inc = 0.5 if spot < 100 else 1.0
    width = inc * draw(st.integers(1, 6))
    center = round(spot * draw(st.floats(0.8, 1.2)) / inc) * inc
    center = max(center, 4 * width + inc)
    family = draw(st.sampled_from(FAMILIES))
    expiry = date.fromordinal(NOW.date().toordinal() + dte)
    k = center
    sp: dict[str, list[LegSpec]] = {
        "put_credit": [("SELL", expiry, k, "P", iv), ("BUY", expiry, k - width, "P", iv)],
        "call_credit": [("SELL", expiry, k, "C", iv), ("BUY", expiry, k + width, "C", iv)],
        "put_debit": [("BUY", expiry, k, "P", iv), ("SELL", expiry, k - width, "P", iv)],
        "call_debit": [("BUY", expiry, k, "C", iv), ("SELL", expiry, k + width, "C", iv)],
        "condor": [
            ("SELL", expiry, k - width, "P", iv),
            ("BUY", expiry, k - 2 * width, "P", iv),
            ("SELL", expiry, k + width, "C", iv),
            ("BUY", expiry, k + 2 * width, "C", iv),
        ],
        "fly": [
            ("SELL", expiry, k, "P", iv),
            ("BUY", expiry, k - width, "P", iv),
            ("SELL", expiry, k, "C", iv),
            ("BUY", expiry, k + width, "C", iv),
        ],
        "bwb": [
            ("BUY", expiry, k + width, "P", iv),
            ("SELL", expiry, k, "P", iv, 2),
            ("BUY", expiry, k - 2 * width, "P", iv),
        ],
    }
    setup = make_setup(family, sp[family], spot=spot, r=r, q=q)
    commission = draw(st.floats(0.0, 8.0))
    return setup, r, q, commission


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structures(), st.integers(0, 30), st.floats(1.0, 30.0), st.floats(1.0, 60.0))
def test_single_expiry_never_loses_more_than_max_loss(
    case: tuple[Setup, float, float, float], manage: int, gap: float, spike: float
) -> None:
    setup, r, q, commission = case
    c = cfg(gap_pct=gap, iv_spike_points=spike)
    v = critique(setup, r, q, NOW, manage, commission, MULT, c)
    if "scenarios" not in v.details:  # e.g. a deep in-the-money spread at zero cost: no risk
        assert not v.allowed and "max loss is 0" in v.reason
        return
    assert v.score is not None and 0.0 <= v.score <= 100.0
    max_loss = v.details["max_loss"]
    for s in v.details["scenarios"]:
        # details are rounded to 1e-4 $ per share
        assert s["pnl"] >= -max_loss - 2e-4, (s, max_loss, setup.label)
    assert 0.0 <= v.details["worst_stress"]["loss_pct_of_max"] <= 100.0 + 0.1
    if v.allowed:
        assert v.details["worst_stress"]["loss_pct_of_max"] <= c.max_stress_loss_pct + 1e-6


@given(st.lists(st.sampled_from([-1.5, -0.0, 0.0, 2.0, math.nan]) | st.floats(), min_size=1))
def test_argmin_picks_what_numpy_picks(values: list[float]) -> None:
    assert critic._argmin(values) == int(np.argmin(np.array(values)))
