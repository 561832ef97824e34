"""An order that maybe reached TWS is never sent twice: unconfirmed until the broker's truth says.

Seeker → IBKRBroker → ib_async → fake TWS → SimBroker, on 127.0.0.1 (see ``test_ibkr_run``). The
fake accepts a close and keeps it live but never acknowledges it (and, in most tests, drops the
connection right after receiving it): Seeker cannot know whether the order left. It journals the
order ``unconfirmed`` (not ``rejected: not sent``), refuses a second close while TWS holds the
first, and resolves it from TWS's open orders and executions once TWS answers again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seeker.core.broker import ConnectionState
from seeker.core.journal import read_events
from seeker.core.models import order_ref
from seeker.engine.signals import ExitSignal, PositionView
from seeker.engine.valuation import price_position
from seeker.strategies.iron_condor import IronCondor
from tests.engine.test_ibkr_recovery import (
    PID,
    condor_setup,
    open_then_leave_a_close_working,
    plan,
)
from tests.engine.test_ibkr_run import (  # noqa: F401  (the `world` fixture)
    World,
    ibkr_services,
    open_world,
    world,
)
from tests.tws_support import WireGuard

CLOSE_REF = order_ref("iron_condor", PID, "close")


def wait_for(what: str, cond: Callable[[], bool], seen: Callable[[], Any], seconds: float = 30.0):
    """Wait (bounded) until `cond()`; on timeout fail with what `seen()` shows last."""
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}; last seen: {seen()}"
        time.sleep(0.05)


def open_condor(world: World) -> IronCondor:  # noqa: F811
    """Open one condor for the test position (filled at once) through the fake TWS."""
    strategy, legs, natural = condor_setup(world)
    strategy.executor.work(plan(world.services, "open", legs, round(natural + 0.05, 2)))
    pos = strategy.book.positions[PID]
    assert pos.open_qty == 1
    strategy.adoption.settle_risk(pos)  # hold its risk, as the entry pipeline would have
    assert world.services.risk_guard.held(PID) is not None
    return strategy


def exit_signal(strategy: IronCondor, view: PositionView) -> None:
    """What a poll does when the position's exit rule fires: ask the Closer to close it."""
    pos = strategy.book.positions[PID]
    now = strategy.services.clock.now()
    strategy.closer.close(pos, view, ExitSignal("manage_dte", 1, "test: manage", True), now)


def folder_lines(world: World, event: str, **where: Any) -> list[dict[str, Any]]:  # noqa: F811
    lines = read_events(world.logs / "iron_condor", [event], legs=event == "FILL")
    return [x for x in lines if all(x.get(k) == v for k, v in where.items())]


def close_orders(world: World) -> list[dict[str, Any]]:  # noqa: F811
    return folder_lines(world, "ORDER", intent="close")


def statuses(world: World, order_id: str) -> list[str]:  # noqa: F811
    return [s["status"] for s in folder_lines(world, "ORDER_STATUS", order_id=order_id)]


def send_close_unacknowledged(world: World) -> tuple[IronCondor, PositionView, str]:  # noqa: F811
    """Open the position, then send its close: TWS takes it, never acknowledges it, and the
    connection drops at once. Return the strategy, the view the close was priced on, its id."""
    strategy = open_condor(world)
    pos = strategy.book.positions[PID]
    view = price_position(strategy.ctx, pos, world.market.clock.now())
    world.fake.withhold_fills(True)  # the close works at TWS and cannot fill yet
    world.fake.leave_next_order_unacknowledged(drop=True, refuse_for=1.0)
    exit_signal(strategy, view)
    [order] = close_orders(world)
    return strategy, view, order["order_id"]


def reconnected(broker: Any, epoch: int) -> Callable[[], bool]:
    """Return a test of a reconnect of `broker` since `epoch`."""
    return lambda: (
        broker.connection_epoch > epoch  # type: ignore[attr-defined]
        and broker.connection_state() == ConnectionState.CONNECTED
    )


def test_a_close_never_acknowledged_is_unconfirmed_never_sent_twice_and_its_fill_journaled_once(
    world: World,  # noqa: F811
) -> None:
    broker = world.services.broker
    epoch = broker.connection_epoch  # type: ignore[attr-defined]
    strategy, view, oid = send_close_unacknowledged(world)
    pos = strategy.book.positions[PID]
    # the exit rule still fires at the next polls, while the connection is down, then once it is
    # back with TWS holding the first close: no second close is sent
    exit_signal(strategy, view)
    wait_for("the reconnect", reconnected(broker, epoch), broker.connection_state)
    exit_signal(strategy, view)
    assert len(close_orders(world)) == 1, (close_orders(world), statuses(world, oid))
    assert [o.order_ref for o in broker.open_orders()] == [CLOSE_REF]  # TWS holds the first
    # maybe sent: not "rejected: not sent"; the position holds its risk and is not closed
    assert statuses(world, oid) == ["unconfirmed"], folder_lines(world, "ORDER_STATUS")
    [line] = folder_lines(world, "ORDER_STATUS", order_id=oid)
    assert line["order_ref"] == CLOSE_REF and "maybe sent" in line["reason"], line
    assert pos.open_qty == 1 and pos.status == "open"
    assert world.services.risk_guard.held(PID) is not None
    refusals = folder_lines(world, "RISK", position_id=PID, rule="manage_dte")
    assert len(refusals) == 2 and all("never acknowledged" in r["detail"] for r in refusals)
    # the close fills at TWS; the next polls resolve it from TWS's executions, once
    assert world.fake.release_held() == 1

    def poll() -> bool:
        strategy.adoption.follow_orders()
        exit_signal(strategy, view)
        return pos.status == "closed"

    wait_for("the close's fill", poll, lambda: folder_lines(world, "ORDER_STATUS", order_id=oid))
    [fill] = folder_lines(world, "FILL", intent="close", kind="combo")
    assert fill["order_id"] == oid and fill["recovered"] is True
    assert len(folder_lines(world, "FILL", intent="close", kind="leg")) == 4
    assert statuses(world, oid) == ["unconfirmed", "filled"]
    assert pos.open_qty == 0 and world.services.risk_guard.held(PID) is None
    assert [p["position_id"] for p in folder_lines(world, "POST_TRADE")] == [PID]
    # later looks (polls, catch-up, reconciliation) find nothing more to do or to journal
    strategy.adoption.follow_orders()
    assert strategy.catch_up_now() == 0
    assert len(close_orders(world)) == 1
    assert len(folder_lines(world, "FILL", intent="close", kind="combo")) == 1
    assert world.services.reconcile("after") == []


def test_an_unconfirmed_close_found_working_is_followed_then_cancelled_before_a_new_one(
    world: World,  # noqa: F811
) -> None:
    broker = world.services.broker
    epoch = broker.connection_epoch  # type: ignore[attr-defined]
    strategy, _view, oid = send_close_unacknowledged(world)
    assert statuses(world, oid) == ["unconfirmed"], folder_lines(world, "ORDER_STATUS")
    strategy.adoption.follow_orders()  # the broker does not answer yet: nothing is concluded
    [unresolved] = folder_lines(world, "RISK", rule="unresolved_order")
    assert oid in unresolved["detail"] and "did not answer" in unresolved["detail"], unresolved
    assert statuses(world, oid) == ["unconfirmed"]
    wait_for("the reconnect", reconnected(broker, epoch), broker.connection_state)
    [working] = broker.open_orders()
    assert working.order_ref == CLOSE_REF
    strategy.adoption.follow_orders()  # TWS answers: found working, adopted, then cancelled
    assert statuses(world, oid) == ["unconfirmed", "submitted", "cancelled"], statuses(world, oid)
    [submitted] = folder_lines(world, "ORDER_STATUS", order_id=oid, status="submitted")
    assert submitted["broker_order_id"] == working.order_id
    assert broker.open_orders() == []
    assert world.services.risk_guard.held(PID) is not None  # the position is still open
    # only now may a new close go: TWS no longer holds the first
    world.fake.withhold_fills(False)
    pos = strategy.book.positions[PID]
    exit_signal(strategy, price_position(strategy.ctx, pos, world.market.clock.now()))
    orders = close_orders(world)
    assert [o["order_id"] for o in orders] == [oid, f"{PID}.3"], orders
    assert not folder_lines(world, "FILL", order_id=oid)


def test_an_order_never_acknowledged_without_a_drop_is_unconfirmed_and_resolved(
    tmp_path: Path, wire_guard: WireGuard
) -> None:
    """No drop: TWS keeps the order and answers requests, but its acknowledgement never comes
    within the request timeout."""
    # the acknowledgement is awaited for the request timeout: 3 s, not the shipped 10 (every
    # other request of the test is answered in milliseconds on 127.0.0.1)
    with open_world(tmp_path, days=10, request_timeout_seconds=3.0) as world:  # noqa: F811
        strategy = open_condor(world)
        pos = strategy.book.positions[PID]
        view = price_position(strategy.ctx, pos, world.market.clock.now())
        world.fake.withhold_fills(True)
        world.fake.leave_next_order_unacknowledged()
        exit_signal(strategy, view)
        [order] = close_orders(world)
        oid = order["order_id"]
        assert statuses(world, oid) == ["unconfirmed"], folder_lines(world, "ORDER_STATUS")
        exit_signal(strategy, view)
        assert len(close_orders(world)) == 1
        assert world.fake.release_held() == 1

        def poll() -> bool:
            strategy.adoption.follow_orders()
            return pos.status == "closed"

        wait_for(
            "the close's fill", poll, lambda: folder_lines(world, "ORDER_STATUS", order_id=oid)
        )
        assert len(folder_lines(world, "FILL", intent="close", kind="combo")) == 1
        assert statuses(world, oid)[0] == "unconfirmed" and statuses(world, oid)[-1] == "filled"
        assert world.services.risk_guard.held(PID) is None
        assert len(close_orders(world)) == 1


def test_adoption_when_the_broker_does_not_answer_journals_no_cancel(world: World) -> None:  # noqa: F811
    """A restart while TWS does not answer: the order an earlier run left working is neither
    journaled cancelled nor re-sent; it is adopted once TWS answers."""
    _strategy, _legs, _natural = open_then_leave_a_close_working(world)
    world.services.broker.close()
    world.services.close_journals()
    services = ibkr_services(world.services.config, world.logs, world.market.clock)
    try:
        broker = services.broker
        epoch = broker.connection_epoch  # type: ignore[attr-defined]
        world.fake.drop_connections(refuse_for=1.0)
        wait_for(
            "the drop",
            lambda: broker.connection_state() != ConnectionState.CONNECTED,
            broker.connection_state,
        )
        second = IronCondor(services, services.config.strategies.iron_condor)
        second.setup()  # the broker does not answer
        oid = f"{PID}.2"
        assert statuses(world, oid) == ["submitted"], statuses(world, oid)  # no "cancelled"
        [risk] = folder_lines(world, "RISK", rule="unresolved_order")
        assert oid in risk["detail"] and "did not answer" in risk["detail"]
        assert oid in second.book.working_orders()
        assert services.risk_guard.held(PID) is not None
        wait_for(
            "the reconnect",
            reconnected(broker, epoch),
            broker.connection_state,
        )
        second.adoption.follow_orders()  # TWS answers: adopted, then cancelled as usual
        assert statuses(world, oid) == ["submitted", "adopted", "cancelled"], statuses(world, oid)
        assert len(close_orders(world)) == 1
    finally:
        services.broker.close()
        services.close_journals()
