"""Option commissions, IBKR-like: a fee per contract with a minimum per order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from seeker.core.models import Leg


@dataclass(frozen=True, slots=True)
class CommissionSchedule:
    """Commissions in one currency."""

    currency: str
    per_contract: float
    min_per_order: float

    def order(self, contracts: int) -> float:
        """Return the commission of one order of `contracts` option contracts."""
        if contracts <= 0:
            return 0.0
        return max(self.min_per_order, self.per_contract * contracts)

    def combo(self, legs: Sequence[Leg], qty: int) -> float:
        """Return the commission of one combo order of `qty` units."""
        return self.order(sum(leg.ratio for leg in legs) * qty)

    def round_trip(self, legs: Sequence[Leg], qty: int) -> float:
        """Return opening plus closing commissions of `qty` units of a combo."""
        return 2.0 * self.combo(legs, qty)


class Commissions:
    """Commission schedules by currency."""

    def __init__(self, schedules: Mapping[str, CommissionSchedule]) -> None:
        self._schedules = dict(schedules)

    def __getitem__(self, currency: str) -> CommissionSchedule:
        try:
            return self._schedules[currency]
        except KeyError:
            raise KeyError(f"no commission schedule for {currency}") from None
