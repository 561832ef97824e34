"""Price an open position from fresh quotes: the view its exit rules and its confidence read."""

from __future__ import annotations

import math
from datetime import datetime

from seeker.core.execution import combo_mid, combo_natural
from seeker.core.models import DataUnavailable
from seeker.core.positions import Position
from seeker.engine.context import StrategyContext
from seeker.engine.signals import PositionView


def price_position(ctx: StrategyContext, pos: Position, now: datetime) -> PositionView:
    """Return the position priced now; DataUnavailable when a quote is missing or stale."""
    broker = ctx.services.broker
    contracts = [leg.contract for leg in pos.legs]
    quotes = broker.option_quotes(contracts)
    max_age = ctx.settings.liquidity.max_quote_age_seconds
    for c in contracts:
        q = quotes.get(c)
        if q is None:
            raise DataUnavailable(f"no quote for {c.key}")
        problem = q.problem(now, max_age)
        if problem:
            raise DataUnavailable(problem)
    und = broker.underlying_quote(pos.listing_id)
    if not (math.isfinite(und.mid) and und.bid <= und.ask):
        raise DataUnavailable(f"{pos.listing_id}: underlying quote unusable")
    closing = pos.closing_legs()
    ordered = [quotes[leg.contract] for leg in closing]
    return PositionView(
        position=pos,
        now=now,
        spot=und.mid,
        dte=(pos.expiry - now.date()).days,
        quotes=quotes,
        close_mid=combo_mid(closing, ordered),
        close_natural=combo_natural(closing, ordered),
    )
