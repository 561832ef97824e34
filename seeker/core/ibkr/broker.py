"""IBKRBroker: the Broker protocol over TWS / IB Gateway through ib_async.

Threads. One gateway thread owns the ``IB`` object and its asyncio loop; every public method is
called from strategy threads and runs a coroutine on that loop through a future with a timeout
(:mod:`seeker.core.ibkr.gateway`), so ib_async is never driven from two threads.

Safety. Paper by default: a live port is refused before any socket is opened, a live account right
after connecting, unless ``allow_live`` (config) and ``live`` (``seeker run --live``) are both true
(:func:`live_problem`, :class:`LiveTradingRefused`).

Connection (:mod:`seeker.core.ibkr.connection`). :meth:`connect` synchronises positions, open and
completed orders, the day's executions with their commission reports, and the account's values. A
dropped socket turns the state to RECONNECTING; the gateway reconnects with exponential backoff
and re-synchronises, then the state is CONNECTED again and :attr:`connection_epoch` grows by one
(listeners registered with :meth:`add_reconnect_listener` are told). While not connected every
method raises :class:`~seeker.core.models.BrokerUnavailable`. Executions: :meth:`executions`
(:mod:`seeker.core.ibkr.executions`).

Orders and fills: see :mod:`seeker.core.ibkr.trading` (ids) and :mod:`seeker.core.ibkr.orders`
(fills). Market data: see :mod:`seeker.core.ibkr.market` and :mod:`seeker.core.ibkr.quotes`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from seeker.core.broker import ConnectionState, RefLookup
from seeker.core.ibkr.connection import IbConnection, ReconnectListener
from seeker.core.ibkr.executions import account_executions
from seeker.core.ibkr.gate import HistoryPacer, MarketDataGate
from seeker.core.ibkr.link import IbLink, log
from seeker.core.ibkr.margin import what_if_combo
from seeker.core.ibkr.market import MarketData
from seeker.core.ibkr.quotes import (
    chain_volume,
    fx_complete,
    option_complete,
    option_quote,
    underlying_complete,
    underlying_quote,
)
from seeker.core.ibkr.safety import IbkrSetupError, LiveTradingRefused, live_problem
from seeker.core.ibkr.settings import IbkrSettings
from seeker.core.ibkr.trading import OrderBook, SendTicket
from seeker.core.margin import MarginImpact
from seeker.core.models import (
    AccountSnapshot,
    Action,
    BrokerPosition,
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
    OrderUnconfirmed,
    UnderlyingQuote,
)

__all__ = [
    "IBKRBroker",
    "IbkrSettings",
    "IbkrSetupError",
    "LiveTradingRefused",
    "live_problem",
]

T = TypeVar("T")

CASH_TAGS = ("TotalCashBalance", "CashBalance")


class IBKRBroker:
    """The Broker protocol over TWS / IB Gateway (thread-safe facade over the gateway thread)."""

    kind = "ibkr"

    def __init__(
        self,
        settings: IbkrSettings,
        listings: Mapping[str, Listing],
        *,
        host: str,
        port: int,
        client_id: int,
        allow_live: bool,
        live: bool,
        gate: MarketDataGate | None = None,
        pacer: HistoryPacer | None = None,
    ) -> None:
        self.settings = settings
        self.listings = dict(listings)
        self.host = host
        self.port = port
        self.client_id = client_id
        self.allow_live = allow_live
        self.live = live
        self.gate = gate or MarketDataGate(
            settings.max_market_data_lines, settings.max_messages_per_second
        )
        self.pacer = pacer or HistoryPacer(settings.history_requests_per_10_minutes)
        self._link = IbLink(settings, self.gate)
        self._market = MarketData(self._link, self.listings, self.pacer)
        self._orders = OrderBook(self._link, self._market, client_id)
        self._conn = IbConnection(
            settings,
            self._link,
            self._market,
            self._orders,
            host=host,
            port=port,
            client_id=client_id,
            allow_live=allow_live,
            live=live,
        )

    # ================================================================ connection
    def connect(self) -> None:
        """Connect (paper unless both live opt-ins), check the account, synchronise everything.

        Raises LiveTradingRefused (live port: before connecting; live account: after) or
        IbkrSetupError (account not managed by this login), BrokerUnavailable when TWS cannot be
        reached.
        """
        self._conn.open()

    def close(self) -> None:
        """Cancel market-data lines and disconnect; working orders stay at TWS."""
        self._conn.shutdown()

    def connection_state(self) -> ConnectionState:
        """Return DISCONNECTED, CONNECTING, CONNECTED or RECONNECTING."""
        return self._conn.state

    @property
    def connection_epoch(self) -> int:
        """Return how many times a connection was established (1 after connect, +1 per reconnect).

        A strategy that saw epoch n and now sees a larger one should reconcile its orders and
        positions: fills may have happened while the connection was down.
        """
        return self._conn.epoch

    def add_reconnect_listener(self, listener: ReconnectListener) -> None:
        """Call `listener(epoch)` after each automatic reconnect (in a short-lived thread)."""
        self._conn.add_listener(listener)

    def market_data_type(self) -> str:
        """Return the configured market data type: live, frozen, delayed or delayed_frozen."""
        return self.settings.market_data_type

    def server_time(self) -> datetime:
        """Return TWS's current time (aware, UTC); also re-measures the local clock's offset."""
        return self._call(self._link.sync_clock)

    @property
    def account_id(self) -> str:
        """Return the account this session trades ("" before connect)."""
        return self._conn.account

    @property
    def _account(self) -> str:
        return self._conn.account

    def _require_connected(self) -> None:
        self._conn.require_connected()

    def _call(
        self, factory: Callable[[], Coroutine[Any, Any, T]], timeout: float | None = None
    ) -> T:
        return self._conn.call(factory, timeout)

    def _quote_timeout(self) -> float:
        s = self.settings
        return 2 * s.request_timeout_seconds + s.quote_wait_seconds + 1.0

    def _batch_size(self) -> int:
        return max(1, min(self.gate.max_lines // 2, int(self.gate.capacity) // 2))

    # ================================================================ market data
    def underlying_quote(self, listing_id: str) -> UnderlyingQuote:
        """Return the underlying's bid/ask/last (NaN where IB sent none)."""

        async def run() -> UnderlyingQuote:
            stock = await self._market.stock(listing_id)
            [view] = await self._market.quote_batch(
                [stock], lambda v: underlying_complete(v, want_volume=False)
            )
            return underlying_quote(listing_id, view, self._link.stamp(view.received))

        return self._call(run, self._quote_timeout())

    def expiries(self, listing_id: str) -> list[date]:
        """Return the listed expiries (reqSecDefOptParams, cached per session day)."""
        return self._call(lambda: self._market.expiries(listing_id))

    def strikes(self, listing_id: str, expiry: date) -> list[float]:
        """Return the strikes listed for one expiry (its contract details, per session day)."""
        return self._call(lambda: self._market.strikes(listing_id, expiry))

    def option_chain(
        self,
        listing_id: str,
        expiries: Sequence[date],
        strike_range: tuple[float, float] | None = None,
    ) -> Chain:
        """Return quotes with greeks of every listed option of `expiries` within `strike_range`.

        Options are streamed in batches within the market-data gate and every line is cancelled.
        ``chain_volume`` is the underlying's average option volume (tick 87), else today's call
        plus put volume (ticks 29/30), else None. An option whose computation lacks undPrice gets
        the chain's underlying last (else mid) as ``underlying_price``.
        """

        async def contracts() -> list[tuple[OptionContract, Any]]:
            self._market.listing(listing_id)
            rows: list[tuple[OptionContract, Any]] = []
            for expiry in sorted(set(expiries)):
                listed = await self._market.expiry_contracts(listing_id, expiry)
                for (strike, right), c in sorted(
                    listed.items(), key=lambda kv: (kv[0][0], kv[0][1])
                ):
                    if strike_range is not None:
                        lo, hi = strike_range
                        if not lo - 1e-9 <= strike <= hi + 1e-9:
                            continue
                    rows.append((OptionContract(listing_id, expiry, strike, right), c))  # type: ignore[arg-type]
            return rows

        async def underlying() -> tuple[UnderlyingQuote, int | None]:
            stock = await self._market.stock(listing_id)
            [view] = await self._market.quote_batch(
                [stock], lambda v: underlying_complete(v, want_volume=True)
            )
            return underlying_quote(
                listing_id, view, self._link.stamp(view.received)
            ), chain_volume(view)

        rows = self._call(
            contracts, 2 * self.settings.request_timeout_seconds * (1 + len(expiries))
        )
        und, volume = self._call(underlying, self._quote_timeout())
        spot = und.last if math.isfinite(und.last) else und.mid
        quotes = self._quotes(rows, spot)
        return Chain(
            listing_id=listing_id,
            underlying=und,
            quotes=tuple(quotes[oc] for oc, _ in rows if oc in quotes),
            chain_volume=volume,
            ts=self._link.now(),
        )

    def option_quotes(
        self, contracts: Sequence[OptionContract]
    ) -> dict[OptionContract, OptionQuote]:
        """Return quotes of specific options; those IB does not list are absent."""
        wanted = list(dict.fromkeys(contracts))
        if not wanted:
            return {}
        resolved = self._call(
            lambda: self._market.resolve_options(wanted), 2 * self.settings.request_timeout_seconds
        )
        rows = [(oc, resolved[oc]) for oc in wanted if oc in resolved]
        return self._quotes(rows, math.nan)

    def _quotes(
        self, rows: Sequence[tuple[OptionContract, Any]], spot: float
    ) -> dict[OptionContract, OptionQuote]:
        out: dict[OptionContract, OptionQuote] = {}
        size = self._batch_size()
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]

            async def run(batch: Sequence[tuple[OptionContract, Any]] = batch) -> list[OptionQuote]:
                views = await self._market.quote_batch(
                    [c for _, c in batch], lambda v: option_complete(v, want_extras=True)
                )
                return [
                    option_quote(oc, v, self._link.stamp(v.received), spot)
                    for (oc, _), v in zip(batch, views, strict=True)
                ]

            for q in self._call(run, self._quote_timeout()):
                out[q.contract] = q
        return out

    def history(self, listing_id: str, sessions: int) -> DailyHistory:
        """Return the last `sessions` completed daily bars with IV closes (NaN where IB has none).

        One year (or more when asked) of TRADES and OPTION_IMPLIED_VOLATILITY bars is fetched once
        per listing and session day, within IB's pacing (the history budget).
        """
        timeout = 3 * self.settings.request_timeout_seconds + 1.0
        return self._call(lambda: self._market.history(listing_id, sessions), timeout)

    def fx_quote(self, pair: str) -> FxQuote:
        """Return an IDEALPRO quote such as USD.CAD (NaN sides when IB sends none)."""

        async def run() -> FxQuote:
            contract = await self._market.fx(pair)
            [view] = await self._market.quote_batch([contract], fx_complete)
            return FxQuote(
                pair=pair,
                bid=_price(view.bid),
                ask=_price(view.ask),
                ts=self._link.stamp(view.received),
            )

        return self._call(run, self._quote_timeout())

    # ================================================================ account
    def account(self) -> AccountSnapshot:
        """Return cash per currency (TotalCashBalance, else CashBalance) and net liquidation.

        Values are those TWS last pushed on the account subscription (TWS refreshes them on
        changes and about every 3 minutes); NetLiquidation is in the account's base currency.
        """

        async def run() -> AccountSnapshot:
            values = self._link.ib().accountValues(self._account)
            cash: dict[str, float] = {}
            for tag in CASH_TAGS:
                for v in values:
                    if v.tag == tag and v.currency not in ("", "BASE"):
                        cash.setdefault(v.currency, float(v.value))
                if cash:
                    break
            nlv = [
                v for v in values if v.tag == "NetLiquidation" and v.currency not in ("", "BASE")
            ]
            if not nlv:
                raise DataUnavailable(f"account {self._account}: TWS sent no NetLiquidation")
            return AccountSnapshot(
                account_id=self._account,
                base_currency=nlv[0].currency,
                cash=cash,
                net_liquidation=float(nlv[0].value),
                ts=self._link.now(),
            )

        return self._call(run)

    def expiry_settlement(self, contract: OptionContract) -> float | None:
        """Return None: IB reports no settlement price for an expired equity option.

        An expired contract simply leaves IB's positions (worthless), or is exercised or assigned
        into shares; the strategy then journals the position as expired but unsettled, keeps its
        risk reserved and its underlying blocked, and says so until someone looks at the account.
        """
        return None

    def executions(self, since: datetime | None = None) -> list[Fill]:
        """Return the account's executions TWS reported (the day's, or as many days as its trade
        log keeps), at or after `since`, oldest first, each once its commission reports arrived.
        """

        async def run() -> list[Fill]:
            legs = [
                f.contract.conId for f in self._link.ib().fills() if f.contract.secType == "OPT"
            ]
            await self._market.resolve_con_ids(legs)
            return account_executions(self._orders, since)

        return self._call(run, 2 * self.settings.request_timeout_seconds)

    def positions(self) -> list[BrokerPosition]:
        """Return option positions (signed qty, avg cost per share); stocks and cash are ignored."""

        async def run() -> list[BrokerPosition]:
            out = []
            for p in self._link.ib().positions(self._account):
                if p.contract.secType != "OPT" or p.position == 0:
                    continue
                oc = self._market.option_of(p.contract)
                if oc is None:
                    log.warning("position in %s is not on a known listing", p.contract.localSymbol)
                    continue
                mult = float(p.contract.multiplier or self.listings[oc.listing_id].multiplier)
                out.append(BrokerPosition(oc, round(p.position), p.avgCost / mult))
            return sorted(out, key=lambda b: b.contract)

        return self._call(run)

    # ================================================================ orders
    def place_order(self, order: ComboOrder) -> OrderState:
        """Send a BAG combo limit order: BUY at the net debit (negative = credit), DAY.

        The limit is rounded down to the 0.01 tick (never pays more than asked); no per-leg prices
        are sent (IB refuses them on 4-leg combos and needs NonGuaranteed routing on 2 legs).
        Returns the first state: SUBMITTED, or REJECTED with IB's error text, or already filled.

        Raises BrokerUnavailable / DataUnavailable when the order surely was not sent (not
        connected, a leg not resolved, the message budget exhausted: nothing was written), and
        OrderUnconfirmed when it maybe was: placeOrder was written, then the connection dropped or
        TWS's acknowledgement did not come in time.
        """
        problem = _combo_problem(order, self.listings)
        if problem:
            self._require_connected()
            return self._call(lambda: self._refuse(order, problem))
        ticket = SendTicket(order.order_ref)
        try:
            return self._call(
                lambda: self._orders.place_combo(order, ticket),
                3 * self.settings.request_timeout_seconds,
            )
        except OrderUnconfirmed:
            raise
        except DataUnavailable as exc:
            if not ticket.abandon():
                raise
            raise OrderUnconfirmed(
                f"order {ticket.broker_order_id} ({order.order_ref}) was written to TWS, then: "
                f"{exc}",
                order.order_ref,
                ticket.broker_order_id,
            ) from exc

    def lookup_ref(self, order_ref: str) -> RefLookup:
        """Ask TWS afresh (reqOpenOrders, reqExecutions) what it holds under `order_ref`.

        Unlike :meth:`open_orders`, which reads what ib_async keeps (an order written but never
        acknowledged sits there as PendingSubmit), only TWS's answers count: an order TWS lists
        and still works, and the executions whose orderRef is `order_ref` (those still waiting
        for their commission reports are counted in ``pending``). Raises unless both answers
        came complete.
        """

        async def run() -> RefLookup:
            ib = self._link.ib()
            listed = await self._link.ask(ib.reqOpenOrdersAsync(), "open orders")
            await self._link.ask(ib.reqExecutionsAsync(), "executions")
            ib = self._link.ib()  # both answers came on this one connection
            mine = [t for t in listed if t.order.orderRef == order_ref]
            await self._market.resolve_con_ids(
                cl.conId for t in mine for cl in (t.contract.comboLegs or [])
            )
            working = []
            for trade in mine:
                if trade.isDone():
                    continue
                state = self._orders.state(self._orders.adopt(trade))
                if not state.status.is_done:
                    working.append(state)
            await self._market.resolve_con_ids(
                f.contract.conId for f in ib.fills() if f.contract.secType == "OPT"
            )
            fills = [f for f in account_executions(self._orders, None) if f.order_ref == order_ref]
            reported = {f.fill_id for f in fills}
            pending = sum(
                1
                for f in ib.fills()
                if f.execution.orderRef == order_ref
                and f.contract.secType in ("BAG", "CASH")
                and f.execution.execId not in reported
            )
            return RefLookup(order_ref, tuple(working), tuple(fills), pending)

        return self._call(run, 4 * self.settings.request_timeout_seconds + 1.0)

    def what_if(self, order: ComboOrder) -> MarginImpact:
        """Return IB's what-if margin of a combo order (nothing is placed); DataUnavailable
        when IB gives no figures (a MarginBroker)."""
        problem = _combo_problem(order, self.listings)
        if problem:
            raise DataUnavailable(problem)
        return self._call(
            lambda: what_if_combo(self._link, self._market, self._account, order),
            self.settings.request_timeout_seconds + 1.0,
        )

    async def _refuse(self, order: ComboOrder, why: str) -> OrderState:
        return self._orders.refuse(
            order.order_ref, order.listing_id, order.qty, order.limit_price, why, order.legs
        )

    def modify_order(self, order_id: str, limit_price: float) -> OrderState:
        """Change the limit (net debit) of a working order; DataUnavailable if TWS refuses."""
        if not math.isfinite(limit_price):
            raise DataUnavailable(f"limit {limit_price} is not a number")

        async def run() -> OrderState:
            local = self._orders.local_state(order_id)
            if local is not None:
                return local
            return await self._orders.modify(self._orders.info_for(order_id), limit_price)

        return self._call(run, 2 * self.settings.request_timeout_seconds + 1.0)

    def cancel_order(self, order_id: str) -> OrderState:
        """Cancel, then wait for the final state: CANCELLED, or FILLED if the fill won the race."""

        async def run() -> OrderState:
            local = self._orders.local_state(order_id)
            if local is not None:
                return local
            return await self._orders.cancel(self._orders.info_for(order_id))

        s = self.settings
        return self._call(run, 2 * s.request_timeout_seconds + s.commission_wait_seconds + 1.0)

    def order_state(self, order_id: str) -> OrderState:
        """Return an order's status and every reportable fill (works for orders of earlier runs)."""

        async def run() -> OrderState:
            local = self._orders.local_state(order_id)
            if local is not None:
                return local
            info = self._orders.info_for(order_id)
            trade = self._orders.trade_of(info)
            if trade is not None and info.kind == "BAG":
                await self._market.resolve_con_ids(cl.conId for cl in trade.contract.comboLegs)
            return self._orders.state(info)

        return self._call(run)

    def open_orders(self) -> list[OrderState]:
        """Return this client's working orders (ours carry ``seeker:`` refs) with their fills."""

        async def run() -> list[OrderState]:
            trades = self._link.ib().openTrades()
            await self._market.resolve_con_ids(
                cl.conId for t in trades for cl in (t.contract.comboLegs or [])
            )
            return self._orders.open_states()

        return self._call(run, 2 * self.settings.request_timeout_seconds)

    def place_fx_order(
        self, pair: str, action: Action, qty: int, limit_price: float, order_ref: str
    ) -> OrderState:
        """Convert currency on IDEALPRO: an IOC limit order; returns its final state."""
        problem = ""
        if action not in ("BUY", "SELL"):
            problem = f"invalid action {action!r}"
        elif not isinstance(qty, int) or qty <= 0:
            problem = f"quantity must be a positive whole number of {pair[:3]}, not {qty!r}"
        elif not (math.isfinite(limit_price) and limit_price > 0):
            problem = f"limit {limit_price} is not a positive number"
        if problem:
            why = problem

            async def refuse() -> OrderState:
                return self._orders.refuse(order_ref, pair, int(qty), limit_price, why)

            return self._call(refuse)
        s = self.settings
        return self._call(
            lambda: self._orders.place_fx(pair, action, qty, limit_price, order_ref),
            4 * s.request_timeout_seconds + 2 * s.commission_wait_seconds + 1.0,
        )


def _combo_problem(order: ComboOrder, listings: Mapping[str, Listing]) -> str:
    """Return why a combo cannot be sent as is ("" when it can)."""
    if order.qty <= 0:
        return "quantity must be positive"
    if not order.legs:
        return "combo without legs"
    if not math.isfinite(order.limit_price):
        return "limit price is not a number"
    if order.listing_id not in listings:
        return f"unknown underlying {order.listing_id}"
    contracts = [leg.contract for leg in order.legs]
    if len(set(contracts)) != len(contracts):
        return "the same contract appears twice in the combo"
    if any(c.listing_id != order.listing_id for c in contracts):
        return "every leg must be on the order's underlying"
    if any(leg.ratio < 1 for leg in order.legs):
        return "leg ratios must be positive"
    return ""


def _price(x: float) -> float:
    return x if math.isfinite(x) and x > 0 else math.nan
