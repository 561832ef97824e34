"""Setups (candidate structures) and the chain helpers scanners use to build them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from seeker.core.execution import combo_mid, combo_natural
from seeker.core.models import Chain, Leg, OptionQuote, Right
from seeker.core.payoff import worst_loss_at_expiry
from seeker.core.positions import leg_to_json


@dataclass(frozen=True)
class Setup:
    """A candidate structure with the quotes of its legs, as a scanner proposes it."""

    strategy: str
    listing_id: str
    kind: str
    legs: tuple[Leg, ...]
    quotes: tuple[OptionQuote, ...]
    spot: float
    dte: int
    label: str
    features: Mapping[str, Any] = field(default_factory=dict)
    fixed_worst_loss: float | None = None

    @property
    def mid(self) -> float:
        """Return the net debit at mid per unit ($ per share; negative = credit)."""
        return combo_mid(self.legs, self.quotes)

    @property
    def natural(self) -> float:
        """Return the natural net debit per unit ($ per share)."""
        return combo_natural(self.legs, self.quotes)

    @property
    def expiry(self) -> date:
        """Return the nearest expiry among the legs."""
        return min(leg.contract.expiry for leg in self.legs)

    def worst_loss(self, net_debit: float) -> float:
        """Return the worst loss per unit at the nearest expiry ($ per share) at this price."""
        if self.fixed_worst_loss is not None:
            return self.fixed_worst_loss + max(0.0, net_debit - self.mid)
        return worst_loss_at_expiry(self.legs, net_debit)

    def describe(self) -> dict[str, Any]:
        """Return a journal-ready description of the setup."""
        return {
            "kind": self.kind,
            "label": self.label,
            "dte": self.dte,
            "expiry": self.expiry.isoformat(),
            "legs": [leg_to_json(leg) for leg in self.legs],
            "mid": round(self.mid, 4),
            "natural": round(self.natural, 4),
        }


def pick_expiry(
    expiries: Sequence[date], today: date, lo: int, hi: int, target: int
) -> date | None:
    """Return the expiry within [lo, hi] days whose DTE is nearest `target` (ties: the earlier)."""
    inside = [e for e in expiries if lo <= (e - today).days <= hi]
    if not inside:
        return None
    return min(inside, key=lambda e: (abs((e - today).days - target), e))


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
    best: OptionQuote | None = None
    best_gap = math.inf
    for q in quotes:
        d = abs(q.delta)
        if not math.isfinite(d) or not (lo <= d <= hi) or not (q.bid > 0):
            continue
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
