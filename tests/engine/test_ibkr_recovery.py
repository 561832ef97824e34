"""Executions are the truth, through the fake TWS: fills Seeker did not see are journaled once.

Seeker → IBKRBroker → ib_async → fake TWS → SimBroker, on 127.0.0.1 (see ``test_ibkr_run``).
A fill made while Seeker is disconnected is journaled on reconnect; one made while Seeker is
down is journaled at the next start; a working order whose orderRef no journal owns is reported
and left alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from seeker.core.broker import ConnectionState
from seeker.core.execution import OrderPlan, combo_natural
from seeker.core.journal import read_events
from seeker.core.models import ComboOrder, Leg, order_ref
from seeker.engine.recovery import recover_at_start
from seeker.engine.services import Services
from seeker.engine.signals import ExitSignal
from seeker.engine.valuation import price_position
from seeker.strategies.iron_condor import IronCondor
from tests.engine.test_ibkr_run import (  # noqa: F401  (the `world` fixture)
    World,
    ibkr_services,
    world,
)
from tests.support import condor_legs

PID = "ic-20260105-901"


def plan(services: Services, intent: str, legs: tuple[Leg, ...], price: float) -> OrderPlan:
    """Return an order plan of the test position (one unit, one limit, left working)."""
    listing = services.listings[legs[0].contract.listing_id]
    return OrderPlan(
        position_id=PID,
        order_id=f"{PID}.{1 if intent == 'open' else 2}",
        intent=intent,  # type: ignore[arg-type]
        listing_id=listing.listing_id,
        legs=legs,
        qty=1,
        ladder=(price,),
        cancel_when_done=intent == "open",
        fields={
            "max_loss": 45.2,
            "risk": 45.2,
            "risk_currency": "USD",
            "sector": listing.sector,
            "cluster": "test",
            "currency": listing.currency,
            "symbol": listing.symbol,
            "multiplier": listing.multiplier,
            "natural": price,
            "exit_rule": None if intent == "open" else "manage_dte",
        },
    )


def condor_setup(world: World) -> tuple[IronCondor, tuple[Leg, ...], float]:  # noqa: F811
    """Return a started iron condor strategy, the legs of a condor on IWM (≥ 35 DTE, ±5 % wings)
    and its natural price, an hour into the session (no strategy thread: the test drives time)."""
    clock = world.market.clock
    clock.sleep_until(clock.now() + timedelta(hours=1))
    strategy = IronCondor(world.services, world.services.config.strategies.iron_condor)
    strategy.setup()
    broker = world.services.broker
    expiry = next(e for e in broker.expiries("IWM") if (e - clock.now().date()).days >= 35)
    spot = broker.underlying_quote("IWM").mid
    chain = broker.option_chain("IWM", [expiry], (spot * 0.8, spot * 1.2))
    legs = condor_legs(chain, expiry, spot, 0.05)
    quotes = [chain.quote(c.contract.expiry, c.contract.strike, c.contract.right) for c in legs]
    return strategy, legs, combo_natural(legs, quotes)  # type: ignore[arg-type]


def open_then_leave_a_close_working(world: World) -> tuple[IronCondor, tuple[Leg, ...], float]:  # noqa: F811
    """Open a condor for the test position, then send its close with fills withheld."""
    strategy, legs, natural = condor_setup(world)
    strategy.executor.work(plan(world.services, "open", legs, round(natural + 0.05, 2)))
    assert strategy.book.positions[PID].open_qty == 1
    world.fake.withhold_fills(True)
    closing = tuple(leg.reversed() for leg in legs)
    working = strategy.executor.work(
        plan(world.services, "close", closing, round(-natural + 0.3, 2))
    )
    assert working is not None and not working.status.is_done
    return strategy, legs, natural


def wait_for(cond: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def closing_fills(world: World, legs: bool = False) -> list[dict[str, Any]]:  # noqa: F811
    lines = read_events(world.logs / "iron_condor", ["FILL"], legs=legs)
    return [f for f in lines if f["intent"] == "close"]


def test_a_fill_made_while_disconnected_is_journaled_once_on_reconnect(world: World) -> None:  # noqa: F811
    strategy, _legs, _ = open_then_leave_a_close_working(world)
    broker = world.services.broker
    epoch = broker.connection_epoch  # type: ignore[attr-defined]
    world.fake.drop_connections(refuse_for=0.5)
    wait_for(lambda: broker.connection_state() != ConnectionState.CONNECTED)
    assert world.fake.release_held() == 1  # the close fills at the exchange; Seeker cannot see it
    wait_for(lambda: broker.connection_epoch > epoch and bool(closing_fills(world)))  # type: ignore[attr-defined]
    [fill] = closing_fills(world)
    assert fill["recovered"] is True and fill["exec_ts"]
    legs = [f for f in closing_fills(world, legs=True) if f["kind"] == "leg"]
    assert len(legs) == 4 and all(f["recovered"] for f in legs)
    pos = strategy.book.positions[PID]
    assert pos.open_qty == 0 and pos.status == "closed"
    assert world.services.risk_guard.held(PID) is None
    posts = read_events(world.logs / "iron_condor", ["POST_TRADE"])
    assert [p["position_id"] for p in posts] == [PID] and posts[0]["recovered"] is True
    statuses = read_events(world.logs / "iron_condor", ["ORDER_STATUS"])
    assert [s["status"] for s in statuses if s["order_id"] == f"{PID}.2"][-1] == "filled"
    # a later look, and a restart's, find nothing more to journal
    assert strategy.catch_up_now() == 0
    assert world.services.reconcile("after") == []


def test_a_fill_made_while_seeker_was_down_is_journaled_at_the_next_start(world: World) -> None:  # noqa: F811
    _strategy, _legs, _ = open_then_leave_a_close_working(world)
    world.services.broker.close()  # Seeker is gone; the close order stays working at TWS
    world.services.close_journals()
    assert world.fake.release_held() == 1  # ... and fills while nobody listens
    services = ibkr_services(world.services.config, world.logs, world.market.clock)
    try:
        assert recover_at_start(services) == 1  # what the runner does before any strategy
        [fill] = closing_fills(world)
        assert fill["recovered"] is True
        second = IronCondor(services, services.config.strategies.iron_condor)
        second.setup()
        assert second.book.positions[PID].open_qty == 0
        assert services.risk_guard.held(PID) is None
        orders = read_events(world.logs / "iron_condor", ["ORDER"])
        assert [o["order_id"] for o in orders] == [f"{PID}.1", f"{PID}.2"]  # nothing re-sent
        assert len(closing_fills(world)) == 1
        assert recover_at_start(services) == 0  # idempotent
        assert services.reconcile("restart") == []
    finally:
        services.broker.close()
        services.close_journals()


def test_a_working_order_no_journal_owns_is_reported_and_left_alone(world: World) -> None:  # noqa: F811
    strategy, legs, natural = open_then_leave_a_close_working(world)
    broker = world.services.broker
    # an order with our client id whose orderRef names a position no journal knows
    stray = order_ref("iron_condor", "ic-20990101-001", "open")
    placed = broker.place_order(ComboOrder(stray, "IWM", legs, 1, round(natural - 0.5, 2)))
    assert not placed.status.is_done
    world.fake.withhold_fills(False)
    assert recover_at_start(world.services) == 0
    risk = read_events(world.logs / "_seeker", ["RISK"])
    assert [r["rule"] for r in risk] == ["foreign_order"], risk
    assert placed.order_id in risk[0]["detail"] and stray in risk[0]["detail"]
    strategy.adoption.follow_adopted()
    assert not broker.order_state(placed.order_id).status.is_done  # never cancelled, never claimed
    recover_at_start(world.services)
    assert len(read_events(world.logs / "_seeker", ["RISK"])) == 1  # said once


def test_no_second_close_is_sent_while_the_first_may_still_work(world: World) -> None:  # noqa: F811
    """An exit signal while the position's close still works at the broker sends nothing."""
    strategy, _legs, _natural = open_then_leave_a_close_working(world)
    pos = strategy.book.positions[PID]
    now = world.market.clock.now()
    view = price_position(strategy.ctx, pos, now)
    strategy.closer.close(pos, view, ExitSignal("manage_dte", 1, "test: close again"), now)
    folder = world.logs / "iron_condor"
    closes = [o for o in read_events(folder, ["ORDER"]) if o["intent"] == "close"]
    assert len(closes) == 1, closes  # the working one only
    refusals = [r for r in read_events(folder, ["RISK"]) if r["position_id"] == PID]
    assert refusals and "close not sent" in refusals[-1]["detail"], refusals
    ref = order_ref("iron_condor", PID, "close")
    assert [o.order_ref for o in world.services.broker.open_orders()] == [ref]  # one, at TWS
