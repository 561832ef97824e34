"""Positions of one strategy, derived from its journal's ORDER, FILL and ORDER_STATUS lines.

The journal is the source of truth: the same replay builds the book at start (after a crash or a
restart) and keeps it current while running. A position is closed only when closing FILL lines
bring its open quantity to zero; an order that was sent is never assumed filled.

Rolls (intent ``roll``): one combo order that closes some legs and opens others (a diagonal buys
its short back and sells the next one). Its ORDER line carries ``new_legs``, the position's legs
after the roll, with the ``max_loss`` and ``risk`` of that structure. Roll fills add their cash to
the entry cash (a roll's net debit is part of the position's cost); the position's legs change when
roll fills cover its whole open quantity, never earlier. A roll that fills for only some units
leaves them in ``pending_legs`` / ``pending_qty``: the other units ("stranded", still on the old
legs) must be closed, and the legs change when closing fills bring the open quantity down to the
rolled units. So a position is always one structure once its orders are done.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from seeker.core.journal import read_events
from seeker.core.models import Leg, OptionContract

PositionStatus = Literal["pending", "open", "closed", "cancelled"]


def leg_to_json(leg: Leg) -> dict[str, Any]:
    """Return a leg as a journal mapping."""
    c = leg.contract
    return {
        "right": c.right,
        "strike": c.strike,
        "expiry": c.expiry.isoformat(),
        "action": leg.action,
        "ratio": leg.ratio,
    }


def leg_from_json(listing_id: str, raw: Mapping[str, Any]) -> Leg:
    """Return a Leg from its journal mapping."""
    contract = OptionContract(
        listing_id=listing_id,
        expiry=date.fromisoformat(raw["expiry"]),
        strike=float(raw["strike"]),
        right=raw["right"],
    )
    return Leg(contract, raw["action"], int(raw.get("ratio", 1)))


@dataclass
class Position:
    """One structure opened by a strategy, with what filled so far."""

    position_id: str
    strategy: str
    listing_id: str
    underlying: str
    sector: str
    cluster: str
    currency: str
    legs: tuple[Leg, ...]
    multiplier: int
    max_loss_unit: float
    risk_unit: float
    opened_at: datetime | None = None
    opened_qty: int = 0
    open_qty: int = 0
    entry_cash: float = 0.0
    exit_cash: float = 0.0
    commissions: float = 0.0
    status: PositionStatus = "pending"
    closed_at: datetime | None = None
    exit_rule: str | None = None
    orders: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    reduced: bool = False
    slippage: float = 0.0
    best_pnl_unit: float = math.nan
    worst_pnl_unit: float = math.nan
    rolls: int = 0
    pending_legs: tuple[Leg, ...] | None = None
    pending_qty: int = 0
    pending_order: str | None = None
    leg_prices: dict[tuple[OptionContract, str], tuple[int, float]] = field(default_factory=dict)

    def mark(self, pnl_unit: float) -> None:
        """Record the open P&L per unit seen at a management poll (for MFE/MAE)."""
        if not math.isfinite(pnl_unit):
            return
        if not math.isfinite(self.best_pnl_unit) or pnl_unit > self.best_pnl_unit:
            self.best_pnl_unit = pnl_unit
        if not math.isfinite(self.worst_pnl_unit) or pnl_unit < self.worst_pnl_unit:
            self.worst_pnl_unit = pnl_unit

    @property
    def entry_price(self) -> float:
        """Return the average opening net debit per unit ($ per share; negative = credit)."""
        if self.opened_qty == 0:
            return math.nan
        return self.entry_cash / (self.opened_qty * self.multiplier)

    @property
    def credit(self) -> float:
        """Return the opening credit per unit ($ per share; negative for a debit structure)."""
        return -self.entry_price

    @property
    def expiry(self) -> date:
        """Return the nearest expiry among the legs."""
        return min(leg.contract.expiry for leg in self.legs)

    @property
    def is_open(self) -> bool:
        """Return True while some quantity is open."""
        return self.open_qty > 0

    def realized_pnl(self) -> float:
        """Return realised P&L after commissions ($) of the closed part so far.

        Cash paid to open and to close is netted; for a fully closed position this is its P&L.
        """
        closed = self.opened_qty - self.open_qty
        if self.opened_qty == 0:
            return -self.commissions
        entry_part = self.entry_cash * closed / self.opened_qty
        return -(entry_part + self.exit_cash) - self.commissions

    def closing_legs(self) -> tuple[Leg, ...]:
        """Return the legs of the order that closes this position."""
        return tuple(leg.reversed() for leg in self.legs)

    @property
    def stranded_qty(self) -> int:
        """Return the units a partly filled roll left on the old legs (0 when none)."""
        return self.open_qty - self.pending_qty if self.pending_legs is not None else 0

    def held_contracts(self) -> dict[OptionContract, int]:
        """Return the signed quantity per contract the broker should hold for this position.

        While a partly filled roll is pending, its rolled units are on the new legs and the
        stranded ones on the old legs (reconciliation should use this, not legs × open_qty).
        """
        out: dict[OptionContract, int] = {}
        parts = [(self.legs, self.open_qty)]
        if self.pending_legs is not None:
            parts = [(self.pending_legs, self.pending_qty), (self.legs, self.stranded_qty)]
        for legs, qty in parts:
            for leg in legs:
                out[leg.contract] = out.get(leg.contract, 0) + leg.sign * leg.ratio * qty
        return {c: q for c, q in out.items() if q != 0}

    def leg_price(self, leg: Leg) -> float:
        """Return the average price a leg was opened at ($ per share; NaN when no fill says)."""
        held = self.leg_prices.get((leg.contract, leg.action))
        return held[1] if held is not None else math.nan

    def _record_leg(self, contract: OptionContract, action: str, qty: int, price: float) -> None:
        old_qty, old_price = self.leg_prices.get((contract, action), (0, 0.0))
        total = old_qty + qty
        avg = (old_price * old_qty + price * qty) / total if total > 0 else price
        self.leg_prices[(contract, action)] = (total, avg)


class PositionBook:
    """Every position of one strategy, kept current by applying journal lines."""

    def __init__(self) -> None:
        self.positions: dict[str, Position] = {}
        self._order_position: dict[str, str] = {}
        self._order_intent: dict[str, str] = {}
        self._order_done: set[str] = set()
        self._unconfirmed: dict[str, None] = {}
        self._fills_seen: set[str] = set()
        self._order_limit: dict[str, float] = {}
        self._order_filled: dict[str, int] = {}
        self._fill_order: dict[str, str] = {}
        self._roll_spec: dict[str, tuple[tuple[Leg, ...], float, float]] = {}
        self._roll_filled: dict[str, int] = {}
        self._broker_ids: dict[str, str] = {}
        self._order_lines: dict[str, Mapping[str, Any]] = {}
        self._open: list[Position] | None = None
        self._by_day: dict[str, list[Position]] = {}

    def apply(self, line: Mapping[str, Any]) -> Position | None:
        """Apply one journal line; return the position it touched, if any."""
        self._open = None
        event = line.get("event")
        if event == "ORDER":
            return self._apply_order(line)
        if event == "FILL":
            return self._apply_fill(line)
        if event == "ORDER_STATUS":
            return self._apply_status(line)
        if event == "CONFIDENCE":
            pos = self.positions.get(str(line.get("position_id")))
            if pos is not None and line.get("pnl_unit") is not None:
                pos.mark(float(line["pnl_unit"]))
            return pos
        return None

    def apply_all(self, lines: Iterable[Mapping[str, Any]]) -> None:
        """Apply many journal lines in order."""
        for line in lines:
            self.apply(line)

    def _apply_order(self, line: Mapping[str, Any]) -> Position | None:
        pid = line["position_id"]
        oid = line["order_id"]
        self._order_position[oid] = pid
        self._order_intent[oid] = line["intent"]
        self._order_lines[oid] = line
        self._order_limit[oid] = float(line["limit_price"])
        pos = self.positions.get(pid)
        if pos is None:
            if line["intent"] != "open":
                return None
            listing = line["underlying"]
            pos = Position(
                position_id=pid,
                strategy=line["strategy"],
                listing_id=listing,
                underlying=line.get("symbol", listing),
                sector=line["sector"],
                cluster=line["cluster"],
                currency=line["currency"],
                legs=tuple(leg_from_json(listing, raw) for raw in line["legs"]),
                multiplier=int(line.get("multiplier", 100)),
                max_loss_unit=float(line["max_loss"]) / max(int(line["qty"]), 1),
                risk_unit=float(line.get("risk", line["max_loss"])) / max(int(line["qty"]), 1),
                meta=dict(line.get("meta") or {}),
            )
            self.positions[pid] = pos
            parts = pid.split("-")
            if len(parts) >= 2:
                self._by_day.setdefault(parts[-2], []).append(pos)
        elif line["intent"] == "roll":
            qty = max(int(line["qty"]), 1)
            new_legs = tuple(leg_from_json(pos.listing_id, raw) for raw in line["new_legs"])
            max_loss = float(line["max_loss"]) / qty
            self._roll_spec[oid] = (new_legs, max_loss, float(line.get("risk", max_loss)) / qty)
            self._roll_filled.setdefault(oid, 0)
        pos.orders[oid] = line["intent"]
        return pos

    def _apply_fill(self, line: Mapping[str, Any]) -> Position | None:
        fill_id = line.get("fill_id")
        if fill_id is not None:
            if fill_id in self._fills_seen:
                return None
            self._fills_seen.add(fill_id)
        if line.get("kind", "combo") != "combo":
            return None
        oid = line["order_id"]
        if fill_id is not None:
            self._fill_order[fill_id] = oid
        pid = self._order_position.get(oid, line.get("position_id"))
        pos = self.positions.get(pid) if pid else None
        if pos is None:
            return None
        qty = int(line["qty"])
        price = float(line["fill_price"])
        cash = price * pos.multiplier * qty
        self._order_filled[oid] = self._order_filled.get(oid, 0) + qty
        pos.commissions += float(line.get("commission") or 0.0)
        first_limit = self._order_limit.get(oid)
        if first_limit is not None:
            pos.slippage += (price - first_limit) * pos.multiplier * qty
        # a settlement at expiry has no ORDER: its FILL line carries the intent
        intent = self._order_intent.get(oid) or str(line.get("intent") or "open")
        self._record_legs(pos, oid, intent, line.get("legs") or ())
        if intent == "open":
            pos.opened_qty += qty
            pos.open_qty += qty
            pos.entry_cash += cash
            if pos.opened_at is None:
                pos.opened_at = _parse_ts(line["ts"])
            pos.status = "open"
        elif intent == "close":
            pos.open_qty = max(0, pos.open_qty - qty)
            pos.exit_cash += cash
            if line.get("exit_rule"):
                pos.exit_rule = line["exit_rule"]
                if str(line["exit_rule"]).startswith(("red_line", "event")):
                    pos.reduced = True
            if pos.open_qty == 0:
                pos.status = "closed"
                pos.closed_at = _parse_ts(line["ts"])
                pos.pending_legs, pos.pending_qty, pos.pending_order = None, 0, None
            elif pos.pending_legs is not None and pos.open_qty <= pos.pending_qty:
                self._finish_roll(pos, pos.pending_order or "")
        elif intent == "roll":
            pos.entry_cash += cash
            self._roll_filled[oid] = self._roll_filled.get(oid, 0) + qty
            if self._roll_filled[oid] >= pos.open_qty:
                self._finish_roll(pos, oid)
            else:
                spec = self._roll_spec.get(oid)
                if spec is not None:
                    pos.pending_legs, pos.pending_qty = spec[0], self._roll_filled[oid]
                    pos.pending_order = oid
        return pos

    def _finish_roll(self, pos: Position, oid: str) -> None:
        """Give the position the legs, max loss and risk of a roll that now covers every unit."""
        spec = self._roll_spec.get(oid)
        pos.pending_legs, pos.pending_qty, pos.pending_order = None, 0, None
        if spec is None:
            return
        pos.legs, pos.max_loss_unit, pos.risk_unit = spec
        pos.rolls += 1

    def _record_legs(
        self, pos: Position, oid: str, intent: str, legs: Iterable[Mapping[str, Any]]
    ) -> None:
        """Record the prices the structure's legs were opened at, from a FILL's leg executions."""
        if intent == "open":
            structure = pos.legs
        elif intent == "roll" and oid in self._roll_spec:
            structure = self._roll_spec[oid][0]
        else:
            return
        wanted = {(leg.contract, leg.action) for leg in structure}
        for raw in legs:
            try:
                leg = leg_from_json(pos.listing_id, raw)
                qty, price = int(raw["qty"]), float(raw["price"])
            except (KeyError, TypeError, ValueError):
                continue
            if (leg.contract, leg.action) in wanted and qty > 0 and math.isfinite(price):
                pos._record_leg(leg.contract, leg.action, qty, price)

    def _apply_status(self, line: Mapping[str, Any]) -> Position | None:
        oid = line["order_id"]
        if line.get("broker_order_id"):
            self._broker_ids[oid] = str(line["broker_order_id"])
        pid = self._order_position.get(oid)
        pos = self.positions.get(pid) if pid else None
        if pos is None:
            return None
        status = line.get("status")
        if status in ("filled", "cancelled", "rejected"):
            self._order_done.add(oid)
        if status == "unconfirmed" and oid not in self._order_done:
            self._unconfirmed[oid] = None
        else:
            self._unconfirmed.pop(oid, None)
        if (
            status in ("cancelled", "rejected")
            and self._order_intent.get(oid) == "open"
            and pos.opened_qty == 0
        ):
            pos.status = "cancelled"
        return pos

    # -- queries ---------------------------------------------------------------------------
    def open_positions(self) -> list[Position]:
        """Return positions with open quantity, oldest first (recomputed only after a line)."""
        if self._open is None:
            self._open = [p for p in self.positions.values() if p.is_open]
        return list(self._open)

    def opened_on(self, day_key: str) -> list[Position]:
        """Return the positions whose id carries `day_key` (YYYYMMDD), i.e. entered that day."""
        return list(self._by_day.get(day_key, ()))

    def broker_order_id(self, order_id: str) -> str | None:
        """Return the broker's id of one of our orders (from its ORDER_STATUS lines)."""
        return self._broker_ids.get(order_id)

    def order_line(self, order_id: str) -> Mapping[str, Any] | None:
        """Return the ORDER line of one of our orders."""
        return self._order_lines.get(order_id)

    def fill_ids(self) -> set[str]:
        """Return the ids of every FILL already journaled (combo and legs)."""
        return set(self._fills_seen)

    def order_of_fill(self, fill_id: str) -> str | None:
        """Return our order id a combo FILL was journaled under."""
        return self._fill_order.get(fill_id)

    def order_filled(self, order_id: str) -> int:
        """Return the units of one of our orders that FILL lines say filled."""
        return self._order_filled.get(order_id, 0)

    def working_orders(self) -> list[str]:
        """Return our order ids that were sent and are not known to be done."""
        return [oid for oid in self._order_position if oid not in self._order_done]

    def unconfirmed_orders(self) -> list[str]:
        """Return our orders that maybe reached the broker, unacknowledged (``unconfirmed``) and
        not resolved since: they count as working (see ``OrderUnconfirmed``)."""
        return list(self._unconfirmed)

    def is_unconfirmed(self, order_id: str) -> bool:
        """Return True while one of our orders is unconfirmed (maybe sent, never acknowledged)."""
        return order_id in self._unconfirmed

    def position_of_order(self, order_id: str) -> Position | None:
        """Return the position an order belongs to."""
        pid = self._order_position.get(order_id)
        return self.positions.get(pid) if pid else None

    def intent_of_order(self, order_id: str) -> str | None:
        """Return the intent (open, close, roll) of one of our orders."""
        return self._order_intent.get(order_id)

    def seen_fill(self, fill_id: str) -> bool:
        """Return True if a FILL with this id was already applied."""
        return fill_id in self._fills_seen


def _parse_ts(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def load_book(folder: Path) -> tuple[PositionBook, list[dict[str, Any]]]:
    """Return the position book and the trade lines (ORDER, FILL, ORDER_STATUS) of one folder."""
    lines = read_events(folder, ["ORDER", "FILL", "ORDER_STATUS"])
    book = PositionBook()
    book.apply_all(lines)
    return book, lines
