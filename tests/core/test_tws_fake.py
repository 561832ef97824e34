"""The unmodified ib_async client against the fake TWS, backed by the real SimMarket + SimBroker.

Every test that talks to the fake fails on any ERROR record of ``ib_async.Decoder`` (a malformed
frame is logged and dropped by ib_async, never raised), on any "Error handling fields" record, and
on any ERROR record of the fake itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from ib_async import (
    IB,
    Bag,
    ComboLeg,
    Contract,
    Forex,
    LimitOrder,
    MarketOrder,
    Option,
    Stock,
    TagValue,
    Trade,
)
from ib_async.order import OrderComboLeg

from seeker.config.loading import ConfigError, load_config
from seeker.core.models import OptionContract, OrderStatus
from seeker.core.sim.broker import SimBroker
from tests.fake_tws import BAG_CON_ID, FakeTWS, stable_con_id
from tests.support import strategy_config_models
from tests.tws_support import (
    ACCOUNT,
    HOST,
    LISTINGS,
    ROOT,
    WireGuard,
    atm,
    condor,
    expiry,
    natural,
)

# ------------------------------------------------------------------------------------------------
# fixtures (wire_guard, calendars, sim and tws come from conftest.py)
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def ib(tws: FakeTWS) -> Iterator[IB]:
    """Return a blocking ib_async client connected to the fake (client id 1)."""
    client = IB()
    client.connect(HOST, tws.port, clientId=1, timeout=10)
    try:
        yield client
    finally:
        client.disconnect()


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def wait_until(
    ib: IB,
    cond: Callable[[], bool],
    timeout: float = 10.0,
    state: Callable[[], object] | None = None,
) -> None:
    """Run ib_async's loop until `cond()` holds; fail after `timeout` seconds (with `state()`)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            seen = "" if state is None else f"; last seen: {state()!r}"
            raise AssertionError(f"condition not met in {timeout:g} s{seen}")
        with contextlib.suppress(ConnectionError):  # raised in a blocking call on a drop
            ib.sleep(0.01)


class Errors:
    """Record (reqId, code, message) of every error/warning event of one client."""

    def __init__(self, ib: IB) -> None:
        self.rows: list[tuple[int, int, str]] = []
        ib.errorEvent += self._on

    def _on(self, req_id: int, code: int, message: str, contract: object) -> None:
        self.rows.append((req_id, code, message))

    def codes(self, req_id: int | None = None) -> list[int]:
        """Return the codes seen (for one request id, or all)."""
        return [c for r, c, _ in self.rows if req_id is None or r == req_id]


def ib_option(oc: OptionContract, exchange: str = "SMART") -> Option:
    """Return the ib_async Option an adapter would build for a Seeker option."""
    li = LISTINGS[oc.listing_id]
    return Option(
        li.symbol,
        f"{oc.expiry:%Y%m%d}",
        oc.strike,
        oc.right,
        exchange,
        currency=li.currency,
    )


def make_bag(ib: IB, legs: list[tuple[OptionContract, str]]) -> Bag:
    """Qualify the legs and return the BAG contract of the combo."""
    options = [ib_option(c) for c, _ in legs]
    assert all(ib.qualifyContracts(*options))
    li = LISTINGS[legs[0][0].listing_id]
    return Bag(
        symbol=li.symbol,
        exchange="SMART",
        currency=li.currency,
        comboLegs=[
            ComboLeg(conId=o.conId, ratio=1, action=a, exchange="SMART")
            for o, (_, a) in zip(options, legs, strict=True)
        ],
    )


def place_condor(
    ib: IB, sim: SimBroker, qty: int = 1, offset: float = 0.0, ref: str = "seeker:ic:p1:open"
) -> tuple[Trade, list[tuple[OptionContract, str]], float]:
    """Place an iron condor BAG BUY at natural + offset; return the trade, legs and limit."""
    legs = condor(sim)
    bag = make_bag(ib, legs)
    limit = round(natural(sim, legs) + offset, 2)
    trade = ib.placeOrder(bag, LimitOrder("BUY", qty, limit, orderRef=ref, tif="DAY"))
    return trade, legs, limit


# ------------------------------------------------------------------------------------------------
# connection and start-up
# ------------------------------------------------------------------------------------------------


def test_tws_connect_syncs_without_timeouts(
    tws: FakeTWS, wire_guard: WireGuard, caplog: pytest.LogCaptureFixture
) -> None:
    """Connect with a short timeout: every start-up request is answered with its end marker."""
    ib = IB()
    with caplog.at_level(logging.INFO, logger="ib_async"):
        ib.connect(HOST, tws.port, clientId=5, timeout=2)
    try:
        assert ib.isConnected()
        assert ib.managedAccounts() == [ACCOUNT]
        assert "Synchronization complete" in caplog.text
        assert "timed out" not in caplog.text
        assert tws.connected_client_ids() == [5]
        assert {v.tag for v in ib.accountValues()} >= {"NetLiquidation", "CashBalance"}
    finally:
        ib.disconnect()


def test_tws_connect_async_on_one_loop_with_live_looking_account(
    sim: SimBroker, wire_guard: WireGuard
) -> None:
    """Run the fake and ``IB.connectAsync`` on the same loop; a ``U…`` account is presented."""

    async def scenario() -> tuple[list[str], datetime, float]:
        async with FakeTWS(sim, LISTINGS, account="U7654321", clock=lambda: sim.market.now) as fake:
            ib = IB()
            await ib.connectAsync(HOST, fake.port, clientId=9, timeout=10)
            try:
                [stock] = await ib.qualifyContractsAsync(Stock("IWM", "SMART", "USD"))
                [ticker] = await ib.reqTickersAsync(stock)
                now = await ib.reqCurrentTimeAsync()
                return ib.managedAccounts(), now, ticker.bid
            finally:
                ib.disconnect()

    accounts, now, bid = asyncio.run(scenario())
    assert accounts == ["U7654321"]
    assert now == sim.market.now
    assert bid == sim.underlying_quote("IWM").bid


def test_tws_client_id_in_use_is_refused(ib: IB, tws: FakeTWS) -> None:
    """A second session with the same client id gets error 326 and is closed, like TWS."""
    other = IB()
    errors = Errors(other)
    with pytest.raises((asyncio.TimeoutError, ConnectionError)):
        other.connect(HOST, tws.port, clientId=1, timeout=0.5)
    assert 326 in errors.codes()
    assert ib.isConnected()


def test_tws_current_time_and_order_ids(ib: IB, sim: SimBroker, tws: FakeTWS) -> None:
    """reqCurrentTime answers the simulated clock; a new session never reuses an order id."""
    assert ib.reqCurrentTime() == sim.market.now
    trade, _, _ = place_condor(ib, sim, offset=-1.0)
    wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
    valid: list[int] = []
    ib.wrapper.nextValidId = valid.append  # ib_async ignores nextValidId after start-up
    ib.client.reqIds(1)
    wait_until(ib, lambda: valid == [trade.order.orderId + 1])
    ib.disconnect()
    ib.connect(HOST, tws.port, clientId=1, timeout=10)
    assert ib.client.getReqId() > trade.order.orderId


# ------------------------------------------------------------------------------------------------
# contracts
# ------------------------------------------------------------------------------------------------


def test_tws_qualify_stock_and_option(ib: IB, sim: SimBroker) -> None:
    """Stocks and options qualify with stable conIds; TD is ambiguous without a currency."""
    iwm = Stock("IWM", "SMART", "USD")
    td_us = Stock("TD", "SMART", "USD")
    td_ca = Stock("TD", "SMART", "CAD")
    td_any = Stock("TD", "SMART")
    assert ib.qualifyContracts(iwm, td_us, td_ca) == [iwm, td_us, td_ca]
    assert iwm.conId == stable_con_id("STK:IWM")
    assert (iwm.primaryExchange, td_us.primaryExchange, td_ca.primaryExchange) == (
        "ARCA",
        "NYSE",
        "TSE",
    )
    assert td_ca.conId != td_us.conId
    assert ib.qualifyContracts(td_any) == [None]

    oc = OptionContract("IWM", expiry(sim), atm(sim), "C")
    opt = ib_option(oc)
    assert ib.qualifyContracts(opt) == [opt]
    assert opt.conId == stable_con_id(f"OPT:IWM:{oc.expiry:%Y%m%d}:{oc.strike:g}:C")
    assert (opt.multiplier, opt.tradingClass, opt.exchange) == ("100", "IWM", "SMART")
    assert opt.localSymbol == f"IWM   {oc.expiry:%y%m%d}C{round(oc.strike * 1000):08d}"

    ca = OptionContract("TD.TO", expiry(sim, "TD.TO"), atm(sim, "TD.TO"), "P")
    cde = ib_option(ca, exchange="CDE")
    assert ib.qualifyContracts(cde) == [cde]
    assert (cde.currency, cde.exchange, cde.symbol) == ("CAD", "CDE", "TD")
    [details] = ib.reqContractDetails(Contract(conId=cde.conId))
    assert details.underConId == td_ca.conId
    assert details.contract.exchange == "CDE"


def test_tws_failed_qualification_returns_none(ib: IB, sim: SimBroker) -> None:
    """ib_async 2.x returns None for a contract TWS does not know (error 200)."""
    errors = Errors(ib)
    off_grid = Option("IWM", f"{expiry(sim):%Y%m%d}", atm(sim) + 0.5, "C", "SMART")
    no_expiry = Option("IWM", "20260102", atm(sim), "C", "SMART")
    unknown = Stock("ZZZZ", "SMART", "USD")
    assert ib.qualifyContracts(off_grid, no_expiry, unknown) == [None, None, None]
    assert errors.codes().count(200) == 3


def test_tws_bag_contract_details_is_error_321(ib: IB) -> None:
    """reqContractDetails on a BAG gets error 321, as TWS answers (ib_async files it a warning)."""
    errors = Errors(ib)
    bag = Bag(symbol="IWM", exchange="SMART", currency="USD")
    req_id = ib.client.getReqId()
    ib.client.reqContractDetails(req_id, bag)
    wait_until(ib, lambda: 321 in errors.codes(req_id))


def test_tws_sec_def_opt_params_match_backend(ib: IB, sim: SimBroker) -> None:
    """Option parameters list the backend's expiries and the union of their strikes."""
    stock = Stock("IWM", "SMART", "USD")
    ib.qualifyContracts(stock)
    chains = ib.reqSecDefOptParams("IWM", "", "STK", stock.conId)
    by_exchange = {c.exchange: c for c in chains}
    assert set(by_exchange) == {"SMART", "CBOE"}
    smart = by_exchange["SMART"]
    expiries = sim.expiries("IWM")
    assert smart.expirations == [f"{e:%Y%m%d}" for e in expiries]
    assert smart.strikes == sorted({k for e in expiries for k in sim.strikes("IWM", e)})
    assert (smart.multiplier, smart.tradingClass, int(smart.underlyingConId)) == (
        "100",
        "IWM",
        stock.conId,
    )
    [cde] = ib.reqSecDefOptParams("TD", "CDE", "STK", stable_con_id("STK:TD.TO"))
    assert cde.expirations == [f"{e:%Y%m%d}" for e in sim.expiries("TD.TO")]


# ------------------------------------------------------------------------------------------------
# market data and history
# ------------------------------------------------------------------------------------------------


def test_tws_tickers_match_backend_with_greeks(ib: IB, sim: SimBroker) -> None:
    """reqTickers (snapshots) gives bid/ask/sizes and bid/ask/model greeks in IB units."""
    oc = OptionContract("IWM", expiry(sim), atm(sim) + 3, "P")
    opt, stock = ib_option(oc), Stock("IWM", "SMART", "USD")
    ib.qualifyContracts(opt, stock)
    t_opt, t_stock = ib.reqTickers(opt, stock)
    q = sim.option_quotes([oc])[oc]
    u = sim.underlying_quote("IWM")
    assert (t_opt.bid, t_opt.ask, t_opt.bidSize, t_opt.askSize) == (
        q.bid,
        q.ask,
        q.bid_size,
        q.ask_size,
    )
    assert t_opt.volume == q.volume
    g = t_opt.modelGreeks
    assert g is not None
    assert g.impliedVol == pytest.approx(q.iv)
    assert g.delta == pytest.approx(q.delta)
    assert g.gamma == pytest.approx(q.gamma)
    assert g.vega == pytest.approx(q.vega / 100.0)  # IB: per vol point
    assert g.theta == pytest.approx(q.theta / 365.0)  # IB: per calendar day
    assert g.undPrice == pytest.approx(q.underlying_price)
    assert g.optPrice == pytest.approx(q.mid)
    assert t_opt.bidGreeks.optPrice == q.bid and t_opt.askGreeks.optPrice == q.ask
    assert t_opt.lastTimestamp == q.ts
    assert (t_stock.bid, t_stock.ask, t_stock.last) == (u.bid, u.ask, u.last)


def test_tws_streaming_market_data_follows_the_market(ib: IB, sim: SimBroker, tws: FakeTWS) -> None:
    """A subscription is pushed new quotes as the market moves, and stops when cancelled."""
    stock = Stock("IWM", "SMART", "USD")
    ib.qualifyContracts(stock)
    ib.reqMarketDataType(3)
    ticker = ib.reqMktData(stock, "", False, False)
    wait_until(ib, lambda: ticker.bid == sim.underlying_quote("IWM").bid)
    assert ticker.marketDataType == 3  # delayed ids 66/67/68 map to bid/ask/last too

    start = sim.market.now
    sim.on_time(start + timedelta(hours=2))
    tws.pump()
    moved = sim.underlying_quote("IWM")
    wait_until(ib, lambda: (ticker.bid, ticker.ask) == (moved.bid, moved.ask))

    ib.cancelMktData(stock)
    ib.sleep(0.05)
    sim.on_time(start + timedelta(hours=5))
    tws.pump()
    ib.sleep(0.1)
    assert sim.underlying_quote("IWM").bid != moved.bid
    assert ticker.bid == moved.bid


def test_tws_option_open_interest_needs_generic_tick_101(ib: IB, sim: SimBroker) -> None:
    """Open interest comes as tick 27/28 only when generic tick 101 is asked, as on TWS."""
    oc = OptionContract("IWM", expiry(sim), atm(sim), "C")
    opt = ib_option(oc)
    ib.qualifyContracts(opt)
    ticker = ib.reqMktData(opt, "101,106", False, False)
    q = sim.option_quotes([oc])[oc]
    wait_until(ib, lambda: ticker.callOpenInterest == q.open_interest)
    assert ticker.impliedVolatility == pytest.approx(q.iv)
    assert math.isnan(ticker.putOpenInterest)


def test_tws_crossed_and_frozen_quote_injection(ib: IB, sim: SimBroker, tws: FakeTWS) -> None:
    """Injected crossed and frozen quotes reach a live subscription; clearing restores it."""
    oc = OptionContract("IWM", expiry(sim), atm(sim), "C")
    opt = ib_option(oc)
    ib.qualifyContracts(opt)
    ticker = ib.reqMktData(opt, "", False, False)
    q = sim.option_quotes([oc])[oc]
    wait_until(ib, lambda: ticker.bid == q.bid)

    tws.crossed_quote(oc)
    wait_until(ib, lambda: ticker.bid > ticker.ask)
    assert (ticker.bid, ticker.ask) == (q.ask, q.bid)

    tws.freeze_quote(oc, age_seconds=600)
    wait_until(ib, lambda: ticker.marketDataType == 2)
    assert ticker.lastTimestamp == q.ts - timedelta(seconds=600)
    assert (ticker.bid, ticker.ask) == (q.bid, q.ask)

    tws.clear_quote_faults(oc)
    wait_until(ib, lambda: ticker.marketDataType == 1 and ticker.lastTimestamp == q.ts)
    [snap] = ib.reqTickers(opt)
    assert snap.bid <= snap.ask


def test_tws_combo_quote_comes_from_its_legs(ib: IB, sim: SimBroker) -> None:
    """A BAG ticker shows the natural bid/ask of its legs (BUY convention, per unit)."""
    legs = condor(sim)
    [ticker] = ib.reqTickers(make_bag(ib, legs))
    quotes = sim.option_quotes([c for c, _ in legs])
    bid = sum(quotes[c].bid if a == "BUY" else -quotes[c].ask for c, a in legs)
    ask = sum(quotes[c].ask if a == "BUY" else -quotes[c].bid for c, a in legs)
    assert ticker.bid == pytest.approx(bid) and ticker.ask == pytest.approx(ask)
    assert ticker.ask == pytest.approx(natural(sim, legs))


def test_tws_unsupported_request_is_answered_with_an_error(ib: IB) -> None:
    """A request the fake does not serve gets error 321 instead of silence."""
    errors = Errors(ib)
    ib.client.reqMarketRule(26)
    wait_until(ib, lambda: 321 in errors.codes(-1))


def test_tws_historical_daily_bars_and_implied_vol(ib: IB, sim: SimBroker) -> None:
    """Daily TRADES bars and OPTION_IMPLIED_VOLATILITY equal the backend's history."""
    stock = Stock("IWM", "SMART", "USD")
    ib.qualifyContracts(stock)
    bars = ib.reqHistoricalData(stock, "", "30 D", "1 day", "TRADES", True)
    hist = sim.history("IWM", 30)
    assert [b.date for b in bars] == list(hist.dates)
    assert [b.close for b in bars] == pytest.approx(list(hist.close))
    assert [b.high for b in bars] == pytest.approx(list(hist.high))
    assert [b.open for b in bars] == pytest.approx(list(hist.open))
    assert [b.low for b in bars] == pytest.approx(list(hist.low))

    ivs = ib.reqHistoricalData(stock, "", "2 W", "1 day", "OPTION_IMPLIED_VOLATILITY", True)
    assert [b.close for b in ivs] == pytest.approx(list(sim.history("IWM", 10).iv))

    end = hist.dates[-5]
    older = ib.reqHistoricalData(stock, end, "5 D", "1 day", "TRADES", True)
    assert [b.date for b in older] == list(hist.dates[-9:-4])

    errors = Errors(ib)
    assert len(ib.reqHistoricalData(stock, "", "1 D", "5 mins", "TRADES", True)) == 0
    assert 162 in errors.codes()


# ------------------------------------------------------------------------------------------------
# orders
# ------------------------------------------------------------------------------------------------


def test_tws_bag_order_fills_with_leg_and_bag_executions(
    ib: IB, sim: SimBroker, tws: FakeTWS
) -> None:
    """A marketable 4-leg BAG fills: per-leg and BAG fills, one commission report per execId."""
    trade, _, limit = place_condor(ib, sim)
    wait_until(ib, lambda: trade.isDone() and len(trade.fills) == 5)
    assert trade.orderStatus.status == "Filled"
    assert trade.orderStatus.filled == 1 and trade.orderStatus.remaining == 0
    statuses = [e.status for e in trade.log]
    assert statuses[:3] == ["PendingSubmit", "PreSubmitted", "Submitted"]
    assert statuses[-1] == "Filled"

    [seg] = tws.backend_order_ids(1, trade.order.orderId)
    state = sim.order_state(seg)
    [fill] = state.fills
    assert state.status == OrderStatus.FILLED
    assert fill.price == pytest.approx(limit)  # marketable: filled at the natural

    by_con = {f.contract.conId: f for f in trade.fills}
    bag_fill = by_con.pop(BAG_CON_ID)
    assert bag_fill.contract.secType == "BAG"
    assert bag_fill.execution.price == pytest.approx(fill.price)
    assert bag_fill.execution.side == "BOT" and bag_fill.execution.shares == 1
    assert trade.orderStatus.avgFillPrice == pytest.approx(fill.price)
    for leg in fill.legs:
        f = by_con[tws.contract_for(leg.contract).con_id]
        assert f.execution.side == ("BOT" if leg.action == "BUY" else "SLD")
        assert f.execution.price == pytest.approx(leg.price)
        assert f.execution.shares == leg.qty
    for f in trade.fills:
        assert f.execution.orderId == trade.order.orderId
        assert f.execution.permId == trade.order.permId != 0
        assert f.execution.orderRef == "seeker:ic:p1:open"
        assert f.commissionReport.execId == f.execution.execId
        assert f.commissionReport.currency == "USD"
    assert bag_fill.commissionReport.commission == 0.0
    assert sum(f.commissionReport.commission for f in trade.fills) == pytest.approx(fill.commission)
    assert len({f.execution.execId for f in trade.fills}) == 5


def test_tws_positions_and_account_follow_fills(ib: IB, sim: SimBroker, tws: FakeTWS) -> None:
    """After a fill the client sees the backend's positions (avgCost per contract) and cash."""
    trade, _, _ = place_condor(ib, sim)
    wait_until(ib, lambda: trade.isDone(), state=lambda: trade.orderStatus)
    wait_until(ib, lambda: len(ib.positions()) == 4, state=ib.positions)
    held = {p.contract.conId: p for p in ib.positions()}
    for p in sim.positions():
        got = held[tws.contract_for(p.contract).con_id]
        assert got.position == p.qty
        assert got.avgCost == pytest.approx(p.avg_cost * 100)
        assert got.account == ACCOUNT

    acct = sim.account()

    def value(tag: str, ccy: str) -> str | None:
        for v in ib.accountValues():
            if v.tag == tag and v.currency == ccy:
                return v.value
        return None

    def cash_and_nlv() -> tuple[object, ...]:
        """What the client shows against what the backend says, for a failure message."""
        return (
            value("CashBalance", "USD"),
            acct.cash["USD"],
            value("NetLiquidation", "USD"),
            acct.net_liquidation,
            sim.account().net_liquidation,
        )

    wait_until(
        ib, lambda: value("CashBalance", "USD") == f"{acct.cash['USD']:.2f}", state=cash_and_nlv
    )
    # account values arrive as separate updates: wait for the one after the fill
    wait_until(
        ib,
        lambda: value("NetLiquidation", "USD") == f"{acct.net_liquidation:.2f}",
        state=cash_and_nlv,
    )
    assert len(ib.portfolio()) == 4
    summary = {(v.tag, v.currency): v.value for v in ib.accountSummary()}
    assert summary[("NetLiquidation", "USD")] == f"{acct.net_liquidation:.2f}"
    assert summary[("TotalCashValue", "USD")] == value("TotalCashValue", "USD")

    ib2 = IB()
    ib2.connect(HOST, tws.port, clientId=2, timeout=10)
    try:
        assert len(ib2.positions()) == 4  # a fresh session's start-up sync sees them too
    finally:
        ib2.disconnect()

    closing = [(c, "SELL" if a == "BUY" else "BUY") for c, a in condor(sim)]
    close = ib.placeOrder(make_bag(ib, closing), LimitOrder("BUY", 1, natural(sim, closing)))
    wait_until(ib, lambda: close.orderStatus.status == "Filled", state=lambda: close.orderStatus)
    wait_until(  # zero rows pushed
        ib,
        lambda: ib.positions() == [] and ib.portfolio() == [],
        state=lambda: (ib.positions(), ib.portfolio()),
    )
    assert sim.positions() == []


def test_tws_sell_bag_reverses_the_legs(ib: IB, sim: SimBroker, tws: FakeTWS) -> None:
    """An IB BAG SELL of legs L at +p is Seeker's combo of L's reversed legs at −p."""
    short_condor = condor(sim)
    long_condor = [(c, "SELL" if a == "BUY" else "BUY") for c, a in short_condor]
    credit = -natural(sim, short_condor)  # selling the long condor receives the short's credit
    trade = ib.placeOrder(make_bag(ib, long_condor), LimitOrder("SELL", 1, credit))
    wait_until(ib, lambda: trade.isDone())
    assert trade.orderStatus.status == "Filled"
    [seg] = tws.backend_order_ids(1, trade.order.orderId)
    [fill] = sim.order_state(seg).fills
    assert [(leg.contract, leg.action) for leg in fill.legs] == short_condor
    bag_fill = next(f for f in trade.fills if f.contract.secType == "BAG")
    assert bag_fill.execution.side == "SLD"
    assert bag_fill.execution.price == pytest.approx(-fill.price) == pytest.approx(credit)
    assert trade.orderStatus.avgFillPrice == pytest.approx(credit)
    qty = {p.contract: p.qty for p in sim.positions()}
    assert [qty[c] for c, _ in short_condor] == [1, -1, -1, 1]


def test_tws_partial_fill_injection(ib: IB, sim: SimBroker, tws: FakeTWS) -> None:
    """partial_fill_next_order fills 1 of 2 units; the rest works until released."""
    tws.partial_fill_next_order(1)
    trade, _, _ = place_condor(ib, sim, qty=2)
    wait_until(ib, lambda: trade.orderStatus.filled == 1)
    assert trade.orderStatus.status == "Submitted"
    assert trade.orderStatus.remaining == 1
    bag_fills = [f for f in trade.fills if f.contract.secType == "BAG"]
    assert [f.execution.shares for f in bag_fills] == [1]
    assert tws.release_held(1, trade.order.orderId) == 1
    wait_until(ib, lambda: trade.orderStatus.status == "Filled")
    assert trade.orderStatus.filled == 2
    assert [f.execution.cumQty for f in trade.fills if f.contract.secType == "BAG"] == [1, 2]
    assert len(tws.backend_order_ids(1, trade.order.orderId)) == 2


@pytest.mark.parametrize("final", ["Cancelled", "Inactive"])
def test_tws_reject_next_order(ib: IB, sim: SimBroker, tws: FakeTWS, final: str) -> None:
    """reject_next_order answers error 201 with the reason and the final status."""
    errors = Errors(ib)
    tws.reject_next_order("insufficient margin", status=final)  # type: ignore[arg-type]
    trade, _, _ = place_condor(ib, sim)
    wait_until(ib, lambda: trade.orderStatus.status == final)
    [(_, code, message)] = [r for r in errors.rows if r[0] == trade.order.orderId]
    assert code == 201 and message == "Order rejected - reason:insufficient margin"
    assert sim.open_orders() == [] and sim.positions() == []


def test_tws_backend_rejection_is_error_201(ib: IB, sim: SimBroker) -> None:
    """An order the backend refuses (market closed) comes back as error 201 + Cancelled."""
    sim.on_time(sim.market.now + timedelta(hours=8))  # 17:30 ET: closed
    errors = Errors(ib)
    trade, _, _ = place_condor(ib, sim)
    wait_until(ib, lambda: trade.orderStatus.status == "Cancelled")
    [message] = [m for r, c, m in errors.rows if r == trade.order.orderId and c == 201]
    assert "closed" in message


def test_tws_leg_price_rules(ib: IB, sim: SimBroker) -> None:
    """Per-leg prices: refused on 4 legs, refused on 2 legs without NonGuaranteed, else fine."""
    errors = Errors(ib)
    legs = condor(sim)
    bag = make_bag(ib, legs)
    four = LimitOrder("BUY", 1, natural(sim, legs))
    four.orderComboLegs = [OrderComboLeg(price=1.0) for _ in legs]
    t4 = ib.placeOrder(bag, four)
    wait_until(ib, lambda: t4.orderStatus.status == "Cancelled")
    assert "more than two legs" in next(m for r, _, m in errors.rows if r == t4.order.orderId)

    spread = legs[:2]
    vertical = make_bag(ib, spread)
    prices = sim.option_quotes([c for c, _ in spread])
    leg_prices = [OrderComboLeg(price=prices[c].mid) for c, _ in spread]
    guaranteed = LimitOrder("BUY", 1, natural(sim, spread))
    guaranteed.orderComboLegs = leg_prices
    t2 = ib.placeOrder(vertical, guaranteed)
    wait_until(ib, lambda: t2.orderStatus.status == "Cancelled")
    assert "NonGuaranteed" in next(m for r, _, m in errors.rows if r == t2.order.orderId)

    ok = LimitOrder("BUY", 1, natural(sim, spread))
    ok.orderComboLegs = leg_prices
    ok.smartComboRoutingParams = [TagValue("NonGuaranteed", "1")]
    t_ok = ib.placeOrder(vertical, ok)
    wait_until(ib, lambda: t_ok.orderStatus.status == "Filled")


def test_tws_what_if_order_is_refused_not_traded(ib: IB, sim: SimBroker) -> None:
    """whatIfOrder (placeOrder with whatIf=1 deep in the frame) never reaches the backend."""
    errors = Errors(ib)
    legs = condor(sim)
    assert ib.whatIfOrder(make_bag(ib, legs), LimitOrder("BUY", 1, natural(sim, legs))) == []
    assert 201 in errors.codes()
    assert sim.open_orders() == [] and sim.positions() == []


def test_tws_price_off_tick_is_error_110(ib: IB, sim: SimBroker) -> None:
    """A combo limit off the 0.01 grid gets error 110; ib_async cancels the pending order."""
    errors = Errors(ib)
    legs = condor(sim)
    trade = ib.placeOrder(make_bag(ib, legs), LimitOrder("BUY", 1, natural(sim, legs) - 0.005))
    wait_until(ib, lambda: 110 in errors.codes(trade.order.orderId))
    assert trade.orderStatus.status == "Cancelled"
    assert sim.open_orders() == []


def test_tws_modify_order_then_fill(ib: IB, sim: SimBroker, tws: FakeTWS) -> None:
    """placeOrder again with the same orderId changes the limit at the backend."""
    trade, legs, limit = place_condor(ib, sim, offset=-1.0)  # a dollar more credit: never fills
    wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
    [seg] = tws.backend_order_ids(1, trade.order.orderId)
    assert sim.order_state(seg).limit_price == pytest.approx(limit)

    trade.order.lmtPrice = round(limit + 0.5, 2)
    ib.placeOrder(trade.contract, trade.order)
    wait_until(ib, lambda: any(e.message == "Modified" for e in trade.log))
    assert sim.order_state(seg).limit_price == pytest.approx(limit + 0.5)
    assert trade.orderStatus.status == "Submitted"

    trade.order.lmtPrice = natural(sim, legs)
    ib.placeOrder(trade.contract, trade.order)
    wait_until(ib, lambda: trade.orderStatus.status == "Filled")
    assert len(trade.fills) == 5


def test_tws_modify_that_changes_quantity_is_error_105(ib: IB, sim: SimBroker) -> None:
    """A modification that changes the quantity is refused with error 105."""
    errors = Errors(ib)
    trade, _, _ = place_condor(ib, sim, offset=-1.0)
    wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
    trade.order.totalQuantity = 3
    ib.placeOrder(trade.contract, trade.order)
    wait_until(ib, lambda: 105 in errors.codes(trade.order.orderId))


def test_tws_cancel_order(ib: IB, sim: SimBroker, tws: FakeTWS) -> None:
    """cancelOrder ends as Cancelled with error 202; a second cancel is error 161."""
    errors = Errors(ib)
    trade, _, _ = place_condor(ib, sim, offset=-1.0)
    wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
    ib.cancelOrder(trade.order)
    wait_until(ib, lambda: trade.orderStatus.status == "Cancelled")
    # the status and the error are two messages: the client may read them in two passes
    wait_until(ib, lambda: 202 in errors.codes(trade.order.orderId))
    [seg] = tws.backend_order_ids(1, trade.order.orderId)
    assert sim.order_state(seg).status == OrderStatus.CANCELLED
    ib.client.cancelOrder(trade.order.orderId)
    wait_until(ib, lambda: 161 in errors.codes(trade.order.orderId))
    ib.client.cancelOrder(999_999)
    wait_until(ib, lambda: 135 in errors.codes(999_999))


def test_tws_global_cancel(ib: IB, sim: SimBroker) -> None:
    """reqGlobalCancel cancels every working order."""
    t1, _, _ = place_condor(ib, sim, offset=-1.0, ref="seeker:ic:p1:open")
    t2, _, _ = place_condor(ib, sim, offset=-1.5, ref="seeker:ic:p2:open")
    wait_until(ib, lambda: len(ib.openTrades()) == 2)
    ib.reqGlobalCancel()
    wait_until(ib, lambda: t1.orderStatus.status == t2.orderStatus.status == "Cancelled")
    assert sim.open_orders() == []


def test_tws_withheld_and_delayed_fills(ib: IB, sim: SimBroker, tws: FakeTWS) -> None:
    """Withheld orders work without filling until released; delayed ones fill on their own."""
    tws.withhold_fills()
    trade, _, _ = place_condor(ib, sim)
    wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
    ib.sleep(0.1)
    assert trade.fills == [] and sim.open_orders() == []
    tws.withhold_fills(False)
    tws.release_held()
    wait_until(ib, lambda: trade.orderStatus.status == "Filled")

    tws.delay_fills(0.2)
    later, _, _ = place_condor(ib, sim, ref="seeker:ic:p2:open")
    wait_until(ib, lambda: later.orderStatus.status == "Submitted")
    assert later.fills == []
    wait_until(ib, lambda: later.orderStatus.status == "Filled", timeout=2.0)


def test_tws_backend_changes_reach_the_client(ib: IB, sim: SimBroker, tws: FakeTWS) -> None:
    """Polling pushes what happens at the backend behind the client's back: a fill, a cancel."""
    trade, legs, _ = place_condor(ib, sim, offset=-1.0)
    wait_until(ib, lambda: trade.orderStatus.status == "Submitted")
    [seg] = tws.backend_order_ids(1, trade.order.orderId)
    price = natural(sim, legs)
    assert sim.modify_order(seg, price).status == OrderStatus.FILLED
    wait_until(ib, lambda: trade.orderStatus.status == "Filled")
    assert trade.orderStatus.avgFillPrice == pytest.approx(price)
    assert len(trade.fills) == 5

    errors = Errors(ib)
    other, _, _ = place_condor(ib, sim, offset=-1.0, ref="seeker:ic:p2:open")
    wait_until(ib, lambda: other.orderStatus.status == "Submitted")
    [seg] = tws.backend_order_ids(1, other.order.orderId)
    sim.cancel_order(seg)
    wait_until(ib, lambda: other.orderStatus.status == "Cancelled")
    wait_until(ib, lambda: 202 in errors.codes(other.order.orderId))


def test_tws_fx_conversion_on_idealpro(ib: IB, sim: SimBroker, tws: FakeTWS) -> None:
    """USD.CAD on IDEALPRO: qualified as CASH, quoted, converted at the quote."""
    pair = Forex("USDCAD")
    assert ib.qualifyContracts(pair) == [pair]
    assert (pair.secType, pair.symbol, pair.currency, pair.exchange) == (
        "CASH",
        "USD",
        "CAD",
        "IDEALPRO",
    )
    fx = sim.fx_quote("USD.CAD")
    [ticker] = ib.reqTickers(pair)
    assert (ticker.bid, ticker.ask) == (fx.bid, fx.ask)

    trade = ib.placeOrder(pair, MarketOrder("SELL", 500, orderRef="seeker:fx:x1:open"))
    wait_until(ib, lambda: trade.orderStatus.status == "Filled")
    [fill] = trade.fills
    assert fill.contract.secType == "CASH" and fill.execution.side == "SLD"
    assert fill.execution.price == fx.bid and fill.execution.shares == 500
    assert fill.commissionReport.commission > 0
    assert sim.account().cash["CAD"] == pytest.approx(500 * fx.bid)

    errors = Errors(ib)
    too_low = ib.placeOrder(pair, LimitOrder("BUY", 500, round(fx.bid - 0.01, 5)))
    wait_until(ib, lambda: too_low.orderStatus.status == "Cancelled")
    assert 201 in errors.codes(too_low.order.orderId)


# ------------------------------------------------------------------------------------------------
# connection faults
# ------------------------------------------------------------------------------------------------


def test_tws_drop_connection_then_reconnect_recovers_orders(
    ib: IB, sim: SimBroker, tws: FakeTWS
) -> None:
    """A dropped socket is seen as a disconnect; a reconnect syncs working orders and fills."""
    filled, _, _ = place_condor(ib, sim)
    wait_until(ib, lambda: filled.orderStatus.status == "Filled")
    working, _, _ = place_condor(ib, sim, offset=-1.0, ref="seeker:ic:p2:open")
    wait_until(ib, lambda: working.orderStatus.status == "Submitted")
    dropped: list[bool] = []
    ib.disconnectedEvent += lambda: dropped.append(True)

    tws.drop_connections()
    wait_until(ib, lambda: not ib.isConnected())
    assert dropped == [True]

    ib.connect(HOST, tws.port, clientId=1, timeout=10)
    [again] = ib.openTrades()
    assert again.order.orderId == working.order.orderId
    assert again.order.permId == working.order.permId
    assert again.order.lmtPrice == pytest.approx(working.order.lmtPrice)
    assert [leg.conId for leg in again.contract.comboLegs] == [
        leg.conId for leg in working.contract.comboLegs
    ]
    assert {f.execution.execId for f in ib.fills()} == {f.execution.execId for f in filled.fills}
    assert any(t.orderStatus.status == "Filled" for t in ib.trades())  # completed orders
    assert ib.client.getReqId() > working.order.orderId

    ib.cancelOrder(again.order)
    wait_until(ib, lambda: again.orderStatus.status == "Cancelled")


def test_tws_refuses_reconnects_for_a_while(ib: IB, tws: FakeTWS) -> None:
    """drop_connections(refuse_for=…) closes the port, then accepts connections again."""
    tws.drop_connections(refuse_for=0.3)
    wait_until(ib, lambda: not ib.isConnected())
    with pytest.raises(ConnectionRefusedError):
        ib.connect(HOST, tws.port, clientId=1, timeout=1)
    deadline = time.monotonic() + 3.0
    while True:
        try:
            ib.connect(HOST, tws.port, clientId=1, timeout=1)
            break
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "the fake never accepted connections again"
            time.sleep(0.05)
    assert ib.isConnected()


def test_tws_wire_guard_catches_bad_frames(ib: IB, tws: FakeTWS, wire_guard: WireGuard) -> None:
    """The guard turns frames ib_async only logs, or silently half-reads, into failures."""
    tws.send_raw(1, 21, 5, 13, 0, 0.2)  # tickOptionComputation cut short: logged and dropped
    wait_until(ib, lambda: any("Error handling fields" in p for p in wire_guard.problems))
    tws.send_raw(1, 9, 1, 5000, "extra")  # nextValidId with one field too many: ignored by zip
    wait_until(ib, lambda: any("decoder reads 1" in p for p in wire_guard.problems))
    tws.send_raw(1, 4, 2, -1, 2104, "farm OK", "", "extra")  # error with a trailing field
    wait_until(ib, lambda: any("errorMsg left fields" in p for p in wire_guard.problems))
    tws.send_raw(1, 75, 7, "SMART", 1, "IWM", "100", 1, "20260116", 2, 100.0)  # 2 strikes, 1 sent
    wait_until(ib, lambda: any("strike count mismatch" in p for p in wire_guard.problems))
    bar = ("20260105", 1.0, 1.0, 1.0, 1.0, 0, 1.0, 0)
    tws.send_raw(1, 17, 7, "", "", 1, *bar, "extra")  # one bar and a field too many
    wait_until(ib, lambda: any("bar count off" in p for p in wire_guard.problems))
    assert len(wire_guard.take()) >= 5


# ------------------------------------------------------------------------------------------------
# standalone mode
# ------------------------------------------------------------------------------------------------


def _standalone_config(tmp_path: Path) -> Path:
    """Return the shipped config, merged with its sim table while load_config cannot read it."""
    shipped = ROOT / "config" / "seeker.toml"
    try:
        load_config(shipped, strategy_config_models())
        return shipped
    except ConfigError:
        pass
    merged = tmp_path / "seeker.toml"
    parts = [shipped, *sorted(shipped.parent.glob("seeker.*.toml"))]
    merged.write_text("\n".join(p.read_text() for p in parts))
    shutil.copytree(shipped.parent / "events", tmp_path / "events")
    return merged


def test_tws_standalone_serves_the_simulated_market(tmp_path: Path, wire_guard: WireGuard) -> None:
    """``python tests/fake_tws.py`` serves the config's market with its clock running."""
    config = _standalone_config(tmp_path)
    cmd = [sys.executable, str(ROOT / "tests" / "fake_tws.py"), "--port", "0"]
    cmd += ["--config", str(config), "--speed", "3000", "--log-dir", str(tmp_path / "logs")]
    errlog = (tmp_path / "stderr.log").open("w")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errlog, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert banner.startswith("fake TWS on 127.0.0.1:"), (tmp_path / "stderr.log").read_text()
        port = int(banner.split()[3].rsplit(":", 1)[1])
        ib = IB()
        ib.connect(HOST, port, clientId=4, timeout=5)
        try:
            [stock] = ib.qualifyContracts(Stock("IWM", "SMART", "USD"))
            assert stock is not None and stock.conId == stable_con_id("STK:IWM")
            first = ib.reqCurrentTime()
            wait_until(ib, lambda: ib.reqCurrentTime() > first, timeout=5.0)
        finally:
            ib.disconnect()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0 and "fake TWS stopped" in out
        assert (tmp_path / "logs").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        errlog.close()


def test_tws_standalone_refuses_real_ib_ports() -> None:
    """The command line never binds IB's real ports unless told to."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "fake_tws.py"), "--port", "7497"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "real IB port" in done.stderr
    with pytest.raises(ValueError, match="real IB port"):
        FakeTWS(None, LISTINGS, port=4002)  # type: ignore[arg-type]
