"""Restart: rebuild positions from the journal, hold their risk, and adopt working orders.

Open positions are rebuilt from the strategy's ORDER, FILL and ORDER_STATUS lines and their risk is
held again in the Risk Guard. An order an earlier run left working is re-attached, never re-sent:
fills made while Seeker was away are journaled (deduplicated by fill id); an order the broker still
works is adopted and cancelled at the first poll, after which the strategy's rules decide afresh;
an order the broker does not know is journaled as cancelled. A broker order is adopted only when
its orderRef names this strategy and the position the journal gave it: one found under the
journal's broker id with another orderRef (an id reused, another strategy's order) is a RISK line
(``adoption_refused``) and is left alone — never followed, never cancelled.
"""

from __future__ import annotations

from seeker.agents.risk_guard import Reservation
from seeker.core.execution import OrderPlan
from seeker.core.journal import read_events
from seeker.core.models import DataUnavailable, OrderState, order_ref
from seeker.core.positions import Position, PositionBook, leg_from_json
from seeker.engine.context import StrategyContext
from seeker.engine.ids import IdSequence
from seeker.engine.resume import last_day_ids
from seeker.engine.sizing import risk_of


class Adoption:
    """Rebuild a strategy's state at start and follow the orders it adopted."""

    def __init__(self, ctx: StrategyContext, ids: IdSequence) -> None:
        self.ctx = ctx
        self.ids = ids
        self.adopted: dict[str, tuple[OrderPlan, str]] = {}

    def rebuild(self) -> int:
        """Rebuild positions from the journal, hold their risk, adopt working orders.

        Return the number of open positions.
        """
        ctx = self.ctx
        lines = read_events(ctx.journal.folder, ["ORDER", "FILL", "ORDER_STATUS", "CONFIDENCE"])
        lines.sort(key=lambda line: str(line.get("ts")))
        ctx.book.apply_all(lines)
        self.ids.resume(ctx.book.positions)
        decisions, named = last_day_ids(ctx.journal.folder)
        self.ids.resume(named)
        self.ids.resume_decisions(decisions)
        for pos in ctx.book.open_positions():
            ctx.guard.restore(
                Reservation(
                    pos.position_id,
                    ctx.name,
                    pos.listing_id,
                    pos.underlying,
                    pos.sector,
                    risk_of(pos, pos.open_qty),
                )
            )
        ctx.executor.remember_fills(ctx.book.fill_ids())
        for oid in ctx.book.working_orders():
            self.adopt(oid)
        return len(ctx.book.open_positions())

    def warn_unmanaged_real_positions(self) -> None:
        """Say (RISK line) which real positions of this strategy nobody manages in shadow mode."""
        ctx = self.ctx
        real = PositionBook()
        real.apply_all(
            sorted(
                read_events(ctx.journal.folder.parent / ctx.name, ["ORDER", "FILL"]),
                key=lambda line: str(line.get("ts")),
            )
        )
        ids = [p.position_id for p in real.open_positions()]
        if not ids:
            return
        detail = (
            f"{len(ids)} real position(s) of {ctx.name} are open and are NOT managed while it "
            f"runs in shadow mode (no exit, no roll, no expiry handling): {', '.join(ids)}; "
            f"run `seeker run {ctx.name}` without --shadow to manage them"
        )
        ctx.risk_line(None, "unmanaged_in_shadow", detail)
        ctx.emit(f"{ctx.name}: WARNING {detail}")

    def adopt(self, oid: str) -> None:
        """Re-attach to an order an earlier run left working: journal what it did, never re-send."""
        ctx = self.ctx
        pos = ctx.book.position_of_order(oid)
        line = ctx.book.order_line(oid)
        if pos is None or line is None:
            return
        plan = OrderPlan(
            position_id=pos.position_id,
            order_id=oid,
            intent=line["intent"],
            listing_id=pos.listing_id,
            legs=tuple(leg_from_json(pos.listing_id, raw) for raw in line["legs"]),
            qty=int(line["qty"]),
            ladder=(float(line["limit_price"]),),
            cancel_when_done=True,
            fields={"exit_rule": line.get("exit_rule")},
        )
        broker_id = ctx.book.broker_order_id(oid)
        ref = order_ref(ctx.name, pos.position_id, line["intent"])
        state = self._follow_own(plan, str(broker_id), ref) if broker_id else None
        if state is None:
            try:
                known = [o for o in ctx.services.broker.open_orders() if o.order_ref == ref]
            except DataUnavailable:
                known = []
            if known:
                state = ctx.executor.follow(plan, known[0].order_id)
                broker_id = known[0].order_id
        if state is None:
            ctx.journal.write(
                "ORDER_STATUS",
                order_id=oid,
                position_id=pos.position_id,
                intent=line["intent"],
                status="cancelled",
                reason="order left working by an earlier run; the broker no longer holds it",
            )
            ctx.book.apply({"event": "ORDER_STATUS", "order_id": oid, "status": "cancelled"})
            return
        if not state.status.is_done:
            ctx.journal.write(
                "ORDER_STATUS",
                order_id=oid,
                position_id=pos.position_id,
                intent=line["intent"],
                status="adopted",
                broker_order_id=broker_id,
                filled=state.filled,
                reason="still working at the broker after a restart: adopted, not re-sent",
            )
            if line["intent"] == "open" and ctx.guard.held(pos.position_id) is None:
                ctx.guard.restore(
                    Reservation(
                        pos.position_id,
                        ctx.name,
                        pos.listing_id,
                        pos.underlying,
                        pos.sector,
                        pos.risk_unit * plan.qty,
                    )
                )
            self.adopted[oid] = (plan, str(broker_id))
        self.settle_risk(pos)

    def _follow_own(self, plan: OrderPlan, broker_id: str, ref: str) -> OrderState | None:
        """Follow the broker's order `broker_id` only if its orderRef is `ref`; else say why."""
        ctx = self.ctx
        try:
            seen = ctx.services.broker.order_state(broker_id)
        except DataUnavailable:
            return None
        if seen.order_ref != ref:
            ctx.risk_line(
                plan.position_id,
                "adoption_refused",
                f"broker order {broker_id} carries orderRef {seen.order_ref or '(none)'!r}, not "
                f"{ref!r} of order {plan.order_id}: not ours, left alone",
            )
            return None
        return ctx.executor.follow(plan, broker_id)

    def follow_adopted(self) -> None:
        """Cancel orders adopted at start (journaling any fill) and settle their positions' risk."""
        ctx = self.ctx
        for oid, (plan, broker_id) in list(self.adopted.items()):
            state = ctx.executor.follow(plan, broker_id)
            if state is not None and not state.status.is_done:
                try:
                    state = ctx.services.broker.cancel_order(broker_id)
                except DataUnavailable:
                    continue
                ctx.executor.follow(plan, broker_id)
            if state is None or state.status.is_done:
                del self.adopted[oid]
                pos = ctx.book.position_of_order(oid)
                if pos is not None:
                    self.settle_risk(pos)

    def settle_risk(self, pos: Position) -> None:
        """Hold exactly the risk of a position's open quantity (release it once flat)."""
        ctx = self.ctx
        if pos.open_qty == 0 and not any(
            ctx.book.position_of_order(o) is pos for o in self.adopted
        ):
            ctx.guard.release(pos.position_id)
        elif pos.open_qty > 0:
            held = ctx.guard.held(pos.position_id)
            want = risk_of(pos, pos.open_qty)
            if held is None:
                ctx.guard.restore(
                    Reservation(
                        pos.position_id, ctx.name, pos.listing_id, pos.underlying, pos.sector, want
                    )
                )
            elif held.risk > want:
                ctx.guard.resize(pos.position_id, want)
