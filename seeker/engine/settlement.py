"""Expired positions: closed only at the settlement the broker confirms, never guessed.

Every leg must have expired and the broker must report each leg's settlement price; then the
settlement is journaled as a combo FILL (``exit_rule: "expiry"``, no commission). Otherwise nothing
is closed: the risk stays reserved, the underlying stays blocked by reconciliation, and a RISK line
(once a day) says what a human must check.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from seeker.core.broker import SettlementNotes
from seeker.core.positions import Position, leg_to_json
from seeker.engine.context import StrategyContext
from seeker.engine.marks import Marks
from seeker.engine.post_trade import post_trade


class Settlement:
    """Settle positions whose legs expired while nobody managed them."""

    def __init__(self, ctx: StrategyContext, marks: Marks) -> None:
        self.ctx = ctx
        self.marks = marks
        self._reported: dict[str, date] = {}

    def settled_on(self, pos: Position) -> str:
        """Return the value the legs settled on, as the broker tells it (else the expiry close)."""
        broker = self.ctx.services.broker
        if isinstance(broker, SettlementNotes):
            notes = [broker.settlement_note(leg.contract) for leg in pos.legs]
            if all(notes):
                return "; ".join(dict.fromkeys(n for n in notes if n))
        return "the expiry close"

    def settle_expired(self, pos: Position, now: datetime) -> list[dict[str, Any]]:
        """Close an expired position at the broker's settlement, or return the RISK line to write.

        Return the lines the caller batches with the poll's others (empty when it wrote them).
        """
        ctx = self.ctx
        today = now.date()
        expired = [leg for leg in pos.legs if leg.contract.expiry < today]
        prices = (
            [ctx.services.broker.expiry_settlement(leg.contract) for leg in pos.legs]
            if len(expired) == len(pos.legs)
            else []
        )
        if not prices or any(p is None or not math.isfinite(p) for p in prices):
            if self._reported.get(pos.position_id) == today:
                return []
            self._reported[pos.position_id] = today
            if len(expired) < len(pos.legs):
                why = (
                    f"{len(expired)} of {len(pos.legs)} legs expired on "
                    f"{min(leg.contract.expiry for leg in expired)} while the others live"
                )
            else:
                why = f"its legs expired on {pos.expiry} and the broker reports no settlement"
            detail = (
                f"{why}: the position is left open, its risk reserved and {pos.listing_id} "
                "blocked; check the account (an in-the-money leg may have been exercised or "
                "assigned) and settle it by hand"
            )
            ctx.emit(f"{ctx.name}: {pos.position_id} {detail}")
            return [
                ctx.journal.record(
                    "RISK",
                    strategy=ctx.name,
                    position_id=pos.position_id,
                    rule="expired_unsettled",
                    detail=detail,
                )
            ]
        qty = pos.open_qty
        closing = [leg.reversed() for leg in pos.legs]
        per_unit = sum(
            leg.sign * leg.ratio * float(price) for leg, price in zip(closing, prices, strict=True)
        )
        legs = [
            {**leg_to_json(leg), "qty": qty * leg.ratio, "price": round(float(price), 4)}
            for leg, price in zip(closing, prices, strict=True)
        ]
        fill = ctx.journal.write(
            "FILL",
            fill_id=f"{pos.position_id}.expiry",
            order_id=f"{pos.position_id}.expiry",
            position_id=pos.position_id,
            strategy=ctx.name,
            intent="close",
            kind="combo",
            fill_price=round(per_unit, 4),
            qty=qty,
            commission=0.0,
            currency=pos.currency,
            exit_rule="expiry",
            legs=legs,
            reason=(
                f"expired on {pos.expiry}; settled by the broker at intrinsic value of "
                f"{self.settled_on(pos)}"
            ),
        )
        ctx.book.apply(fill)
        ctx.guard.release(pos.position_id)
        self.marks.views.pop(pos.position_id, None)
        post_trade(ctx, pos, -(pos.entry_price + per_unit), 0)
        ctx.services.reconcile("expiry settlement")  # lifts the block the expiry caused
        return []
