"""Payoff of a combo at expiry, and its exact worst loss.

A single-expiry option structure's payoff is piecewise linear in the underlying price with kinks
at the strikes, so its extremes lie at S = 0, at a strike, or at S → ∞ (read from the slope). Every
figure is per combo unit and per share ($ per share); multiply by the multiplier and quantity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from seeker.core.models import Leg


def pnl_at_expiry(legs: Sequence[Leg], net_debit: float, prices: np.ndarray | float) -> np.ndarray:
    """Return the P&L per unit at expiry ($ per share) for underlying `prices`."""
    s = np.asarray(prices, dtype=float)
    value = np.zeros_like(s)
    for leg in legs:
        k = leg.contract.strike
        intrinsic = np.maximum(s - k, 0.0) if leg.contract.right == "C" else np.maximum(k - s, 0.0)
        value += leg.sign * leg.ratio * intrinsic
    return value - net_debit


def slope_at_infinity(legs: Sequence[Leg]) -> float:
    """Return dP&L/dS for S beyond every strike (calls only contribute)."""
    return float(sum(leg.sign * leg.ratio for leg in legs if leg.contract.right == "C"))


def pnl_at_price(legs: Sequence[Leg], net_debit: float, price: float) -> float:
    """Return the P&L per unit at expiry at one price ($ per share), in the legs' order.

    The same arithmetic as :func:`pnl_at_expiry` on one float (so the same result to the bit),
    without numpy's per-call overhead: the scans price a handful of kinks thousands of times.
    """
    value = 0.0
    for leg in legs:
        k = leg.contract.strike
        intrinsic = max(price - k, 0.0) if leg.contract.right == "C" else max(k - price, 0.0)
        value += leg.sign * leg.ratio * intrinsic
    return value - net_debit


def lowest_value_at_expiry(legs: Sequence[Leg]) -> float:
    """Return the legs' lowest value at expiry before the debit ($ per share); −inf if unbounded.

    Only valid when every leg expires on the same date (ValueError otherwise). The value is
    piecewise linear, so its minimum lies at 0 or at a strike; each kink's value is summed in the
    legs' order with :func:`pnl_at_price`'s arithmetic, so ``lowest − net_debit`` is, to the bit,
    the lowest P&L at that debit (subtracting a constant keeps the order of floats).
    """
    expiry = legs[0].contract.expiry if legs else None
    terms: list[tuple[float, bool, int]] = []
    strikes: set[float] = set()
    slope = 0
    for leg in legs:
        c = leg.contract
        if c.expiry != expiry:
            raise ValueError("worst_loss_at_expiry needs legs of a single expiry")
        weight = leg.sign * leg.ratio
        call = c.right == "C"
        terms.append((c.strike, call, weight))
        strikes.add(c.strike)
        if call:
            slope += weight
    if slope < 0:
        return -math.inf
    lowest = _value_at(terms, 0.0)
    for s in sorted(strikes):
        value = _value_at(terms, s)
        if value < lowest:
            lowest = value
    return lowest


def _value_at(terms: list[tuple[float, bool, int]], price: float) -> float:
    """Return Σ weight × intrinsic at `price` over (strike, is_call, weight) terms, in order."""
    value = 0.0
    for k, call, weight in terms:
        gain = price - k if call else k - price
        value += weight * (0.0 if gain < 0.0 else gain)  # max(gain, 0.0): −0.0, NaN kept
    return value


def loss_at_debit(lowest_value: float, net_debit: float) -> float:
    """Return the worst loss per unit ($ per share, ≥ 0) of legs whose lowest value is given."""
    if lowest_value == -math.inf:
        return math.inf
    return max(0.0, -(lowest_value - net_debit))


def worst_loss_at_expiry(legs: Sequence[Leg], net_debit: float) -> float:
    """Return the largest loss per unit at expiry ($ per share, ≥ 0); inf if not risk-defined.

    Only valid when every leg expires on the same date. The P&L is piecewise linear, so its
    minimum lies at 0 or at a strike.
    """
    return loss_at_debit(lowest_value_at_expiry(legs), net_debit)


def best_gain_at_expiry(legs: Sequence[Leg], net_debit: float) -> float:
    """Return the largest gain per unit at expiry ($ per share); inf if unbounded."""
    if slope_at_infinity(legs) > 0:
        return math.inf
    points = np.array([0.0, *sorted({leg.contract.strike for leg in legs})])
    return float(np.max(pnl_at_expiry(legs, net_debit, points)))


def breakevens_at_expiry(legs: Sequence[Leg], net_debit: float) -> list[float]:
    """Return the underlying prices where the P&L at expiry crosses zero, sorted."""
    strikes = sorted({leg.contract.strike for leg in legs})
    hi = strikes[-1] * 3.0 + 1.0
    xs = np.array([0.0, *strikes, hi])
    ys = pnl_at_expiry(legs, net_debit, xs)
    out: list[float] = []
    for x0, x1, y0, y1 in zip(xs[:-1], xs[1:], ys[:-1], ys[1:], strict=True):
        if y0 == 0.0:
            out.append(float(x0))
        elif y0 * y1 < 0:
            out.append(float(x0 + (x1 - x0) * (-y0) / (y1 - y0)))
    return sorted(set(round(v, 6) for v in out))
