"""Scan helpers the strategies share: pick an expiry, a strike by delta, a wing by width."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

from seeker.core.models import Chain, OptionQuote, Right


def pick_expiry(
    expiries: Sequence[date], today: date, lo: int, hi: int, target: int
) -> date | None:
    """Return the expiry within [lo, hi] days whose DTE is nearest `target` (ties: the earlier)."""
    inside = in_dte_window(expiries, today, lo, hi)
    if not inside:
        return None
    return min(inside, key=lambda e: (abs((e - today).days - target), e))


def in_dte_window(expiries: Sequence[date], today: date, lo: int, hi: int) -> list[date]:
    """Return the expiries `lo` to `hi` days (DTE) after `today`, in their order.

    Compared as dates (``lo ≤ (e − today).days ≤ hi`` exactly): no timedelta per expiry, for the
    dozens of expiries listed at each scan.
    """
    first, last = today + timedelta(days=lo), today + timedelta(days=hi)
    return [e for e in expiries if first <= e <= last]


def is_monthly(expiry: date) -> bool:
    """Return True for a standard monthly expiry: the third Friday (Thursday before a holiday)."""
    return (
        15 <= expiry.day <= 21
        and expiry.weekday() in (3, 4)
        and (expiry.weekday() == 4 or expiry.day <= 20)
    )


def pick_by_delta(
    quotes: Sequence[OptionQuote], lo: float, hi: float, target: float
) -> OptionQuote | None:
    """Return the quote whose |delta| lies in [lo, hi] and is nearest `target`.

    Quotes without a finite delta or with a non-positive bid are skipped: they cannot be sold.
    """
    return _nearest(_in_band(quotes, lo, hi), target)


def pick_by_deltas(
    quotes: Sequence[OptionQuote], lo: float, hi: float, targets: Sequence[float]
) -> list[OptionQuote | None]:
    """Return :func:`pick_by_delta`'s pick for each of `targets`, filtering the band once."""
    band = _in_band(quotes, lo, hi)
    return [_nearest(band, target) for target in targets]


def _in_band(
    quotes: Sequence[OptionQuote], lo: float, hi: float
) -> list[tuple[float, OptionQuote]]:
    """Return (|delta|, quote) of the sellable quotes whose finite |delta| lies in [lo, hi]."""
    isfinite = math.isfinite
    band: list[tuple[float, OptionQuote]] = []
    for q in quotes:
        d = abs(q.delta)
        if lo <= d <= hi and q.bid > 0 and isfinite(d):
            band.append((d, q))
    return band


def _nearest(band: Sequence[tuple[float, OptionQuote]], target: float) -> OptionQuote | None:
    """Return the quote whose |delta| is nearest `target` (ties: the lower strike), in order."""
    best: OptionQuote | None = None
    best_gap = math.inf
    for d, q in band:
        gap = abs(d - target)
        if gap < best_gap - 1e-12 or (
            abs(gap - best_gap) <= 1e-12
            and best is not None
            and q.contract.strike < best.contract.strike
        ):
            best, best_gap = q, gap
    return best


def wing(chain: Chain, short: OptionQuote, width: float) -> OptionQuote | None:
    """Return the long wing `width` further out of the money than `short`, if listed."""
    c = short.contract
    strike = c.strike - width if c.right == "P" else c.strike + width
    return chain.quote(c.expiry, round(strike, 4), c.right)


def side(chain: Chain, expiry: date, right: Right) -> list[OptionQuote]:
    """Return one expiry's calls or puts, sorted by strike."""
    return chain.side(expiry, right)
