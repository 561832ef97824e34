"""Tests for strategy selection: the spec's v1 rules, reasons, config errors and properties."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seeker.agents.regime import LABELS, Regime, classify, ivr_label
from seeker.agents.selection import RegimeRule, SideOf, select
from seeker.agents.verdict import Verdict
from seeker.config.loading import ConfigError, validate_config
from seeker.strategies.credit_spread.strategy import trend_side
from tests.agents.test_regime import history, make_cfg, mid_iv, points, ranging
from tests.support import ROOT, shipped, shipped_regime_rules, strategy_config_models

SEL = shipped_regime_rules()
"""Each shipped strategy's regime rule (``[strategies.<name>.regime]``), in enabled order."""
STRATEGIES = tuple(SEL)
SIDE_OF: dict[str, SideOf] = {"credit_spread": trend_side}
RCFG = make_cfg()


def fitting_strategies(r: Regime, rules: dict[str, RegimeRule]) -> list[str]:
    """Return the strategies whose rule accepts `r`, in enabled order."""
    return [name for name, rule in rules.items() if not rule.failed(r.labels())]


def credit_spread_side(r: Regime) -> str | None:
    """Return the credit spread's side in `r`."""
    return trend_side(r)


def _select(name: str, r: Regime, rules: dict[str, RegimeRule]) -> Verdict:
    """Return the regime verdict on `name` under `rules` (its side when it takes one)."""
    return select(name, rules[name], r, SIDE_OF.get(name))


def regime(
    trend: str = "none",
    structure: str = "range",
    ivr: str = "high",
    term: str = "contango",
    skew: str = "normal",
    iv_rank: float = 62.0,
) -> Regime:
    """Return a regime with the given labels (measures are placeholders, only labels matter)."""
    return Regime(
        listing_id="XLF",
        day=date(2026, 3, 2),
        close=52.0,
        sma_fast=51.5,
        sma_slow=51.0,
        adx=18.0,
        atr=0.6,
        atr_pct=1.154,
        iv=0.21,
        iv_rank=iv_rank,
        iv_percentile=70.0,
        channel_high=53.0,
        channel_low=50.0,
        front_expiry=date(2026, 3, 27),
        next_expiry=date(2026, 5, 1),
        front_iv=0.2,
        next_iv=0.22,
        term_slope=0.02,
        put25_iv=0.22,
        call25_iv=0.19,
        skew=0.03,
        trend=trend,  # type: ignore[arg-type]
        ivr=ivr,  # type: ignore[arg-type]
        structure=structure,  # type: ignore[arg-type]
        term=term,  # type: ignore[arg-type]
        skew_label=skew,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------------- the v1 rules


def test_range_and_high_ivr_fit_iron_condor_and_iron_fly() -> None:
    r = regime()
    assert fitting_strategies(r, SEL) == ["iron_condor", "iron_fly"]
    v = _select("iron_condor", r, SEL)
    assert v.agent == "regime" and v.allowed and v.score is None
    assert v.reason == (
        "iron_condor: range + high IVR (regime: no trend, range, IVR 62 high, contango, "
        "skew normal)"
    )
    assert _select("iron_fly", r, SEL).allowed


def test_trend_and_high_ivr_fit_a_credit_spread_on_the_trend_side() -> None:
    up = regime(trend="up", structure="neutral")
    v = _select("credit_spread", up, SEL)
    assert v.allowed and v.details["side"] == "bull_put"
    assert v.reason.startswith("credit_spread: trend up or down + high IVR → bull_put (regime:")
    down = regime(trend="down", structure="breakout_down")
    v = _select("credit_spread", down, SEL)
    assert v.allowed and v.details["side"] == "bear_call"
    assert fitting_strategies(up, SEL) == ["credit_spread"]
    # A range has no trend: no credit spread, and no side to sell.
    v = _select("credit_spread", regime(), SEL)
    assert not v.allowed and v.details["side"] is None and v.details["failed"] == ["trend"]


def test_low_ivr_fits_the_diagonal_only() -> None:
    for structure in LABELS["structure"]:
        r = regime(structure=structure, ivr="low", iv_rank=12.0)
        assert fitting_strategies(r, SEL) == ["diagonal"]
    assert not _select("diagonal", regime(ivr="mid"), SEL).allowed
    assert not _select("diagonal", regime(ivr="high"), SEL).allowed


def test_marked_skew_fits_the_broken_wing_butterfly_whatever_else() -> None:
    r = regime(trend="down", structure="breakout_down", ivr="mid", term="backwardation")
    assert fitting_strategies(r, SEL) == []
    marked = replace(r, skew_label="marked")
    assert fitting_strategies(marked, SEL) == ["broken_wing_butterfly"]
    v = _select("broken_wing_butterfly", marked, SEL)
    assert v.allowed and v.reason.startswith("broken_wing_butterfly: marked skew (regime:")


def test_refusal_names_the_failed_labels() -> None:
    r = regime(trend="up", structure="neutral", ivr="mid", iv_rank=41.0)
    v = _select("iron_condor", r, SEL)
    assert not v.allowed
    assert v.reason == (
        "iron_condor: range + high IVR needed, regime is neutral structure, IVR 41 mid "
        "(trend up, neutral structure, IVR 41 mid, contango, skew normal)"
    )
    assert v.details["failed"] == ["structure", "ivr"]
    v = _select("broken_wing_butterfly", r, SEL)
    assert v.reason.startswith("broken_wing_butterfly: marked skew needed, regime is skew normal")


def test_verdict_details_carry_the_regime_and_the_rule() -> None:
    r = regime(trend="up", structure="breakout_up")
    v = _select("credit_spread", r, SEL)
    d = v.as_dict()["details"]
    assert {k: d[k] for k in r.as_dict()} == r.as_dict()
    assert d["strategy"] == "credit_spread" and d["failed"] == [] and d["side"] == "bull_put"
    assert d["rule"] == {
        "trend": ["up", "down"],
        "structure": ["range", "breakout_up", "breakout_down", "neutral"],
        "ivr": ["high"],
        "term": ["contango", "backwardation", "flat"],
        "skew": ["marked", "normal"],
    }
    assert "side" not in _select("iron_condor", r, SEL).details


# ---------------------------------------------------------------------- edges through classify


def test_iv_rank_exactly_at_high_ivr_opens_the_condor() -> None:
    h = history(ranging(), iv=mid_iv(300))  # IV rank exactly 50
    at = classify("XLF", h, points(), make_cfg(high_ivr=50.0))
    assert (at.structure, at.ivr, at.iv_rank) == ("range", "high", 50.0)
    assert _select("iron_condor", at, SEL).allowed
    above = classify("XLF", h, points(), make_cfg(high_ivr=math.nextafter(50.0, 100.0)))
    v = _select("iron_condor", above, SEL)
    assert above.ivr == "mid" and not v.allowed and "regime is IVR 50 mid (" in v.reason


def test_iv_rank_exactly_at_low_ivr_is_not_low() -> None:
    h = history(ranging(), iv=mid_iv(300, 0.1875))  # IV rank exactly 25
    at = classify("XLF", h, points(), make_cfg(low_ivr=25.0))
    assert at.ivr == "mid" and not _select("diagonal", at, SEL).allowed
    below = classify("XLF", h, points(), make_cfg(low_ivr=math.nextafter(25.0, 100.0)))
    assert below.ivr == "low" and _select("diagonal", below, SEL).allowed


def test_skew_exactly_at_skew_marked_opens_the_broken_wing() -> None:
    h = history(ranging())
    p = points(put25=0.3125, call25=0.25)  # skew exactly 0.0625
    r = classify("XLF", h, p, make_cfg(skew_marked=0.0625))
    assert r.skew_label == "marked" and _select("broken_wing_butterfly", r, SEL).allowed
    r = classify("XLF", h, p, make_cfg(skew_marked=math.nextafter(0.0625, 1.0)))
    assert r.skew_label == "normal" and not _select("broken_wing_butterfly", r, SEL).allowed


def test_adx_exactly_at_adx_trend_opens_the_credit_spread() -> None:
    n = np.arange(300)
    close = 100.0 * np.exp(0.002 * n) * (1.0 + 0.006 * np.sin(2.0 * np.pi * n / 7.0))
    h = history(close, iv=mid_iv(300, 0.375))
    probe = classify("XLF", h, points(), make_cfg())
    assert probe.close > probe.sma_fast > probe.sma_slow and 20.0 < probe.adx < 99.0
    at = classify("XLF", h, points(), make_cfg(adx_trend=probe.adx))
    v = _select("credit_spread", at, SEL)
    assert at.trend == "up" and v.allowed and v.details["side"] == "bull_put"
    above = classify("XLF", h, points(), make_cfg(adx_trend=math.nextafter(probe.adx, 100.0)))
    v = _select("credit_spread", above, SEL)
    assert above.trend == "none" and not v.allowed and "regime is no trend (" in v.reason


# ---------------------------------------------------------------------- config


def _errors(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        validate_config(data, strategy_config_models(), ROOT / "config")
    return err.value.problems


def test_every_strategy_must_write_its_rule_out() -> None:
    for name in STRATEGIES:
        data = shipped()
        del data["strategies"][name]["regime"]
        assert _errors(data) == [
            f"strategies.{name}.regime: required key is missing (no default for trading values)"
        ]


@pytest.mark.parametrize(
    ("name", "value", "key", "words"),
    [
        ("iron_condor", ("vega", ["high"]), "iron_condor.regime.vega", "unknown key"),
        ("iron_condor", ("ivr", ["huge"]), "iron_condor.regime.ivr[0]", "'high', 'mid' or 'low'"),
        ("diagonal", ("term", []), "diagonal.regime.term", "at least 1 item"),
        ("iron_fly", ("ivr", ["high", "high"]), "iron_fly.regime.ivr", "listed twice"),
        (
            "credit_spread",
            ("trend", ["up", "none"]),
            "credit_spread.regime.trend",
            '"up" and "down"',
        ),
        ("broken_wing_butterfly", ("skew", "marked"), "broken_wing_butterfly.regime.skew", "list"),
    ],
)
def test_config_errors_name_the_key(
    name: str, value: tuple[str, Any], key: str, words: str
) -> None:
    data = shipped()
    data["strategies"][name]["regime"][value[0]] = value[1]
    errors = _errors(data)
    assert any(e.startswith(f"strategies.{key}:") and words in e for e in errors), errors


# ---------------------------------------------------------------------- properties

labels_st = st.fixed_dictionaries({dim: st.sampled_from(values) for dim, values in LABELS.items()})
rules_st = st.fixed_dictionaries(
    {
        dim: st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True)
        for dim, values in LABELS.items()
    }
)


def _regime(labels: dict[str, str], iv_rank: float = 50.0) -> Regime:
    return regime(
        trend=labels["trend"],
        structure=labels["structure"],
        ivr=labels["ivr"],
        term=labels["term"],
        skew=labels["skew"],
        iv_rank=iv_rank,
    )


@given(labels=labels_st)
def test_select_agrees_with_fitting_strategies(labels: dict[str, str]) -> None:
    r = _regime(labels)
    fits = fitting_strategies(r, SEL)
    for name in STRATEGIES:
        v = _select(name, r, SEL)
        assert v.allowed == (name in fits) == (v.details["failed"] == [])
        assert set(v.details["failed"]) <= set(LABELS)
        if name == "credit_spread":
            assert v.details["side"] == credit_spread_side(r)
            assert not v.allowed or v.details["side"] in ("bull_put", "bear_call")
    # The spec's v1 rules, read off the labels.
    assert ("iron_condor" in fits) == ("iron_fly" in fits)
    assert ("iron_condor" in fits) == (labels["structure"] == "range" and labels["ivr"] == "high")
    assert ("credit_spread" in fits) == (labels["trend"] != "none" and labels["ivr"] == "high")
    assert ("diagonal" in fits) == (labels["ivr"] == "low")
    assert ("broken_wing_butterfly" in fits) == (labels["skew"] == "marked")


@given(labels=labels_st, rule=rules_st)
def test_any_rule_allows_exactly_its_labels(labels: dict[str, str], rule: dict[str, list]) -> None:
    if "none" in rule["trend"]:
        rule = {**rule, "trend": [t for t in rule["trend"] if t != "none"] or ["up"]}
    cfg = {**SEL, "diagonal": RegimeRule.model_validate(rule)}
    cfg["credit_spread"] = RegimeRule.model_validate(rule)
    expected = all(labels[d] in rule[d] for d in LABELS)
    for name in ("diagonal", "credit_spread"):
        assert _select(name, _regime(labels), cfg).allowed == expected


@given(labels=labels_st, a=st.floats(0.0, 100.0), b=st.floats(0.0, 100.0))
def test_raising_iv_rank_never_closes_premium_selling_or_opens_the_diagonal(
    labels: dict[str, str], a: float, b: float
) -> None:
    lo, hi = sorted((a, b))
    low = _regime({**labels, "ivr": ivr_label(lo, RCFG)}, iv_rank=lo)
    high = _regime({**labels, "ivr": ivr_label(hi, RCFG)}, iv_rank=hi)
    assert not (low.ivr == "high" and high.ivr == "low")
    fits_low, fits_high = fitting_strategies(low, SEL), fitting_strategies(high, SEL)
    for name in ("iron_condor", "iron_fly", "credit_spread"):
        assert name not in fits_low or name in fits_high
    assert "diagonal" not in fits_high or "diagonal" in fits_low
