"""Composition root of the engine: build the shared services for the simulated market or IBKR."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from seeker.agents.risk_guard import RiskGuard
from seeker.core.calendar import MarketCalendars
from seeker.core.clock import Clock, SimClock
from seeker.core.journal import SYSTEM_FOLDER
from seeker.engine.resume import latest_journal_time
from seeker.engine.services import Services

if TYPE_CHECKING:
    from seeker.config.root import SeekerConfig
    from seeker.core.ibkr.gate import HistoryPacer

SIM_STATE_FILE = Path(SYSTEM_FOLDER) / "sim_state.json"


def session_end(calendars: MarketCalendars, start: datetime, sessions: int) -> datetime:
    """Return the close of the `sessions`-th session counted from the one at or after `start`."""
    first = calendars.next_union_open(start)
    days = calendars.union_sessions(first.date(), first.date() + timedelta(days=sessions * 2 + 30))
    if len(days) < sessions:
        raise ValueError(f"the calendar range does not hold {sessions} sessions after {first}")
    span = calendars.union_session(days[sessions - 1])
    assert span is not None
    return span[1]


def build_sim_services(
    config: SeekerConfig,
    log_root: Path,
    days: int | None,
    emit: Callable[[str], None] = print,
    shadow: bool = False,
    speed: float | None = None,
) -> Services:
    """Build the services for the embedded simulated market."""
    from seeker.core.sim.broker import SimBroker
    from seeker.core.sim.market import SimMarket, sim_calendar_span

    sim = config.sim
    if sim is None:
        raise ValueError('sim: required key is missing (broker.kind = "sim")')
    listings = config.listings()
    codes = {lst.calendar for lst in listings.values()}
    start_day: date = sim.start
    lo, hi = sim_calendar_span(sim, start_day + timedelta(days=366 * 3))
    calendars = MarketCalendars(codes, lo, hi)
    market = SimMarket(sim, listings, calendars, dict(config.rates))
    commissions = config.commission_schedules()
    broker = SimBroker(
        market,
        listings,
        commissions,
        sim.fill_probability_at_mid,
        sim.seed,
        config.account.base_currency,
        {config.account.capital_currency: config.account.capital},
        state_path=log_root / SIM_STATE_FILE,
    )
    resumed = broker.load_state()
    start = resumed if resumed is not None else market.start_time
    written = latest_journal_time(log_root)
    if written is not None and written > start:  # the clock file was lost: never go back
        start = written
    market.advance_to(start)
    end = session_end(calendars, start, days) if days is not None else None
    clock = SimClock(
        start,
        calendars,
        speed=None if days is not None else (speed or sim.speed),
        end=end,
        on_advance=broker.on_time,
    )
    broker.connect()
    guard = RiskGuard(config.caps())
    services = Services(
        config=config,
        listings=listings,
        calendars=calendars,
        clock=clock,
        broker=broker,
        risk_guard=guard,
        shadow_guard=RiskGuard(config.caps()),
        commissions=commissions,
        log_root=log_root,
        emit=emit,
        shadow=shadow,
    )
    broker.on_fault = services.record_fault
    return services


def build_ibkr_services(
    config: SeekerConfig,
    log_root: Path,
    live: bool,
    emit: Callable[[str], None] = print,
    shadow: bool = False,
    clock: Clock | None = None,
    pacer: HistoryPacer | None = None,
) -> Services:
    """Build the services for TWS / IB Gateway; refuse live trading without both opt-ins.

    The port is checked before any connection; the account after connecting (the broker
    disconnects and raises LiveTradingRefused). The clock follows the broker's time, unless one
    is given; `pacer` replaces IB's history pacing. Both exist for tests against a simulated TWS,
    whose days pass in seconds.
    """
    from seeker.core.clock import BrokerClock
    from seeker.core.ibkr.broker import IBKRBroker
    from seeker.core.ibkr.safety import LiveTradingRefused, live_problem

    b = config.broker
    problem = live_problem(b.port, "", b.allow_live, live)
    if problem:
        raise LiveTradingRefused(problem)
    if config.ibkr is None:
        raise ValueError('ibkr: required key is missing (broker.kind = "ibkr")')
    listings = config.listings()
    broker = IBKRBroker(
        config.ibkr,
        listings,
        host=b.host,
        port=b.port,
        client_id=b.client_id,
        allow_live=b.allow_live,
        live=live,
        pacer=pacer,
    )
    broker.connect()
    if clock is None:
        clock = BrokerClock(broker.server_time)
    today = clock.now().date()
    calendars = MarketCalendars(
        {lst.calendar for lst in listings.values()},
        today - timedelta(days=int(config.regime.sessions_needed * 1.6) + 60),
        today + timedelta(days=400),
    )
    services = Services(
        config=config,
        listings=listings,
        calendars=calendars,
        clock=clock,
        broker=broker,
        risk_guard=RiskGuard(config.caps()),
        shadow_guard=RiskGuard(config.caps()),
        commissions=config.commission_schedules(),
        log_root=log_root,
        emit=emit,
        shadow=shadow,
    )
    broker.add_reconnect_listener(lambda epoch: services.cycle.after_reconnect(services, epoch))
    return services
