"""Shared services of one Seeker process, built from the config before any strategy starts."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from seeker.agents.clusters import ClusterTracker
from seeker.agents.risk_guard import Caps, RiskGuard
from seeker.core.broker import Broker
from seeker.core.calendar import MarketCalendars
from seeker.core.clock import Clock, SimClock
from seeker.core.commissions import Commissions, CommissionSchedule
from seeker.core.journal import SYSTEM_FOLDER, Journal
from seeker.core.models import DailyHistory, DataUnavailable, Listing

SIM_STATE_FILE = Path(SYSTEM_FOLDER) / "sim_state.json"


@dataclass
class Services:
    """Everything strategies share: config, market access, time, risk and journals."""

    config: Any
    listings: dict[str, Listing]
    calendars: MarketCalendars
    clock: Clock
    broker: Broker
    risk_guard: RiskGuard
    shadow_guard: RiskGuard
    commissions: Commissions
    log_root: Path
    emit: Callable[[str], None] = print
    shadow: bool = False
    blocked_underlyings: dict[str, str] = field(default_factory=dict)
    _journals: dict[str, Journal] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _histories: dict[tuple[str, int], tuple[date, DailyHistory]] = field(default_factory=dict)
    _history_lock: threading.Lock = field(default_factory=threading.Lock)
    clusters: ClusterTracker = field(init=False)

    def __post_init__(self) -> None:
        c = self.config.clusters
        self.clusters = ClusterTracker(
            self.history, list(self.listings), c.window_sessions, c.distance_threshold, c.linkage
        )

    def history(self, listing_id: str, sessions: int) -> DailyHistory:
        """Return daily bars and IV, fetched from the broker at most once per listing and day."""
        today = self.clock.now().date()
        key = (listing_id, sessions)
        with self._history_lock:
            hit = self._histories.get(key)
            if hit is not None and hit[0] == today:
                return hit[1]
        h = self.broker.history(listing_id, sessions)
        with self._history_lock:
            self._histories[key] = (today, h)
        return h

    def clock_expect(self, names: Iterable[str]) -> None:
        """Tell a simulated clock which participants to wait for before time moves."""
        if isinstance(self.clock, SimClock):
            self.clock.expect(names)

    def journal(self, name: str) -> Journal:
        """Return the journal of a strategy (or of the process, ``_seeker``), one per name."""
        with self._lock:
            j = self._journals.get(name)
            if j is None:
                j = Journal(self.log_root, name, self.clock.now)
                self._journals[name] = j
            return j

    def close_journals(self) -> None:
        """Flush and close every journal."""
        with self._lock:
            for j in self._journals.values():
                j.close()

    def to_capital(self, amount: float, currency: str) -> float:
        """Convert an amount into the capital currency at the USD.CAD mid (missing → refuse)."""
        target = self.config.account.capital_currency
        if currency == target:
            return amount
        q = self.broker.fx_quote("USD.CAD")
        if not (math.isfinite(q.bid) and math.isfinite(q.ask)) or q.bid <= 0 or q.bid > q.ask:
            raise DataUnavailable(f"USD.CAD quote unusable ({q.bid}/{q.ask})")
        if currency == "CAD" and target == "USD":
            return amount / q.mid
        if currency == "USD" and target == "CAD":
            return amount * q.mid
        raise DataUnavailable(f"no conversion from {currency} to {target}")

    def reconcile(self, reason: str) -> list[str]:
        """Compare journal positions with the broker's; block underlyings that differ.

        Every mismatch is a RISK line in the process journal; underlyings found clean are
        unblocked. Return the mismatches as text.
        """
        from seeker.core.journal import strategy_folders
        from seeker.core.reconcile import mismatches

        found = mismatches(
            self.log_root, strategy_folders(self.log_root, shadow=False), self.broker
        )
        blocked: dict[str, str] = {}
        for m in found:
            symbol = (
                self.listings[m.contract.listing_id].symbol
                if m.contract.listing_id in self.listings
                else m.contract.listing_id
            )
            blocked[symbol] = f"reconciliation mismatch ({reason}): {m}"
        system = self.journal(SYSTEM_FOLDER)
        for m in found:
            system.write(
                "RISK", strategy=None, position_id=None, rule="reconciliation", detail=str(m)
            )
            self.emit(f"RISK reconciliation ({reason}): {m}; no new entry on that underlying")
        with self._lock:
            self.blocked_underlyings.clear()
            self.blocked_underlyings.update(blocked)
        return [str(m) for m in found]

    def caps(self) -> Caps:
        """Return the Risk Guard's caps."""
        return self.risk_guard.caps


def make_caps(config: Any) -> Caps:
    """Return the five caps in $ from the config."""
    r = config.risk
    return Caps.from_pcts(
        config.account.capital,
        r.max_per_trade_pct,
        r.max_portfolio_pct,
        r.max_sector_pct,
        r.max_corr_cluster_pct,
        r.max_per_underlying_pct,
    )


def make_commissions(config: Any) -> Commissions:
    """Return the commission schedules of the config."""
    return Commissions(
        {
            ccy: CommissionSchedule(ccy, c.per_contract, c.min_per_order)
            for ccy, c in config.commissions.items()
        }
    )


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
    config: Any,
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
    listings = config.listings()
    codes = {lst.calendar for lst in listings.values()}
    start_day: date = sim.start
    lo, hi = sim_calendar_span(sim, start_day + timedelta(days=366 * 3))
    calendars = MarketCalendars(codes, lo, hi)
    market = SimMarket(sim, listings, calendars, dict(config.rates))
    commissions = make_commissions(config)
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
    guard = RiskGuard(make_caps(config))
    services = Services(
        config=config,
        listings=listings,
        calendars=calendars,
        clock=clock,
        broker=broker,
        risk_guard=guard,
        shadow_guard=RiskGuard(make_caps(config)),
        commissions=commissions,
        log_root=log_root,
        emit=emit,
        shadow=shadow,
    )
    return services
