"""Restart: rebuild positions from the journal, hold their risk, and adopt working orders.

Open positions are rebuilt from the strategy's ORDER, FILL and ORDER_STATUS lines and their risk is
held again in the Risk Guard. An order an earlier run left working is re-attached, never re-sent:
fills made while Seeker was away are journaled (deduplicated by fill id); an order the broker still
works is adopted and cancelled at the first poll, after which the strategy's rules decide afresh;
an order the broker does not know is journaled as cancelled. A broker order is adopted only when
its orderRef names this strategy and the position the journal gave it: one found under the
journal's broker id with another orderRef (an id reused, another strategy's order) is a RISK line
(``adoption_refused``) and is left alone — never followed, never cancelled.

When the broker does not answer, nothing is concluded: the order stays working in the book (no
second close or roll of its position, its risk held), a RISK line (``unresolved_order``) says so,
and it is looked at again at each poll until the broker answers.

Unconfirmed orders (ORDER_STATUS ``unconfirmed``: maybe sent, never acknowledged; see
``OrderUnconfirmed``) are resolved at each poll from the broker's complete answer for their
orderRef (:func:`~seeker.core.broker.lookup_ref`): executions not journaled yet are journaled
once (``recovered``); an order found working is journaled ``submitted`` with its broker id and
adopted (followed, then cancelled, like an order of an earlier run); an order absent from both the
open orders and the executions is ``rejected`` (``not at the broker``) and its risk settled. Only
orders and executions whose orderRef is exactly the order's own are ever looked at.

An order of this run whose cancel was not confirmed (the broker did not answer: see
``Executor._cancel``) is adopted the same way at the next poll, by its broker id and orderRef:
followed at each poll, its cancel sent again until the broker confirms it (or its fills are
journaled, once); until then it counts as working (no second order of its position, an opening
order's risk held).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from seeker.agents.risk_guard import Reservation
from seeker.core.broker import RefLookup, lookup_ref
from seeker.core.execution import OrderPlan
from seeker.core.journal import read_events
from seeker.core.models import DataUnavailable, OrderState, order_ref
from seeker.core.positions import Position, PositionBook, leg_from_json
from seeker.engine.context import StrategyContext
from seeker.engine.executions import describe, recover_fills, same_broker_order
from seeker.engine.ids import IdSequence
from seeker.engine.resume import last_day_ids
from seeker.engine.sizing import risk_of


class Adoption:
    """Rebuild a strategy's state at start and follow the orders it adopted."""

    def __init__(self, ctx: StrategyContext, ids: IdSequence) -> None:
        self.ctx = ctx
        self.ids = ids
        self.adopted: dict[str, tuple[OrderPlan, str]] = {}
        self.unresolved: dict[str, str] = {}
        """Orders the broker did not answer about (our order id → what the RISK line said)."""
        self.uncancelled: set[str] = set()
        """Orders of this run whose cancel was not confirmed, followed until they end."""

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
            self._restore_risk(pos, risk_of(pos, pos.open_qty))
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

    @staticmethod
    def _plan(oid: str, pos: Position, line: Mapping[str, Any]) -> OrderPlan:
        """Return the plan of one of our journaled orders (to follow it, never to send it)."""
        return OrderPlan(
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

    def adopt(self, oid: str) -> None:
        """Re-attach to an order an earlier run left working: journal what it did, never re-send.

        When the broker does not answer, the order is left unresolved (still working in the book)
        and looked at again at the next poll (:meth:`follow_orders`).
        """
        ctx = self.ctx
        pos = ctx.book.position_of_order(oid)
        line = ctx.book.order_line(oid)
        if pos is None or line is None:
            return
        if ctx.book.is_unconfirmed(oid):
            self.resolve(oid)
            return
        plan = self._plan(oid, pos, line)
        broker_id = ctx.book.broker_order_id(oid)
        ref = order_ref(ctx.name, pos.position_id, line["intent"])
        ours = oid in self.uncancelled  # this run's order, its cancel not confirmed
        left = "its cancel was not confirmed" if ours else "left working by an earlier run"
        state = self._follow_own(plan, str(broker_id), ref) if broker_id else None
        if state is None:
            try:
                known = [o for o in ctx.services.broker.open_orders() if o.order_ref == ref]
            except DataUnavailable as exc:
                self._hold_open_risk(pos, plan)
                self._unresolved(plan, f"{left}; the broker did not answer ({exc})")
                return
            if known:
                state = ctx.executor.follow(plan, known[0].order_id)
                broker_id = known[0].order_id
        self.unresolved.pop(oid, None)
        if state is None:
            self.uncancelled.discard(oid)
            ctx.journal.write(
                "ORDER_STATUS",
                order_id=oid,
                position_id=pos.position_id,
                intent=line["intent"],
                status="cancelled",
                reason=f"order {left}; the broker no longer holds it",
            )
            ctx.book.apply({"event": "ORDER_STATUS", "order_id": oid, "status": "cancelled"})
            self.settle_risk(pos)  # an opening order's risk held meanwhile ends with it
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
                reason=(
                    "its cancel was not confirmed: still working at the broker; followed at each "
                    "poll and cancelled again, not re-sent"
                    if ours
                    else "still working at the broker after a restart: adopted, not re-sent"
                ),
            )
            self._hold_open_risk(pos, plan)
            self.adopted[oid] = (plan, str(broker_id))
        else:
            self.uncancelled.discard(oid)
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
        """Cancel adopted orders (journaling any fill) and settle their positions' risk; one the
        broker does not answer about is unresolved, looked at again at the next poll."""
        ctx = self.ctx
        for oid, (plan, broker_id) in list(self.adopted.items()):
            state = ctx.executor.follow(plan, broker_id)
            if state is None:  # no answer: looked at again from the start at the next poll
                del self.adopted[oid]
                left = "its cancel was not confirmed" if oid in self.uncancelled else "adopted"
                self._unresolved(plan, f"{left}; the broker did not answer")
                continue
            if not state.status.is_done:
                try:
                    state = ctx.services.broker.cancel_order(broker_id)
                except DataUnavailable:
                    continue
                ctx.executor.follow(plan, broker_id)
            if state.status.is_done:
                del self.adopted[oid]
                self.uncancelled.discard(oid)
                pos = ctx.book.position_of_order(oid)
                if pos is not None:
                    self.settle_risk(pos)

    def follow_orders(self) -> None:
        """Each poll: look again at orders the broker did not answer about, adopt this run's orders
        whose cancel was not confirmed, resolve unconfirmed ones, then follow (and cancel) adopted
        ones."""
        ctx = self.ctx
        for oid in list(self.unresolved):
            if oid not in ctx.book.working_orders():
                self.unresolved.pop(oid, None)
                self.uncancelled.discard(oid)
            elif not ctx.book.is_unconfirmed(oid):
                self.adopt(oid)
        for oid in ctx.executor.take_uncancelled():  # this run's orders, cancel not confirmed
            if oid in ctx.book.working_orders() and oid not in self.adopted:
                self.uncancelled.add(oid)
                self.adopt(oid)
        for oid in ctx.book.unconfirmed_orders():
            self.resolve(oid)
        if self.adopted:
            self.follow_adopted()

    def resolve(self, oid: str) -> None:
        """Resolve an unconfirmed order from the broker's complete answer for its orderRef.

        Its executions the journal lacks are journaled (once); found working, it is journaled
        ``submitted`` and adopted; absent from the open orders and the executions, it is
        ``rejected`` (not at the broker). No answer: it stays unconfirmed (a RISK line says so).
        """
        ctx = self.ctx
        pos = ctx.book.position_of_order(oid)
        line = ctx.book.order_line(oid)
        if pos is None or line is None or not ctx.book.is_unconfirmed(oid):
            return
        plan = self._plan(oid, pos, line)
        self._hold_open_risk(pos, plan)
        ref = order_ref(ctx.name, pos.position_id, line["intent"])
        try:
            found = lookup_ref(ctx.services.broker, ref)
        except DataUnavailable as exc:
            self._unresolved(plan, f"unconfirmed; the broker did not answer ({exc})")
            return
        self.unresolved.pop(oid, None)
        self._recover(found)
        if not ctx.book.is_unconfirmed(oid):  # its fills completed it
            self.settle_risk(pos)
            return
        working = [o for o in found.working if self._could_be(pos, oid, o.order_id)]
        if working:
            state = working[0]
            self._write_status(
                plan,
                "submitted",
                broker_order_id=state.order_id,
                limit_price=state.limit_price,
                filled=state.filled,
                reason="acknowledged late: found working at the broker under its orderRef",
            )
            followed = ctx.executor.follow(plan, state.order_id)
            if followed is None or not followed.status.is_done:
                self.adopted[oid] = (plan, state.order_id)
            self.settle_risk(pos)
            return
        if found.pending:
            self._unresolved(
                plan,
                f"unconfirmed; {found.pending} execution(s) under {ref} wait for their commission "
                "reports",
            )
            return
        filled = ctx.book.order_filled(oid)
        if filled:
            self._write_status(
                plan,
                "cancelled",
                filled=filled,
                remaining=plan.qty - filled,
                reason="no longer working at the broker; its executions filled "
                f"{filled} of {plan.qty}",
            )
        else:
            self._write_status(
                plan,
                "rejected",
                filled=0,
                remaining=plan.qty,
                reason=f"not at the broker: neither its open orders nor its executions hold {ref}",
            )
        self.settle_risk(pos)

    def _could_be(self, pos: Position, oid: str, broker_id: str) -> bool:
        """Return False if `broker_id` is the broker's id of another order of the position (the
        only orders that carry the same orderRef)."""
        book = self.ctx.book
        return not any(
            other != oid and same_broker_order(book.broker_order_id(other), broker_id)
            for other in pos.orders
        )

    def _recover(self, found: RefLookup) -> None:
        """Journal the executions under one orderRef that the journal lacks (once each)."""
        ctx = self.ctx
        if not found.fills:
            return
        seen = ctx.services.ledger.view(ctx.name).fill_ids
        now = ctx.services.clock.now()
        rec = recover_fills(ctx.journal, ctx.book, ctx.name, found.fills, now, seen)
        ctx.executor.remember_fills(rec.journaled_ids())
        for fill in rec.fills:
            ctx.emit(f"{ctx.name}: recovered {describe(fill)}")
        for pos in rec.touched:
            self.settle_risk(pos)

    def _hold_open_risk(self, pos: Position, plan: OrderPlan) -> None:
        """Hold the risk of an opening order that may still fill (after a restart it is not)."""
        ctx = self.ctx
        if plan.intent == "open" and ctx.guard.held(pos.position_id) is None:
            self._restore_risk(pos, pos.risk_unit * plan.qty)

    def _restore_risk(self, pos: Position, risk: float) -> None:
        """Hold `risk` for a position in the Risk Guard (in the unit of `risk_of`)."""
        ctx = self.ctx
        ctx.guard.restore(
            Reservation(pos.position_id, ctx.name, pos.listing_id, pos.underlying, pos.sector, risk)
        )

    def _write_status(self, plan: OrderPlan, status: str, **fields: Any) -> None:
        line = self.ctx.journal.write(
            "ORDER_STATUS",
            order_id=plan.order_id,
            position_id=plan.position_id,
            intent=plan.intent,
            status=status,
            **fields,
        )
        self.ctx.book.apply(line)

    def _unresolved(self, plan: OrderPlan, why: str) -> None:
        """Say (once per reason) that an order stays unresolved and counts as working."""
        if self.unresolved.get(plan.order_id) == why:
            return
        self.unresolved[plan.order_id] = why
        self.ctx.risk_line(
            plan.position_id,
            "unresolved_order",
            f"order {plan.order_id} ({plan.intent}) {why}: not concluded; it counts as working "
            "(no second order for this position, its risk held) and is looked at again at the "
            "next poll",
        )

    def settle_risk(self, pos: Position) -> None:
        """Hold exactly the risk of a position's open quantity (release it once flat, unless an
        order of it may still work: adopted, unconfirmed or unresolved)."""
        ctx = self.ctx
        busy = [*self.adopted, *ctx.book.unconfirmed_orders(), *self.unresolved]
        if pos.open_qty == 0 and not any(ctx.book.position_of_order(o) is pos for o in busy):
            ctx.guard.release(pos.position_id)
        elif pos.open_qty > 0:
            held = ctx.guard.held(pos.position_id)
            want = risk_of(pos, pos.open_qty)
            if held is None:
                self._restore_risk(pos, want)
            elif held.risk > want:
                ctx.guard.resize(pos.position_id, want)
