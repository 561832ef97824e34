"""Shared services of one Seeker process, built from the config before any strategy starts."""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seeker.agents.clusters import ClusterTracker
from seeker.agents.event_risk import EventRisk
from seeker.agents.fx_router import FxRouter
from seeker.agents.regime import Regime, classify, surface_points, term_expiries
from seeker.agents.risk_guard import Caps, RiskGuard
from seeker.core.broker import Broker
from seeker.core.calendar import MarketCalendars
from seeker.core.clock import Clock, SimClock
from seeker.core.commissions import Commissions
from seeker.core.decision_lines import REGIME_EVENT, regime_ref
from seeker.core.journal import (
    SYSTEM_FOLDER,
    Journal,
    JournalWriteError,
    regimes_of,
    to_jsonable,
)
from seeker.core.models import DailyHistory, DataUnavailable, Listing
from seeker.engine.account_watch import AccountWatch
from seeker.engine.ledger import JournalLedger
from seeker.engine.order_log import OrderLog
from seeker.engine.reconcile import mismatches
from seeker.engine.recovery import ReconcileCycle

if TYPE_CHECKING:
    from seeker.config.root import SeekerConfig

log = logging.getLogger(__name__)

LineObserver = Callable[[str, Mapping[str, Any]], None]
"""Called with (journal name, line) after each journal line is written, in the writing thread."""


@dataclass
class Services:
    """Everything strategies share: config, market access, time, risk and journals."""

    config: SeekerConfig
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
    regime_observer: Callable[[Regime], None] | None = None
    """Called once with each regime classified (the replay journals its cross-checks there)."""
    blocked_underlyings: dict[str, str] = field(default_factory=dict)
    _journals: dict[str, Journal] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _histories: dict[str, tuple[date, DailyHistory]] = field(default_factory=dict)
    _tails: dict[tuple[str, int], tuple[DailyHistory, DailyHistory]] = field(default_factory=dict)
    """(the day's history it was cut from, the last n sessions) by listing and n."""
    _regimes: dict[str, tuple[date, Regime | str]] = field(default_factory=dict)
    _regime_refs: dict[int, str] = field(default_factory=dict)
    """The journaled reference of each regime classified by this process (by object id)."""
    _journaled_regimes: dict[str, Mapping[str, Any]] | None = None
    _history_lock: threading.Lock = field(default_factory=threading.Lock)
    recent: deque[tuple[str, dict[str, Any]]] = field(default_factory=lambda: deque(maxlen=300))
    """The latest journal lines of every journal, newest last (for the dashboard)."""
    observers: list[LineObserver] = field(default_factory=list)
    """Told of every journal line (the account's errors failsafe, alerts); must never block."""
    order_log: OrderLog = field(default_factory=OrderLog)
    """Turns the journal's order lines into plain-log messages (one place for all of them)."""
    clusters: ClusterTracker = field(init=False)
    event_risk: EventRisk = field(init=False)
    fx_router: FxRouter = field(init=False)
    account: AccountWatch = field(init=False)
    ledger: JournalLedger = field(init=False)
    """Every strategy's journal, read incrementally (reconciliation, checks before a close)."""
    cycle: ReconcileCycle = field(init=False)
    """The regular reconciliation cycle and the running strategies that own their journals."""
    faults: list[str] = field(default_factory=list)
    """Durable writes that failed (journal, broker state): trading stopped because of them."""

    def __post_init__(self) -> None:
        c = self.config.clusters
        self.clusters = ClusterTracker(
            self.history, list(self.listings), c.window_sessions, c.distance_threshold, c.linkage
        )
        events = self.config.events
        self.event_risk = EventRisk(events, events.load_calendar(), self.calendars)
        self.fx_router = FxRouter(self.config.fx, self.config.account.capital_currency, self.broker)
        self.account = AccountWatch(self)
        self.observers.append(self.account.note_line)
        self.ledger = JournalLedger(self.log_root)
        every = timedelta(minutes=self.config.runtime.reconcile_interval_minutes)
        self.cycle = ReconcileCycle(every)

    def record_fault(self, message: str) -> None:
        """Stop trading after a durable write failed: no new order, every strategy winds down.

        Strategies stop at their next sleep (working entries are cancelled then); the run ends
        with a non-zero exit code; what the broker did meanwhile is recovered at the next start.
        """
        with self._lock:
            first = not self.faults
            self.faults.append(message)
        if first:
            self.clock.stop()

    def _journal_fault(self, exc: JournalWriteError) -> None:
        self.record_fault(f"journal write failed: {exc}")

    def currency_exposure(self) -> dict[str, float]:
        """Return committed risk by the currency of the listings that carry it ($ capital ccy)."""
        out: dict[str, float] = {}
        for r in self.risk_guard.reservations():
            ccy = self.listings[r.listing_id].currency if r.listing_id in self.listings else "?"
            out[ccy] = out.get(ccy, 0.0) + r.risk
        return out

    def _remember(self, journal: str, line: Mapping[str, Any]) -> None:
        """Keep the latest journal lines for the dashboard (a bounded, thread-safe deque), say
        what became of each order in the plain log (``seeker.engine.order_log``) and tell the
        observers (one that raises is logged, never lets the writer fail)."""
        self.recent.append((journal, dict(line)))
        message = self.order_log.describe(journal, line)
        if message is not None:
            self.emit(message)
        for observe in list(self.observers):
            try:
                observe(journal, line)
            except Exception:
                log.exception("a journal observer failed on a %s line", line.get("event"))

    def history(self, listing_id: str, sessions: int) -> DailyHistory:
        """Return the last `sessions` daily bars with IV, fetched at most once per listing and day.

        The broker is asked once a day for as many sessions as any agent needs; smaller requests
        are slices of that.
        """
        today = self.clock.now().date()
        key = (listing_id, sessions)
        with self._history_lock:
            hit = self._histories.get(listing_id)
            cut = self._tails.get(key)
        if hit is None or hit[0] != today or len(hit[1]) < sessions:
            h = self.broker.history(listing_id, max(sessions, self.history_sessions()))
            with self._history_lock:
                self._histories[listing_id] = (today, h)
        else:
            h = hit[1]
            if cut is not None and cut[0] is h:
                return cut[1]
        if len(h) < sessions:
            raise DataUnavailable(f"{listing_id}: {len(h)} sessions of history, {sessions} needed")
        tail = _tail(h, sessions)
        with self._history_lock:
            self._tails[key] = (h, tail)
        return tail

    def history_sessions(self) -> int:
        """Return how many sessions of history the agents need (regime, clusters)."""
        return max(self.config.regime.sessions_needed, self.config.clusters.window_sessions + 1)

    def regime(self, listing_id: str) -> Regime:
        """Return today's regime of a listing, classified once per listing and day."""
        today = self.clock.now().date()
        with self._history_lock:
            hit = self._regimes.get(listing_id)
        if hit is not None and hit[0] == today:
            if isinstance(hit[1], str):
                raise DataUnavailable(hit[1])
            return hit[1]
        try:
            result: Regime | str = self._classify(listing_id, today)
        except DataUnavailable as exc:
            result = str(exc)
        with self._history_lock:
            self._regimes[listing_id] = (today, result)
            if not isinstance(result, str) and self.config.runtime.decision_lines == "compact":
                self._journal_regime(result)
        if isinstance(result, str):
            raise DataUnavailable(result)
        if self.regime_observer is not None:
            self.regime_observer(result)
        return result

    def _journal_regime(self, regime: Regime) -> None:
        """Write a REGIME line the compact DECISION lines refer to (under the history lock)."""
        if self._journaled_regimes is None:
            self._journaled_regimes = regimes_of(self.log_root)
        measures = to_jsonable(regime.as_dict())
        ref = regime_ref(measures, self._journaled_regimes)
        self._regime_refs[id(regime)] = ref
        if ref not in self._journaled_regimes:
            self._journaled_regimes[ref] = measures
            self.journal(SYSTEM_FOLDER).write(REGIME_EVENT, ref=ref, regime=measures)

    def regime_reference(self, regime: Regime) -> str | None:
        """Return the journaled reference of a regime this process classified (None: unknown)."""
        with self._history_lock:
            return self._regime_refs.get(id(regime))

    def _classify(self, listing_id: str, today: date) -> Regime:
        cfg = self.config.regime
        history = self.history(listing_id, cfg.sessions_needed)
        front, nxt = term_expiries(self.broker.expiries(listing_id), today, cfg)
        und = self.broker.underlying_quote(listing_id)
        iv = float(history.iv[-1])
        if not (math.isfinite(und.mid) and math.isfinite(iv) and iv > 0):
            raise DataUnavailable(f"{listing_id}: no spot or IV to size the surface request")
        # the front's 25-delta wings (put skew included) lie within ±1.5 σ√T of spot
        span = 1.5 * iv * math.sqrt(max((front - today).days, 1) / 365.0)
        chain = self.broker.option_chain(
            listing_id, [front, nxt], (und.mid * math.exp(-span), und.mid * math.exp(span))
        )
        return classify(listing_id, history, surface_points(chain, today, cfg), cfg)

    def clock_expect(self, names: Iterable[str]) -> None:
        """Tell a simulated clock which participants to wait for before time moves."""
        if isinstance(self.clock, SimClock):
            self.clock.expect(names)

    def journal(self, name: str) -> Journal:
        """Return the journal of a strategy (or of the process, ``_seeker``), one per name."""
        with self._lock:
            j = self._journals.get(name)
            if j is None:
                j = Journal(
                    self.log_root, name, self.clock.now, self._remember, self._journal_fault
                )
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

    def reconcile(self, reason: str, since: datetime | None = None) -> list[str]:
        """Compare journal positions with the broker's; block underlyings that differ.

        Every mismatch is a RISK line in the process journal; underlyings found clean are
        unblocked. Return the mismatches as text. Executions of our orders that no journal holds
        yet are looked for from `since` (all when None).
        """
        names = self.ledger.strategy_names()
        found = mismatches(self.log_root, names, self.broker, self.ledger, since)
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


def _tail(h: DailyHistory, n: int) -> DailyHistory:
    """Return the last `n` sessions of a history."""
    if len(h) == n:
        return h
    return DailyHistory(
        h.listing_id, h.dates[-n:], h.open[-n:], h.high[-n:], h.low[-n:], h.close[-n:], h.iv[-n:]
    )
