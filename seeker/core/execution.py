"""Execution: work a multi-leg limit order from mid toward the natural price, in bounded steps.

The ORDER line is journaled before the order is sent (write-ahead), every status change and every
fill as it is seen. An entry that is still unfilled after the last step is cancelled; so is any
order when the clock stops (Ctrl+C). Nothing here marks a position closed: only FILL lines do.

A roll (intent ``roll``) is worked like any other combo: one order, one ladder. Its ORDER line
carries ``new_legs`` (from the plan's fields); a remainder left after the last step is cancelled,
and the strategy closes what could not be rolled (see ``seeker.core.positions``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from seeker.core.broker import Broker
from seeker.core.clock import Clock
from seeker.core.config_base import StrictModel
from seeker.core.fill_model import fit_to_combo
from seeker.core.journal import Journal
from seeker.core.models import (
    BrokerUnavailable,
    ComboOrder,
    DataUnavailable,
    Fill,
    Intent,
    Leg,
    OptionQuote,
    OrderState,
    OrderStatus,
    OrderUnconfirmed,
    order_ref,
    parse_order_ref,
)
from seeker.core.positions import leg_to_json

TICK = 0.01
"""Price increment of combo limits, $ per share."""


class ExecutionConfig(StrictModel):
    """How limit orders walk from mid toward the natural price (the ``[execution]`` table)."""

    step_fraction: float = Field(gt=0.0, le=1.0)
    max_steps: int = Field(ge=0, le=20)
    step_interval_seconds: float = Field(gt=0.0, le=3600.0)


def combo_mid(legs: Sequence[Leg], quotes: Sequence[OptionQuote]) -> float:
    """Return the combo's mid as a net debit per unit ($ per share; negative = credit).

    Summed left to right from 0 like ``sum`` (so to the bit), with ``Leg.sign`` and
    ``OptionQuote.mid`` written out: this runs for every candidate of every scan.
    """
    total = 0
    for leg, q in zip(legs, quotes, strict=True):
        total += (1 if leg.action == "BUY" else -1) * leg.ratio * ((q.bid + q.ask) / 2.0)
    return total


def combo_natural(legs: Sequence[Leg], quotes: Sequence[OptionQuote]) -> float:
    """Return the natural net debit: pay the ask on bought legs, receive the bid on sold ones."""
    total = 0
    for leg, q in zip(legs, quotes, strict=True):
        total += leg.ratio * (q.ask if leg.action == "BUY" else -q.bid)
    return total


def floor_tick(price: float) -> float:
    """Round a net debit down to the tick (the direction that favours us)."""
    return round(math.floor(price / TICK + 1e-9) * TICK, 2)


def ceil_tick(price: float) -> float:
    """Round a net debit up to the tick."""
    return round(math.ceil(price / TICK - 1e-9) * TICK, 2)


def price_ladder(
    mid: float, natural: float, bound: float, step_fraction: float, max_steps: int, urgent: bool
) -> list[float]:
    """Return the limits to try: mid first, then toward the natural, never beyond `bound`.

    `bound` is the worst net debit we accept (for an opening credit: −minimum credit; for a close:
    the natural). An urgent order starts at the natural.
    """
    worst = min(ceil_tick(natural), floor_tick(bound))
    if urgent:
        return [worst]
    prices = [min(floor_tick(mid), worst)]
    gap = natural - mid
    for k in range(1, max_steps + 1):
        target = mid + min(1.0, k * step_fraction) * gap
        p = min(ceil_tick(target), worst)
        if p > prices[-1] + 1e-9:
            prices.append(p)
        if p >= worst - 1e-9:
            break
    return prices


@dataclass(frozen=True)
class OrderPlan:
    """What to send: legs, quantity, the price ladder and what the ORDER line says."""

    position_id: str
    order_id: str
    intent: Intent
    listing_id: str
    legs: tuple[Leg, ...]
    qty: int
    ladder: tuple[float, ...]
    cancel_when_done: bool
    fields: Mapping[str, Any]


FillCallback = Callable[[dict[str, Any]], None]


def fill_lines(
    journal: Journal,
    fill: Fill,
    *,
    order_id: str,
    broker_order_id: str,
    position_id: str,
    intent: str,
    exit_rule: str | None,
    **extra: Any,
) -> list[dict[str, Any]]:
    """Return the FILL lines of one combo execution: the combo's, then one per leg.

    `extra` fields (e.g. ``recovered``) are added to every line.
    """
    legs = [
        {
            "right": lf.contract.right,
            "strike": lf.contract.strike,
            "expiry": lf.contract.expiry.isoformat(),
            "action": lf.action,
            "qty": lf.qty,
            "price": lf.price,
            "commission": lf.commission,
            "exec_id": lf.exec_id or None,
        }
        for lf in fill.legs
    ]
    lines = [
        journal.record(
            "FILL",
            fill_id=fill.fill_id,
            order_id=order_id,
            broker_order_id=broker_order_id,
            position_id=position_id,
            intent=intent,
            kind="combo",
            fill_price=fill.price,
            qty=fill.qty,
            commission=fill.commission,
            currency=fill.commission_currency,
            exit_rule=exit_rule,
            legs=legs,
            **extra,
        )
    ]
    lines.extend(
        journal.record(
            "FILL",
            fill_id=leg["exec_id"] or f"{fill.fill_id}.leg{k}",
            order_id=order_id,
            position_id=position_id,
            intent=intent,
            kind="leg",
            combo_fill_id=fill.fill_id,
            fill_price=leg["price"],
            currency=fill.commission_currency,
            **{key: leg[key] for key in ("right", "strike", "expiry", "action", "qty")},
            commission=leg["commission"],
            **extra,
        )
        for k, leg in enumerate(legs, start=1)
    )
    return lines


class Executor:
    """Works orders for one strategy and journals everything it sees."""

    def __init__(
        self,
        strategy: str,
        broker: Broker,
        clock: Clock,
        journal: Journal,
        step_interval_seconds: float,
        on_line: FillCallback,
    ) -> None:
        self.strategy = strategy
        self.broker = broker
        self.clock = clock
        self.journal = journal
        self.step_interval = step_interval_seconds
        self.on_line = on_line
        self._seen_fills: set[str] = set()
        self._last_status: dict[str, str] = {}
        self._uncancelled_ids: list[str] = []

    def checklist(
        self, plan: OrderPlan, natural: float, in_rth: bool, risk_reserved: bool
    ) -> list[str]:
        """Return every reason the order must not be sent (empty when it may).

        Legs valid and distinct, quantity, every limit within the natural, regular trading hours,
        risk reserved for an opening or a roll (a roll must fit the risk the position holds), and
        an order ref that names this strategy and position.
        """
        problems = []
        if plan.qty < 1:
            problems.append("quantity must be at least 1")
        if not plan.legs:
            problems.append("no legs")
        contracts = [leg.contract for leg in plan.legs]
        if len(set(contracts)) != len(contracts):
            problems.append("legs are not distinct")
        if any(c.listing_id != plan.listing_id for c in contracts):
            problems.append("a leg is on another underlying")
        if any(leg.ratio < 1 for leg in plan.legs):
            problems.append("leg ratios must be positive")
        if not plan.ladder or not all(math.isfinite(p) for p in plan.ladder):
            problems.append("no valid limit price")
        if plan.ladder and any(
            b < a - 1e-9 for a, b in zip(plan.ladder, plan.ladder[1:], strict=False)
        ):
            problems.append("limit ladder must move toward the natural")
        if not math.isfinite(natural):
            problems.append("natural price unknown")
        elif plan.ladder and max(plan.ladder) > ceil_tick(natural) + 1e-9:
            problems.append(f"limit {max(plan.ladder):+.2f} beyond the natural {natural:+.2f}")
        if not in_rth:
            problems.append("outside regular trading hours")
        if plan.intent in ("open", "roll") and not risk_reserved:
            problems.append("no risk reserved in the Risk Guard")
        if plan.intent == "roll" and not plan.fields.get("new_legs"):
            problems.append("a roll must name the position's legs after it (new_legs)")
        ref = order_ref(self.strategy, plan.position_id, plan.intent)
        if parse_order_ref(ref) != (self.strategy, plan.position_id, plan.intent):
            problems.append(f"order ref {ref!r} does not name the strategy and position")
        return problems

    def _write_order(self, plan: OrderPlan, **extra: Any) -> str:
        """Journal the ORDER line (before anything is sent) and return its order ref."""
        ref = order_ref(self.strategy, plan.position_id, plan.intent)
        line = self.journal.write(
            "ORDER",
            order_id=plan.order_id,
            order_ref=ref,
            strategy=self.strategy,
            position_id=plan.position_id,
            intent=plan.intent,
            underlying=plan.listing_id,
            legs=[leg_to_json(leg) for leg in plan.legs],
            qty=plan.qty,
            limit_price=plan.ladder[0],
            ladder=list(plan.ladder),
            **extra,
            **plan.fields,
        )
        self.on_line(line)
        return ref

    def work(self, plan: OrderPlan) -> OrderState | None:
        """Send the order and walk its ladder; return its final state (None if never sent).

        Nothing is sent once the clock stops (Ctrl+C, the end of the run, a failed durable
        write): a step that was under way finishes without a new order.
        """
        if self.clock.stopping:
            return None
        ref = self._write_order(plan)
        order = ComboOrder(ref, plan.listing_id, plan.legs, plan.qty, plan.ladder[0])
        try:
            state = self.broker.place_order(order)
        except OrderUnconfirmed as exc:
            self._unconfirmed(plan, exc)
            return None
        except (BrokerUnavailable, DataUnavailable) as exc:
            self._status(plan, "rejected", reason=f"not sent: {exc}")
            return None
        self._status(plan, "submitted", broker_order_id=state.order_id, limit_price=plan.ladder[0])
        self._observe(plan, state)
        for price in plan.ladder[1:]:
            if state.status.is_done:
                break
            if not self.clock.sleep(self.step_interval):
                return self._cancel(plan, state, "stopping: cancelled unfilled remainder")
            state = self._refresh(plan, state)
            if state.status.is_done:
                break
            try:
                state = self.broker.modify_order(state.order_id, price)
            except (BrokerUnavailable, DataUnavailable) as exc:
                self._risk(plan, f"could not reprice order {plan.order_id}: {exc}")
                if plan.cancel_when_done:  # never leave it working at a stale limit, unfollowed
                    return self._cancel(plan, state, f"cancelled: could not reprice ({exc})")
                return state
            self._status(plan, "modified", limit_price=price)
            self._observe(plan, state)
        if not state.status.is_done:
            if not self.clock.sleep(self.step_interval):
                return self._cancel(plan, state, "stopping: cancelled unfilled remainder")
            state = self._refresh(plan, state)
        if not state.status.is_done and plan.cancel_when_done:
            state = self._cancel(plan, state, "timeout: unfilled after the last price step")
        return state

    def _unconfirmed(self, plan: OrderPlan, exc: OrderUnconfirmed) -> None:
        """Journal an order that maybe reached the broker: possibly working, never re-sent.

        Its ORDER_STATUS ``unconfirmed`` keeps it among the position's working orders (no second
        close or roll, its risk held) until the broker's orders and executions under its orderRef
        resolve it (``seeker.engine.adoption``).
        """
        fields: dict[str, Any] = {"order_ref": exc.order_ref, "reason": f"maybe sent: {exc}"}
        if exc.broker_order_id:
            fields["broker_order_id"] = exc.broker_order_id
        self._status(plan, OrderStatus.UNCONFIRMED.value, **fields)
        self._risk(
            plan,
            f"order {plan.order_id} ({exc.order_ref}) may be working at the broker: {exc}; it "
            "counts as working until the broker's open orders and executions say what became of it",
        )

    def remember_fills(self, fill_ids: set[str]) -> None:
        """Treat these fills as journaled already (rebuilt from the journal at start)."""
        self._seen_fills |= fill_ids

    def follow(self, plan: OrderPlan, broker_order_id: str) -> OrderState | None:
        """Re-attach to an order sent earlier (restart): journal its fills and status."""
        try:
            state = self.broker.order_state(broker_order_id)
        except (BrokerUnavailable, DataUnavailable):
            return None
        self._observe(plan, state)
        return state

    def _refresh(self, plan: OrderPlan, state: OrderState) -> OrderState:
        try:
            new = self.broker.order_state(state.order_id)
        except (BrokerUnavailable, DataUnavailable) as exc:
            self._risk(plan, f"lost sight of order {plan.order_id}: {exc}")
            return state
        self._observe(plan, new)
        return new

    def _cancel(self, plan: OrderPlan, state: OrderState, why: str) -> OrderState:
        """Cancel a working order; one whose cancel is not confirmed is left to be followed.

        The broker's answer may not come (a drop, a timeout): the order may still work, or fill.
        It stays among the position's working orders (no second order of the position, an opening
        order's risk held), one RISK line says so, and its id is handed to whoever follows orders
        at each poll (:meth:`take_uncancelled`; see ``seeker.engine.adoption``).
        """
        if state.status.is_done:
            return state
        try:
            new = self.broker.cancel_order(state.order_id)
        except (BrokerUnavailable, DataUnavailable) as exc:
            self._uncancelled(plan, f"could not cancel order {plan.order_id}: {exc}")
            return state
        self._observe(plan, new, reason=why)
        if not new.status.is_done:
            self._uncancelled(
                plan, f"cancel of order {plan.order_id} not confirmed (status {new.status.value})"
            )
        return new

    def _uncancelled(self, plan: OrderPlan, what: str) -> None:
        """Say (once) that an order whose cancel was not confirmed counts as working, and keep
        its id for :meth:`take_uncancelled`."""
        self._uncancelled_ids.append(plan.order_id)
        self._risk(
            plan,
            f"{what}; it may still work at the broker: it counts as working (no second order for "
            "this position, its risk held) and is followed at each poll from the broker's orders "
            "and executions, its cancel sent again, until the broker says what became of it",
        )

    def take_uncancelled(self) -> list[str]:
        """Return (and forget) our order ids whose cancel was not confirmed since the last call."""
        out, self._uncancelled_ids = self._uncancelled_ids, []
        return out

    def _observe(self, plan: OrderPlan, state: OrderState, reason: str = "") -> None:
        """Journal new fills (the combo's, then one FILL per leg) and status changes."""
        lines = []
        for fill in state.fills:
            if fill.fill_id in self._seen_fills:
                continue
            self._seen_fills.add(fill.fill_id)
            lines.extend(
                fill_lines(
                    self.journal,
                    fill,
                    order_id=plan.order_id,
                    broker_order_id=state.order_id,
                    position_id=plan.position_id,
                    intent=plan.intent,
                    exit_rule=plan.fields.get("exit_rule"),
                )
            )
        if lines:
            self.journal.write_many(lines)
            for line in lines:
                self.on_line(line)
        status = state.status.value
        if status != self._last_status.get(plan.order_id) and state.status in (
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.REJECTED,
            OrderStatus.PARTIALLY_FILLED,
        ):
            self._status(
                plan,
                status,
                filled=state.filled,
                remaining=state.remaining,
                avg_fill_price=state.avg_fill_price,
                reason=reason or state.reason,
            )

    def _status(self, plan: OrderPlan, status: str, **fields: Any) -> None:
        self._last_status[plan.order_id] = status
        line = self.journal.write(
            "ORDER_STATUS",
            order_id=plan.order_id,
            position_id=plan.position_id,
            intent=plan.intent,
            status=status,
            **fields,
        )
        self.on_line(line)

    def _risk(self, plan: OrderPlan, detail: str) -> None:
        self.journal.write(
            "RISK",
            strategy=self.strategy,
            position_id=plan.position_id,
            rule="execution",
            detail=detail,
        )


class ShadowExecutor(Executor):
    """Journal what would be sent and a hypothetical fill at the natural price; send nothing."""

    def __init__(
        self,
        strategy: str,
        broker: Broker,
        clock: Clock,
        journal: Journal,
        step_interval_seconds: float,
        on_line: FillCallback,
        commission: Callable[[OrderPlan], float],
    ) -> None:
        super().__init__(strategy, broker, clock, journal, step_interval_seconds, on_line)
        self._commission = commission

    def work(self, plan: OrderPlan) -> OrderState | None:
        """Journal the ORDER and a hypothetical fill of the whole quantity at the natural.

        The natural is the pessimistic price (pay the asks, receive the bids). When it lies beyond
        the order's last limit (a live order would never pay it), the fill is assumed at that last
        limit instead, and the FILL line says so. Each leg is assumed at its natural side (ask
        bought, bid sold), moved evenly when the fill is at the last limit; the legs are left out
        when their quotes cannot be read. A roll fills whole, like any shadow order.
        """
        natural = float(plan.fields["natural"])
        self._write_order(plan, shadow=True)
        last = plan.ladder[-1]
        price, assumed = (natural, "natural") if natural <= last + 1e-9 else (last, "last limit")
        lines = [
            self.journal.record(
                "FILL",
                fill_id=f"{plan.order_id}.shadow",
                order_id=plan.order_id,
                position_id=plan.position_id,
                intent=plan.intent,
                kind="combo",
                fill_price=round(price, 4),
                qty=plan.qty,
                commission=round(self._commission(plan), 4),
                currency=plan.fields.get("currency"),
                exit_rule=plan.fields.get("exit_rule"),
                shadow=True,
                assumed_fill=assumed,
                legs=self._leg_fills(plan, price),
            )
        ]
        self.journal.write_many(lines)
        self.on_line(lines[0])
        self._status(plan, "filled", filled=plan.qty, remaining=0, avg_fill_price=price)
        return None

    def _leg_fills(self, plan: OrderPlan, price: float) -> list[dict[str, Any]]:
        """Return each leg's assumed execution for a shadow fill at `price` (empty if unknown)."""
        try:
            quotes = self.broker.option_quotes([leg.contract for leg in plan.legs])
        except (BrokerUnavailable, DataUnavailable):
            return []
        got = [quotes.get(leg.contract) for leg in plan.legs]
        if any(q is None or not (math.isfinite(q.bid) and math.isfinite(q.ask)) for q in got):
            return []
        ordered = [q for q in got if q is not None]
        shift = (price - combo_natural(plan.legs, ordered)) / sum(leg.ratio for leg in plan.legs)
        prices = [
            round((q.ask if leg.action == "BUY" else q.bid) + leg.sign * shift, 4)
            for leg, q in zip(plan.legs, ordered, strict=True)
        ]
        fit_to_combo(plan.legs, prices, price)
        return [
            {
                "right": leg.contract.right,
                "strike": leg.contract.strike,
                "expiry": leg.contract.expiry.isoformat(),
                "action": leg.action,
                "qty": leg.ratio * plan.qty,
                "price": leg_price,
            }
            for leg, leg_price in zip(plan.legs, prices, strict=True)
        ]
