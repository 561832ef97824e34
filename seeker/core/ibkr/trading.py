"""Gateway-side orders: BAG combos and IDEALPRO conversions, their states and fills.

Order ids. Seeker's ``order_id`` is ``"<orderId>/<permId>"`` (IB's orderId of this client id, and
IB's permanent id once TWS acknowledged the order; just ``"<orderId>"`` if it never did). Both parts
survive a restart of Seeker: a new broker with the same client id finds a working order by orderId
(TWS reports open orders with their orderId) and a finished one by permId (completed orders and
executions of the day carry it), so :meth:`OrderBook.state` keeps working after a restart and
nothing is ever re-sent. Runs on the gateway loop only.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from ib_async import Contract, LimitOrder, Trade

from seeker.core.ibkr.contracts import (
    COMBO_TICK,
    FX_TICK,
    bag_contract,
    ceil_to_tick,
    floor_to_tick,
)
from seeker.core.ibkr.link import IbLink, log
from seeker.core.ibkr.market import MarketData
from seeker.core.ibkr.orders import (
    ACKNOWLEDGED,
    ExecView,
    combo_fills,
    informational,
    seeker_status,
    single_fills,
)
from seeker.core.models import (
    Action,
    ComboOrder,
    DataUnavailable,
    Fill,
    Leg,
    OrderState,
    OrderStatus,
    OrderUnconfirmed,
)

Kind = Literal["BAG", "CASH", "OTHER"]


@dataclass
class OrderInfo:
    """What Seeker knows of one IB order, kept across reconnects of this broker."""

    order_id: int
    perm_id: int
    text_id: str
    order_ref: str
    listing_id: str
    legs: tuple[Leg, ...]
    qty: int
    kind: Kind
    cancel_requested: bool = False
    errors: list[tuple[int, str]] = field(default_factory=list)


class SendTicket:
    """Whether a placeOrder request left the process: a handshake between two threads.

    The gateway coroutine calls :meth:`commit` right before it writes placeOrder; a caller that
    stopped waiting for it (timeout, dropped connection) calls :meth:`abandon`. Whoever comes first
    wins, under one lock: once abandoned, commit raises and nothing is written; once committed,
    abandon returns True and the order may be at TWS (see
    :class:`~seeker.core.models.OrderUnconfirmed`).
    """

    def __init__(self, order_ref: str) -> None:
        self.order_ref = order_ref
        self.broker_order_id = ""
        self._lock = threading.Lock()
        self._state: Literal["new", "sent", "abandoned"] = "new"

    def commit(self, broker_order_id: str) -> None:
        """Say the request is about to be written (raise if the caller already gave up)."""
        with self._lock:
            if self._state == "abandoned":
                raise DataUnavailable("not sent: the caller stopped waiting before it was written")
            self._state = "sent"
            self.broker_order_id = broker_order_id

    def abandon(self) -> bool:
        """Give up waiting; return True if the request was (or is being) written."""
        with self._lock:
            if self._state == "sent":
                return True
            self._state = "abandoned"
            return False


def parse_order_id(text: str) -> tuple[int, int]:
    """Return (orderId, permId) of a Seeker order id ``"<orderId>[/<permId>]"``."""
    head, _, tail = text.partition("/")
    try:
        oid, perm = int(head), int(tail) if tail else 0
    except ValueError:
        raise DataUnavailable(f"{text!r} is not an IBKR order id") from None
    if oid < 0 or perm < 0 or (oid == 0 and perm == 0):
        raise DataUnavailable(f"{text!r} is not an IBKR order id")
    return oid, perm


def order_text_id(order_id: int, perm_id: int) -> str:
    """Return Seeker's id of an IB order."""
    return f"{order_id}/{perm_id}" if perm_id else str(order_id)


class OrderBook:
    """Orders over one IB connection (gateway loop only)."""

    def __init__(self, link: IbLink, market: MarketData, client_id: int) -> None:
        self.link = link
        self.market = market
        self.client_id = client_id
        self.account = ""
        self._by_oid: dict[int, OrderInfo] = {}
        self._by_perm: dict[int, OrderInfo] = {}
        self._local: dict[str, OrderState] = {}
        self._local_seq = itertools.count(1)
        self._first_seen: dict[str, float] = {}

    # ---------------------------------------------------------------- events
    def on_error(self, req_id: int, code: int, message: str) -> None:
        """Record an error TWS sent about one of our orders."""
        info = self._by_oid.get(req_id)
        if info is not None:
            info.errors.append((code, message))

    # ---------------------------------------------------------------- registry
    def _register(self, info: OrderInfo) -> OrderInfo:
        if info.order_id:
            self._by_oid[info.order_id] = info
        if info.perm_id:
            self._by_perm[info.perm_id] = info
        return info

    def trade_of(self, info: OrderInfo) -> Trade | None:
        """Return ib_async's trade of an order (None when TWS has not reported it)."""
        return self._trade(info)

    def _trade(self, info: OrderInfo) -> Trade | None:
        wrapper = self.link.ib().wrapper
        trade = wrapper.trades.get((self.client_id, info.order_id)) if info.order_id else None
        if trade is not None and info.perm_id and trade.order.permId not in (0, info.perm_id):
            trade = None  # an orderId reused after an id reset: not this order
        if trade is None and info.perm_id:
            trade = wrapper.permId2Trade.get(info.perm_id)
        if trade is not None and not info.perm_id:
            perm = trade.order.permId or trade.orderStatus.permId
            if perm:
                info.perm_id = perm
                self._by_perm[perm] = info
        return trade

    def _perm_from_executions(self, order_id: int) -> int:
        for f in self.link.ib().fills():
            ex = f.execution
            if ex.orderId == order_id and ex.clientId == self.client_id and ex.permId:
                return ex.permId
        return 0

    def info_for(self, text: str) -> OrderInfo:
        """Return the order behind a Seeker order id (adopting it from TWS's records if needed)."""
        oid, perm = parse_order_id(text)
        info = self._by_perm.get(perm) if perm else None
        info = info or self._by_oid.get(oid)
        if info is not None and (not perm or info.perm_id in (0, perm)):
            return info
        ib = self.link.ib()
        trade = ib.wrapper.trades.get((self.client_id, oid)) if oid else None
        if trade is not None and perm and trade.order.permId not in (0, perm):
            trade = None
        perm = perm or (trade.order.permId if trade is not None else 0)
        perm = perm or self._perm_from_executions(oid)
        if trade is None and perm:
            trade = ib.wrapper.permId2Trade.get(perm)
        if trade is None:
            raise DataUnavailable(f"order {text} is unknown to TWS (not today's, or not ours)")
        known = self._known(trade, oid)
        if known is not None:
            return known
        info = self.adopt(trade, oid)
        info.text_id = text
        return info

    def _known(self, trade: Trade, order_id: int = 0) -> OrderInfo | None:
        perm = trade.order.permId or trade.orderStatus.permId
        hit = self._by_perm.get(perm) if perm else None
        oid = self._order_id_of(trade, order_id)
        return hit or (self._by_oid.get(oid) if oid else None)

    def _order_id_of(self, trade: Trade, order_id: int = 0) -> int:
        """Return the orderId of a trade of this client (completed orders carry none)."""
        if trade.order.orderId > 0:
            return trade.order.orderId if trade.order.clientId == self.client_id else 0
        perm = trade.order.permId or trade.orderStatus.permId
        return order_id or (self._oid_from_executions(perm) if perm else 0)

    def adopt(self, trade: Trade, order_id: int = 0) -> OrderInfo:
        """Return (registering it) the OrderInfo of a trade TWS reported: ours, sent earlier."""
        known = self._known(trade, order_id)
        if known is not None:
            return known
        perm = trade.order.permId or trade.orderStatus.permId
        oid = self._order_id_of(trade, order_id)
        contract = trade.contract
        kind: Kind = "OTHER"
        if contract.secType in ("BAG", "CASH"):
            kind = "BAG" if contract.secType == "BAG" else "CASH"
        listing_id, legs = self._describe(contract, trade.order.action.upper() == "BUY")
        info = OrderInfo(
            order_id=oid,
            perm_id=perm,
            text_id=order_text_id(oid, perm),
            order_ref=trade.order.orderRef or "",
            listing_id=listing_id,
            legs=legs,
            qty=round(float(trade.order.totalQuantity)),
            kind=kind,
        )
        return self._register(info)

    def _oid_from_executions(self, perm: int) -> int:
        for f in self.link.ib().fills():
            ex = f.execution
            if ex.permId == perm and ex.clientId == self.client_id and ex.orderId > 0:
                return ex.orderId
        return 0

    def _describe(self, contract: Contract, is_buy: bool) -> tuple[str, tuple[Leg, ...]]:
        if contract.secType == "CASH":
            return f"{contract.symbol}.{contract.currency}", ()
        listing = self.market.index.listing_for(contract)
        legs = []
        for cl in contract.comboLegs or []:
            oc = self.market.by_con_id.get(cl.conId)
            if oc is None:
                log.warning("combo leg conId %s of %s is unknown", cl.conId, contract.symbol)
                continue
            action: Action = "BUY" if cl.action.upper() == "BUY" else "SELL"
            leg = Leg(oc, action, int(cl.ratio))
            legs.append(leg if is_buy else leg.reversed())
        return (listing.listing_id if listing else contract.symbol), tuple(legs)

    async def adopt_all(self) -> None:
        """Learn every order TWS reported at connect: resolve their legs, register them."""
        ib = self.link.ib()
        trades = ib.trades()
        legs = [cl.conId for t in trades for cl in (t.contract.comboLegs or [])]
        await self.market.resolve_con_ids(legs)
        for trade in trades:
            if self._order_id_of(trade) or trade.order.permId:
                self.adopt(trade)

    def known(self, perm_id: int, client_id: int, order_id: int) -> OrderInfo | None:
        """Return the order an execution belongs to, when this book knows it."""
        hit = self._by_perm.get(perm_id) if perm_id else None
        if hit is None and client_id == self.client_id and order_id:
            hit = self._by_oid.get(order_id)
        return hit

    def age(self, exec_id: str) -> float:
        """Return the seconds since an execution was first seen (its commission wait)."""
        return self._age(exec_id)

    # ---------------------------------------------------------------- states
    def _age(self, exec_id: str) -> float:
        now = time.monotonic()
        return now - self._first_seen.setdefault(exec_id, now)

    def _executions(self, info: OrderInfo) -> list[ExecView]:
        out = []
        for f in self.link.ib().fills():
            ex = f.execution
            mine = (info.perm_id and ex.permId == info.perm_id) or (
                info.order_id and ex.orderId == info.order_id and ex.clientId == self.client_id
            )
            if mine:
                out.append(ExecView.of(f))
        return out

    def state(self, info: OrderInfo) -> OrderState:
        """Return Seeker's view of one order now (fills only once reportable)."""
        trade = self._trade(info)
        if (
            trade is not None
            and info.kind == "BAG"
            and len(info.legs) < len(trade.contract.comboLegs or [])
        ):
            _, info.legs = self._describe(trade.contract, trade.order.action.upper() == "BUY")
        execs = self._executions(info)
        wait = self.link.settings.commission_wait_seconds
        if info.kind == "BAG":
            fills, _ = combo_fills(
                execs,
                info.text_id,
                info.order_ref,
                len(info.legs),
                self.market.option_of,
                self._age,
                wait,
            )
            exec_qty = sum(e.shares for e in execs if e.is_bag)
        else:
            fills, _ = single_fills(execs, info.text_id, info.order_ref, self._age, wait)
            exec_qty = sum(e.shares for e in execs)
        reported = sum(f.qty for f in fills)
        if trade is None:
            if reported >= info.qty > 0:
                return self._make(info, OrderStatus.FILLED, "", math.nan, fills, reported)
            raise DataUnavailable(f"order {info.text_id} is not in TWS's records right now")
        ib_status = trade.orderStatus.status
        ib_filled = max(float(trade.orderStatus.filled), exec_qty)
        acknowledged = bool(trade.order.permId or trade.orderStatus.permId) or any(
            e.status in ACKNOWLEDGED for e in trade.log
        )
        status, reason = seeker_status(
            ib_status,
            info.qty,
            ib_filled,
            reported,
            info.cancel_requested,
            acknowledged,
            info.errors,
        )
        limit = float(trade.order.lmtPrice)
        if info.kind == "BAG" and trade.order.action.upper() == "SELL":
            limit = -limit
        return self._make(info, status, reason, limit, fills, reported)

    def _make(
        self,
        info: OrderInfo,
        status: OrderStatus,
        reason: str,
        limit: float,
        fills: list[Fill],
        filled: int,
    ) -> OrderState:
        return OrderState(
            order_id=info.text_id,
            order_ref=info.order_ref,
            listing_id=info.listing_id,
            status=status,
            qty=info.qty,
            filled=filled,
            limit_price=limit,
            fills=tuple(fills),
            ts=self.link.now(),
            reason=reason,
            legs=info.legs,
        )

    def local_state(self, text: str) -> OrderState | None:
        """Return the state of an order refused before it was sent, if `text` is one."""
        return self._local.get(text)

    def refuse(
        self,
        order_ref: str,
        listing_id: str,
        qty: int,
        limit: float,
        why: str,
        legs: tuple[Leg, ...] = (),
    ) -> OrderState:
        """Return (and remember) a REJECTED state for an order never sent to TWS."""
        text = f"local-{next(self._local_seq)}"
        state = OrderState(
            order_id=text,
            order_ref=order_ref,
            listing_id=listing_id,
            status=OrderStatus.REJECTED,
            qty=qty,
            filled=0,
            limit_price=limit,
            fills=(),
            ts=self.link.now(),
            reason=why,
            legs=legs,
        )
        self._local[text] = state
        return state

    async def settled_state(self, info: OrderInfo, timeout: float) -> OrderState:
        """Return the state once it agrees with IB's status (fills reportable), or at timeout."""
        state = self.state(info)
        trade = self._trade(info)
        if trade is None or not trade.isDone() or state.status.is_done:
            return state
        await self.link.wait_until(lambda: self.state(info).status.is_done, timeout)
        return self.state(info)

    # ---------------------------------------------------------------- actions
    async def place_combo(self, order: ComboOrder, ticket: SendTicket | None = None) -> OrderState:
        """Send a BAG limit order (BUY at the net debit) and return its first state.

        Raises OrderUnconfirmed when TWS does not acknowledge it within the request timeout (it
        may be working there). `ticket` says whether the request was written (see SendTicket).
        """
        listing = self.market.listing(order.listing_id)
        resolved = await self.market.resolve_options([leg.contract for leg in order.legs])
        missing = [leg.contract.key for leg in order.legs if leg.contract not in resolved]
        if missing:
            return self.refuse(
                order.order_ref,
                order.listing_id,
                order.qty,
                order.limit_price,
                "no such contract at IB: " + ", ".join(missing),
                order.legs,
            )
        bag = bag_contract(listing, [(resolved[leg.contract].conId, leg) for leg in order.legs])
        limit = floor_to_tick(order.limit_price, COMBO_TICK)
        ib_order = LimitOrder(
            "BUY", order.qty, limit, orderRef=order.order_ref, tif="DAY", account=self.account
        )
        info = OrderInfo(
            order_id=0,
            perm_id=0,
            text_id="",
            order_ref=order.order_ref,
            listing_id=order.listing_id,
            legs=order.legs,
            qty=order.qty,
            kind="BAG",
        )
        return await self._send(bag, ib_order, info, ticket, confirm=True)

    async def place_fx(
        self, pair: str, action: Action, qty: int, limit: float, order_ref: str
    ) -> OrderState:
        """Send an IDEALPRO limit conversion (IOC) and return its final state."""
        contract = await self.market.fx(pair)
        price = floor_to_tick(limit, FX_TICK) if action == "BUY" else ceil_to_tick(limit, FX_TICK)
        ib_order = LimitOrder(
            action, qty, price, orderRef=order_ref, tif="IOC", account=self.account
        )
        info = OrderInfo(0, 0, "", order_ref, pair, (), qty, "CASH")
        await self._send(ib_order=ib_order, contract=contract, info=info)
        timeout = self.link.settings.request_timeout_seconds
        wait = timeout + self.link.settings.commission_wait_seconds
        if not await self.link.wait_until(lambda: self.state(info).status.is_done, wait):
            log.warning("FX order %s still working after %.0f s: cancelling", info.text_id, wait)
            return await self.cancel(info)
        return self.state(info)

    async def _send(
        self,
        contract: Contract,
        ib_order: LimitOrder,
        info: OrderInfo,
        ticket: SendTicket | None = None,
        confirm: bool = False,
    ) -> OrderState:
        """Write placeOrder and wait for TWS's acknowledgement.

        Without one within the request timeout: raise OrderUnconfirmed when `confirm`, else log
        and return the order's state as ib_async has it.
        """
        ib = self.link.ib()
        await self.link.send(1)
        ib = self.link.ib()  # the budget wait may have outlived the connection: nothing written
        ib_order.orderId = ib.client.getReqId()
        if ticket is not None:
            ticket.commit(order_text_id(ib_order.orderId, 0))
        trade = ib.placeOrder(contract, ib_order)
        info.order_id = trade.order.orderId
        info.text_id = order_text_id(info.order_id, 0)
        self._register(info)
        timeout = self.link.settings.request_timeout_seconds
        acked = await self.link.wait_until(
            lambda: trade.orderStatus.status != "PendingSubmit" or trade.isDone(), timeout
        )
        perm = trade.order.permId or trade.orderStatus.permId
        if perm:
            info.perm_id = perm
            info.text_id = order_text_id(info.order_id, perm)
            self._register(info)
        if not acked:
            log.warning("order %s not acknowledged within %.0f s", info.text_id, timeout)
            if confirm:
                raise OrderUnconfirmed(
                    f"TWS did not acknowledge order {info.text_id} within {timeout:g} s",
                    info.order_ref,
                    info.text_id,
                )
        return await self.settled_state(info, self.link.settings.commission_wait_seconds)

    async def modify(self, info: OrderInfo, limit: float) -> OrderState:
        """Re-send a working order with a new limit (net debit); raise if TWS refuses."""
        trade = self._trade(info)
        if trade is None or trade.isDone():
            return self.state(info)
        is_buy = trade.order.action.upper() == "BUY"
        tick = COMBO_TICK if info.kind == "BAG" else FX_TICK
        ib_limit = limit if is_buy or info.kind != "BAG" else -limit
        price = floor_to_tick(ib_limit, tick) if is_buy else ceil_to_tick(ib_limit, tick)
        await self.link.send(1)
        trade = self._trade(info)
        if trade is None or trade.isDone():  # it ended while we waited for the budget
            return self.state(info)
        old = trade.order.lmtPrice
        mark = len(trade.log)
        errors_before = len(info.errors)
        trade.order.lmtPrice = price
        self.link.ib().placeOrder(trade.contract, trade.order)
        answered = await self.link.wait_until(
            lambda: (
                any(e.message != "Modify" for e in trade.log[mark:])
                or len(info.errors) > errors_before
            ),
            self.link.settings.request_timeout_seconds,
        )
        refused = [m for c, m in info.errors[errors_before:] if not informational(c)]
        if refused and not trade.isDone():
            trade.order.lmtPrice = old
            raise DataUnavailable(
                f"TWS refused the new limit of order {info.text_id}: {refused[-1]}"
            )
        if not answered:
            log.warning("modify of order %s not acknowledged in time", info.text_id)
        return await self.settled_state(info, self.link.settings.commission_wait_seconds)

    async def cancel(self, info: OrderInfo) -> OrderState:
        """Cancel a working order and wait for TWS's final word (Cancelled, or Filled if it won)."""
        timeout = self.link.settings.request_timeout_seconds
        trade = self._trade(info)
        if trade is None or trade.isDone():
            return await self.settled_state(info, self.link.settings.commission_wait_seconds)
        await self.link.send(1)
        trade = self._trade(info)
        if trade is None or trade.isDone():
            return await self.settled_state(info, self.link.settings.commission_wait_seconds)
        info.cancel_requested = True
        self.link.ib().cancelOrder(trade.order)
        wait = timeout + self.link.settings.commission_wait_seconds
        if not await self.link.wait_until(lambda: self.state(info).status.is_done, wait):
            raise DataUnavailable(
                f"cancel of order {info.text_id} not confirmed by TWS within {wait:g} s"
            )
        return self.state(info)

    def open_states(self) -> list[OrderState]:
        """Return the states of every working order of this client (adopting unknown ones)."""
        out = []
        for trade in self.link.ib().openTrades():
            if trade.order.clientId not in (0, self.client_id):
                continue
            info = self.adopt(trade)
            state = self.state(info)
            if not state.status.is_done:
                out.append(state)
        return out
