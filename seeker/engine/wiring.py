"""Composition root of the engine: build the shared services for the simulated market, IBKR, or
a replay of historical option chains."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from seeker.agents.risk_guard import RiskGuard
from seeker.core.broker import Broker
from seeker.core.calendar import MARKET_TZ, MarketCalendars
from seeker.core.clock import Clock, SimClock
from seeker.core.commissions import Commissions
from seeker.core.journal import SYSTEM_FOLDER
from seeker.core.models import Listing
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


def _services(
    config: SeekerConfig,
    listings: Mapping[str, Listing],
    calendars: MarketCalendars,
    clock: Clock,
    broker: Broker,
    commissions: Commissions,
    log_root: Path,
    emit: Callable[[str], None],
    shadow: bool,
) -> Services:
    """Return the services of one run: a Risk Guard for real trades, another for shadow ones."""
    return Services(
        config=config,
        listings=listings,
        calendars=calendars,
        clock=clock,
        broker=broker,
        risk_guard=RiskGuard(config.caps()),
        shadow_guard=RiskGuard(config.caps()),
        commissions=commissions,
        log_root=log_root,
        emit=emit,
        shadow=shadow,
    )


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
    services = _services(
        config, listings, calendars, clock, broker, commissions, log_root, emit, shadow
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
    services = _services(
        config,
        listings,
        calendars,
        clock,
        broker,
        config.commission_schedules(),
        log_root,
        emit,
        shadow,
    )
    broker.add_reconnect_listener(lambda epoch: services.cycle.after_reconnect(services, epoch))
    return services


REPLAY_STATE_FILE = Path(SYSTEM_FOLDER) / "replay_state.json"
CALENDAR_DAYS_AFTER = 400
"""Calendar days loaded past the replay's last day (expiries and events lie months ahead)."""


def replay_warmup_sessions(config: SeekerConfig) -> int:
    """Return the sessions of daily history needed before the first replayed day (regime, IV
    rank, correlation clusters)."""
    return max(config.regime.sessions_needed, config.clusters.window_sessions + 10)


def build_replay_services(
    config: SeekerConfig,
    log_root: Path,
    data: Path,
    first: date,
    last: date,
    emit: Callable[[str], None] = print,
    shadow: bool = False,
) -> Services:
    """Build the services for a replay of the chain store at `data`, quote dates `first`–`last`.

    The clock visits each quote date's decision time once (see ``core.replay.sessions``); the
    broker serves that snapshot and fills with the simulated broker's model; the process journal
    gets one SNAPSHOT line per quote date and a REGIME_CHECK line per listing and day. A replay
    that stopped early resumes from its state file in `log_root`. ValueError says what is wrong
    (no [replay] table, no store, no quote date in the window, a history file too short, a
    replay that already reached `last`).
    """
    from seeker.core.commissions import CommissionSchedule
    from seeker.core.replay.broker import FixedFx, ReplayBroker
    from seeker.core.replay.history import load_index_history, read_daily_csv
    from seeker.core.replay.market import ReplayListing, latest_quote_time
    from seeker.core.replay.sessions import ReplayCalendars, ReplayClock, snapshot_times
    from seeker.core.replay.store import ChainStore
    from seeker.engine.replay_journal import ReplayJournal, TermCheck, snapshot_rule

    rp = config.replay
    if rp is None or config.broker.kind != "replay":
        raise ValueError('a replay needs broker.kind = "replay" and a [replay] table')
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    try:
        store = ChainStore(data)
    except FileNotFoundError as exc:
        raise ValueError(f"{exc} (import chains with `seeker data import`)") from None
    held = store.quote_dates()
    days = [d for d in held if first <= d <= last]
    if not days:
        span = f"{held[0]} → {held[-1]}" if held else "no quote date"
        raise ValueError(f"{data}: no quote date from {first} to {last} (the store holds {span})")
    listings = config.listings()
    codes = {lst.calendar for lst in listings.values()}
    if len(codes) != 1:
        raise ValueError(f"a replay trades on one exchange calendar, the universe uses {codes}")
    (code,) = codes
    warmup = replay_warmup_sessions(config)
    lo = held[0] - timedelta(days=int(warmup * 1.6) + 60)
    # every held date is placed on the calendar, even past the window's last (a part of a store)
    hi = max(last, held[-1]) + timedelta(days=CALENDAR_DAYS_AFTER)
    snaps = snapshot_times(MarketCalendars(codes, lo, hi), code, held, rp.snapshot_time)
    histories = {}
    for lid, rl in rp.listings.items():
        h = rp.history[rl.underlying]
        try:
            histories[lid] = load_index_history(lid, h.bars_file, h.iv_file, days[0], last, warmup)
        except ValueError as exc:
            raise ValueError(f"replay.history.{rl.underlying}: {exc}") from None
    commissions = Commissions(
        {
            ccy: CommissionSchedule(
                ccy,
                config.commissions[ccy].per_contract,
                config.commissions[ccy].min_per_order,
                exchange_fee_per_contract=fee,
            )
            for ccy, fee in rp.exchange_fees.items()
        }
    )
    broker = ReplayBroker(
        store,
        {
            lid: ReplayListing(
                lid, rl.underlying, rl.root, listings[lid].currency, listings[lid].multiplier
            )
            for lid, rl in rp.listings.items()
        },
        histories,
        commissions,
        rp.fill_probability_at_mid,
        rp.seed,
        config.account.base_currency,
        {config.account.capital_currency: config.account.capital},
        snaps,
        FixedFx(rp.fx.pair, rp.fx.bid, rp.fx.ask),
        state_path=log_root / REPLAY_STATE_FILE,
        fx_commission_rate=config.fx.commission_rate,
        fx_min_commission=config.fx.min_commission,
    )
    calendars = ReplayCalendars(codes, lo, hi, {d: broker.market.times[d] for d in days})
    resumed = broker.load_state()
    start = datetime.combine(days[0], time(0, 0), MARKET_TZ)
    if resumed is not None:
        if resumed >= calendars.end_of_replay():
            raise ValueError(
                f"{log_root} holds a replay that already reached {resumed:%Y-%m-%d %H:%M}; "
                "pick another --log-dir (or a later --to)"
            )
        start = max(start, resumed)
    broker.advance_to(start)
    rules = {}
    for d in days:
        session = calendars.session(code, d)
        assert session is not None
        if latest_quote_time(store, d) is None:
            rules[d] = snapshot_rule(rp.snapshot_time, snaps[d], session.close.timetz())
    checks = {
        name: TermCheck(read_daily_csv(h.iv_file, False), read_daily_csv(h.iv_3m_file, False))
        for name, h in rp.history.items()
        if h.iv_3m_file is not None
    }
    clock = ReplayClock(start, calendars, on_advance=broker.on_time)
    broker.connect()
    services = _services(
        config, listings, calendars, clock, broker, commissions, log_root, emit, shadow
    )
    notes = ReplayJournal(
        lambda: services.journal(SYSTEM_FOLDER), broker, rules, checks, config.regime
    )
    clock.add_listener(notes.on_time)
    services.regime_observer = notes.on_regime
    return services
