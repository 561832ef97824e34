"""The ``[limits]`` table: the capital basis of the caps, how an opening is funded, and the
account's brakes (daily loss, drawdown from the equity peak, excessive errors).

Every value is a trading value, so every key is required; percentages are of equity at mid in the
capital currency (5 means 5 %).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from seeker.core.config_base import Pct, StrictModel

CapitalBasis = Literal["capital", "lower_of_capital_and_equity"]
"""What the five caps are percentages of: the reference capital (``account.capital``), or the
lower of it and the account's equity at mid, taken at each session's first poll."""

Funding = Literal["cash", "margin"]
"""What an opening order must find in the account: cash for its max loss beside every open
position's (``cash``), or the broker's margin after the order (``margin``: IBKR's what-if)."""

LimitAction = Literal["stop_entries", "flatten"]
"""What a tripped limit does: no new entry (exits go on), or close every position (limit orders
on the execution ladder) and open nothing."""

LIMIT_NAMES: tuple[str, ...] = ("daily_loss", "drawdown", "errors")
"""The account's limits, as LIMIT lines name them."""


class LimitsConfig(StrictModel):
    """The account's capital basis, funding rule and limits (the ``[limits]`` table)."""

    capital_basis: CapitalBasis
    funding: Funding
    daily_loss_pct: Pct
    daily_loss_action: LimitAction
    max_drawdown_pct: Pct
    max_drawdown_action: LimitAction
    max_errors: int = Field(ge=1, le=1000)
    error_window_minutes: float = Field(gt=0.0, le=7 * 24 * 60.0, allow_inf_nan=False)

    def action(self, limit: str) -> LimitAction:
        """Return the action of one limit (the errors failsafe only ever stops entries)."""
        if limit == "daily_loss":
            return self.daily_loss_action
        if limit == "drawdown":
            return self.max_drawdown_action
        return "stop_entries"
