"""Never an order the broker's positions do not justify: the check before every close and roll.

Before Seeker sends an order that sells back (or buys back) a position's legs, the broker must
hold them, in the position's direction, for at least the quantity the order trades. The broker
nets every strategy's positions per contract, so what it holds for this position is the broker's
quantity less what the other strategies' journals hold, less their executions not journaled yet,
less this strategy's other positions. When that falls short (a closing fill the journal lost, a
position closed by hand in TWS, an assignment), the order is not sent: a RISK line
(``broker_positions``) says which contract and quantities, once per position and finding, and the
next reconciliation blocks the underlying.
"""

from __future__ import annotations

from collections.abc import Sequence

from seeker.core.models import DataUnavailable, Leg, OptionContract
from seeker.core.positions import Position
from seeker.engine.context import StrategyContext
from seeker.engine.ledger import held_by, in_flight
from seeker.engine.recovery import SINCE_MARGIN


class BrokerCheck:
    """Check a strategy's closing orders against the broker's positions."""

    def __init__(self, ctx: StrategyContext) -> None:
        self.ctx = ctx
        self._said: dict[str, str] = {}

    def shortfall(self, pos: Position, legs: Sequence[Leg], qty: int) -> str | None:
        """Return why the broker's positions do not justify `legs` × `qty` units (None if fine).

        `legs` are the order's legs that close legs the position holds.
        """
        ctx = self.ctx
        services = ctx.services
        now = services.clock.now()
        try:
            broker = {p.contract: p.qty for p in services.broker.positions()}
            since = now - 2 * services.cycle.interval - SINCE_MARGIN
            executions = services.broker.executions(since)
        except DataUnavailable as exc:
            return f"cannot read the broker's positions ({exc})"
        views = services.ledger.views(services.ledger.strategy_names())
        others = held_by(views, skip=ctx.name)
        pending = in_flight(executions, views, skip=ctx.name)
        mine: dict[OptionContract, int] = {}
        for other in ctx.book.open_positions():
            if other is not pos:
                for c, q in other.held_contracts().items():
                    mine[c] = mine.get(c, 0) + q
        problems = []
        for leg in legs:
            c = leg.contract
            side = -leg.sign  # the position holds the opposite of what closes it
            need = leg.ratio * qty
            theirs = broker.get(c, 0)
            left = theirs - others.get(c, 0) - pending.get(c, 0) - mine.get(c, 0)
            if left * side < need:
                problems.append(
                    f"{c.key}: the order {leg.action.lower()}s {need}, the broker holds "
                    f"{theirs:+d} of which {left:+d} for this position"
                )
        return "; ".join(problems) or None

    def refuses(self, pos: Position, legs: Sequence[Leg], qty: int, what: str) -> bool:
        """Return True (and say why once) when the broker does not justify the order."""
        ctx = self.ctx
        if ctx.shadow:
            return False
        problem = self.shortfall(pos, legs, qty)
        if problem is None:
            self._said.pop(pos.position_id, None)
            return False
        if self._said.get(pos.position_id) != problem:
            self._said[pos.position_id] = problem
            ctx.risk_line(
                pos.position_id,
                "broker_positions",
                f"{what} not sent: the broker's positions do not justify it: {problem}",
            )
            ctx.emit(f"{ctx.name}: {what} of {pos.position_id} not sent: {problem}")
        return True
