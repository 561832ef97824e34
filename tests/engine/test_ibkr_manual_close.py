"""A person's close refused only because another order of the position may still work waits.

Seeker → IBKRBroker → ib_async → fake TWS → SimBroker, on 127.0.0.1 (see ``test_ibkr_run``).
``seeker close`` queues a request (``AccountWatch.request_close``) that the strategy's poll takes.
While an order of the position may still work at TWS no second close is sent: the request is put
back, one RISK line (rule ``manual``) says why it waits, and the next polls try it again. Once the
working order ends, the close goes; once the working close has filled, the request ends (the
position is no longer open) and nothing is sent.
"""

from __future__ import annotations

from typing import Any

from seeker.core.models import order_ref
from seeker.engine.valuation import price_position
from seeker.strategies.iron_condor import IronCondor
from tests.engine.test_ibkr_recovery import PID, open_then_leave_a_close_working
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

STRATEGY = "iron_condor"


def ask_to_close(world: World, strategy: IronCondor) -> None:  # noqa: F811
    """What ``seeker close PID`` does (``Control.close``); entries are paused so that the polls
    of the test touch only the test position."""
    world.services.account.pause([STRATEGY], "tester", "test: only the test position")
    assert strategy.book.positions[PID].is_open
    world.services.account.request_close(STRATEGY, PID, "test: by hand", "tester")


def manual_lines(world: World) -> list[dict[str, Any]]:  # noqa: F811
    return folder_lines(world, "RISK", position_id=PID, rule="manual")


def manual_closes(world: World) -> list[dict[str, Any]]:  # noqa: F811
    return [o for o in close_orders(world) if o.get("exit_rule") == "manual"]


def seen(world: World) -> Any:  # noqa: F811
    """What a failed bounded wait reports: the position's orders and manual RISK lines."""
    return {
        "orders": [(o["order_id"], o.get("exit_rule")) for o in close_orders(world)],
        "statuses": [
            (s["order_id"], s["status"])
            for s in folder_lines(world, "ORDER_STATUS", intent="close")
        ],
        "manual": [r["detail"] for r in manual_lines(world)],
    }


def test_a_manual_close_waits_for_an_unconfirmed_close_then_is_sent_once_it_is_cancelled(
    world: World,  # noqa: F811
) -> None:
    strategy = open_condor(world)
    pos = strategy.book.positions[PID]
    broker = world.services.broker
    epoch = broker.connection_epoch  # type: ignore[attr-defined]
    # a poll: manage() prices the position (kept for the poll) and its exit rule fires; TWS takes
    # the close, never acknowledges it, and the connection drops at once
    view = price_position(strategy.ctx, pos, world.market.clock.now())
    strategy.marks.views[PID] = view
    world.fake.withhold_fills(True)
    world.fake.leave_next_order_unacknowledged(drop=True, refuse_for=1.0)
    exit_signal(strategy, view)
    [first] = close_orders(world)
    oid = first["order_id"]
    assert statuses(world, oid) == ["unconfirmed"], seen(world)
    # a person asked to close it: the same poll's act() finds the unconfirmed close, sends nothing
    ask_to_close(world, strategy)
    strategy.interventions.act(view.now)
    strategy.interventions.act(view.now)  # asked again (the request was put back): said once
    assert close_orders(world) == [first], seen(world)
    [waits] = manual_lines(world)
    assert "waits" in waits["detail"] and f"order {oid} " in waits["detail"], waits
    assert "never acknowledged" in waits["detail"], waits
    wait_for("the reconnect", reconnected(broker, epoch), broker.connection_state)
    assert [o.order_ref for o in broker.open_orders()] == [CLOSE_REF]  # one, at TWS
    # the next poll resolves the first close (working at TWS: adopted, then cancelled) and only
    # then sends the person's close, once
    world.fake.withhold_fills(False)
    strategy.poll_once()
    assert statuses(world, oid) == ["unconfirmed", "submitted", "cancelled"], seen(world)
    manual_orders = manual_closes(world)
    assert len(manual_orders) == 1, seen(world)  # the person's close, sent once
    manual = manual_orders[0]
    assert manual["order_ref"] == order_ref(STRATEGY, PID, "close") == CLOSE_REF, manual
    assert manual["order_id"] == f"{PID}.3" and manual["qty"] == 1, manual
    assert [o["order_id"] for o in close_orders(world)] == [oid, f"{PID}.3"], seen(world)
    wait_for("the manual close's fill", lambda: pos.status == "closed", lambda: seen(world))
    strategy.poll_once()  # nothing more to do: the request ended
    assert len(close_orders(world)) == 2, seen(world)
    assert [r["detail"] for r in manual_lines(world)] == [waits["detail"]], seen(world)
    assert world.services.account.take_closes(STRATEGY) == []
    assert broker.open_orders() == []


def test_a_manual_close_waits_while_a_close_works_and_ends_when_that_close_fills(
    world: World,  # noqa: F811
) -> None:
    strategy, _legs, _natural = open_then_leave_a_close_working(world)
    pos = strategy.book.positions[PID]
    oid = f"{PID}.2"
    assert oid in strategy.book.working_orders()
    ask_to_close(world, strategy)
    for _ in range(3):  # polls while the close works at TWS: nothing sent, said once
        strategy.poll_once()
    assert [o["order_id"] for o in close_orders(world)] == [oid], seen(world)
    [waits] = manual_lines(world)
    assert "waits" in waits["detail"] and f"order {oid} " in waits["detail"], waits
    assert "cancel was not confirmed" in waits["detail"], waits
    asked = world.services.account.take_closes(STRATEGY)  # still asked: it was put back
    assert [r.position_id for r in asked] == [PID], (asked, seen(world))
    world.services.account.request_close(STRATEGY, PID, asked[0].reason, asked[0].by)
    # the working close fills at TWS; the next poll's catch-up journals it, then the request ends
    broker = world.services.broker
    assert world.fake.release_held() == 1
    wait_for("the fill at TWS", lambda: broker.open_orders() == [], broker.open_orders)
    clock = world.market.clock
    clock.sleep_until(clock.now() + world.services.cycle.interval)  # the catch-up is due
    strategy.poll_once()
    assert pos.status == "closed", seen(world)
    assert [o["order_id"] for o in close_orders(world)] == [oid], seen(world)  # nothing sent
    details = [r["detail"] for r in manual_lines(world)]
    assert details[0] == waits["detail"] and len(details) == 2, seen(world)
    assert "no longer open" in details[1], seen(world)
    assert world.services.account.take_closes(STRATEGY) == []
    strategy.poll_once()
    assert len(manual_lines(world)) == 2 and len(close_orders(world)) == 1, seen(world)
