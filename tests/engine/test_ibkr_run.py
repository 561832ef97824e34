"""Seeker's IBKR path end to end: strategies → IBKRBroker → ib_async → fake TWS → SimBroker.

The fake TWS serves the simulated market; Seeker's strategies and the fake share one simulated
clock (time moves when every strategy sleeps), so sessions pass quickly while ib_async, the
gateway thread and the wire protocol run for real on 127.0.0.1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from seeker.config.loading import validate_config
from seeker.config.root import SeekerConfig
from seeker.core.broker import ConnectionState
from seeker.core.clock import Clock
from seeker.core.execution import OrderPlan, combo_natural
from seeker.core.ibkr.gate import HistoryPacer
from seeker.core.journal import read_events
from seeker.core.models import Leg
from seeker.engine.runner import run_strategies
from seeker.engine.services import Services
from seeker.engine.wiring import build_ibkr_services, build_sim_services
from seeker.strategies.iron_condor import IronCondor
from tests.fake_tws import FakeTWS
from tests.support import ROOT, condor_legs, seeker, shipped, strategy_config_models, write_config
from tests.tws_support import WireGuard

UNIVERSE = ["INTC", "IWM", "SOFI", "TD", "TD.TO"]


@dataclass
class World:
    """A simulated market behind a fake TWS, and Seeker's services connected to it by IBKR."""

    market: Services
    fake: FakeTWS
    services: Services
    logs: Path


def _config(port: int, **ibkr: float) -> Any:
    data = shipped()
    data["broker"]["kind"] = "ibkr"
    data["broker"]["port"] = port
    data["strategies"]["iron_condor"]["underlyings"] = UNIVERSE
    cfg = validate_config(data, strategy_config_models(), ROOT / "config")
    # The fake has no pacing limit: lift IB's 50 messages/s and 60 history requests per 10 min
    # (both validated for real TWS) so that simulated sessions pass in seconds. Everything else
    # is the shipped [ibkr] table, but for the `ibkr` settings a test gives.
    fast = cfg.ibkr.model_copy(
        update={
            "max_messages_per_second": 5000,
            "history_requests_per_10_minutes": 100_000,
            **ibkr,
        }
    )
    return cfg.model_copy(update={"ibkr": fast})


def ibkr_services(config: SeekerConfig, logs: Path, clock: Clock) -> Services:
    """Return paper IBKR services on the fake TWS's clock (a start or a restart of Seeker).

    The simulated TWS's days pass in seconds: IB's history pacing (no identical request within
    15 s), which a real TWS needs, is relaxed.
    """
    return build_ibkr_services(
        config,
        logs,
        live=False,
        emit=lambda _m: None,
        clock=clock,
        pacer=HistoryPacer(100_000, identical_seconds=0.0),
    )


@contextmanager
def open_world(tmp_path: Path, days: int, **ibkr: float) -> Iterator[World]:
    """Start a simulated market of `days` sessions, a fake TWS on it, and Seeker's IBKR services
    (on the shipped [ibkr] settings but for the fake's lifted pacing and the `ibkr` given)."""
    sim_cfg = validate_config(shipped(), strategy_config_models(), ROOT / "config")
    market = build_sim_services(sim_cfg, tmp_path / "exchange", days=days, emit=lambda _m: None)
    fake = FakeTWS(market.broker, market.listings, clock=market.clock.now)
    fake.start_background()
    logs = tmp_path / "logs"
    services = ibkr_services(_config(fake.port, **ibkr), logs, market.clock)
    try:
        yield World(market, fake, services, logs)
    finally:
        services.broker.close()
        services.close_journals()
        fake.close()


@pytest.fixture
def world(tmp_path: Path, wire_guard: WireGuard) -> Iterator[World]:
    with open_world(tmp_path, days=10) as w:
        yield w


def test_ibkr_iron_condor_trades_for_several_sessions(
    tmp_path: Path, wire_guard: WireGuard
) -> None:
    # 6 sessions: decisions on at least 5 of them, the first condor opens on the second
    with open_world(tmp_path, days=6) as world:
        result = run_strategies(world.services, ["iron_condor"], tick_seconds=0.05)
        reconciled = world.services.reconcile("test")
    assert result.stopped_cleanly and result.states == {"iron_condor": "stopped"}
    folder = world.logs / "iron_condor"
    decisions = read_events(folder, ["DECISION"])
    days = {d["ts"][:10] for d in decisions}
    assert len(days) >= 5, days
    assert all(d["market_data"] == "live" for d in decisions)
    fills = read_events(folder, ["FILL"])
    opened = [f for f in fills if f["intent"] == "open"]
    assert opened, [(d["ts"][:10], d["underlying"], d["reason"][:90]) for d in decisions]
    # every combo fill carries the commissions of its four legs, in the listing's currency
    for f in opened:
        assert len(f["legs"]) == 4
        assert f["commission"] == pytest.approx(sum(leg["commission"] for leg in f["legs"]))
        assert all(leg["commission"] > 0 and leg["exec_id"] for leg in f["legs"])
    # the broker holds exactly what the journal says
    assert reconciled == []


def test_ibkr_dropped_connection_stops_entries_then_reconnects_and_resumes(
    tmp_path: Path, wire_guard: WireGuard
) -> None:
    # 5 sessions: the drop comes on the third (7 January, 10:30), entries resume after it
    with open_world(tmp_path, days=5) as world:
        broker = world.services.broker
        states: list[ConnectionState] = []
        dropped = threading.Event()

        def drop_once(_t: object) -> None:
            if not dropped.is_set():
                now = world.market.clock.now()
                if now.day >= 7 and now.hour >= 10 and now.minute >= 30:
                    dropped.set()
                    world.fake.drop_connections(refuse_for=1.0)
                    deadline = time.monotonic() + 5.0  # let the adapter notice before the next poll
                    while broker.connection_state() == ConnectionState.CONNECTED:
                        assert time.monotonic() < deadline, "the drop went unnoticed"
                        time.sleep(0.01)
                    states.append(broker.connection_state())
                return
            # simulated time would outrun the real-time reconnect: hold it until the broker is back
            deadline = time.monotonic() + 30.0
            while (
                broker.connection_state() != ConnectionState.CONNECTED
                and time.monotonic() < deadline
            ):
                time.sleep(0.05)

        world.market.clock.add_listener(drop_once)
        result = run_strategies(world.services, ["iron_condor"], tick_seconds=0.05)
        assert result.stopped_cleanly
        assert dropped.is_set() and states == [ConnectionState.RECONNECTING]
        assert broker.connection_state() == ConnectionState.CONNECTED
        assert broker.connection_epoch >= 2  # type: ignore[attr-defined]
        folder = world.logs / "iron_condor"
        risk = read_events(folder, ["RISK"])
        stopped = [r for r in risk if r["rule"] == "broker_disconnected"]
        resumed = [r for r in risk if r["rule"] == "broker_connected"]
        assert stopped and resumed and resumed[0]["ts"] >= stopped[0]["ts"], risk
        decisions = read_events(folder, ["DECISION"])
        assert not [d for d in decisions if stopped[0]["ts"] < d["ts"] < resumed[0]["ts"]]
        assert [d for d in decisions if d["ts"] > resumed[0]["ts"]], "entries did not resume"
        # the reconnect reconciled the journal with IB's positions: nothing differed
        assert not [
            r
            for r in read_events(world.logs / "_seeker", ["RISK"])
            if r["rule"] == "reconciliation"
        ]


def test_ibkr_live_port_is_refused_before_connecting(tmp_path: Path) -> None:
    data = shipped()
    data["broker"]["kind"] = "ibkr"
    data["broker"]["port"] = 7496
    cfg = write_config(tmp_path, data)
    res = seeker(
        "run",
        "iron_condor",
        "--config",
        str(cfg),
        "--log-dir",
        str(tmp_path / "logs"),
        cwd=tmp_path,
    )
    assert res.returncode == 2
    assert "live" in res.stderr and "7496" in res.stderr
    assert not (tmp_path / "logs").exists()
    data["broker"]["allow_live"] = True
    cfg = write_config(tmp_path, data)
    res = seeker(
        "run",
        "iron_condor",
        "--config",
        str(cfg),
        "--log-dir",
        str(tmp_path / "logs"),
        cwd=tmp_path,
    )
    assert res.returncode == 2 and "--live" in res.stderr


def _plan(strategy: Any, pid: str, intent: str, legs: tuple[Leg, ...], price: float) -> OrderPlan:
    listing = strategy.services.listings[legs[0].contract.listing_id]
    return OrderPlan(
        position_id=pid,
        order_id=f"{pid}.{1 if intent == 'open' else 2}",
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


def test_ibkr_restart_adopts_positions_and_working_orders(world: World) -> None:
    """The broker object is thrown away with a close order working; nothing is lost or re-sent."""
    clock = world.market.clock
    clock.sleep_until(clock.now() + timedelta(hours=1))  # no strategy thread: the test drives time
    cfg = world.services.config
    first = IronCondor(world.services, cfg.strategies.iron_condor)
    first.setup()
    broker = world.services.broker
    expiry = next(e for e in broker.expiries("IWM") if (e - clock.now().date()).days >= 35)
    spot = broker.underlying_quote("IWM").mid
    chain = broker.option_chain("IWM", [expiry], (spot * 0.8, spot * 1.2))
    legs = condor_legs(chain, expiry, spot, 0.05)
    quotes = [
        chain.quote(leg.contract.expiry, leg.contract.strike, leg.contract.right) for leg in legs
    ]
    natural = combo_natural(legs, quotes)  # type: ignore[arg-type]
    pid = "ic-20260105-901"
    first.executor.work(_plan(first, pid, "open", legs, round(natural + 0.05, 2)))
    assert first.book.positions[pid].open_qty == 1
    world.fake.withhold_fills(True)
    closing = tuple(leg.reversed() for leg in legs)
    working = first.executor.work(_plan(first, pid, "close", closing, round(-natural + 0.30, 2)))
    assert working is not None and not working.status.is_done
    broker.close()  # thrown away mid-position: the close order stays working at TWS

    services = ibkr_services(cfg, world.logs, clock)
    try:
        second = IronCondor(services, cfg.strategies.iron_condor)
        second.setup()
        folder = world.logs / "iron_condor"
        statuses = read_events(folder, ["ORDER_STATUS"])
        assert [s["status"] for s in statuses if s["order_id"] == f"{pid}.2"][-1] == "adopted"
        assert second.book.positions[pid].open_qty == 1  # the position was rebuilt, still open
        assert services.reconcile("restart") == []
        # the order fills at TWS while adopted; the next poll journals the fill exactly once
        world.fake.release_held()
        clock.sleep_until(clock.now() + timedelta(minutes=2))
        deadline = time.monotonic() + 10
        while second.book.positions[pid].open_qty and time.monotonic() < deadline:
            second.adoption.follow_adopted()
            time.sleep(0.05)
        assert second.book.positions[pid].open_qty == 0
        orders = read_events(folder, ["ORDER"])
        assert [o["order_id"] for o in orders] == [f"{pid}.1", f"{pid}.2"]  # nothing re-sent
        fills = read_events(folder, ["FILL"])
        assert sorted(f["intent"] for f in fills) == ["close", "open"]
        assert len({f["fill_id"] for f in fills}) == 2
        legs_filled = read_events(folder, ["FILL"], legs=True)
        assert sum(f.get("kind") == "leg" for f in legs_filled) == 8
        assert services.reconcile("after") == []
        assert services.risk_guard.held(pid) is None
    finally:
        services.broker.close()
        services.close_journals()
