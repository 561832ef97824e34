"""Closes: one combo order for the units an exit rule names, on the ladder mid → bound.

A position is closed only by its closing FILL; the risk it holds shrinks to what stays open and is
released when it is flat, and the Post-Trade Analyst writes its line then.

No close is sent while another order of the position may still work at the broker (a second close
could fill twice): :meth:`Closer.close` says so and returns :attr:`CloseOutcome.WORKING`, so that a
caller who must not lose the close (a person's ``seeker close``) asks again at the next poll.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from seeker.core.execution import OrderPlan, price_ladder
from seeker.core.models import DataUnavailable
from seeker.core.positions import Position
from seeker.engine.broker_check import BrokerCheck
from seeker.engine.checklist import checked
from seeker.engine.context import StrategyContext
from seeker.engine.post_trade import post_trade
from seeker.engine.signals import ExitSignal, PositionView
from seeker.engine.sizing import risk_of
from seeker.engine.valuation import price_position


class CloseOutcome(Enum):
    """What :meth:`Closer.close` did with an exit signal."""

    SENT = "sent"
    """The order was handed to Execution (whatever became of it: filled, cancelled, rejected,
    unconfirmed — Execution journals that)."""
    WORKING = "working"
    """Nothing sent: an order of the position may still work at the broker (see
    :meth:`Closer.working_order`); the same close may be asked again once it has ended."""
    REFUSED = "refused"
    """Nothing sent: the checklist or the broker check refused the order (journaled there)."""


class Closer:
    """Close positions (or some of their units) through Execution."""

    def __init__(self, ctx: StrategyContext) -> None:
        self.ctx = ctx
        self.broker_check = BrokerCheck(ctx)

    def close(
        self,
        pos: Position,
        view: PositionView,
        signal: ExitSignal,
        now: datetime,
        *,
        say_working: bool = True,
    ) -> CloseOutcome:
        """Send the close an exit signal asks for; release or shrink the risk after its fills.

        Return what became of it (:class:`CloseOutcome`). While an order of the position may still
        work nothing is sent and a RISK line (the signal's rule) says why — unless `say_working`
        is False: the caller then journals the wait itself (once, not at every poll).
        """
        ctx = self.ctx
        working = self.working_order(pos)
        if working is not None:
            if say_working:
                ctx.risk_line(
                    pos.position_id,
                    signal.rule,
                    f"close not sent: {self.still_working(working)}; a second close could fill "
                    "twice",
                )
            return CloseOutcome.WORKING
        execution = ctx.settings.execution
        qty = max(1, min(signal.qty, pos.open_qty))
        closing = pos.closing_legs()
        bound = (
            view.close_natural if signal.limit is None else min(view.close_natural, signal.limit)
        )
        ladder = price_ladder(
            view.close_mid,
            view.close_natural,
            bound,
            execution.step_fraction,
            execution.max_steps,
            urgent=signal.urgent,
        )
        n_orders = len(pos.orders) + 1
        plan = OrderPlan(
            position_id=pos.position_id,
            order_id=f"{pos.position_id}.{n_orders}",
            intent="close",
            listing_id=pos.listing_id,
            legs=closing,
            qty=qty,
            ladder=tuple(ladder),
            cancel_when_done=True,
            fields=self.exit_fields(
                pos,
                view,
                signal,
                max_loss=pos.max_loss_unit * qty,
                risk=pos.risk_unit * qty,
                mid=view.close_mid,
                natural=view.close_natural,
            ),
        )
        if not checked(
            ctx,
            plan,
            natural=view.close_natural,
            in_rth=ctx.in_rth(pos.listing_id),
            risk_reserved=True,
            what="close",
        ):
            return CloseOutcome.REFUSED
        if self.broker_check.refuses(pos, closing, qty, "close"):
            return CloseOutcome.REFUSED
        ctx.executor.work(plan)
        if pos.open_qty == 0:
            ctx.guard.release(pos.position_id)
            post_trade(ctx, pos, view.pnl_unit, view.dte)
        else:
            ctx.guard.resize(pos.position_id, risk_of(pos, pos.open_qty))
        return CloseOutcome.SENT

    def exit_fields(
        self,
        pos: Position,
        view: PositionView,
        signal: ExitSignal,
        *,
        max_loss: float,
        risk: float,
        mid: float,
        natural: float,
    ) -> dict[str, Any]:
        """Return the ORDER fields of a close or roll: its risk, the position's labels, why."""
        return {
            "max_loss": round(max_loss, 2),
            "risk": round(risk, 4),
            "risk_currency": self.ctx.settings.account.capital_currency,
            "sector": pos.sector,
            "cluster": pos.cluster,
            "currency": pos.currency,
            "symbol": pos.underlying,
            "multiplier": pos.multiplier,
            "exit_rule": signal.rule,
            "reason": signal.reason,
            "mid": round(mid, 4),
            "natural": round(natural, 4),
            "spot": round(view.spot, 4),
            "dte": view.dte,
        }

    def working_order(self, pos: Position) -> str | None:
        """Return an order of `pos` not known to be done (filled, cancelled or rejected)."""
        book = self.ctx.book
        for oid in book.working_orders():
            if book.position_of_order(oid) is pos:
                return oid
        return None

    def why_working(self, order_id: str) -> str:
        """Return why an order not known to be done may still work (for the RISK line)."""
        if self.ctx.book.is_unconfirmed(order_id):
            return (
                "it was sent and never acknowledged: unconfirmed until the broker's open orders "
                "and executions say what became of it"
            )
        return "its cancel was not confirmed"

    def still_working(self, order_id: str) -> str:
        """Return the RISK lines' words for an order of a position that may still work."""
        return (
            f"order {order_id} of this position may still work at the broker "
            f"({self.why_working(order_id)})"
        )

    def close_stranded(self, pos: Position) -> None:
        """Close the units a partly filled roll left on the old legs (at once, urgently)."""
        ctx = self.ctx
        now = ctx.services.clock.now()
        try:
            view = price_position(ctx, pos, now)
        except DataUnavailable as exc:
            ctx.risk_line(
                pos.position_id,
                "data",
                f"cannot price the units a partial roll left: {exc}; next poll",
            )
            return
        reason = f"{pos.stranded_qty} unit(s) left on the old legs by a partly filled roll"
        self.close(pos, view, ExitSignal("roll_remainder", pos.stranded_qty, reason, True), now)
