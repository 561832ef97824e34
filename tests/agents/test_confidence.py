"""Confidence score: hand-computed components and totals, monotonicity, badges, unknown inputs."""

from __future__ import annotations

import dataclasses
import itertools
import math
import tomllib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from seeker.agents.confidence import (
    COMPONENTS,
    ConfidenceConfig,
    ConfidenceInputs,
    confidence,
)
from tests.support import ROOT

SNIPPET = ROOT / "config" / "seeker.toml"


def _table() -> dict[str, Any]:
    with SNIPPET.open("rb") as fh:
        return dict(tomllib.load(fh)["confidence"])


CFG = ConfidenceConfig(**_table())

# A condor 30 days out, shorts at Δ0.12/0.09, 2.4 ATR away, IVR 68, 45 % captured, CPI tomorrow.
CALM = ConfidenceInputs(
    dte=30,
    short_deltas=(0.12, 0.09),
    spot=50.0,
    short_strikes=(47.0, 53.5),
    atr=1.25,
    iv_rank=68.0,
    aligned_with_high_ivr=True,
    pnl_unit=0.09,
    credit=0.20,
    position_gamma=-0.04,
    multiplier=100,
    max_loss=40.0,
    next_event=("CPI", 1),
    manage_dte=21,
)

# A credit spread in trouble: 14 DTE, short at Δ0.27, half an ATR away, losing, short gamma.
STRESSED = ConfidenceInputs(
    dte=14,
    short_deltas=(0.27,),
    spot=50.0,
    short_strikes=(49.5,),
    atr=1.0,
    iv_rank=30.0,
    aligned_with_high_ivr=True,
    pnl_unit=-0.10,
    credit=0.25,
    position_gamma=-0.30,
    multiplier=100,
    max_loss=30.0,
    next_event=None,
    manage_dte=21,
)


def test_snippet_table_is_the_spec_weights() -> None:
    assert (CFG.w_time, CFG.w_delta, CFG.w_distance) == (0.35, 0.20, 0.15)
    assert (CFG.w_ivr, CFG.w_pnl, CFG.w_event) == (0.10, 0.10, 0.10)
    assert CFG.delta_limit == 0.30 and CFG.dte_cap == 45


def test_config_requires_every_key_and_weights_summing_to_one() -> None:
    data = _table()
    del data["w_gamma"]
    with pytest.raises(ValidationError, match="w_gamma"):
        ConfidenceConfig(**data)
    with pytest.raises(ValidationError, match="must equal 1"):
        ConfidenceConfig(**{**_table(), "w_time": 0.40})
    with pytest.raises(ValidationError):
        ConfidenceConfig(**{**_table(), "unknown": 1.0})


def test_calm_condor_by_hand() -> None:
    c = confidence(CALM, CFG)
    f = {k: v.value for k, v in c.components.items()}
    assert f["time"] == pytest.approx(30 / 45)
    assert f["delta"] == pytest.approx(1 - 0.12 / 0.30)
    assert c.components["distance"].measure == pytest.approx(3.0 / 1.25)  # 2.4 ATR ≥ 2 → full
    assert f["distance"] == pytest.approx(1.0)
    assert f["ivr"] == pytest.approx(0.68)
    assert f["pnl"] == pytest.approx(0.45)
    assert f["event"] == pytest.approx(1 / 5)
    gamma_loss = 0.5 * 0.04 * 1.25**2 * 100  # 3.125 $ on a one-ATR move
    assert f["gamma"] == pytest.approx(gamma_loss / 40.0)
    points = {k: v.points for k, v in c.components.items()}
    assert points["time"] == pytest.approx(35 * 30 / 45)
    assert points["gamma"] == pytest.approx(-10 * 0.078125)
    expected = 23.333333 + 12.0 + 15.0 + 6.8 + 4.5 + 2.0 - 0.78125
    assert c.score == pytest.approx(expected, abs=1e-5)
    assert sum(points.values()) == pytest.approx(c.score)
    assert c.reassuring == ["30 DTE", "Δ 0.12", "Dist 2.4×ATR", "IVR 68", "TP 45%", "Gamma low"]
    assert c.worrying == ["CPI J-1"]


def test_stressed_spread_by_hand() -> None:
    c = confidence(STRESSED, CFG)
    f = {k: v.value for k, v in c.components.items()}
    assert f["time"] == pytest.approx(14 / 45)
    assert f["delta"] == pytest.approx(0.1)
    assert f["distance"] == pytest.approx(0.25)
    assert f["ivr"] == pytest.approx(0.30)
    assert f["pnl"] == 0.0 and c.components["pnl"].measure == pytest.approx(-0.4)
    assert f["event"] == 1.0
    assert f["gamma"] == pytest.approx(0.5)  # 0.5·0.30·1²·100 = 15 $ of a 30 $ max loss
    expected = 35 * 14 / 45 + 2.0 + 3.75 + 3.0 + 0.0 + 10.0 - 5.0
    assert c.score == pytest.approx(expected)
    assert c.reassuring == ["No event"]
    assert c.worrying == ["14 DTE", "Δ 0.27", "Dist 0.5×ATR", "IVR 30", "TP -40%", "Gamma ↑"]


def test_vega_buyer_likes_low_ivr_and_debit_capture() -> None:
    diag = dataclasses.replace(
        CALM,
        aligned_with_high_ivr=False,
        iv_rank=20.0,
        credit=-1.50,
        pnl_unit=0.30,
        short_deltas=(0.35,),
        short_strikes=(51.0,),
        position_gamma=0.02,
        next_event=("FOMC", 9),
    )
    c = confidence(diag, CFG)
    assert c.components["ivr"].value == pytest.approx(0.80)
    assert c.components["pnl"].value == pytest.approx(0.20)  # 0.30 on a 1.50 debit
    assert c.components["delta"].value == 0.0  # beyond delta_limit
    assert c.components["gamma"].value == 0.0  # long gamma: a move does not hurt
    assert "IVR 20" in c.reassuring and "FOMC J-9" in c.reassuring
    assert "Δ 0.35" in c.worrying
    assert not any(b.startswith("TP") for b in c.reassuring + c.worrying)  # 20 % < 25 %, ≥ 0
    high = confidence(dataclasses.replace(diag, iv_rank=80.0), CFG)
    assert "IVR 80" in high.worrying and high.score < c.score


def test_unknown_inputs_count_nothing_and_say_so() -> None:
    blind = dataclasses.replace(CALM, iv_rank=math.nan, atr=math.nan)
    c = confidence(blind, CFG)
    assert c.components["ivr"].value == 0.0 and not c.components["ivr"].known
    assert c.components["distance"].value == 0.0 and not c.components["distance"].known
    # the gamma penalty takes its worst value: a missing datum can only lower the score
    assert c.components["gamma"].value == 1.0 and not c.components["gamma"].known
    assert {"IVR ?", "Dist ?", "Gamma ?"} <= set(c.worrying)
    known = confidence(CALM, CFG)
    assert c.score == pytest.approx(known.score - 6.8 - 15.0 - 10.0 + 0.78125)
    zero_atr = confidence(dataclasses.replace(CALM, atr=0.0), CFG)
    assert "Dist ?" in zero_atr.worrying and zero_atr.components["distance"].value == 0.0
    assert (
        "Δ ?" in confidence(dataclasses.replace(CALM, short_deltas=(0.1, math.nan)), CFG).worrying
    )
    no_pnl = confidence(dataclasses.replace(CALM, pnl_unit=math.nan), CFG)
    assert "TP ?" in no_pnl.worrying and no_pnl.components["pnl"].value == 0.0
    assert "TP ?" in confidence(dataclasses.replace(CALM, credit=0.0), CFG).worrying


def test_no_short_leg_has_nothing_to_breach() -> None:
    c = confidence(dataclasses.replace(CALM, short_deltas=(), short_strikes=()), CFG)
    assert c.components["delta"].value == 1.0 and c.components["distance"].value == 1.0
    assert not any(b.startswith(("Δ", "Dist")) for b in c.reassuring + c.worrying)


def test_score_is_clamped_to_zero() -> None:
    doomed = dataclasses.replace(
        STRESSED,
        dte=0,
        short_deltas=(0.5,),
        spot=49.5,
        iv_rank=0.0,
        position_gamma=-5.0,
        next_event=("NFP", 0),
    )
    c = confidence(doomed, CFG)
    assert sum(v.points for v in c.components.values()) < 0
    assert c.score == 0.0
    assert "NFP J-0" in c.worrying and "0 DTE" in c.worrying


def test_as_dict_is_journal_ready() -> None:
    d = confidence(dataclasses.replace(CALM, iv_rank=math.nan), CFG).as_dict()
    assert set(d) == {"score", "components", "reassuring", "worrying"}
    assert list(d["components"]) == list(COMPONENTS)
    assert d["components"]["ivr"] == {
        "value": 0.0,
        "weight": 0.10,
        "points": 0.0,
        "known": False,
        "measure": None,
    }
    assert d["components"]["delta"]["measure"] == 0.12
    assert isinstance(d["score"], float)


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="atr"):
        dataclasses.replace(CALM, atr=-1.0)
    with pytest.raises(ValueError, match="iv_rank"):
        dataclasses.replace(CALM, iv_rank=120.0)
    with pytest.raises(ValueError, match="past"):
        dataclasses.replace(CALM, next_event=("CPI", -1))


# -- properties -------------------------------------------------------------------------------

bases = st.builds(
    ConfidenceInputs,
    dte=st.integers(0, 120),
    short_deltas=st.tuples(st.floats(0.0, 0.6)),
    spot=st.floats(10.0, 500.0),
    short_strikes=st.tuples(st.floats(5.0, 600.0)),
    atr=st.floats(0.01, 20.0),
    iv_rank=st.floats(0.0, 100.0),
    aligned_with_high_ivr=st.booleans(),
    pnl_unit=st.floats(-5.0, 5.0),
    credit=st.floats(0.05, 5.0) | st.floats(-5.0, -0.05),
    position_gamma=st.floats(-2.0, 2.0),
    multiplier=st.just(100),
    max_loss=st.floats(1.0, 500.0),
    next_event=st.none() | st.tuples(st.sampled_from(["CPI", "FOMC", "NFP"]), st.integers(0, 30)),
    manage_dte=st.just(21),
)


@settings(max_examples=200, deadline=None)
@given(bases)
def test_score_within_0_100(inp: ConfidenceInputs) -> None:
    c = confidence(inp, CFG)
    assert 0.0 <= c.score <= 100.0
    assert all(0.0 <= v.value <= 1.0 for v in c.components.values())


@settings(max_examples=200, deadline=None)
@given(bases, st.floats(0.0, 0.30), st.floats(0.0, 0.30))
def test_score_falls_as_short_delta_rises(base: ConfidenceInputs, a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    s_lo = confidence(dataclasses.replace(base, short_deltas=(lo,)), CFG)
    s_hi = confidence(dataclasses.replace(base, short_deltas=(hi,)), CFG)
    assert s_hi.score <= s_lo.score + 1e-9
    assert s_hi.components["delta"].value <= s_lo.components["delta"].value
    if hi > lo + 1e-6:
        assert s_hi.components["delta"].value < s_lo.components["delta"].value


@settings(max_examples=200, deadline=None)
@given(bases, st.floats(0.0, 30.0), st.floats(0.0, 30.0), st.booleans())
def test_score_falls_as_distance_shrinks(
    base: ConfidenceInputs, a: float, b: float, above: bool
) -> None:
    near, far = sorted((a, b))
    strike = base.short_strikes[0]
    sign = 1.0 if above else -1.0
    s_near = confidence(dataclasses.replace(base, spot=strike + sign * near), CFG)
    s_far = confidence(dataclasses.replace(base, spot=strike + sign * far), CFG)
    assert s_near.score <= s_far.score + 1e-9
    assert s_near.components["distance"].value <= s_far.components["distance"].value


@settings(max_examples=200, deadline=None)
@given(bases, st.integers(0, 30), st.integers(0, 30))
def test_score_falls_as_the_event_approaches(base: ConfidenceInputs, a: int, b: int) -> None:
    soon, later = sorted((a, b))
    s_soon = confidence(dataclasses.replace(base, next_event=("CPI", soon)), CFG)
    s_later = confidence(dataclasses.replace(base, next_event=("CPI", later)), CFG)
    s_none = confidence(dataclasses.replace(base, next_event=None), CFG)
    assert s_soon.score <= s_later.score + 1e-9 <= s_none.score + 2e-9
    if soon < later and soon < CFG.event_horizon_sessions:
        assert s_soon.components["event"].value < s_later.components["event"].value


def test_score_falls_with_time_toward_expiry() -> None:
    scores = [confidence(dataclasses.replace(CALM, dte=d), CFG).score for d in range(60, -1, -1)]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(scores))
    assert scores[0] == scores[15]  # capped at 45
