"""Confidence score (spec "Score de confiance (v1)"): a 0–100 gauge per position, with badges.

Score = clamp(0..100)[ 100 × (w_t·g + w_Δ·fΔ + w_dist·fdist + w_IVR·fIVR + w_PnL·fPnL + w_evt·fevt
− w_γ·fgamma) ]. Every component lies in [0, 1] (``clamp`` below means clamp to [0, 1]):

* ``time``      g = clamp(min(dte, dte_cap) / dte_cap): 1 with ≥ dte_cap days left, 0 at expiry.
* ``delta``     fΔ = clamp(1 − max|Δ_short| / delta_limit): 1 for a short leg at Δ 0, 0 once the
  most exposed short leg reaches delta_limit (0.30). No short leg at all → 1 (nothing to breach).
* ``distance``  d = min over short strikes of |spot − K| / ATR (in ATR multiples);
  fdist = clamp(d / distance_full_atr). No short strike at all → 1.
* ``ivr``       fIVR = IVR / 100 for premium sellers (``aligned_with_high_ivr``), 1 − IVR / 100
  for net vega buyers (diagonal / calendar).
* ``pnl``       captured = pnl_unit / |credit| (share of the entry credit already earned; for a
  debit structure, the profit relative to the debit paid); fPnL = clamp(captured).
* ``event``     s = sessions until the next event, H = event_horizon_sessions: fevt = clamp(s / H);
  1 with no event or one ≥ H sessions away, 0 on the event's day (J0).
* ``gamma``     the loss a one-ATR move costs through the position's gamma, relative to its max
  loss: fgamma = clamp(½ · max(0, −Γ) · ATR² · multiplier / max_loss), Γ = Σ sign·ratio·gamma.
  A short-gamma position's Γ grows as expiry nears with the price near its shorts, so fgamma
  rises toward expiry; a long-gamma position has fgamma = 0.

Unknown inputs are never replaced by a guess: a favourable component whose input is missing
(NaN |Δ|, NaN or 0 ATR, NaN spot or strike, NaN IV rank, NaN P&L or a zero credit) counts 0 and
adds a worrying "… ?" badge. The gamma penalty, whose favourable value is 0, counts its worst
value 1 when Γ, ATR or the max loss is unknown, with the worrying badge "Gamma ?": a missing datum
can only lower the score.

Badges (text exactly as the dashboard shows it) and where they go:

* ``"38 DTE"``        reassuring while dte > manage_dte, worrying at or below it.
* ``"Δ 0.12"``        the largest short |Δ|; reassuring below ``badge_delta_max``, else worrying.
* ``"Dist 1.8×ATR"``  reassuring at or above ``badge_distance_min_atr``, else worrying.
* ``"IVR 68"``        reassuring when the IV rank sits on the strategy's side of ``badge_ivr_level``
  (≥ for premium sellers, ≤ for vega buyers), else worrying.
* ``"TP 45%"``        share of the credit captured; reassuring at or above ``badge_tp_min_pct``,
  worrying below 0 (a loss); no badge in between.
* ``"CPI J-1"``       the next event fewer than H sessions away is worrying; one further away is
  reassuring; with no event the reassuring badge is ``"No event"``.
* ``"Gamma ↑"``       worrying when fgamma ≥ ``gamma_alarm``, else reassuring ``"Gamma low"``.
* ``"Δ ?"``, ``"Dist ?"``, ``"IVR ?"``, ``"TP ?"``, ``"Gamma ?"``: the datum is unknown (worrying).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Self

from pydantic import Field, model_validator

from seeker.core.config_base import StrictModel

WEIGHT_SUM_TOLERANCE = 1e-6
COMPONENTS = ("time", "delta", "distance", "ivr", "pnl", "event", "gamma")


class ConfidenceConfig(StrictModel):
    """The ``[confidence]`` table: weights, normalisation points and badge thresholds."""

    w_time: float = Field(ge=0.0, le=1.0)
    w_delta: float = Field(ge=0.0, le=1.0)
    w_distance: float = Field(ge=0.0, le=1.0)
    w_ivr: float = Field(ge=0.0, le=1.0)
    w_pnl: float = Field(ge=0.0, le=1.0)
    w_event: float = Field(ge=0.0, le=1.0)
    w_gamma: float = Field(ge=0.0, le=1.0)
    delta_limit: float = Field(gt=0.0, le=1.0)
    distance_full_atr: float = Field(gt=0.0)
    dte_cap: int = Field(ge=1)
    event_horizon_sessions: int = Field(ge=1, le=252)
    gamma_alarm: float = Field(gt=0.0, le=1.0)
    badge_delta_max: float = Field(gt=0.0, le=1.0)
    badge_distance_min_atr: float = Field(gt=0.0)
    badge_ivr_level: float = Field(ge=0.0, le=100.0)
    badge_tp_min_pct: float = Field(ge=0.0, le=100.0)

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> Self:
        total = (
            self.w_time + self.w_delta + self.w_distance + self.w_ivr + self.w_pnl + self.w_event
        )
        if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
            raise ValueError(
                "w_time + w_delta + w_distance + w_ivr + w_pnl + w_event must equal 1 "
                f"(got {total:g}), so a perfect position scores 100"
            )
        return self


@dataclass(frozen=True)
class ConfidenceInputs:
    """What the score needs about one position (per unit, in the listing's currency).

    ``short_deltas`` are |Δ| of the short legs; ``atr`` is the underlying's average true range ($,
    0 or NaN when unknown); ``iv_rank`` 0–100 or NaN; ``pnl_unit`` the open P&L per share if
    closed at mid; ``credit`` the entry credit per share (negative for a debit structure);
    ``position_gamma`` Σ sign·ratio·gamma of the legs (per share, 1/$); ``max_loss`` $ per unit
    incl. commissions; ``next_event`` (kind, sessions away) or None; ``manage_dte`` the DTE at
    which the strategy manages the position (21).
    """

    dte: int
    short_deltas: tuple[float, ...]
    spot: float
    short_strikes: tuple[float, ...]
    atr: float
    iv_rank: float
    aligned_with_high_ivr: bool
    pnl_unit: float
    credit: float
    position_gamma: float
    multiplier: int
    max_loss: float
    next_event: tuple[str, int] | None
    manage_dte: int

    def __post_init__(self) -> None:
        if self.multiplier <= 0:
            raise ValueError(f"multiplier must be positive, got {self.multiplier}")
        if self.atr < 0:
            raise ValueError(f"atr must be >= 0 (0 or NaN when unknown), got {self.atr}")
        if math.isfinite(self.iv_rank) and not 0.0 <= self.iv_rank <= 100.0:
            raise ValueError(f"iv_rank must be within 0..100 or NaN, got {self.iv_rank}")
        if self.next_event is not None and self.next_event[1] < 0:
            raise ValueError(f"next_event is in the past: {self.next_event}")


class ConfidenceComponent(NamedTuple):
    """One component: its value f in [0, 1], its weight, and the points it adds (−100·w·f for γ).

    ``measure`` is the raw figure behind it (DTE, max |Δ|, distance in ATR, IVR, captured share,
    sessions to the event, gamma loss over max loss), None when unknown or not applicable. An
    immutable named tuple: seven are made per position and poll (a frozen dataclass costs ~4×).
    """

    name: str
    value: float
    weight: float
    points: float
    known: bool
    measure: float | None

    def as_dict(self) -> dict[str, Any]:
        """Return the component as a journal-ready mapping."""
        return {
            "value": round(self.value, 6),
            "weight": self.weight,
            "points": round(self.points, 4),
            "known": self.known,
            "measure": None if self.measure is None else round(self.measure, 6),
        }


@dataclass(frozen=True)
class Confidence:
    """The score 0–100, its components and the reassuring / worrying badges."""

    score: float
    components: dict[str, ConfidenceComponent]
    reassuring: list[str] = field(default_factory=list)
    worrying: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the score as a journal-ready mapping."""
        return {
            "score": round(self.score, 2),
            "components": {k: c.as_dict() for k, c in self.components.items()},
            "reassuring": list(self.reassuring),
            "worrying": list(self.worrying),
        }


def confidence(inp: ConfidenceInputs, cfg: ConfidenceConfig) -> Confidence:
    """Return the confidence score of one position with its components and badges."""
    isfinite = math.isfinite
    good: list[str] = []
    bad: list[str] = []

    # time
    dte = max(0, inp.dte)
    time_f = min(1.0, max(0.0, min(dte, cfg.dte_cap) / cfg.dte_cap))
    (good if inp.dte > inp.manage_dte else bad).append(f"{inp.dte} DTE")

    # short delta
    deltas = [abs(d) for d in inp.short_deltas]
    delta: tuple[float, bool, float | None]
    if not deltas:
        delta = (1.0, True, None)
    elif not all(map(isfinite, deltas)):
        delta = (0.0, False, None)
        bad.append("Δ ?")
    else:
        worst = max(deltas)
        delta = (min(1.0, max(0.0, 1.0 - worst / cfg.delta_limit)), True, worst)
        (good if worst < cfg.badge_delta_max else bad).append(f"Δ {worst:.2f}")

    # distance to the nearest short strike, in ATR
    atr_known = isfinite(inp.atr) and inp.atr > 0.0
    distance: tuple[float, bool, float | None]
    if not inp.short_strikes:
        distance = (1.0, True, None)
    elif not (atr_known and isfinite(inp.spot) and all(map(isfinite, inp.short_strikes))):
        distance = (0.0, False, None)
        bad.append("Dist ?")
    else:
        dist = min(abs(inp.spot - k) for k in inp.short_strikes) / inp.atr
        distance = (min(1.0, max(0.0, dist / cfg.distance_full_atr)), True, dist)
        (good if dist >= cfg.badge_distance_min_atr else bad).append(f"Dist {dist:.1f}×ATR")

    # IV rank vs the strategy's side
    ivr_c: tuple[float, bool, float | None]
    if not isfinite(inp.iv_rank):
        ivr_c = (0.0, False, None)
        bad.append("IVR ?")
    else:
        ivr = inp.iv_rank
        fit = ivr / 100.0 if inp.aligned_with_high_ivr else 1.0 - ivr / 100.0
        ivr_c = (min(1.0, max(0.0, fit)), True, ivr)
        if inp.aligned_with_high_ivr:
            on_side = ivr >= cfg.badge_ivr_level
        else:
            on_side = ivr <= cfg.badge_ivr_level
        (good if on_side else bad).append(f"IVR {ivr:.0f}")

    # theta captured / P&L
    pnl: tuple[float, bool, float | None]
    if not (isfinite(inp.pnl_unit) and isfinite(inp.credit) and inp.credit != 0.0):
        pnl = (0.0, False, None)
        bad.append("TP ?")
    else:
        captured = inp.pnl_unit / abs(inp.credit)
        pnl = (min(1.0, max(0.0, captured)), True, captured)
        pct = captured * 100.0
        if pct >= cfg.badge_tp_min_pct:
            good.append(f"TP {pct:.0f}%")
        elif pct < 0.0:
            bad.append(f"TP {pct:.0f}%")

    # next event
    horizon = cfg.event_horizon_sessions
    event: tuple[float, bool, float | None]
    if inp.next_event is None:
        event = (1.0, True, None)
        good.append("No event")
    else:
        kind, away = inp.next_event
        event = (min(1.0, max(0.0, away / horizon)), True, float(away))
        (bad if away < horizon else good).append(f"{kind} J-{away}")

    # gamma risk (a penalty: unknown counts as the worst value, 1)
    gamma: tuple[float, bool, float | None]
    if not (
        atr_known and isfinite(inp.position_gamma) and isfinite(inp.max_loss) and inp.max_loss > 0.0
    ):
        gamma = (1.0, False, None)
        bad.append("Gamma ?")
    else:
        loss = 0.5 * max(0.0, -inp.position_gamma) * inp.atr**2 * inp.multiplier
        ratio = loss / inp.max_loss
        fg = min(1.0, max(0.0, ratio))
        gamma = (fg, True, ratio)
        if fg >= cfg.gamma_alarm:
            bad.append("Gamma ↑")
        else:
            good.append("Gamma low")

    components: dict[str, ConfidenceComponent] = {}
    total = 0.0
    for name, weight, (value, known, measure) in (
        ("time", cfg.w_time, (time_f, True, float(inp.dte))),
        ("delta", cfg.w_delta, delta),
        ("distance", cfg.w_distance, distance),
        ("ivr", cfg.w_ivr, ivr_c),
        ("pnl", cfg.w_pnl, pnl),
        ("event", cfg.w_event, event),
    ):
        points = 100.0 * weight * value
        total += points
        components[name] = ConfidenceComponent(name, value, weight, points, known, measure)
    value, known, measure = gamma
    points = -100.0 * cfg.w_gamma * value
    total += points
    components["gamma"] = ConfidenceComponent("gamma", value, cfg.w_gamma, points, known, measure)
    score = min(100.0, max(0.0, total))
    return Confidence(score, components, good, bad)
