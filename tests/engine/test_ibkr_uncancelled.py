"""An order whose cancel went unanswered is followed at each poll until the broker says its fate.

Seeker → IBKRBroker → ib_async → fake TWS → SimBroker, on 127.0.0.1 (see ``test_ibkr_run``). The
fake receives the cancel of an order that cannot fill (fills withheld), ignores it (the order stays
live) and drops the connection at once: Seeker cannot know whether the order still works. It counts
as working (no second order of its position, an opening order's risk held; one RISK line says so)
and, once TWS answers again, it is adopted by its broker id and orderRef: its cancel is sent again
and confirmed, or its fill journaled once; only then may the exit rule send a new close.
"""

from __future__ import annotations

from typing import Any

from seeker.agents.risk_guard import Reservation
from seeker.engine.valuation import price_position
from tests.engine.test_ibkr_recovery import PID, condor_setup, plan
from tests.engine.test_ibkr_run import World, world  # noqa: F401  (the `world` fixture)
from tests.engine.test_ibkr_unconfirmed import (
    CLOSE_REF,
    close_orders,
    exit_signal,
    folder_lines,
    open_condor,
    reconnected,
    statuses,
    wait_for,
)


def cancel_lines(world: World) -> list[str]:  # noqa: F811
    """The RISK lines of Execution about the test position."""
    return [r["detail"] for r in folder_lines(world, "RISK", position_id=PID, rule="execution")]


def seen(world: World, oid: str) -> Any:  # noqa: F811
    """What a failed bounded wait reports: the order's statuses, orders and RISK lines."""
    return {
        "statuses": statuses(world, oid),
        "orders": [o["order_id"] for o in folder_lines(world, "ORDER")],
        "risk": [(r["rule"], r["detail"]) for r in folder_lines(world, "RISK", position_id=PID)],
    }


def test_a_close_whose_cancel_went_unanswered_is_cancelled_again_then_the_exit_goes_once(
    world: World,  # noqa: F811
) -> None:
    strategy = open_condor(world)
    pos = strategy.book.positions[PID]
    broker = world.services.broker
    epoch = broker.connection_epoch  # type: ignore[attr-defined]
    view = price_position(strategy.ctx, pos, world.market.clock.now())
    # the exit rule fires: the close works at TWS unfilled; its cancel is received but not
    # honoured, and the connection drops before any answer
    world.fake.withhold_fills(True)
    world.fake.ignore_next_cancel(drop=True, refuse_for=1.0)
    exit_signal(strategy, view)
    [first] = close_orders(world)
    oid = first["order_id"]
    assert statuses(world, oid) == ["submitted"], seen(world, oid)
    assert oid in strategy.book.working_orders()
    [said] = cancel_lines(world)
    assert f"could not cancel order {oid}" in said and "followed at each poll" in said, said
    # a poll while TWS does not answer: nothing is concluded; the exit rule still fires, and no
    # second close goes
    strategy.adoption.follow_orders()
    exit_signal(strategy, view)
    assert close_orders(world) == [first], seen(world, oid)
    assert statuses(world, oid) == ["submitted"], seen(world, oid)
    refusals = folder_lines(world, "RISK", position_id=PID, rule="manage_dte")
    assert [("cancel was not confirmed" in r["detail"]) for r in refusals] == [True], refusals
    wait_for("the reconnect", reconnected(broker, epoch), broker.connection_state)
    assert [o.order_ref for o in broker.open_orders()] == [CLOSE_REF]  # still live at TWS
    # the next poll follows it from TWS's truth: adopted (its broker id, its orderRef), its
    # cancel sent again and confirmed
    world.fake.withhold_fills(False)
    strategy.adoption.follow_orders()
    assert statuses(world, oid) == ["submitted", "adopted", "cancelled"], seen(world, oid)
    [adopted] = folder_lines(world, "ORDER_STATUS", order_id=oid, status="adopted")
    assert adopted["broker_order_id"] == first_broker_id(world, oid), adopted
    assert broker.open_orders() == []
    assert pos.status == "open" and world.services.risk_guard.held(PID) is not None
    # only now does the exit rule's close go: once
    exit_signal(strategy, price_position(strategy.ctx, pos, world.market.clock.now()))
    assert [o["order_id"] for o in close_orders(world)] == [oid, f"{PID}.3"], seen(world, oid)
    wait_for("the new close's fill", lambda: pos.status == "closed", lambda: seen(world, oid))
    assert not folder_lines(world, "FILL", order_id=oid)
    assert len(folder_lines(world, "FILL", intent="close", kind="combo")) == 1
    assert world.services.risk_guard.held(PID) is None
    strategy.adoption.follow_orders()  # nothing more to follow or to say
    assert len(close_orders(world)) == 2 and cancel_lines(world) == [said], seen(world, oid)
    assert strategy.catch_up_now() == 0
    assert world.services.reconcile("after") == []


def first_broker_id(world: World, oid: str) -> str:  # noqa: F811
    [submitted] = folder_lines(world, "ORDER_STATUS", order_id=oid, status="submitted")
    return str(submitted["broker_order_id"])


def test_an_entry_whose_cancel_went_unanswered_holds_its_risk_and_its_fill_is_journaled_once(
    world: World,  # noqa: F811
) -> None:
    strategy, legs, natural = condor_setup(world)
    broker = world.services.broker
    epoch = broker.connection_epoch  # type: ignore[attr-defined]
    entry = plan(world.services, "open", legs, round(natural + 0.05, 2))
    guard = world.services.risk_guard
    listing = world.services.listings["IWM"]
    guard.restore(Reservation(PID, "iron_condor", "IWM", "IWM", listing.sector, 45.2))
    # the entry works unfilled; its cancel after the last step is ignored and the link drops
    world.fake.withhold_fills(True)
    world.fake.ignore_next_cancel(drop=True, refuse_for=1.0)
    strategy.executor.work(entry)
    strategy.pipeline.settle_sent(entry)  # what the entry pipeline does after Execution
    oid = entry.order_id
    assert statuses(world, oid) == ["submitted"], seen(world, oid)
    assert guard.held(PID) is not None, seen(world, oid)  # it may still fill: its risk is held
    [said] = cancel_lines(world)
    assert "its risk held" in said, said
    strategy.adoption.follow_orders()  # TWS does not answer: still held, nothing concluded
    assert guard.held(PID) is not None and statuses(world, oid) == ["submitted"]
    wait_for("the reconnect", reconnected(broker, epoch), broker.connection_state)
    # the entry fills at TWS; the next polls journal its fill, once, and the position holds it
    assert world.fake.release_held() == 1

    def poll() -> bool:
        strategy.adoption.follow_orders()
        return oid not in strategy.book.working_orders()

    wait_for("the entry's fill", poll, lambda: seen(world, oid))
    pos = strategy.book.positions[PID]
    assert pos.open_qty == 1 and statuses(world, oid)[-1] == "filled", seen(world, oid)
    assert "cancelled" not in statuses(world, oid), seen(world, oid)
    assert len(folder_lines(world, "FILL", order_id=oid, kind="combo")) == 1
    assert len(folder_lines(world, "FILL", order_id=oid, kind="leg")) == 4
    assert guard.held(PID) is not None
    strategy.adoption.follow_orders()
    assert strategy.catch_up_now() == 0
    assert len(folder_lines(world, "FILL", order_id=oid, kind="combo")) == 1
    assert [o["order_id"] for o in folder_lines(world, "ORDER")] == [oid]  # never re-sent
    assert cancel_lines(world) == [said]
    assert world.services.reconcile("after") == []
