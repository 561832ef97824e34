"""The replay exchange's order book: combo limit orders matched on recorded quotes.

Matching uses the simulated broker's fill model (:mod:`seeker.core.fill_model`), tried when an
order is placed or modified and at each new snapshot. Every execution pays the commission
schedule of the listing's currency (exchange fees per contract included). Currency conversions
fill at once at a fixed quote when marketable, else are rejected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from seeker.core.commissions import Commissions
from seeker.core.fill_model import combo_prices, leg_fills, match, match_rng
from seeker.core.models import (
    Action,
    ComboOrder,
    DataUnavailable,
    Fill,
    FxQuote,
    OptionContract,
    OptionQuote,
    OrderState,
    OrderStatus,
)
from seeker.core.replay.account import ReplayAccount
from seeker.core.replay.market import ReplayMarket
from seeker.core.replay.settlement import can_trade


@dataclass
class _Working:
    """A combo order as the replay exchange holds it."""

    order_id: str
    order: ComboOrder
    limit: float
    ts: datetime
    filled: int = 0
    status: OrderStatus = OrderStatus.SUBMITTED
    fills: list[Fill] = field(default_factory=list)
    reason: str = ""
    commission_paid: float = 0.0
    styles: dict[OptionContract, str | None] = field(default_factory=dict)
    """Each leg's settlement (AM/PM) as the data gave it when the order was placed."""

    def state(self) -> OrderState:
        """Return what the exchange knows of the order now."""
        o = self.order
        return OrderState(
            order_id=self.order_id,
            order_ref=o.order_ref,
            listing_id=o.listing_id,
            status=self.status,
            qty=o.qty,
            filled=self.filled,
            limit_price=self.limit,
            fills=tuple(self.fills),
            ts=self.ts,
            reason=self.reason,
            legs=o.legs,
        )


class ReplayOrders:
    """Orders of one replay; not thread-safe (the broker locks)."""

    def __init__(
        self,
        market: ReplayMarket,
        account: ReplayAccount,
        commissions: Commissions,
        seed: int,
        fill_probability_at_mid: float,
        fx_commission_rate: float,
        fx_min_commission: float,
    ) -> None:
        self.market = market
        self.account = account
        self.commissions = commissions
        self.seed = seed
        self.p_mid = fill_probability_at_mid
        self.fx_commission_rate = fx_commission_rate
        self.fx_min_commission = fx_min_commission
        self.next_id = 1
        self._orders: dict[str, _Working] = {}
        self._fx: dict[str, OrderState] = {}
        self._live: dict[str, _Working] = {}

    def _new_id(self) -> str:
        oid = f"R{self.next_id}"
        self.next_id += 1
        return oid

    # -- combo orders ------------------------------------------------------------------------
    def place(self, order: ComboOrder) -> OrderState:
        """Accept a combo limit order and try to match it at once (or reject it, saying why)."""
        now = self.market.now
        w = _Working(self._new_id(), order, order.limit_price, now)
        self._orders[w.order_id] = self._live[w.order_id] = w
        problem = self._problem(order)
        if problem:
            w.status, w.reason = OrderStatus.REJECTED, problem
        else:
            w.styles = {
                leg.contract: self.market.settlement_style(leg.contract) for leg in order.legs
            }
            self._try_match(w)
        return w.state()

    def modify(self, order_id: str, limit_price: float) -> OrderState:
        """Change the limit of a working order and try to match it."""
        w = self._get(order_id)
        if not w.status.is_done:
            w.limit, w.ts = limit_price, self.market.now
            self._try_match(w)
        return w.state()

    def cancel(self, order_id: str, reason: str = "cancelled on request") -> OrderState:
        """Cancel a working order (fills already made stay)."""
        w = self._get(order_id)
        if not w.status.is_done:
            w.status, w.reason, w.ts = OrderStatus.CANCELLED, reason, self.market.now
        return w.state()

    def fills(self, since: datetime | None) -> list[Fill]:
        """Return the fills of every order of this replay at or after `since`, oldest first."""
        every = [f for w in self._orders.values() for f in w.fills]
        every += [f for st in self._fx.values() for f in st.fills]
        return sorted(
            (f for f in every if since is None or f.ts >= since), key=lambda f: (f.ts, f.fill_id)
        )

    def state(self, order_id: str) -> OrderState:
        """Return one order's state (combo or conversion)."""
        fx = self._fx.get(order_id)
        return fx if fx is not None else self._get(order_id).state()

    def working(self) -> list[OrderState]:
        """Return the working orders in placement order."""
        return [w.state() for w in self._working()]

    def cancel_expired(self) -> None:
        """Cancel the working orders with a leg that can no longer trade."""
        now = self.market.now
        for w in self._working():
            if not all(can_trade(c, style, now) for c, style in w.styles.items()):
                self.cancel(w.order_id, "a leg expired")

    def match_all(self) -> bool:
        """Try to match every working order on the current snapshot, in placement order; return
        True when something filled."""
        filled = False
        for w in self._working():
            before = w.filled
            self._try_match(w)
            filled = filled or w.filled != before
        return filled

    def cancel_all(self, reason: str) -> None:
        """Cancel every working order."""
        for w in self._working():
            self.cancel(w.order_id, reason)

    def _working(self) -> list[_Working]:
        for oid in [oid for oid, w in self._live.items() if w.status.is_done]:
            del self._live[oid]
        return list(self._live.values())

    def _get(self, order_id: str) -> _Working:
        try:
            return self._orders[order_id]
        except KeyError:
            raise DataUnavailable(f"unknown order {order_id}") from None

    def _problem(self, order: ComboOrder) -> str:
        if order.qty <= 0:
            return "quantity must be positive"
        if not order.legs:
            return "combo without legs"
        if not math.isfinite(order.limit_price):
            return "limit price is not a number"
        if order.listing_id not in self.market.listings:
            return f"unknown underlying {order.listing_id}"
        contracts = [leg.contract for leg in order.legs]
        if len(set(contracts)) != len(contracts):
            return "the same contract appears twice in the combo"
        if any(c.listing_id != order.listing_id for c in contracts):
            return "every leg must be on the order's underlying"
        if self.market.snapshot_day() is None:
            return f"no market now: {self.market.no_snapshot_reason()}"
        quotes = self.market.option_quotes(contracts)
        missing = [c.key for c in contracts if c not in quotes]
        if missing:
            return f"not quoted in the {self.market.snapshot_day()} snapshot: " + ", ".join(missing)
        return ""

    def _try_match(self, w: _Working) -> None:
        order = w.order
        if w.status.is_done or self.market.snapshot_day() is None:
            return
        quotes = self.market.option_quotes([leg.contract for leg in order.legs])
        if len(quotes) != len(order.legs):
            return
        legs_q = [quotes[leg.contract] for leg in order.legs]
        prices = combo_prices(order.legs, legs_q)
        if prices is None:
            return
        rng = match_rng(self.seed, w.order_id, self.market.now, w.limit, w.filled)
        m = match(w.limit, prices, order.qty - w.filled, self.p_mid, rng)
        if m is not None:
            self._execute(w, legs_q, m.price, prices.mid, m.units)

    def _execute(
        self, w: _Working, quotes: list[OptionQuote], price: float, mid: float, units: int
    ) -> None:
        order, now = w.order, self.market.now
        lst = self.market.listing(order.listing_id)
        sched = self.commissions[lst.currency]
        contracts = sum(leg.ratio for leg in order.legs) * units
        commission = sched.execution(contracts, first_of_order=w.commission_paid == 0.0)
        w.commission_paid += commission
        fill_id = f"{w.order_id}.{len(w.fills) + 1}"
        fills = leg_fills(order.legs, quotes, price, mid, units, commission, fill_id)
        for leg, lf in zip(order.legs, fills, strict=True):
            style = w.styles.get(leg.contract)
            self.account.trade(leg.contract, leg.sign * leg.ratio * units, lf.price, style)
        price = round(price, 4)
        cash = self.account.cash
        cash[lst.currency] = (
            cash.get(lst.currency, 0.0) - price * lst.multiplier * units - commission
        )
        w.filled += units
        w.ts = now
        w.fills.append(
            Fill(
                fill_id=fill_id,
                order_id=w.order_id,
                order_ref=order.order_ref,
                ts=now,
                qty=units,
                price=price,
                commission=round(commission, 4),
                commission_currency=lst.currency,
                legs=tuple(fills),
            )
        )
        w.status = OrderStatus.FILLED if w.filled >= order.qty else OrderStatus.PARTIALLY_FILLED

    # -- conversions ---------------------------------------------------------------------------
    def place_fx(
        self, quote: FxQuote, action: Action, qty: int, limit_price: float, order_ref: str
    ) -> OrderState:
        """Convert at the quote when the limit is marketable, else reject; qty in base units."""
        oid, now = self._new_id(), self.market.now
        price = quote.ask if action == "BUY" else quote.bid
        marketable = limit_price >= price if action == "BUY" else limit_price <= price
        fills: tuple[Fill, ...] = ()
        if qty <= 0 or not marketable:
            status = OrderStatus.REJECTED
            reason = (
                "quantity must be positive"
                if qty <= 0
                else f"limit {limit_price:.5f} not marketable against {price:.5f}"
            )
        else:
            base, quoted = quote.pair.split(".")
            commission = max(self.fx_min_commission, qty * self.fx_commission_rate)
            sign = 1 if action == "BUY" else -1
            cash = self.account.cash
            cash[base] = cash.get(base, 0.0) + sign * qty - commission
            cash[quoted] = cash.get(quoted, 0.0) - sign * qty * price
            status, reason = OrderStatus.FILLED, ""
            fills = (Fill(f"{oid}.1", oid, order_ref, now, qty, price, commission, base),)
        state = OrderState(
            oid,
            order_ref,
            quote.pair,
            status,
            qty,
            qty if fills else 0,
            limit_price,
            fills,
            now,
            reason,
        )
        self._fx[oid] = state
        return state
