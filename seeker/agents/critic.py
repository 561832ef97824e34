"""Critic / Stress: reprice a setup under shocks, refuse fragile ones, score the survivors.

Every leg is repriced with Black-Scholes-Merton (``seeker.core.pricing.bs_price``, one vectorised
call for all scenarios × legs, and for all the setups of one listing with ``critique_many``) on
its own quoted IV and its own time to expiry, so multi-expiry structures (diagonals, calendars)
are handled like single-expiry ones. Time to expiry runs to
16:00 New York on the expiry date, in calendar years of 365 days (as the simulated market prices).

Scenarios, all instantaneous except the last:

* ``gap −N %`` and ``gap +N %``: the underlying moves by ``gap_pct``;
* ``IV +M pts``: every leg's IV rises by ``iv_spike_points`` / 100;
* ``touch K``: the underlying sits at each short strike, now;
* ``decay to D DTE``: spot and IVs unchanged, time moved forward until the nearest expiry has
  ``manage_dte`` days left (no move when it already has fewer).

A scenario's P&L is per combo unit, in $ per share (``pnl``) and in $ (``pnl_usd`` = × multiplier):
the model value of the legs in that scenario, minus the setup's mid entry price (net debit), minus
the round-trip commission per share. The structure's max loss is ``Setup.worst_loss(mid)`` plus the
round-trip commission per share, so a single-expiry structure never loses more than it in any
scenario. The worst stressed loss is the largest loss among the gap, IV and touch scenarios.

Limits (refusal when crossed): worst stressed loss above ``max_stress_loss_pct`` of max loss; a
credit setup (mid < 0) whose credit / max loss is below ``min_credit_to_risk``; a debit setup
(mid ≥ 0) whose reward / max loss is below ``min_reward_to_risk``, where reward is the decay
scenario's P&L (value at the management date − debit − round-trip commission).

Score (0–100), each component clamped to 0..1 and weighted by ``weight_*``::

    f_stress = 1 − worst stressed loss / max loss
    f_reward = credit / max loss (credit setups) or reward / max loss (debit setups)
    f_theta  = theta captured / max loss, theta captured = model value at the management date
               − model value now (spot and IVs unchanged; positive for short premium)
    score    = 100 × (w_s f_stress + w_r f_reward + w_t f_theta) / (w_s + w_r + w_t)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, model_validator

from seeker.agents.verdict import Verdict
from seeker.core.calendar import expiry_close, years_between
from seeker.core.config_base import StrictModel
from seeker.core.pricing import bs_price
from seeker.core.structures import Setup

AGENT = "critic"
"""Options stop trading at 16:00 New York on their expiry date."""
"""Seconds in a year of option time (calendar days)."""
EPS = 1e-9

T = TypeVar("T")


class CriticConfig(StrictModel):
    """The ``[critic]`` table: stress sizes, limits, and the weights of the score."""

    gap_pct: float = Field(gt=0.0, le=50.0)
    iv_spike_points: float = Field(gt=0.0, le=100.0)
    max_stress_loss_pct: float = Field(gt=0.0, le=100.0)
    min_credit_to_risk: float = Field(ge=0.0, le=10.0)
    min_reward_to_risk: float = Field(ge=0.0, le=10.0)
    weight_stress: float = Field(ge=0.0, le=1.0)
    weight_reward: float = Field(ge=0.0, le=1.0)
    weight_theta: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _some_weight(self) -> CriticConfig:
        if self.weight_stress + self.weight_reward + self.weight_theta <= 0.0:
            raise ValueError("weight_stress + weight_reward + weight_theta must be > 0")
        return self


def _missing(reason: str, **extra: Any) -> Verdict:
    return Verdict(AGENT, False, reason, details={"missing_data": True, **extra})


def _clamp01(x: float) -> float:
    return min(1.0, max(0.0, x))


def _argmin(values: list[float]) -> int:
    """Return the index of the smallest value, the first of ties or NaN (as numpy's argmin)."""
    for i, v in enumerate(values):
        if v != v:  # NaN
            return i
    return min(range(len(values)), key=values.__getitem__)


def _missing_data(
    setup: Setup, rate: float, dividend_yield: float, commission: float
) -> str | None:
    """Return why the setup cannot be stressed for lack of data ("" when nothing is missing)."""
    problems: list[str] = []
    for leg, q in zip(setup.legs, setup.quotes, strict=True):
        if not (math.isfinite(q.iv) and q.iv > 0.0):
            problems.append(f"{leg.contract.key}: IV missing or NaN")
        if not math.isfinite(q.mid):
            problems.append(f"{leg.contract.key}: bid/ask missing or NaN")
    if not (math.isfinite(setup.spot) and setup.spot > 0.0):
        problems.append(f"underlying price missing ({setup.spot})")
    if not math.isfinite(rate):
        problems.append("risk-free rate missing")
    if not math.isfinite(dividend_yield):
        problems.append("dividend yield missing")
    if not (math.isfinite(commission) and commission >= 0.0):
        problems.append(f"round-trip commission unknown ({commission})")
    return "; ".join(problems)


@dataclass(frozen=True)
class _Plan:
    """One setup to reprice: its scenarios (``rows``) and the figures its verdict reads."""

    setup: Setup
    entry: float
    commission: float
    max_loss: float
    manage_at: str
    """When the position would be managed, ISO form."""
    rows: list[tuple[str, float, float, float]]
    heads: list[tuple[str, float, float, float]]
    """The journaled name, spot, IV shift and days forward of each row but "now" (rounded)."""
    t0: list[float]


class _Batch:
    """What the setups of one ``critique_many`` call share: the clock, the sizes and the names."""

    def __init__(self, now: datetime, manage_dte: int, cfg: CriticConfig) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        self.now = now
        self.manage_dte = manage_dte
        self.cfg = cfg
        self.gap = cfg.gap_pct / 100.0
        self.spike = cfg.iv_spike_points / 100.0
        self.gap_down = f"gap −{cfg.gap_pct:g} %"
        self.gap_up = f"gap +{cfg.gap_pct:g} %"
        self.iv_up = f"IV +{cfg.iv_spike_points:g} pts"
        self.decay = f"decay to {manage_dte} DTE"
        self.spike_rounded = round(self.spike, 4)
        self._years: dict[date, float] = {}
        self._managed: dict[date, tuple[float, str, float]] = {}
        self._spots: dict[float, tuple[float, float, float]] = {}

    def years_to(self, expiry: date) -> float:
        """Return the years from now to the expiry's close (one aware subtraction per expiry)."""
        years = self._years.get(expiry)
        if years is None:
            years = self._years[expiry] = years_between(self.now, expiry_close(expiry))
        return years

    def managed(self, expiry: date) -> tuple[float, str, float]:
        """Return the years from now to the management of a setup whose nearest expiry is
        `expiry` (``manage_dte`` days before its close, now at the latest), that moment in ISO
        form, and the days to it as journaled (rounded)."""
        hit = self._managed.get(expiry)
        if hit is None:
            at = max(self.now, expiry_close(expiry) - timedelta(days=self.manage_dte))
            years = years_between(self.now, at)
            hit = self._managed[expiry] = (years, at.isoformat(), round(years * 365.0, 3))
        return hit

    def rounded_spots(self, spot: float) -> tuple[float, float, float]:
        """Return the journaled (rounded) spot now, after the gap down and after the gap up."""
        hit = self._spots.get(spot)
        if hit is None:
            hit = self._spots[spot] = (
                round(spot, 4),
                round(spot * (1.0 - self.gap), 4),
                round(spot * (1.0 + self.gap), 4),
            )
        return hit


def _plan(
    setup: Setup,
    rate: float,
    dividend_yield: float,
    round_trip_commission_per_unit: float,
    multiplier: int,
    batch: _Batch,
) -> _Plan | Verdict:
    """Return the setup's scenarios to reprice, or the verdict that refuses it before pricing."""
    if len(setup.legs) != len(setup.quotes) or not setup.legs:
        raise ValueError("a setup needs one quote per leg")
    for leg, q in zip(setup.legs, setup.quotes, strict=True):
        if leg.contract != q.contract:
            raise ValueError(f"quote {q.contract.key} does not match leg {leg.contract.key}")
    if multiplier < 1:
        raise ValueError(f"multiplier must be ≥ 1, got {multiplier}")
    missing = _missing_data(setup, rate, dividend_yield, round_trip_commission_per_unit)
    if missing:
        return _missing(f"cannot stress {setup.label}: {missing}")

    entry = setup.mid
    commission = round_trip_commission_per_unit / multiplier  # $ per share
    try:
        worst = setup.worst_loss(entry)
    except ValueError as exc:
        return _missing(f"cannot stress {setup.label}: max loss unknown ({exc})")
    if not math.isfinite(worst):
        return Verdict(AGENT, False, f"{setup.label} is not risk-defined (unbounded loss)")
    max_loss = worst + commission
    if max_loss <= EPS:
        return Verdict(AGENT, False, f"{setup.label}: max loss is 0, stress cannot be scaled")

    t0 = [batch.years_to(leg.contract.expiry) for leg in setup.legs]
    if any(t <= 0.0 for t in t0):
        expired = [leg.contract.key for leg, t in zip(setup.legs, t0, strict=True) if t <= 0.0]
        return Verdict(AGENT, False, f"{setup.label}: leg(s) already expired: {', '.join(expired)}")
    forward, manage_at, days_forward = batch.managed(setup.expiry)

    spot = setup.spot
    # (name, spot, IV shift per 1.00, years forward); row 0 is the model value now.
    rows: list[tuple[str, float, float, float]] = [
        ("now", spot, 0.0, 0.0),
        (batch.gap_down, spot * (1.0 - batch.gap), 0.0, 0.0),
        (batch.gap_up, spot * (1.0 + batch.gap), 0.0, 0.0),
        (batch.iv_up, spot, batch.spike, 0.0),
    ]
    shorts: dict[float, set[str]] = {}
    for leg in setup.legs:
        if leg.action == "SELL":
            shorts.setdefault(leg.contract.strike, set()).add(leg.contract.right)
    spot_r, down_r, up_r = batch.rounded_spots(spot)
    heads = [  # round(0.0, n) is 0.0
        (batch.gap_down, down_r, 0.0, 0.0),
        (batch.gap_up, up_r, 0.0, 0.0),
        (batch.iv_up, spot_r, batch.spike_rounded, 0.0),
    ]
    for strike in sorted(shorts):
        rights = "/".join(sorted(shorts[strike], reverse=True))
        name = f"touch {strike:g}{rights}"
        rows.append((name, strike, 0.0, 0.0))
        heads.append((name, round(strike, 4), 0.0, 0.0))
    rows.append((batch.decay, spot, 0.0, forward))
    heads.append((batch.decay, spot_r, 0.0, days_forward))
    return _Plan(setup, entry, commission, max_loss, manage_at, rows, heads, t0)


def _price(plans: list[_Plan], rate: float, dividend_yield: float) -> list[NDArray[np.float64]]:
    """Return each plan's model values per scenario ($ per share), all legs priced in one call.

    Scenarios × legs are flat rows (plan by plan, scenario-major): bs_price prices element by
    element, so a plan's prices do not depend on the plans priced with it. The shifted IVs and
    times are summed in Python floats (the same IEEE sums as numpy's, element by element).
    """
    s: list[float] = []
    ivs: list[float] = []
    times: list[float] = []
    strikes: list[float] = []
    calls: list[bool] = []
    for plan in plans:
        legs = plan.setup.legs
        n_legs = len(legs)
        leg_ivs = [q.iv for q in plan.setup.quotes]
        t0 = plan.t0
        for _name, spot, shift, forward in plan.rows:  # x + 0.0 is x (IVs, times are > 0)
            s += [spot] * n_legs
            ivs += leg_ivs if shift == 0.0 else [iv + shift for iv in leg_ivs]
            times += t0 if forward == 0.0 else [t - forward for t in t0]
        strikes += [leg.contract.strike for leg in legs] * len(plan.rows)
        calls += [leg.contract.right == "C" for leg in legs] * len(plan.rows)
    prices = bs_price(
        np.array(s),
        np.array(strikes),
        np.array(times),
        float(rate),
        np.array(ivs),
        np.array(calls),
        float(dividend_yield),
    )
    values: list[NDArray[np.float64]] = []
    start = 0
    for plan in plans:
        legs = plan.setup.legs
        n_rows, n_legs = len(plan.rows), len(legs)
        stop = start + n_rows * n_legs
        weights = np.array([leg.sign * leg.ratio for leg in legs], dtype=float)
        values.append(prices[start:stop].reshape(n_rows, n_legs) @ weights)
        start = stop
    return values


def critique(
    setup: Setup,
    rate: float,
    dividend_yield: float,
    now: datetime,
    manage_dte: int,
    round_trip_commission_per_unit: float,
    multiplier: int,
    cfg: CriticConfig,
) -> Verdict:
    """Stress `setup` and return the critic's verdict with a 0–100 score.

    `rate` and `dividend_yield` are continuous per year; `now` is aware; `manage_dte` is the DTE of
    the nearest expiry at which the position is managed; the commission is $ per combo unit for
    opening and closing; `multiplier` is shares per contract. A leg without IV (or bid/ask) is
    missing data: refused with ``details["missing_data"] = True``.
    """
    return critique_many(
        [setup],
        rate,
        dividend_yield,
        now,
        manage_dte,
        [round_trip_commission_per_unit],
        multiplier,
        cfg,
    )[0]


def critique_many(
    setups: Sequence[Setup],
    rate: float,
    dividend_yield: float,
    now: datetime,
    manage_dte: int,
    round_trip_commissions_per_unit: Sequence[float],
    multiplier: int,
    cfg: CriticConfig,
) -> list[Verdict]:
    """Return ``critique`` of each setup (same order), with one commission per setup.

    The setups of one listing share its rate, dividend yield and multiplier: their scenarios are
    repriced in one bs_price call, each verdict exactly the one ``critique`` gives.
    """
    batch = _Batch(now, manage_dte, cfg)
    plans = [
        _plan(setup, rate, dividend_yield, commission, multiplier, batch)
        for setup, commission in zip(setups, round_trip_commissions_per_unit, strict=True)
    ]
    priced = [plan for plan in plans if isinstance(plan, _Plan)]
    values = iter(_price(priced, rate, dividend_yield) if priced else [])
    return [
        plan
        if isinstance(plan, Verdict)
        else _judge(plan, next(values), manage_dte, multiplier, cfg)
        for plan in plans
    ]


def _judge(
    plan: _Plan, values: NDArray[np.float64], manage_dte: int, multiplier: int, cfg: CriticConfig
) -> Verdict:
    """Return the verdict on a planned setup from its model values per scenario."""
    entry, commission, max_loss = plan.entry, plan.commission, plan.max_loss
    model = values.tolist()  # Python floats: the same IEEE arithmetic as numpy's, cheaper
    pnl = [v - entry - commission for v in model]

    scenarios = [
        {
            "name": name,
            "spot": sp,
            "iv_shift": shift,
            "days_forward": days,
            "pnl": round(p, 4),
            "pnl_usd": round(p * multiplier, 2),
        }
        for (name, sp, shift, days), p in zip(plan.heads, pnl[1:], strict=True)
    ]
    stressed = pnl[1:-1]
    worst_i = _argmin(stressed)
    worst_row = scenarios[worst_i]
    worst_pnl = stressed[worst_i]
    stress_loss = max(0.0, -worst_pnl)
    stress_pct = 100.0 * stress_loss / max_loss
    theta = model[-1] - model[0]
    decay_pnl = pnl[-1]

    credit = entry < 0.0
    if credit:
        ratio_name, ratio_label, ratio = "credit_to_risk", "credit/risk", -entry / max_loss
    else:
        ratio_name, ratio_label, ratio = "reward_to_risk", "reward/risk", decay_pnl / max_loss
    components = {
        "stress": _clamp01(1.0 - stress_loss / max_loss),
        "reward": _clamp01(ratio),
        "theta": _clamp01(theta / max_loss),
    }
    w_s, w_r, w_t = cfg.weight_stress, cfg.weight_reward, cfg.weight_theta
    weighted = w_s * components["stress"] + w_r * components["reward"] + w_t * components["theta"]
    score = 100.0 * weighted / (w_s + w_r + w_t)  # summed left to right, as sum() did
    score = round(min(100.0, max(0.0, score)), 1)

    problems: list[str] = []
    if stress_pct > cfg.max_stress_loss_pct + EPS:
        problems.append(
            f"{worst_row['name']} loses {stress_loss:.2f} $ = {stress_pct:.0f} % of max loss "
            f"> {cfg.max_stress_loss_pct:g} %"
        )
    if credit and ratio < cfg.min_credit_to_risk - EPS:
        problems.append(
            f"credit {-entry:.2f} $ / max loss {max_loss:.2f} $ = {ratio:.2f} "
            f"< {cfg.min_credit_to_risk:g}"
        )
    if not credit and ratio < cfg.min_reward_to_risk - EPS:
        problems.append(
            f"reward at {manage_dte} DTE {decay_pnl:.2f} $ / max loss {max_loss:.2f} $ = "
            f"{ratio:.2f} < {cfg.min_reward_to_risk:g}"
        )

    details: dict[str, Any] = {
        "entry_mid": round(entry, 4),
        "model_value_now": round(model[0], 4),
        "max_loss": round(max_loss, 4),
        "max_loss_usd": round(max_loss * multiplier, 2),
        "round_trip_commission": round(commission, 4),
        "scenarios": scenarios,
        "worst_stress": {
            "name": worst_row["name"],
            "loss": round(stress_loss, 4),
            "loss_usd": round(stress_loss * multiplier, 2),
            "loss_pct_of_max": round(stress_pct, 1),
        },
        ratio_name: round(ratio, 4),
        "theta_captured": round(theta, 4),
        "theta_captured_usd": round(theta * multiplier, 2),
        "manage_at": plan.manage_at,
        "components": {k: round(v, 4) for k, v in components.items()},
    }
    if problems:
        return Verdict(AGENT, False, "; ".join(problems), score=score, details=details)
    reason = (
        f"worst stress {worst_row['name']} loses {stress_loss:.2f} $ = {stress_pct:.0f} % of max "
        f"loss; {ratio_label} {ratio:.2f}; score {score:g}"
    )
    return Verdict(AGENT, True, reason, score=score, details=details)


def rank(scored: Iterable[tuple[T, Verdict]]) -> list[tuple[T, Verdict]]:
    """Return the surviving (allowed) items, best critic score first; ties keep input order."""
    alive = [(item, v) for item, v in scored if v.allowed and v.score is not None]
    return sorted(alive, key=lambda pair: -float(pair[1].score or 0.0))
