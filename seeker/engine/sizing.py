"""Risk in $: what a setup may lose for each quantity, and what an open position holds."""

from __future__ import annotations

from seeker.core.models import Listing
from seeker.core.positions import Position
from seeker.core.structures import Setup
from seeker.engine.context import StrategyContext


def risk_of(pos: Position, qty: int) -> float:
    """Return the risk held for `qty` open units: the reserved risk per unit × qty ($)."""
    return pos.risk_unit * qty


def max_loss_by_qty(
    ctx: StrategyContext, setup: Setup, listing: Listing, bound: float
) -> list[float]:
    """Return the worst loss of 1..quantity units at the worst accepted price `bound`, with
    round-trip commissions, in the listing's currency ($)."""
    sched = ctx.services.commissions[listing.currency]
    worst = setup.worst_loss(bound)
    return [
        worst * listing.multiplier * q + sched.round_trip(setup.legs, q)
        for q in range(1, int(ctx.config.quantity) + 1)
    ]
