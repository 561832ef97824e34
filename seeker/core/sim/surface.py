"""The implied-volatility surface of one listing at one grid point.

ATM level, for an expiry T years away::

    atm(T) = base_iv × exp((ln m + x) × w(T) / w(30 d)) × (1 + slope × (min(T, 1) − 30 d))

with ``m`` the regime-blended IV multiplier, ``x`` the listing's stochastic IV factor, ``w(T) =
(1 − e^(−κT)) / (κT)`` the share of a mean-reverting deviation still alive on average over T, and
``slope`` the regime-blended term slope. Deviations from the long-run ``base_iv`` therefore weigh
most on short expiries: a stress regime or an IV spike inverts the term structure (backwardation),
a calm regime with low IV steepens it (contango). The 30-day ATM IV is ``base_iv × m × e^x``.
Smile, with ``k = ln(K/F) / (atm(T) √T)`` clipped to ±moneyness_clip::

    iv = atm(T) × (1 − skew × k + curvature × k²),   clipped to min_iv..max_iv.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from seeker.core.sim.settings import SimVolSettings

DAYS_PER_YEAR = 365.0
"""Calendar days per year: the time unit of option expiries (T)."""

T30 = 30.0 / DAYS_PER_YEAR
"""The constant maturity of the reported ATM implied vol (30 calendar days), in years."""

TERM_SLOPE_MAX_T = 1.0
"""Expiries beyond this (years) get no further term-structure slope."""


def _alive_share(kappa: float, t: np.ndarray) -> np.ndarray:
    """Return (1 − e^(−κT)) / (κT), the mean share of a decaying shock over T (1 at T = 0)."""
    kt = kappa * np.maximum(t, 0.0)
    small = kt < 1e-8
    safe = np.where(small, 1.0, kt)
    return np.where(small, 1.0, -np.expm1(-safe) / safe)


@lru_cache(maxsize=8)
def _alive_share_30d(kappa: float) -> float:
    return float(_alive_share(kappa, np.array(T30)))


def atm_vols(
    base_iv: float | np.ndarray,
    shift: float | np.ndarray,
    term_slope: float | np.ndarray,
    t: np.ndarray,
    params: SimVolSettings,
) -> np.ndarray:
    """Return ATM implied vols (per 1.00) for expiries `t` years away.

    Surface parameters are scalars or arrays of t's shape (one surface per value).
    """
    kappa = params.mean_reversion_per_year
    t = np.asarray(t, dtype=float)
    weight = _alive_share(kappa, t) / _alive_share_30d(kappa)
    term = 1.0 + term_slope * (np.minimum(t, TERM_SLOPE_MAX_T) - T30)
    vol = base_iv * np.exp(shift * weight) * np.maximum(term, 0.0)
    return np.minimum(np.maximum(vol, params.min_iv), params.max_iv)  # np.clip, minus overhead


def atm_vol(
    base_iv: float, shift: float, term_slope: float, t: float, params: SimVolSettings
) -> float:
    """Return the ATM implied vol (per 1.00) of one expiry `t` years away, as a float.

    Bit for bit the value :func:`atm_vols` gives for it: the same operations in the same order,
    with numpy's exp and expm1 (math's may differ in the last bit; see :meth:`Surface.atm_at`),
    on scalars rather than arrays, which costs a fraction of the array calls.
    """
    kappa = params.mean_reversion_per_year
    kt = kappa * max(t, 0.0)
    alive = 1.0 if kt < 1e-8 else -float(np.expm1(-kt)) / kt
    weight = alive / _alive_share_30d(kappa)
    term = 1.0 + term_slope * (min(t, TERM_SLOPE_MAX_T) - T30)
    vol = base_iv * float(np.exp(shift * weight)) * max(term, 0.0)
    return min(max(vol, params.min_iv), params.max_iv)


def smile_rows(
    atm: float | np.ndarray,
    skew: float | np.ndarray,
    strikes: np.ndarray,
    forwards: float | np.ndarray,
    t: float | np.ndarray,
    params: SimVolSettings,
    counts: Sequence[int] | None = None,
    vols: bool = True,
) -> tuple[np.ndarray | None, np.ndarray]:
    """Return (implied vols per 1.00, clipped standardized log-moneyness) of rows of strikes.

    `atm`, `forwards` and `t` (and `skew`, when an array) are floats (one expiry), hold one value
    per row, or with `counts` (arrays) one per group of that many rows. Without `vols` only the
    moneyness is computed.
    """
    scale = atm * np.sqrt(np.maximum(t, 1e-8))
    if counts is not None:
        assert isinstance(forwards, np.ndarray) and isinstance(scale, np.ndarray)
        forwards = forwards.repeat(counts)
        scale = scale.repeat(counts)
    k = np.log(strikes / forwards) / scale
    k = np.minimum(np.maximum(k, -params.moneyness_clip), params.moneyness_clip)
    if not vols:
        return None, k
    if counts is not None:
        assert isinstance(atm, np.ndarray)
        atm = atm.repeat(counts)
        if isinstance(skew, np.ndarray):
            skew = skew.repeat(counts)
    vol = atm * (1.0 - skew * k + params.smile_curvature * k * k)
    return np.minimum(np.maximum(vol, params.min_iv), params.max_iv), k


@dataclass(frozen=True, slots=True)
class Surface:
    """The IV surface of one listing at one grid point."""

    base_iv: float
    """The listing's long-run 30-day ATM IV, per 1.00."""
    shift: float
    """ln(regime IV multiplier) + stochastic IV factor: the log deviation of the 30-day ATM IV."""
    term_slope: float
    """Relative ATM IV change per year of expiry beyond 30 days."""
    skew: float
    """Relative IV rise per unit of falling standardized log-moneyness."""
    params: SimVolSettings

    def atm30(self) -> float:
        """Return the 30-day constant-maturity ATM implied vol, per 1.00."""
        p = self.params
        return min(max(self.base_iv * math.exp(self.shift), p.min_iv), p.max_iv)

    def atm(self, t: np.ndarray) -> np.ndarray:
        """Return ATM implied vols (per 1.00) for expiries `t` years away."""
        return atm_vols(self.base_iv, self.shift, self.term_slope, t, self.params)

    def atm_at(self, t: float) -> float:
        """Return the ATM implied vol (per 1.00) of one expiry `t` years away (scalar path)."""
        p = self.params
        kappa = p.mean_reversion_per_year
        kt = kappa * max(t, 0.0)
        alive = 1.0 if kt < 1e-8 else -math.expm1(-kt) / kt
        term = 1.0 + self.term_slope * (min(t, TERM_SLOPE_MAX_T) - T30)
        vol = self.base_iv * math.exp(self.shift * alive / _alive_share_30d(kappa)) * max(term, 0.0)
        return min(max(vol, p.min_iv), p.max_iv)

    def smile(
        self,
        strikes: np.ndarray,
        forwards: np.ndarray,
        t: np.ndarray,
        counts: Sequence[int] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (implied vols per 1.00, clipped standardized log-moneyness) of each row.

        With `counts`, `forwards` and `t` hold one value per group of that many rows (the ATM
        level is then computed once per group).
        """
        vol, k = smile_rows(self.atm(t), self.skew, strikes, forwards, t, self.params, counts)
        assert vol is not None
        return vol, k

    def moneyness(
        self,
        strikes: np.ndarray,
        forwards: float | np.ndarray,
        t: float | np.ndarray,
        counts: Sequence[int] | None = None,
    ) -> np.ndarray:
        """Return the clipped standardized log-moneyness of rows (as :meth:`smile`, no vols).

        `forwards` and `t` are floats for rows of one expiry (the cheaper scalar path).
        """
        if isinstance(t, float):
            atm: float | np.ndarray = atm_vol(
                self.base_iv, self.shift, self.term_slope, t, self.params
            )
        else:
            atm = self.atm(t)
        return smile_rows(atm, self.skew, strikes, forwards, t, self.params, counts, False)[1]
