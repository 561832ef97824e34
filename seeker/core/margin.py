"""What an order would do to a margin account, as the broker computes it (IBKR's what-if).

A capability, not part of the Broker protocol: only a broker that can answer (``IBKRBroker``)
implements :class:`MarginBroker`. The account agent uses it when ``[limits] funding = "margin"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from seeker.core.models import ComboOrder


@dataclass(frozen=True)
class MarginImpact:
    """The broker's margin figures before and after one order ($, in `currency`)."""

    currency: str
    equity_with_loan_after: float
    init_margin_after: float
    maint_margin_after: float
    init_margin_change: float
    commission: float | None
    warning: str

    @property
    def excess_after(self) -> float:
        """Return equity with loan − initial margin after the order (< 0: it does not fit)."""
        return self.equity_with_loan_after - self.init_margin_after


@runtime_checkable
class MarginBroker(Protocol):
    """A broker that tells what an order would do to the account's margin without sending it."""

    def what_if(self, order: ComboOrder) -> MarginImpact:
        """Return the order's margin impact; DataUnavailable when the broker gives none."""
        ...
