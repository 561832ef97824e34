"""The limit-order fill model shared by the simulated and the replay brokers.

A combo limit order is matched against the quotes of its legs:

* marketable (limit at or beyond the combo's natural price) → it fills at the natural, in full;
* otherwise it fills at its limit with a probability that grows linearly from
  ``fill_probability_at_mid`` at the combo's mid to 1 at the natural (and fades to 0 as far below
  the mid as the natural is above it); an order of several units fills a random part.

Random draws come from a generator keyed by (seed, order id, time, limit in cents, units filled),
so a result never depends on thread timing or on how many other orders were matched before.
Prices are per share; a combo's price is its net debit per unit (negative = credit).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from seeker.core.models import Leg, LegFill, OptionContract, OptionQuote

MARKETABLE_TOLERANCE = 1e-9
"""$ per share: a limit this close to the natural counts as marketable."""


@dataclass(frozen=True, slots=True)
class ComboPrices:
    """The mid and natural net debit of one unit of a combo, $ per share."""

    mid: float
    natural: float


@dataclass(frozen=True, slots=True)
class Match:
    """What one matching attempt decided: units to execute at a combo price ($ per share)."""

    price: float
    units: int
    marketable: bool


def combo_prices(legs: Sequence[Leg], quotes: Sequence[OptionQuote]) -> ComboPrices | None:
    """Return the combo's mid and natural from its legs' quotes, None when a side is missing."""
    if any(not (math.isfinite(q.bid) and math.isfinite(q.ask)) for q in quotes):
        return None
    mid = sum(leg.sign * leg.ratio * q.mid for leg, q in zip(legs, quotes, strict=True))
    natural = sum(
        leg.ratio * (q.ask if leg.action == "BUY" else -q.bid)
        for leg, q in zip(legs, quotes, strict=True)
    )
    return ComboPrices(mid, natural)


def match_rng(
    seed: int, order_id: str, now: datetime, limit: float, filled: int
) -> np.random.Generator:
    """Return the generator of one matching attempt, keyed by order, time, limit and progress."""
    key = zlib.crc32(order_id.encode())
    stamp = int(now.timestamp())
    cents = round(limit * 100) + 1_000_000
    return np.random.default_rng([seed, key, stamp, cents, filled])


def match(
    limit: float,
    prices: ComboPrices,
    remaining: int,
    fill_probability_at_mid: float,
    rng: np.random.Generator,
) -> Match | None:
    """Decide whether a combo limit order fills now, at what price and for how many units.

    Draws from `rng` only for a limit that is not marketable: one uniform for the fill, then
    one integer for the units when more than one remains.
    """
    natural, mid = prices.natural, prices.mid
    if limit >= natural - MARKETABLE_TOLERANCE:
        price, marketable = natural, True
    else:
        gap = natural - mid
        if gap <= MARKETABLE_TOLERANCE:
            return None
        x = (limit - mid) / gap
        p_mid = fill_probability_at_mid
        # from p_mid at the mid to 1 at the natural; fading to 0 below the mid
        p = p_mid + (1.0 - p_mid) * x if x >= 0 else p_mid * max(0.0, 1.0 + x)
        if rng.random() >= p:
            return None
        price, marketable = limit, False
    units = remaining
    if remaining >= 2 and not marketable:
        units = int(rng.integers(1, remaining + 1))
    return Match(price, units, marketable)


def leg_fills(
    legs: Sequence[Leg],
    quotes: Sequence[OptionQuote],
    price: float,
    mid: float,
    units: int,
    commission: float,
    fill_id: str,
) -> list[LegFill]:
    """Split one combo execution into leg fills whose prices add up exactly to the combo's.

    Each leg trades at its own mid shifted by an equal share of the combo's distance from its
    mid (per contract of ratio), rounded to 0.0001 $ per share; the rounding remainder goes to one
    leg (:func:`fit_to_combo`), so Σ sign × ratio × leg price is the combo price rounded to
    0.0001 $. The commission is split by contracts, each share rounded to 0.0001 $.
    """
    n = sum(leg.ratio for leg in legs)
    shift = (price - mid) / n
    prices = [round(q.mid + leg.sign * shift, 4) for leg, q in zip(legs, quotes, strict=True)]
    fit_to_combo(legs, prices, price)
    out = []
    for k, (leg, leg_price) in enumerate(zip(legs, prices, strict=True), start=1):
        share = round(commission * leg.ratio / n, 4)  # the combo's fee, split by contracts
        out.append(
            LegFill(leg.contract, leg.action, leg.ratio * units, leg_price, share, f"{fill_id}.{k}")
        )
    return out


def fit_to_combo(legs: Sequence[Leg], prices: list[float], combo_price: float) -> None:
    """Move the rounding remainder onto one leg so the legs add up to the combo price (in place).

    Prices are $ per share on the 0.0001 grid; the combo price is rounded to that grid first.
    The remainder (a few 0.0001 $) goes to the dearest leg of ratio 1, which a change of that
    size cannot push below zero.
    """
    target = round(combo_price, 4)
    net = sum(leg.sign * leg.ratio * p for leg, p in zip(legs, prices, strict=True))
    gap = round(target - net, 4)
    if gap == 0.0 or not legs:
        return
    ones = [i for i, leg in enumerate(legs) if leg.ratio == 1] or list(range(len(legs)))
    k = max(ones, key=lambda i: prices[i])
    prices[k] = round(prices[k] + legs[k].sign * gap / legs[k].ratio, 4)


def book(
    positions: dict[OptionContract, tuple[int, float]],
    contract: OptionContract,
    qty: int,
    price: float,
) -> None:
    """Add `qty` contracts (negative = sold) at `price` to a position book of (qty, avg cost).

    Adding to a position averages its cost; reducing keeps it; crossing zero starts a new
    position at `price`; reaching zero removes the contract.
    """
    old_qty, old_cost = positions.get(contract, (0, 0.0))
    new_qty = old_qty + qty
    if new_qty == 0:
        positions.pop(contract, None)
        return
    if old_qty == 0 or (old_qty > 0) == (qty > 0):
        cost = (old_cost * abs(old_qty) + price * abs(qty)) / abs(new_qty)
    else:
        cost = old_cost if (old_qty > 0) == (new_qty > 0) else price
    positions[contract] = (new_qty, cost)
