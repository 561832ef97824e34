"""Setups: the candidate structures a scanner proposes, with the quotes of their legs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from seeker.core.execution import combo_mid, combo_natural
from seeker.core.models import Leg, OptionQuote
from seeker.core.payoff import loss_at_debit, lowest_value_at_expiry
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

    @cached_property
    def mid(self) -> float:
        """Return the net debit at mid per unit ($ per share; negative = credit).

        Cached: a setup's legs and quotes are immutable (a new poll's quotes make a new setup).
        """
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
        return loss_at_debit(self._lowest_value, net_debit)

    @cached_property
    def _lowest_value(self) -> float:
        """Return the legs' lowest value at expiry ($ per share; cached, the legs never change)."""
        return lowest_value_at_expiry(self.legs)

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
