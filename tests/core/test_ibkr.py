"""IBKRBroker (real ib_async underneath) against the fake TWS backed by SimBroker + SimMarket.

Every test that talks to the fake runs under the wire guard (``conftest.wire_guard``): a frame
ib_async could not decode, or decoded leaving fields unread, in the broker's gateway thread fails
the test. The pure parts (gate, pacer, live rules, units, status mapping) are tested directly.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from ib_async import Contract
from ib_async.objects import CommissionReport, Execution, OptionComputation
from ib_async.objects import Fill as IbFill
from pydantic import ValidationError

from seeker.core.broker import Broker, ConnectionState
from seeker.core.ibkr.broker import IBKRBroker, IbkrSetupError, LiveTradingRefused, live_problem
from seeker.core.ibkr.contracts import ceil_to_tick, floor_to_tick
from seeker.core.ibkr.gate import HistoryPacer, MarketDataGate
from seeker.core.ibkr.orders import ExecView, combo_fills, seeker_status
from seeker.core.ibkr.quotes import TickView, chain_volume, greeks, option_quote
from seeker.core.ibkr.settings import IbkrSettings
from seeker.core.models import (
    BrokerUnavailable,
    ComboOrder,
    DailyHistory,
    DataUnavailable,
    Leg,
    OptionContract,
    OrderState,
    OrderStatus,
)
from seeker.core.sim.broker import SimBroker
from tests.fake_tws import FakeTWS
from tests.tws_support import ACCOUNT, HOST, LISTINGS, ROOT, WireGuard, atm, condor, expiry, natural

CLIENT_ID = 7
SETTINGS: dict[str, Any] = {
    "account": "",
    "market_data_type": "live",
    "max_market_data_lines": 100,
    "max_messages_per_second": 50,
    "request_timeout_seconds": 3.0,
    "connect_timeout_seconds": 2.0,
    "reconnect_initial_delay_seconds": 0.05,
    "reconnect_max_delay_seconds": 0.4,
    "history_requests_per_10_minutes": 60,
    "commission_wait_seconds": 0.5,
    "quote_wait_seconds": 1.0,
}


# ------------------------------------------------------------------------------------------------
# fixtures and helpers
# ------------------------------------------------------------------------------------------------


def make_broker(port: int, client_id: int = CLIENT_ID, **overrides: Any) -> IBKRBroker:
    """Return an IBKRBroker on the fake's port (paper, no live opt-ins unless overridden)."""
    opts = {"allow_live": False, "live": False}
    opts.update({k: overrides.pop(k) for k in list(overrides) if k in opts})
    settings = IbkrSettings.model_validate({**SETTINGS, **overrides})
    return IBKRBroker(
        settings,
        LISTINGS,
        host=HOST,
        port=port,
        client_id=client_id,
        **opts,  # type: ignore[arg-type]
    )


@pytest.fixture
def broker(tws: FakeTWS) -> Iterator[IBKRBroker]:
    """Return an IBKRBroker connected to the fake."""
    b = make_broker(tws.port)
    b.connect()
    try:
        yield b
    finally:
        b.close()


def eventually(cond: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Wait (polling) until `cond()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.01)


def combo(
    sim: SimBroker, offset: float = 0.0, ref: str = "seeker:ic:p1:open", qty: int = 1
) -> ComboOrder:
    """Return an iron condor order at the natural + offset (offset < 0: a worse, resting price)."""
    legs = condor(sim)
    return ComboOrder(
        ref,
        "IWM",
        tuple(Leg(c, a) for c, a in legs),
        qty,
        round(natural(sim, legs) + offset, 2),  # type: ignore[arg-type]
    )


def backend_segment(tws: FakeTWS, state: OrderState) -> str:
    """Return the one backend order behind a broker order."""
    [seg] = tws.backend_order_ids(CLIENT_ID, int(state.order_id.split("/")[0]))
    return seg


def fake_lines(tws: FakeTWS) -> int:
    """Return how many market-data lines the fake holds open for its clients."""
    return tws._call(lambda: sum(len(c.lines) for c in tws._conns))


def final(broker: IBKRBroker, order_id: str, timeout: float = 5.0) -> OrderState:
    """Poll order_state until the order is done; return that state."""
    out: list[OrderState] = []
    eventually(lambda: out.append(broker.order_state(order_id)) or out[-1].status.is_done, timeout)
    return out[-1]


def settle(broker: IBKRBroker, state: OrderState) -> OrderState:
    """Return the order's final state (place_order may return before a marketable fill lands)."""
    return state if state.status.is_done else final(broker, state.order_id)


# ------------------------------------------------------------------------------------------------
# settings and safety (pure)
# ------------------------------------------------------------------------------------------------


def test_ibkr_settings_are_strict_and_required() -> None:
    """Every key is required, typed and bounded; the shipped [ibkr] snippet validates."""
    assert IbkrSettings.model_validate(SETTINGS).market_data_code == 1
    for key in SETTINGS:
        with pytest.raises(ValidationError, match=key):
            IbkrSettings.model_validate({k: v for k, v in SETTINGS.items() if k != key})
    with pytest.raises(ValidationError, match="extra"):
        IbkrSettings.model_validate({**SETTINGS, "port": 7497})
    with pytest.raises(ValidationError):
        IbkrSettings.model_validate({**SETTINGS, "max_messages_per_second": 51})
    with pytest.raises(ValidationError):
        IbkrSettings.model_validate({**SETTINGS, "market_data_type": "realtime"})
    with pytest.raises(ValidationError):
        IbkrSettings.model_validate({**SETTINGS, "max_market_data_lines": "100"})
    with pytest.raises(ValidationError, match="reconnect_max_delay"):
        IbkrSettings.model_validate({**SETTINGS, "reconnect_max_delay_seconds": 0.01})
    shipped = tomllib.loads((ROOT / "config" / "seeker.toml").read_text())
    assert IbkrSettings.model_validate(shipped["ibkr"]).market_data_type == "live"


def test_ibkr_live_problem_needs_both_opt_ins() -> None:
    """Live ports and live accounts are refused unless config and command line both say live."""
    assert live_problem(7497, "", False, False) is None
    assert live_problem(4002, "DU1234567", False, False) is None
    for port in (7496, 4001):
        for allow, flag in ((False, False), (True, False), (False, True)):
            problem = live_problem(port, "", allow, flag)
            assert problem is not None and "live" in problem
        assert live_problem(port, "U1234567", True, True) is None
    problem = live_problem(7497, "U1234567", True, False)
    assert problem is not None and "live account" in problem and "--live" in problem
    assert live_problem(7497, "U1234567", True, True) is None


def test_ibkr_live_port_refused_before_connecting() -> None:
    """A live port is refused before any socket opens (nothing listens there; no thread starts)."""
    broker = make_broker(7496, client_id=99)
    with pytest.raises(LiveTradingRefused, match="live"):
        broker.connect()
    assert broker.connection_state() == ConnectionState.DISCONNECTED
    assert not any(t.name == "ibkr-gateway-99" for t in threading.enumerate())
    with pytest.raises(BrokerUnavailable):
        broker.positions()


def test_ibkr_live_account_refused_after_connect_unless_both_opt_ins(
    sim: SimBroker, wire_guard: WireGuard
) -> None:
    """A U… account is refused right after connecting (disconnected), allowed with both opt-ins."""
    with FakeTWS(sim, LISTINGS, account="U7654321", clock=lambda: sim.market.now) as fake:
        refused = make_broker(fake.port, allow_live=True)
        with pytest.raises(LiveTradingRefused, match="live account"):
            refused.connect()
        assert refused.connection_state() == ConnectionState.DISCONNECTED
        eventually(lambda: fake.connected_client_ids() == [], what="refused session closed")
        refused.close()

        allowed = make_broker(fake.port, allow_live=True, live=True)
        allowed.connect()
        try:
            assert allowed.account_id == "U7654321"
            assert allowed.positions() == []
        finally:
            allowed.close()


def test_ibkr_account_must_be_managed_by_the_login(tws: FakeTWS) -> None:
    """An ibkr.account the login does not manage is a setup error, not a silent fallback."""
    broker = make_broker(tws.port, account="DU999")
    with pytest.raises(IbkrSetupError, match="DU999"):
        broker.connect()
    broker.close()
    named = make_broker(tws.port, account=ACCOUNT)
    named.connect()
    assert named.account_id == ACCOUNT
    named.close()


def test_ibkr_unreachable_or_busy_tws_is_broker_unavailable(
    broker: IBKRBroker, tws: FakeTWS
) -> None:
    """A closed port and a client id already in use both end as BrokerUnavailable."""
    closed = make_broker(1, client_id=8)  # port 1: nothing listens on loopback
    with pytest.raises(BrokerUnavailable, match="cannot connect"):
        closed.connect()
    closed.close()
    twin = make_broker(tws.port, connect_timeout_seconds=0.3)
    with pytest.raises(BrokerUnavailable):
        twin.connect()
    twin.close()
    assert broker.connection_state() == ConnectionState.CONNECTED
    assert isinstance(broker, Broker)


def test_ibkr_wire_guard_watches_the_gateway_thread(
    broker: IBKRBroker, tws: FakeTWS, wire_guard: WireGuard
) -> None:
    """The guard checks ib_async's decoder in the broker's gateway thread, not just this one."""
    tws.send_raw(CLIENT_ID, 9, 1, 5000, "extra")  # nextValidId with one field too many
    eventually(lambda: any("decoder reads 1" in p for p in wire_guard.problems))
    assert wire_guard.take()


# ------------------------------------------------------------------------------------------------
# connection and start-up
# ------------------------------------------------------------------------------------------------


def test_ibkr_connect_state_time_and_account(broker: IBKRBroker, sim: SimBroker) -> None:
    """Connected: epoch 1, TWS's time, the configured data type, cash per currency and NLV."""
    assert broker.connection_state() == ConnectionState.CONNECTED
    assert broker.connection_epoch == 1
    assert broker.market_data_type() == "live"
    assert broker.server_time() == sim.market.now
    acct = broker.account()
    expected = sim.account()
    assert acct.account_id == ACCOUNT and acct.base_currency == "USD"
    assert acct.cash == pytest.approx(expected.cash)
    assert acct.net_liquidation == pytest.approx(expected.net_liquidation)
    assert abs((acct.ts - sim.market.now).total_seconds()) < 30
    assert broker.positions() == [] and broker.open_orders() == []


def test_ibkr_startup_sync_after_restart(tws: FakeTWS, sim: SimBroker) -> None:
    """A new broker (same client id) sees positions, working orders, the day's fills and cash."""
    first = make_broker(tws.port)
    first.connect()
    filled = settle(first, first.place_order(combo(sim)))
    working = first.place_order(combo(sim, offset=-1.0, ref="seeker:ic:p2:open"))
    assert filled.status == OrderStatus.FILLED and working.status == OrderStatus.SUBMITTED
    positions = first.positions()
    first.close()

    second = make_broker(tws.port)
    second.connect()
    try:
        assert second.positions() == positions
        held = [(p.contract, p.qty, p.avg_cost) for p in sim.positions()]
        assert [(p.contract, p.qty) for p in positions] == [(c, q) for c, q, _ in held]
        assert [p.avg_cost for p in positions] == pytest.approx([a for _, _, a in held])
        [adopted] = second.open_orders()
        assert (adopted.order_id, adopted.order_ref) == (working.order_id, "seeker:ic:p2:open")
        assert adopted.legs == working.legs and adopted.limit_price == working.limit_price
        again = second.order_state(filled.order_id)
        assert again.status == OrderStatus.FILLED
        assert [f.fill_id for f in again.fills] == [f.fill_id for f in filled.fills]
        assert again.fills == filled.fills
        assert second.account().cash == pytest.approx(sim.account().cash)
    finally:
        second.close()


# ------------------------------------------------------------------------------------------------
# market data
# ------------------------------------------------------------------------------------------------


def test_ibkr_expiries_and_strikes_match_backend(broker: IBKRBroker, sim: SimBroker) -> None:
    """Expiries come from reqSecDefOptParams, per-expiry strikes from the expiry's contracts."""
    for listing_id in ("IWM", "TD", "TD.TO"):
        assert broker.expiries(listing_id) == sim.expiries(listing_id)
    for e in sim.expiries("IWM")[:3]:
        assert broker.strikes("IWM", e) == sim.strikes("IWM", e)
    e = expiry(sim, "TD.TO")
    assert broker.strikes("TD.TO", e) == sim.strikes("TD.TO", e)
    with pytest.raises(DataUnavailable, match="not listed"):
        broker.strikes("IWM", sim.expiries("IWM")[0] - timedelta(days=1))
    with pytest.raises(DataUnavailable, match="unknown listing"):
        broker.expiries("NOPE")


@pytest.mark.parametrize("listing_id", ["IWM", "TD.TO"])
def test_ibkr_option_chain_matches_backend_in_seeker_units(
    broker: IBKRBroker, sim: SimBroker, tws: FakeTWS, listing_id: str
) -> None:
    """Chain quotes equal the backend's: bid/ask, greeks (vega/vol, theta/year), OI, volume."""
    e = expiry(sim, listing_id)
    k = atm(sim, listing_id)
    inc = LISTINGS[listing_id].strike_increment
    span = (k - 3 * inc, k + 3 * inc)
    chain = broker.option_chain(listing_id, [e], span)
    ref = sim.option_chain(listing_id, [e], span)
    assert len(chain.quotes) == len(ref.quotes) == 14
    assert chain.chain_volume == ref.chain_volume
    assert (chain.underlying.bid, chain.underlying.ask) == (ref.underlying.bid, ref.underlying.ask)
    for q in chain.quotes:
        r = ref.quote(q.contract.expiry, q.contract.strike, q.contract.right)
        assert r is not None
        assert (q.bid, q.ask, q.bid_size, q.ask_size) == (r.bid, r.ask, r.bid_size, r.ask_size)
        assert q.iv == pytest.approx(r.iv)
        assert q.delta == pytest.approx(r.delta)
        assert q.gamma == pytest.approx(r.gamma)
        assert q.vega == pytest.approx(r.vega)
        assert q.theta == pytest.approx(r.theta)
        assert q.open_interest == r.open_interest is not None
        assert q.volume == r.volume
        assert q.underlying_price == pytest.approx(r.underlying_price)
        assert abs((q.ts - sim.market.now).total_seconds()) < 30
        assert q.problem(q.ts + timedelta(seconds=1), 60.0) is None
    assert broker.gate.lines_in_use == 0
    eventually(lambda: fake_lines(tws) == 0, what="every line cancelled")


def test_ibkr_option_quotes_for_specific_contracts(broker: IBKRBroker, sim: SimBroker) -> None:
    """Listed contracts are quoted (even strikes off today's grid); unknown ones are absent."""
    e = expiry(sim)
    k = atm(sim)
    listed = OptionContract("IWM", e, k, "C")
    far = OptionContract("IWM", e, k + 60, "P")  # quoted by the backend, off the current grid
    off_grid = OptionContract("IWM", e, k + 0.5, "C")
    quotes = broker.option_quotes([listed, far, off_grid])
    ref = sim.option_quotes([listed, far, off_grid])
    assert set(quotes) == set(ref) == {listed, far}
    for oc, q in quotes.items():
        assert (q.bid, q.ask) == (ref[oc].bid, ref[oc].ask)
        assert q.delta == pytest.approx(ref[oc].delta)
        assert q.open_interest == ref[oc].open_interest
    assert broker.option_quotes([]) == {}


def test_ibkr_delayed_market_data(tws: FakeTWS, sim: SimBroker) -> None:
    """With delayed data (tick ids 66/67/68, 80/81/83) quotes and greeks still arrive."""
    broker = make_broker(tws.port, market_data_type="delayed")
    broker.connect()
    try:
        assert broker.market_data_type() == "delayed"
        oc = OptionContract("IWM", expiry(sim), atm(sim), "P")
        q = broker.option_quotes([oc])[oc]
        r = sim.option_quotes([oc])[oc]
        assert (q.bid, q.ask, q.open_interest) == (r.bid, r.ask, r.open_interest)
        assert q.delta == pytest.approx(r.delta) and q.theta == pytest.approx(r.theta)
        u = broker.underlying_quote("IWM")
        assert u.last == sim.underlying_quote("IWM").last
    finally:
        broker.close()


def test_ibkr_quotes_are_served_as_sent(broker: IBKRBroker, sim: SimBroker, tws: FakeTWS) -> None:
    """A crossed quote is returned crossed (never fixed), so the caller sees the problem."""
    oc = OptionContract("IWM", expiry(sim), atm(sim), "C")
    tws.crossed_quote(oc)
    q = broker.option_quotes([oc])[oc]
    assert q.bid > q.ask
    assert "crossed" in (q.problem(q.ts, 60.0) or "")


def test_ibkr_underlying_and_fx_quotes(broker: IBKRBroker, sim: SimBroker) -> None:
    """Stock quotes (SMART, primary exchange) and USD.CAD on IDEALPRO equal the backend's."""
    for listing_id in ("IWM", "TD.TO"):
        u = broker.underlying_quote(listing_id)
        r = sim.underlying_quote(listing_id)
        assert (u.bid, u.ask, u.last) == (r.bid, r.ask, r.last)
    fx = broker.fx_quote("USD.CAD")
    ref = sim.fx_quote("USD.CAD")
    assert (fx.bid, fx.ask) == (ref.bid, ref.ask)
    assert fx.spread_pips == pytest.approx(ref.spread_pips)
    with pytest.raises(DataUnavailable):
        broker.fx_quote("EUR.JPY")


def test_ibkr_history_bars_and_implied_vol(
    broker: IBKRBroker, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Daily bars and IV closes aligned by date; a missing IV bar is NaN; cached per day."""
    real = sim.history

    def with_gap(listing_id: str, sessions: int) -> DailyHistory:
        h = real(listing_id, sessions)
        iv = h.iv.copy()
        iv[-3] = math.nan  # the fake skips a non-finite bar: IB has no IV that day
        return replace(h, iv=iv)

    monkeypatch.setattr(sim, "history", with_gap)
    h = broker.history("IWM", 60)
    ref = real("IWM", 60)
    assert h.dates == ref.dates
    for name in ("open", "high", "low", "close"):
        np.testing.assert_allclose(getattr(h, name), getattr(ref, name))
    assert math.isnan(h.iv[-3])
    np.testing.assert_allclose(np.delete(h.iv, -3), np.delete(ref.iv, -3))
    sent = len(broker.pacer._sent)
    assert len(broker.history("IWM", 20)) == 20
    assert len(broker.pacer._sent) == sent  # served from the day's cache
    with pytest.raises(DataUnavailable, match="asked"):
        broker.history("IWM", 200)  # the test market keeps 80 sessions


# ------------------------------------------------------------------------------------------------
# orders
# ------------------------------------------------------------------------------------------------


def test_ibkr_iron_condor_fill_sums_leg_commissions(
    broker: IBKRBroker, sim: SimBroker, tws: FakeTWS
) -> None:
    """A marketable 4-leg BAG fills: one Fill per execution, commission = the legs' reports."""
    order = combo(sim)
    state = settle(broker, broker.place_order(order))
    assert state.status == OrderStatus.FILLED
    assert (state.order_ref, state.qty, state.filled) == (order.order_ref, 1, 1)
    [fill] = state.fills
    [ref] = sim.order_state(backend_segment(tws, state)).fills
    assert fill.fill_id.endswith(".01.01")  # the BAG execution's execId
    assert fill.price == pytest.approx(ref.price) == pytest.approx(order.limit_price)
    assert fill.commission == pytest.approx(ref.commission) == pytest.approx(4 * 0.65)
    assert fill.commission == pytest.approx(sum(leg.commission for leg in fill.legs))
    assert fill.commission_currency == "USD" and fill.qty == 1
    assert [(x.contract, x.action, x.qty) for x in fill.legs] == [
        (x.contract, x.action, x.qty) for x in ref.legs
    ]
    assert [x.price for x in fill.legs] == pytest.approx([x.price for x in ref.legs])
    assert len({x.exec_id for x in fill.legs} | {fill.fill_id}) == 5
    again = broker.order_state(state.order_id)
    assert again == replace(state, ts=again.ts)
    held = {p.contract: p for p in broker.positions()}
    for p in sim.positions():
        assert held[p.contract].qty == p.qty
        assert held[p.contract].avg_cost == pytest.approx(p.avg_cost)


def test_ibkr_canadian_vertical_on_cde(broker: IBKRBroker, sim: SimBroker) -> None:
    """A TD.TO credit spread routes to CDE and fills in CAD with CAD commissions."""
    e = expiry(sim, "TD.TO")
    k = atm(sim, "TD.TO")
    legs = [
        (OptionContract("TD.TO", e, k - 2.0, "P"), "BUY"),
        (OptionContract("TD.TO", e, k - 1.0, "P"), "SELL"),
    ]
    order = ComboOrder(
        "seeker:cs:c1:open",
        "TD.TO",
        tuple(Leg(c, a) for c, a in legs),
        1,
        natural(sim, legs),  # type: ignore[arg-type]
    )
    state = settle(broker, broker.place_order(order))
    assert state.status == OrderStatus.FILLED
    [fill] = state.fills
    assert fill.price < 0  # a credit
    assert fill.commission_currency == "CAD"
    assert fill.commission == pytest.approx(2 * 1.25)


def test_ibkr_partial_fill_then_rest(broker: IBKRBroker, sim: SimBroker, tws: FakeTWS) -> None:
    """One of two units fills: PARTIALLY_FILLED with one Fill; the rest adds a second Fill."""
    tws.partial_fill_next_order(1)
    placed = broker.place_order(combo(sim, qty=2))
    eventually(lambda: broker.order_state(placed.order_id).filled == 1, what="first unit")
    state = broker.order_state(placed.order_id)
    assert state.status == OrderStatus.PARTIALLY_FILLED
    assert (state.filled, state.remaining, len(state.fills)) == (1, 1, 1)
    first = state.fills[0]
    assert tws.release_held() == 1
    done = final(broker, state.order_id)
    assert done.status == OrderStatus.FILLED and done.filled == 2
    assert done.fills[0] == first and len({f.fill_id for f in done.fills}) == 2
    assert all(f.commission > 0 for f in done.fills)


@pytest.mark.parametrize("status", ["Cancelled", "Inactive"])
def test_ibkr_rejection_carries_ibs_reason(
    broker: IBKRBroker, sim: SimBroker, tws: FakeTWS, status: str
) -> None:
    """Error 201 (then Cancelled or Inactive) is REJECTED with IB's text as the reason."""
    tws.reject_next_order("insufficient margin", status=status)  # type: ignore[arg-type]
    state = settle(broker, broker.place_order(combo(sim)))
    assert state.status == OrderStatus.REJECTED
    assert state.reason == "Order rejected - reason:insufficient margin"
    assert sim.open_orders() == [] and sim.positions() == []


def test_ibkr_backend_and_local_rejections(broker: IBKRBroker, sim: SimBroker) -> None:
    """A closed market (backend refusal) and an unlisted leg (never sent) are REJECTED."""
    bad = replace(
        combo(sim),
        legs=(
            Leg(OptionContract("IWM", expiry(sim), atm(sim) + 0.5, "C"), "BUY"),
            *combo(sim).legs[1:],
        ),
    )
    local = broker.place_order(bad)
    assert local.status == OrderStatus.REJECTED and "no such contract" in local.reason
    assert broker.order_state(local.order_id) == local
    assert broker.place_order(replace(combo(sim), qty=0)).status == OrderStatus.REJECTED

    sim.on_time(sim.market.now + timedelta(hours=8))  # 17:30 New York: closed
    state = settle(broker, broker.place_order(combo(sim)))
    assert state.status == OrderStatus.REJECTED and "closed" in state.reason


def test_ibkr_cancel_working_order(broker: IBKRBroker, sim: SimBroker, tws: FakeTWS) -> None:
    """cancel_order waits for TWS's final word: CANCELLED, and the backend order is gone."""
    state = broker.place_order(combo(sim, offset=-1.0))
    assert state.status == OrderStatus.SUBMITTED
    assert state.limit_price == pytest.approx(natural(sim, condor(sim)) - 1.0)
    cancelled = broker.cancel_order(state.order_id)
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.fills == ()
    assert sim.order_state(backend_segment(tws, state)).status == OrderStatus.CANCELLED
    assert broker.cancel_order(state.order_id).status == OrderStatus.CANCELLED
    assert broker.open_orders() == []


def test_ibkr_cancel_that_loses_the_race_reports_the_fill(
    sim: SimBroker, wire_guard: WireGuard
) -> None:
    """The backend fills first; the cancel then finds the fill: FILLED, with its commissions."""
    fake = FakeTWS(sim, LISTINGS, account=ACCOUNT, clock=lambda: sim.market.now, poll_interval=60)
    with fake:
        broker = make_broker(fake.port)
        broker.connect()
        try:
            state = broker.place_order(combo(sim, offset=-1.0))
            seg = backend_segment(fake, state)
            assert sim.modify_order(seg, natural(sim, condor(sim))).status == OrderStatus.FILLED
            assert broker.order_state(state.order_id).status == OrderStatus.SUBMITTED  # not told
            after = broker.cancel_order(state.order_id)
            assert after.status == OrderStatus.FILLED
            [fill] = after.fills
            assert fill.fill_id.endswith(".01.01") and fill.commission == pytest.approx(2.6)
            assert [f.fill_id for f in sim.order_state(seg).fills] == [f"{seg}.1"]
        finally:
            broker.close()


def test_ibkr_modify_order(broker: IBKRBroker, sim: SimBroker, tws: FakeTWS) -> None:
    """modify_order re-sends the same orderId with a new limit; at the natural it fills."""
    state = broker.place_order(combo(sim, offset=-1.0))
    seg = backend_segment(tws, state)
    better = round(state.limit_price + 0.5, 2)
    moved = broker.modify_order(state.order_id, better)
    assert moved.order_id == state.order_id and moved.status == OrderStatus.SUBMITTED
    assert moved.limit_price == pytest.approx(better)
    assert sim.order_state(seg).limit_price == pytest.approx(better)
    filled = settle(broker, broker.modify_order(state.order_id, natural(sim, condor(sim))))
    assert filled.status == OrderStatus.FILLED and len(filled.fills) == 1
    assert broker.modify_order(state.order_id, better).status == OrderStatus.FILLED  # no-op


def test_ibkr_fx_conversion_on_idealpro(broker: IBKRBroker, sim: SimBroker) -> None:
    """A marketable IOC conversion fills with its commission; an unmarketable one is refused."""
    fx = sim.fx_quote("USD.CAD")
    state = broker.place_fx_order("USD.CAD", "SELL", 500, fx.bid, "seeker:fx:x1:open")
    assert state.status == OrderStatus.FILLED and state.listing_id == "USD.CAD"
    [fill] = state.fills
    assert (fill.qty, fill.price, fill.commission_currency) == (500, fx.bid, "USD")
    assert fill.commission == pytest.approx(2.0)
    assert sim.account().cash["CAD"] == pytest.approx(500 * fx.bid)
    assert broker.account().cash["CAD"] == pytest.approx(500 * fx.bid)

    low = broker.place_fx_order("USD.CAD", "BUY", 500, round(fx.bid - 0.01, 4), "seeker:fx:x2:open")
    assert low.status == OrderStatus.REJECTED and "not marketable" in low.reason
    bad = broker.place_fx_order("USD.CAD", "BUY", 0, fx.ask, "seeker:fx:x3:open")
    assert bad.status == OrderStatus.REJECTED and "quantity" in bad.reason


# ------------------------------------------------------------------------------------------------
# disconnects and restarts
# ------------------------------------------------------------------------------------------------


def test_ibkr_reconnects_with_backoff_and_resyncs(
    broker: IBKRBroker, sim: SimBroker, tws: FakeTWS, caplog: pytest.LogCaptureFixture
) -> None:
    """A drop: RECONNECTING (calls raise), backoff, CONNECTED at epoch 2, nothing lost."""
    filled = settle(broker, broker.place_order(combo(sim)))
    resting = broker.place_order(combo(sim, offset=-1.5, ref="seeker:ic:p2:open"))
    doomed = broker.place_order(combo(sim, offset=-1.0, ref="seeker:ic:p3:open"))
    epochs: list[int] = []
    broker.add_reconnect_listener(epochs.append)

    with caplog.at_level(logging.WARNING, logger="seeker.ibkr"):
        tws.drop_connections(refuse_for=0.3)
        eventually(lambda: broker.connection_state() == ConnectionState.RECONNECTING)
        with pytest.raises(BrokerUnavailable):
            broker.order_state(doomed.order_id)
        with pytest.raises(BrokerUnavailable):
            broker.option_quotes([OptionContract("IWM", expiry(sim), atm(sim), "C")])
        seg = backend_segment(tws, doomed)  # filled while Seeker cannot see it
        assert sim.modify_order(seg, natural(sim, condor(sim))).status == OrderStatus.FILLED
        eventually(lambda: broker.connection_state() == ConnectionState.CONNECTED, timeout=5.0)
    assert "reconnect failed" in caplog.text  # the port was closed for a while: backoff
    assert broker.connection_epoch == 2
    eventually(lambda: epochs == [2], what="reconnect listener called")

    done = final(broker, doomed.order_id)
    assert done.status == OrderStatus.FILLED and len(done.fills) == 1
    assert done.fills[0].commission == pytest.approx(2.6)
    assert broker.order_state(filled.order_id).fills == filled.fills
    [working] = broker.open_orders()
    assert working.order_id == resting.order_id and working.status == OrderStatus.SUBMITTED
    assert broker.cancel_order(resting.order_id).status == OrderStatus.CANCELLED
    assert len(broker.positions()) == 4


def test_ibkr_tws_losing_ib_is_unavailable_until_restored(
    broker: IBKRBroker, sim: SimBroker, tws: FakeTWS
) -> None:
    """Error 1100 (TWS lost IB, the socket stays): unavailable; 1102: re-synced, epoch 2."""
    working = broker.place_order(combo(sim, offset=-1.0))
    lost = "Connectivity between IB and Trader Workstation has been lost."
    tws.send_raw(CLIENT_ID, 4, 2, -1, 1100, lost, "")
    eventually(lambda: broker.connection_state() == ConnectionState.RECONNECTING)
    with pytest.raises(BrokerUnavailable):
        broker.order_state(working.order_id)
    back = "Connectivity between IB and Trader Workstation has been restored - data maintained."
    tws.send_raw(CLIENT_ID, 4, 2, -1, 1102, back, "")
    eventually(lambda: broker.connection_state() == ConnectionState.CONNECTED)
    assert broker.connection_epoch == 2
    assert broker.order_state(working.order_id).status == OrderStatus.SUBMITTED


def test_ibkr_restart_adopts_orders_and_loses_no_fill(tws: FakeTWS, sim: SimBroker) -> None:
    """Seeker restarts with a working order and a position: adopted, never re-sent, fills kept."""
    first = make_broker(tws.port)
    first.connect()
    filled = settle(first, first.place_order(combo(sim)))
    working = first.place_order(combo(sim, offset=-1.5, ref="seeker:ic:p2:open"))
    later = first.place_order(combo(sim, offset=-1.0, ref="seeker:ic:p3:open"))
    first.close()
    assert first.connection_state() == ConnectionState.DISCONNECTED
    with pytest.raises(BrokerUnavailable):
        first.order_state(filled.order_id)
    seg = backend_segment(tws, later)
    assert sim.modify_order(seg, natural(sim, condor(sim))).status == OrderStatus.FILLED
    tws.pump()

    second = make_broker(tws.port)
    second.connect()
    try:
        [adopted] = second.open_orders()
        assert adopted.order_ref == "seeker:ic:p2:open" and adopted.order_id == working.order_id
        assert len(sim.open_orders()) == 1  # nothing re-sent
        assert len(tws.backend_order_ids(CLIENT_ID, int(working.order_id.split("/")[0]))) == 1
        assert len(second.positions()) == 4
        assert second.order_state(filled.order_id).fills == filled.fills
        bare_id = filled.order_id.split("/")[0]  # orderId alone: found through the executions
        assert [f.fill_id for f in second.order_state(bare_id).fills] == [
            f.fill_id for f in filled.fills
        ]
        late = final(second, later.order_id)
        assert late.status == OrderStatus.FILLED and len(late.fills) == 1
        again = second.order_state(later.order_id)
        assert [f.fill_id for f in again.fills] == [f.fill_id for f in late.fills]
        cancelled = second.cancel_order(working.order_id)
        assert cancelled.status == OrderStatus.CANCELLED and sim.open_orders() == []
    finally:
        second.close()


# ------------------------------------------------------------------------------------------------
# market-data gate and pacing
# ------------------------------------------------------------------------------------------------


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_ibkr_gate_lines_and_token_bucket_with_fake_clock() -> None:
    """Lines are capped; messages follow a token bucket refilled at the configured rate."""
    clock = FakeClock()
    gate = MarketDataGate(max_lines=3, max_messages_per_second=10, clock=clock)
    assert gate.try_acquire_lines(2) and not gate.try_acquire_lines(2)
    assert gate.try_acquire_lines(1) and gate.lines_in_use == 3
    gate.release_lines(3)
    with pytest.raises(ValueError):
        gate.try_acquire_lines(4)
    with pytest.raises(ValueError):
        gate.release_lines(1)
    assert gate.try_take_messages(10) == 0.0
    assert gate.try_take_messages(5) == pytest.approx(0.5)
    clock.t += 0.25
    assert gate.try_take_messages(5) == pytest.approx(0.25)
    clock.t += 0.25
    assert gate.try_take_messages(5) == 0.0
    clock.t += 100.0
    assert gate.tokens() == pytest.approx(10.0)  # the bucket never holds more than a second's
    gate.take_messages(10, timeout=0.0)
    with pytest.raises(DataUnavailable, match="message budget"):
        gate.take_messages(10, timeout=0.5)  # needs a full second


def test_ibkr_gate_blocks_threads_until_capacity() -> None:
    """A thread waits (bounded) for lines another thread holds, and times out cleanly."""
    gate = MarketDataGate(max_lines=2, max_messages_per_second=20)
    gate.acquire_lines(2, timeout=0.1)
    with pytest.raises(DataUnavailable, match="lines busy"):
        gate.acquire_lines(1, timeout=0.05)
    got: list[float] = []

    def waiter() -> None:
        start = time.monotonic()
        with gate.lines(1, timeout=2.0):
            got.append(time.monotonic() - start)

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.1)
    gate.release_lines(2)
    t.join(2.0)
    assert got and got[0] >= 0.09 and gate.lines_in_use == 0
    start = time.monotonic()
    gate.take_messages(20, timeout=1.0)
    gate.take_messages(6, timeout=1.0)  # 6 more at 20/s: about 0.3 s
    assert time.monotonic() - start >= 0.25


def test_ibkr_history_pacer_window_and_identical_requests() -> None:
    """At most N requests per window; the same request never twice within 15 s."""
    clock = FakeClock()
    pacer = HistoryPacer(3, window_seconds=600.0, identical_seconds=15.0, clock=clock)
    assert pacer.try_reserve("a") == 0.0
    assert pacer.try_reserve("a") == pytest.approx(15.0)
    assert pacer.try_reserve("b") == 0.0 and pacer.try_reserve("c") == 0.0
    assert pacer.try_reserve("d") == pytest.approx(600.0)
    clock.t += 600.0
    assert pacer.try_reserve("d") == 0.0
    with pytest.raises(DataUnavailable, match="pacing"):
        pacer.reserve("d", timeout=1.0)


def test_ibkr_chain_respects_small_gate(tws: FakeTWS, sim: SimBroker) -> None:
    """With 4 lines a 14-option chain streams in batches; lines never exceed 4 and all close."""
    broker = make_broker(tws.port, max_market_data_lines=4)
    peak: list[int] = []
    take = broker.gate.try_acquire_lines

    def spy(n: int) -> bool:
        ok = take(n)
        peak.append(broker.gate.lines_in_use)
        return ok

    broker.gate.try_acquire_lines = spy  # type: ignore[method-assign]
    broker.connect()
    try:
        k = atm(sim)
        chain = broker.option_chain("IWM", [expiry(sim)], (k - 3, k + 3))
        assert len(chain.quotes) == 14 and all(math.isfinite(q.delta) for q in chain.quotes)
        assert max(peak) <= 4 and broker.gate.lines_in_use == 0
        eventually(lambda: fake_lines(tws) == 0, what="every line cancelled")
    finally:
        broker.close()


# ------------------------------------------------------------------------------------------------
# units, missing data and statuses (pure)
# ------------------------------------------------------------------------------------------------


def _view(**fields: Any) -> TickView:
    base: dict[str, Any] = {
        name: math.nan
        for name in (
            "bid",
            "ask",
            "last",
            "bid_size",
            "ask_size",
            "volume",
            "call_oi",
            "put_oi",
            "call_volume",
            "put_volume",
            "av_option_volume",
            "implied_vol",
        )
    }
    base.update(model=None, bid_greeks=None, ask_greeks=None, received=None, seen=frozenset())
    base.update(fields)
    return TickView(**base)


def test_ibkr_greeks_units_and_not_computed_markers() -> None:
    """vega ×100, theta ×365; −2 (and None) are missing; bid/ask mean backs a missing model."""
    model = OptionComputation(0, 0.25, 0.3, 2.0, None, 0.05, 0.12, -0.02, 100.0)
    g = greeks(_view(model=model))
    assert g == pytest.approx(
        {"iv": 0.25, "delta": 0.3, "gamma": 0.05, "vega": 12.0, "theta": -7.3, "und": 100.0}
    )
    blank = OptionComputation(0, None, None, None, None, None, -2.0, -2.0, None)
    assert all(math.isnan(x) for x in greeks(_view(model=blank)).values())
    bid = OptionComputation(0, 0.24, 0.28, 1.9, None, 0.04, 0.1, -0.02, 100.0)
    ask = OptionComputation(0, 0.26, 0.32, 2.1, None, 0.06, 0.14, -0.04, 100.0)
    mixed = greeks(_view(model=blank, bid_greeks=bid, ask_greeks=ask))
    assert mixed["delta"] == pytest.approx(0.3) and mixed["vega"] == pytest.approx(12.0)
    assert mixed["theta"] == pytest.approx(-0.03 * 365)
    oc = OptionContract("IWM", datetime(2026, 2, 20).date(), 220.0, "P")
    q = option_quote(oc, _view(bid=-1.0, ask=1.2, put_oi=0.0, model=model), datetime.now(UTC))
    assert math.isnan(q.bid) and q.ask == 1.2 and q.open_interest == 0 and q.volume is None


def test_ibkr_chain_volume_prefers_average_then_today() -> None:
    """avOptionVolume (tick 87) first, else today's calls + puts (29/30), else None."""
    assert chain_volume(_view(av_option_volume=1200.0, call_volume=5.0, put_volume=6.0)) == 1200
    assert chain_volume(_view(call_volume=5.0, put_volume=6.0)) == 11
    assert chain_volume(_view(call_volume=5.0)) is None


def test_ibkr_tick_rounding_never_worsens_the_limit() -> None:
    """A BUY limit rounds down (less debit, more credit); a SELL limit rounds up."""
    assert floor_to_tick(1.239, 0.01) == 1.23 and floor_to_tick(-1.231, 0.01) == -1.24
    assert floor_to_tick(1.23, 0.01) == 1.23 and floor_to_tick(0.1 + 0.2, 0.01) == 0.3
    assert ceil_to_tick(1.36992, 0.00005) == pytest.approx(1.36995)


def test_ibkr_status_mapping() -> None:
    """IB statuses → Seeker's, final only once the fills behind them are reportable."""
    s = OrderStatus
    assert seeker_status("PreSubmitted", 2, 0, 0, False, True, []) == (s.SUBMITTED, "")
    assert seeker_status("Submitted", 2, 1, 1, False, True, [])[0] == s.PARTIALLY_FILLED
    assert seeker_status("Filled", 2, 2, 1, False, True, [])[0] == s.PARTIALLY_FILLED
    assert seeker_status("Filled", 2, 2, 2, False, True, [])[0] == s.FILLED
    assert seeker_status("Cancelled", 2, 0, 0, True, True, [(202, "Order Canceled")]) == (
        s.CANCELLED,
        "Order Canceled",
    )
    assert seeker_status("Cancelled", 1, 0, 0, False, False, [(110, "tick")]) == (
        s.REJECTED,
        "tick",
    )
    assert seeker_status("Inactive", 1, 0, 0, False, True, [])[0] == s.REJECTED
    assert seeker_status("Cancelled", 1, 0, 0, False, True, [(2104, "farm ok")])[0] == s.CANCELLED
    assert seeker_status("ApiCancelled", 3, 1, 1, True, True, [])[0] == s.CANCELLED


def _exec(exec_id: str, sec: str, side: str, price: float, commission: float | None) -> ExecView:
    fill = IbFill(
        contract=Contract(secType=sec, symbol="IWM", currency="USD", conId=1),
        execution=Execution(
            execId=exec_id,
            time=datetime(2026, 1, 5, 15, tzinfo=UTC),
            side=side,
            shares=1.0,
            price=price,
            permId=9,
            orderId=5,
            clientId=CLIENT_ID,
        ),
        commissionReport=CommissionReport(
            execId=exec_id if commission is not None else "",
            commission=commission or 0.0,
            currency="USD",
        ),
        time=datetime(2026, 1, 5, 15, tzinfo=UTC),
    )
    return ExecView.of(fill)


def test_ibkr_fill_waits_for_commissions_then_reports_nan() -> None:
    """A combo execution waits for its commission reports; after the wait it is NaN, never 0."""
    execs = [
        _exec("p.1.02.01", "OPT", "BOT", 1.0, 0.65),
        _exec("p.1.03.01", "OPT", "SLD", 2.0, None),
        _exec("p.1.01.01", "BAG", "SLD", 1.0, 0.0),
    ]
    args = ("5/9", "ref", 2, lambda c: None)
    fills, pending = combo_fills(execs, *args, age=lambda _: 0.1, commission_wait=0.5)
    assert fills == [] and pending.qty == 1.0
    [fill], _ = combo_fills(execs, *args, age=lambda _: 1.0, commission_wait=0.5)
    assert fill.fill_id == "p.1.01.01" and fill.price == -1.0 and math.isnan(fill.commission)
    execs[1] = _exec("p.1.03.01", "OPT", "SLD", 2.0, 0.65)
    [fill], _ = combo_fills(execs, *args, age=lambda _: 0.0, commission_wait=0.5)
    assert fill.commission == pytest.approx(1.3)
