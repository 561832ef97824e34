"""Option commissions, IBKR-like: a fee per contract with a minimum per order.

Exchange and regulatory fees (index options such as SPX carry one per contract) come on top of
the commission and its minimum; they default to none, which leaves equity-option costs unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import Field

from seeker.core.config_base import StrictModel
from seeker.core.models import Leg


class CommissionConfig(StrictModel):
    """Option commissions in one currency (a ``[commissions.<CCY>]`` table)."""

    per_contract: float = Field(ge=0.0)
    min_per_order: float = Field(ge=0.0)


@dataclass(frozen=True, slots=True)
class CommissionSchedule:
    """Commissions in one currency."""

    currency: str
    per_contract: float
    min_per_order: float
    exchange_fee_per_contract: float = 0.0
    """$ per contract charged on top of the commission and its minimum (0 for equity options)."""

    def order(self, contracts: int) -> float:
        """Return the commission of one order of `contracts` option contracts, fees included."""
        if contracts <= 0:
            return 0.0
        commission = max(self.min_per_order, self.per_contract * contracts)
        return commission + self.exchange_fee_per_contract * contracts

    def execution(self, contracts: int, first_of_order: bool) -> float:
        """Return the cost of one execution of `contracts` contracts, fees included.

        The minimum per order applies to an order's first execution only; later partial fills
        pay the fee per contract.
        """
        commission = self.per_contract * contracts
        if first_of_order:
            commission = max(commission, self.min_per_order)
        return commission + self.exchange_fee_per_contract * contracts

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


def commissions_from_config(tables: Mapping[str, CommissionConfig]) -> Commissions:
    """Return the commission schedules of the ``[commissions]`` tables, by currency."""
    return Commissions(
        {ccy: CommissionSchedule(ccy, c.per_contract, c.min_per_order) for ccy, c in tables.items()}
    )
