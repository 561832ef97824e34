"""SimBroker: the default broker, an in-process exchange over :class:`SimMarket`.

Multi-leg limit orders fill when marketable against the combo's natural price (at the natural), or
otherwise with a probability that grows from ``fill_probability_at_mid`` at the mid to 1 at the
natural; orders of several units may fill partially. Matching is tried when an order is placed or
modified and at every market grid step while its listing is open. Every fill carries IBKR-like
commissions. Random draws are keyed by (seed, order, time), so results never depend on thread
timing.

Durability (:mod:`seeker.core.sim.account`, :mod:`seeker.core.sim.ledger`): every execution is
appended to an fsynced execution log before it is booked or reported, the simulated time and
order-id ceiling are written at every clock step, and cash and positions are snapshot at
settlements and at a clean stop (a later run replays the executions after the snapshot); a later
run, even after a SIGKILL,
resumes the same paper account at the simulated time where the last one stopped, with every
execution (``executions()``) and no order id used twice. Working orders live only as long as the
process: a killed or stopped run leaves none behind.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from seeker.core.broker import ConnectionState
from seeker.core.commissions import Commissions
from seeker.core.fill_model import book, combo_prices, leg_fills, match, match_rng
from seeker.core.models import (
    AccountSnapshot,
    Action,
    BrokerPosition,
    BrokerUnavailable,
    Chain,
    ComboOrder,
    DailyHistory,
    DataUnavailable,
    Fill,
    FxQuote,
    Listing,
    OptionContract,
    OptionQuote,
    OrderState,
    OrderStatus,
    UnderlyingQuote,
)
from seeker.core.sim.account import SimAccount
from seeker.core.sim.market import SimMarket


@dataclass
class _Working:
    """An order as the simulated exchange holds it."""

    order_id: str
    order: ComboOrder | None
    limit: float
    filled: int = 0
    status: OrderStatus = OrderStatus.SUBMITTED
    fills: list[Fill] = field(default_factory=list)
    reason: str = ""
    ts: datetime | None = None
    commission_paid: float = 0.0
    fx: tuple[str, Action, int] | None = None

    @property
    def qty(self) -> int:
        if self.fx is not None:
            return self.fx[2]
        assert self.order is not None
        return self.order.qty


class SimBroker(SimAccount):
    """The Broker protocol over the simulated market; thread-safe."""

    kind = "sim"

    def __init__(
        self,
        market: SimMarket,
        listings: dict[str, Listing],
        commissions: Commissions,
        fill_probability_at_mid: float,
        seed: int,
        base_currency: str,
        initial_cash: dict[str, float],
        state_path: Path | None = None,
        fx_commission_rate: float = 0.00002,
        fx_min_commission: float = 2.0,
    ) -> None:
        self.market = market
        self.listings = listings
        self.commissions = commissions
        self.p_mid = fill_probability_at_mid
        self.seed = seed
        self.base_currency = base_currency
        self.state_path = state_path
        self.fx_commission_rate = fx_commission_rate
        self.fx_min_commission = fx_min_commission
        self._lock = threading.RLock()
        self._state = ConnectionState.DISCONNECTED
        self._orders: dict[str, _Working] = {}
        self._account: tuple[tuple[Any, ...], AccountSnapshot] | None = None
        """The last account snapshot and what it was marked from (time, cash, positions)."""
        self._held: tuple[tuple[Any, ...], list[BrokerPosition]] | None = None
        """The last positions() answer and the position book items it was made from."""
        self._live: dict[str, _Working] = {}
        """Orders that may not be done yet, in placement order (pruned as they finish)."""
        self._quoted_at: datetime | None = None
        self._quoted: dict[OptionContract, OptionQuote] = {}
        """The option quotes the market gave at `_quoted_at`, its time (fixed within a step)."""
        self._init_account(initial_cash, state_path)

    # -- connection --------------------------------------------------------------------------
    def connect(self) -> None:
        """Open the simulated session (always succeeds)."""
        self._state = ConnectionState.CONNECTED

    def close(self) -> None:
        """Cancel every working order (nothing survives the process) and save the account."""
        with self._lock:
            for w in self._working():
                w.status = OrderStatus.CANCELLED
                w.reason = "cancelled at shutdown"
            if self._fault is None:
                self.save_state()
                self._id_ceiling = self._next_id  # a clean stop: the next run goes on exactly
                self._save_clock()
            if self._ledger is not None:
                self._ledger.close()
            self._state = ConnectionState.DISCONNECTED

    def connection_state(self) -> ConnectionState:
        """Return the connection state."""
        return self._state

    def market_data_type(self) -> str:
        """Return "simulated"."""
        return "simulated"

    def _require_connected(self) -> None:
        if self._state != ConnectionState.CONNECTED:
            why = f" ({self._fault})" if self._fault else ""
            raise BrokerUnavailable(f"simulated broker not connected{why}")

    # -- time ----------------------------------------------------------------------------------
    def on_time(self, t: datetime) -> None:
        """Advance the market to `t`, then match working orders and settle expiries."""
        with self._lock:
            before = self.market.now
            self.market.advance_to(t)
            if self.market.now == before:
                return
            self._save_clock()
            self._settle_expiries()
            self._cancel_expired_orders()
            for w in self._working():
                if not w.status.is_done:
                    self._try_match(w)

    def _cancel_expired_orders(self) -> None:
        """Cancel working orders with a leg whose expiry has passed."""
        today = self.market.now.date()
        for w in self._working():
            expired = w.order is not None and any(
                leg.contract.expiry < today for leg in w.order.legs
            )
            if expired:
                w.status = OrderStatus.CANCELLED
                w.reason = "a leg expired"

    # -- market data ---------------------------------------------------------------------------
    def underlying_quote(self, listing_id: str) -> UnderlyingQuote:
        """Return the underlying's quote."""
        with self._lock:
            self._require_connected()
            return self.market.underlying_quote(listing_id)

    def expiries(self, listing_id: str) -> list[date]:
        """Return listed expiries."""
        with self._lock:
            self._require_connected()
            return self.market.expiries(listing_id)

    def strikes(self, listing_id: str, expiry: date) -> list[float]:
        """Return listed strikes of one expiry."""
        with self._lock:
            self._require_connected()
            return [float(k) for k in self.market.strikes(listing_id, expiry)]

    def option_chain(
        self,
        listing_id: str,
        expiries: Sequence[date],
        strike_range: tuple[float, float] | None = None,
    ) -> Chain:
        """Return quotes with greeks for the expiries and strike range."""
        with self._lock:
            self._require_connected()
            return self.market.chain(listing_id, expiries, strike_range)

    def option_quotes(
        self, contracts: Sequence[OptionContract]
    ) -> dict[OptionContract, OptionQuote]:
        """Return quotes of specific contracts."""
        with self._lock:
            self._require_connected()
            return self._quotes(contracts)

    def history(self, listing_id: str, sessions: int) -> DailyHistory:
        """Return daily bars and 30-day ATM IV of completed sessions."""
        with self._lock:
            self._require_connected()
            return self.market.history(listing_id, sessions)

    def fx_quote(self, pair: str) -> FxQuote:
        """Return the USD.CAD quote."""
        if pair != "USD.CAD":
            raise DataUnavailable(f"no quote for {pair} in the simulation (only USD.CAD)")
        with self._lock:
            self._require_connected()
            return self.market.fx_quote()

    # -- account -------------------------------------------------------------------------------
    def account(self) -> AccountSnapshot:
        """Return cash per currency and net liquidation in the base currency (marked at mid)."""
        with self._lock:
            self._require_connected()
            key = (self.market.now, tuple(self._cash.items()), tuple(self._positions.items()))
            if self._account is not None and self._account[0] == key:
                return _copy(self._account[1])  # same time, cash and positions: the same marks
            fx = self.market.fx_rate()
            value = dict(self._cash)
            quotes = self._quotes(list(self._positions))
            for c, (qty, _cost) in self._positions.items():
                q = quotes.get(c)
                ccy = self.listings[c.listing_id].currency
                mark = q.mid if q is not None else 0.0
                value[ccy] = (
                    value.get(ccy, 0.0) + qty * mark * self.listings[c.listing_id].multiplier
                )
            nlv = 0.0
            for ccy, amount in value.items():
                nlv += (
                    amount
                    if ccy == self.base_currency
                    else _convert(amount, ccy, self.base_currency, fx)
                )
            snap = AccountSnapshot(
                account_id="SIM-PAPER",
                base_currency=self.base_currency,
                cash=dict(self._cash),
                net_liquidation=nlv,
                ts=self.market.now,
            )
            self._account = (key, snap)
            return _copy(snap)

    def positions(self) -> list[BrokerPosition]:
        """Return option positions per contract."""
        with self._lock:
            self._require_connected()
            book = tuple(self._positions.items())
            if self._held is None or not _same_items(self._held[0], book):
                held = [BrokerPosition(c, q, cost) for c, (q, cost) in sorted(book)]
                self._held = (book, held)
            return list(self._held[1])

    # -- orders --------------------------------------------------------------------------------
    def place_order(self, order: ComboOrder) -> OrderState:
        """Accept a combo limit order and try to match it at once."""
        with self._lock:
            self._require_connected()
            oid = self._take_id()
            w = _Working(order_id=oid, order=order, limit=order.limit_price, ts=self.market.now)
            self._orders[oid] = self._live[oid] = w
            problem = self._order_problem(order)
            if problem:
                w.status = OrderStatus.REJECTED
                w.reason = problem
            else:
                self._try_match(w)
            return self._state_of(w)

    def modify_order(self, order_id: str, limit_price: float) -> OrderState:
        """Change the limit of a working order and try to match it."""
        with self._lock:
            self._require_connected()
            w = self._get(order_id)
            if not w.status.is_done:
                w.limit = limit_price
                w.ts = self.market.now
                self._try_match(w)
            return self._state_of(w)

    def cancel_order(self, order_id: str) -> OrderState:
        """Cancel a working order (fills already made stay)."""
        with self._lock:
            self._require_connected()
            w = self._get(order_id)
            if not w.status.is_done:
                w.status = OrderStatus.CANCELLED
                w.reason = "cancelled on request"
                w.ts = self.market.now
            return self._state_of(w)

    def order_state(self, order_id: str) -> OrderState:
        """Return an order's state with all its fills."""
        with self._lock:
            self._require_connected()
            return self._state_of(self._get(order_id))

    def open_orders(self) -> list[OrderState]:
        """Return working orders."""
        with self._lock:
            self._require_connected()
            return [self._state_of(w) for w in self._working()]

    def place_fx_order(
        self, pair: str, action: Action, qty: int, limit_price: float, order_ref: str
    ) -> OrderState:
        """Convert currency at the USD.CAD quote when the limit is marketable, else reject."""
        with self._lock:
            self._require_connected()
            if pair != "USD.CAD":
                raise DataUnavailable(f"cannot trade {pair} in the simulation (only USD.CAD)")
            units = qty
            oid = self._take_id()
            quote = self.market.fx_quote()
            w = _Working(
                order_id=oid,
                order=None,
                limit=limit_price,
                ts=self.market.now,
                fx=(pair, action, units),
            )
            self._orders[oid] = self._live[oid] = w
            price = quote.ask if action == "BUY" else quote.bid
            marketable = limit_price >= price if action == "BUY" else limit_price <= price
            if units <= 0 or not marketable:
                w.status = OrderStatus.REJECTED
                w.reason = (
                    "quantity must be positive"
                    if units <= 0
                    else f"limit {limit_price:.5f} not marketable against {price:.5f}"
                )
                return self._fx_state(w, order_ref)
            commission = max(self.fx_min_commission, units * self.fx_commission_rate)
            sign = 1 if action == "BUY" else -1
            cash = {"USD": [sign * units, -commission], "CAD": [-(sign * units * price)]}
            fill = Fill(
                fill_id=f"{oid}.1",
                order_id=oid,
                order_ref=order_ref,
                ts=self.market.now,
                qty=units,
                price=price,
                commission=commission,
                commission_currency="USD",
            )
            if not self._log_execution(fill, pair, "fx", cash, []):
                w.status = OrderStatus.REJECTED
                w.reason = f"not executed: {self._fault}"
                return self._fx_state(w, order_ref)
            self._add_cash(cash)
            w.filled = units
            w.status = OrderStatus.FILLED
            w.fills.append(fill)
            return self._fx_state(w, order_ref)

    # -- internals -----------------------------------------------------------------------------
    def _quotes(self, contracts: Sequence[OptionContract]) -> dict[OptionContract, OptionQuote]:
        """Return the market's quotes of `contracts` now, asking it only for those not asked yet.

        A quote is fixed within a market time step (nothing but the time changes the market), so
        the held contracts marked by every poll's account() are priced once per step. Called with
        the lock held.
        """
        now = self.market.now
        if now != self._quoted_at:
            self._quoted_at, self._quoted = now, {}
        quoted = self._quoted
        missing = [c for c in contracts if c not in quoted]
        if missing:
            quoted.update(self.market.option_quotes(missing))
        return {c: _as_asked(quoted[c], c) for c in contracts if c in quoted}

    def _working(self) -> list[_Working]:
        """Return the orders not done yet, in placement order (forgetting the done ones)."""
        done = [oid for oid, w in self._live.items() if w.status.is_done]
        for oid in done:
            del self._live[oid]
        return list(self._live.values())

    def _get(self, order_id: str) -> _Working:
        try:
            return self._orders[order_id]
        except KeyError:
            raise DataUnavailable(f"unknown order {order_id}") from None

    def _fx_state(self, w: _Working, ref: str) -> OrderState:
        assert w.fx is not None
        return OrderState(
            order_id=w.order_id,
            order_ref=ref,
            listing_id=w.fx[0],
            status=w.status,
            qty=w.qty,
            filled=w.filled,
            limit_price=w.limit,
            fills=tuple(w.fills),
            ts=w.ts or self.market.now,
            reason=w.reason,
        )

    def _state_of(self, w: _Working) -> OrderState:
        if w.fx is not None:
            return self._fx_state(w, w.fills[0].order_ref if w.fills else "")
        assert w.order is not None
        return OrderState(
            order_id=w.order_id,
            order_ref=w.order.order_ref,
            listing_id=w.order.listing_id,
            status=w.status,
            qty=w.order.qty,
            filled=w.filled,
            limit_price=w.limit,
            fills=tuple(w.fills),
            ts=w.ts or self.market.now,
            reason=w.reason,
            legs=w.order.legs,
        )

    def _order_problem(self, order: ComboOrder) -> str:
        if order.qty <= 0:
            return "quantity must be positive"
        if not order.legs:
            return "combo without legs"
        if not math.isfinite(order.limit_price):
            return "limit price is not a number"
        if order.listing_id not in self.listings:
            return f"unknown underlying {order.listing_id}"
        contracts = [leg.contract for leg in order.legs]
        if len(set(contracts)) != len(contracts):
            return "the same contract appears twice in the combo"
        if any(c.listing_id != order.listing_id for c in contracts):
            return "every leg must be on the order's underlying"
        quotes = self._quotes(contracts)
        missing = [c.key for c in contracts if c not in quotes]
        if missing:
            return "no such contract: " + ", ".join(missing)
        if not self.market.is_open(order.listing_id):
            return f"{order.listing_id} is closed (orders are accepted in regular hours only)"
        return ""

    def _rng(self, w: _Working) -> np.random.Generator:
        return match_rng(self.seed, w.order_id, self.market.now, w.limit, w.filled)

    def _try_match(self, w: _Working) -> None:
        order = w.order
        if order is None or w.status.is_done or not self.market.is_open(order.listing_id):
            return
        quotes = self._quotes([leg.contract for leg in order.legs])
        if len(quotes) != len(order.legs):
            return
        legs_q = [quotes[leg.contract] for leg in order.legs]
        prices = combo_prices(order.legs, legs_q)
        if prices is None:
            return
        m = match(w.limit, prices, order.qty - w.filled, self.p_mid, self._rng(w))
        if m is not None:
            self._execute(w, legs_q, m.price, prices.mid, m.units)

    def _execute(
        self, w: _Working, quotes: list[OptionQuote], price: float, mid: float, units: int
    ) -> None:
        order = w.order
        assert order is not None
        listing = self.listings[order.listing_id]
        sched = self.commissions[listing.currency]
        contracts = sum(leg.ratio for leg in order.legs) * units
        commission = sched.execution(contracts, first_of_order=w.commission_paid == 0.0)
        fill_id = f"{w.order_id}.{len(w.fills) + 1}"
        fills = leg_fills(order.legs, quotes, price, mid, units, commission, fill_id)
        price = round(price, 4)
        ccy = listing.currency
        fill = Fill(
            fill_id=fill_id,
            order_id=w.order_id,
            order_ref=order.order_ref,
            ts=self.market.now,
            qty=units,
            price=price,
            commission=round(commission, 4),
            commission_currency=ccy,
            legs=tuple(fills),
        )
        cash = {ccy: [-(price * listing.multiplier * units), -commission]}
        signed = [leg.sign * leg.ratio * units for leg in order.legs]
        if not self._log_execution(fill, order.listing_id, "combo", cash, signed):
            return  # not on record, so it did not happen: the order stays unfilled
        for leg, lf, qty in zip(order.legs, fills, signed, strict=True):
            book(self._positions, leg.contract, qty, lf.price)
        self._add_cash(cash)
        w.commission_paid += commission
        w.filled += units
        w.ts = self.market.now
        w.fills.append(fill)
        w.status = OrderStatus.FILLED if w.filled >= order.qty else OrderStatus.PARTIALLY_FILLED


def _copy(snap: AccountSnapshot) -> AccountSnapshot:
    """Return `snap` with its own cash dict (callers may change theirs)."""
    return AccountSnapshot(
        snap.account_id, snap.base_currency, dict(snap.cash), snap.net_liquidation, snap.ts
    )


def _as_asked(q: OptionQuote, c: OptionContract) -> OptionQuote:
    """Return `q` quoting the very contract asked, as the market does (an equal contract may be
    of other types: an int strike, a subclass)."""
    had = q.contract
    if had is c or (type(had) is type(c) and [*map(type, had)] == [*map(type, c)]):
        return q
    return q._replace(contract=c)


def _same_items(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    """Return whether two dict item tuples hold the very same keys and values, in order.

    Compared by identity: the old items hold their objects alive, so a changed position (a new
    value tuple) never passes for an unchanged one, whatever its value.
    """
    if len(old) != len(new):
        return False
    return not new or all(  # nothing held (every poll of an idle account): no generator
        a[0] is b[0] and a[1] is b[1] for a, b in zip(old, new, strict=True)
    )


def _convert(amount: float, ccy: str, to: str, usd_cad: float) -> float:
    if ccy == to:
        return amount
    if ccy == "USD" and to == "CAD":
        return amount * usd_cad
    if ccy == "CAD" and to == "USD":
        return amount / usd_cad
    raise DataUnavailable(f"no conversion from {ccy} to {to}")
