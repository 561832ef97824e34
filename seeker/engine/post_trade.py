"""The Post-Trade Analyst: one POST_TRADE line per closed position, from its own journal lines."""

from __future__ import annotations

import math
from typing import Any

from seeker.core.journal import Journal
from seeker.core.positions import Position
from seeker.engine.context import StrategyContext


def post_trade(ctx: StrategyContext, pos: Position, pnl_unit: float, dte: int) -> None:
    """Journal the analyst's line for a position that just closed (P&L after commissions, $)."""
    write_post_trade(ctx.journal, ctx.name, ctx.shadow, pos, pnl_unit, dte)


def write_post_trade(
    journal: Journal,
    strategy: str,
    shadow: bool,
    pos: Position,
    pnl_unit: float,
    dte: int,
    **extra: Any,
) -> dict[str, Any]:
    """Write (and return) the POST_TRADE line of a closed position; NaN `pnl_unit` if unknown."""
    pos.mark(pnl_unit)
    scale = pos.multiplier * pos.opened_qty
    held = (pos.closed_at - pos.opened_at) if pos.closed_at and pos.opened_at else None
    pnl = pos.realized_pnl()
    return journal.write(
        "POST_TRADE",
        strategy=strategy,
        position_id=pos.position_id,
        underlying=pos.listing_id,
        currency=pos.currency,
        qty=pos.opened_qty,
        entry_price=round(pos.entry_price, 4),
        pnl=round(pnl, 2),
        gross_pnl=round(pnl + pos.commissions, 2),
        commissions=round(pos.commissions, 2),
        slippage=round(pos.slippage, 2),
        mfe=round(pos.best_pnl_unit * scale, 2) if math.isfinite(pos.best_pnl_unit) else None,
        mae=round(pos.worst_pnl_unit * scale, 2) if math.isfinite(pos.worst_pnl_unit) else None,
        hours_in_position=round(held.total_seconds() / 3600, 2) if held else None,
        days_in_position=held.days if held else None,
        exit_rule=pos.exit_rule,
        dte_at_exit=dte,
        dte_at_entry=pos.meta.get("dte"),
        regime_at_entry=pos.meta.get("regime"),
        shadow=shadow,
        **extra,
    )
