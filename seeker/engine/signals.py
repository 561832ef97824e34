"""What a strategy's exit rules see of one open position, and what they answer.

`PositionView` is a position priced now from fresh quotes; `ExitSignal` is the rule that fired:
which rule, how many units, how urgently (urgent closes walk to the natural at once), the worst
price the close may pay, and — for a roll — the legs after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from seeker.core.models import Leg, OptionContract, OptionQuote
from seeker.core.positions import Position


@dataclass(frozen=True)
class PositionView:
    """A position priced now: what the exit rules look at."""

    position: Position
    now: datetime
    spot: float
    dte: int
    quotes: Mapping[OptionContract, OptionQuote]
    close_mid: float
    close_natural: float

    @property
    def pnl_unit(self) -> float:
        """Return the open P&L per unit if closed at mid ($ per share)."""
        return -(self.position.entry_price + self.close_mid)

    @property
    def credit(self) -> float:
        """Return the opening credit per unit ($ per share)."""
        return self.position.credit

    def quote(self, contract: OptionContract) -> OptionQuote:
        """Return the quote of one leg."""
        return self.quotes[contract]


@dataclass(frozen=True)
class ExitSignal:
    """An exit rule that fired: which rule, how many units, how urgently, and why.

    `limit` is the worst net debit per unit the close (or roll) may pay (a take-profit never pays
    more than its target); None means up to the natural price. `roll_to`, when given, asks for a
    roll instead of a close: the position's legs after the roll (every unit is rolled).
    """

    rule: str
    qty: int
    reason: str
    urgent: bool = False
    limit: float | None = None
    roll_to: tuple[Leg, ...] | None = None
