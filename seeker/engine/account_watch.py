"""The account watch: equity, the caps' basis, the account's limits and a person's holds, shared
by every strategy thread.

Each strategy calls :meth:`AccountWatch.check` at the start of its poll. The watch measures the
account from the broker (cash + positions at mid and at the natural, in the capital currency),
starts a new session at the day's first measurement (the daily loss limit's reference and the
caps' basis), and lets the limits trip. It journals, in ``_seeker/account.jsonl``:

* one **EQUITY** line per distinct measurement — each poll time at least once, again at the same
  time when a fill changed cash or positions — with the figures, the peak, the drawdown, the
  day's P&L, the caps' basis and the limits tripped: the account's equity curve. They are derived
  lines, written in batches (one fsync) at each new session, before any LIMIT line, every
  ``EQUITY_BATCH`` lines and when the run stops (:meth:`AccountWatch.flush`): a crash may lose
  the marks of the session under way, never a trip;
* one **LIMIT** line per trip or reset, with the equity figures, written at once.

The broker is never called with the watch's lock held (a broker thread may journal, and the
journal's observers take the lock). A measurement that cannot be made (a held contract without a
usable quote) leaves the equity unknown: real strategies open nothing until it is known again.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seeker.agents.account import (
    AccountFigures,
    AccountLimits,
    Hold,
    LimitEvent,
    LimitsState,
    load_state,
    measure,
    save_state,
)
from seeker.core.calendar import MARKET_TZ
from seeker.core.journal import SYSTEM_FOLDER, Journal
from seeker.core.margin import MarginBroker
from seeker.core.models import BrokerUnavailable, ComboOrder, DataUnavailable, Leg, order_ref
from seeker.engine.account_view import AccountReading, AccountView, account_status, account_view

if TYPE_CHECKING:
    from seeker.engine.services import Services

log = logging.getLogger(__name__)

ACCOUNT_STATE_FILE = Path(SYSTEM_FOLDER) / "account_state.json"
"""Where the limits' state survives restarts (peak, session reference, trips, holds)."""

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
"""A number in a problem's words (an age, a price): not part of what kind of problem it is."""


def problem_kind(problem: str) -> str:
    """Return a problem's words without their figures: what is journaled when it changes."""
    return _NUMBER.sub("#", problem)


EQUITY_BATCH = 64
"""EQUITY lines kept before they are written together."""

ERROR_STATUSES = frozenset({"rejected"})
"""ORDER_STATUS values the errors failsafe counts."""


@dataclass(frozen=True)
class CloseRequest:
    """A person's request to close one position (handed to its strategy's thread)."""

    position_id: str
    reason: str
    by: str
    at: datetime


class AccountWatch:
    """Measure the account, run its limits, keep a person's holds; thread-safe."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.cfg = services.config.limits
        self.path = services.log_root / ACCOUNT_STATE_FILE
        self.limits = AccountLimits(self.cfg, load_state(self.path))
        self._lock = threading.RLock()
        self._figures: AccountFigures | None = None
        self._key: tuple[Any, ...] | None = None
        self._journaled: tuple[Any, ...] | None = None
        self._session_at: datetime | None = None
        self._session_day: tuple[date, str] = (date.min, "")
        """The market day and session key of the time `_session_at` (asked by every poll)."""
        self._problem: str | None = None
        self._noted_problem: str | None = None
        self._closes: dict[str, list[CloseRequest]] = {}
        self._pending: list[dict[str, Any]] = []
        if self.cfg.funding == "margin" and not isinstance(services.broker, MarginBroker):
            raise ValueError(
                f'limits.funding = "margin" needs a broker that reports margin (IBKR); '
                f'the {services.broker.kind} broker has none: use funding = "cash"'
            )
        basis = self.limits.state.basis  # a restart within a session keeps that session's caps
        if basis is not None and self.cfg.capital_basis != "capital":
            self._apply_basis(min(basis, services.config.account.capital))

    @property
    def journal(self) -> Journal:
        """Return the process journal the watch writes to (``_seeker``)."""
        return self.services.journal(SYSTEM_FOLDER)

    # -- measuring ---------------------------------------------------------------------------
    def figures(self, now: datetime) -> AccountFigures:
        """Return the account measured now (reused while time, cash and positions are the same).

        DataUnavailable when it cannot be measured.
        """
        broker = self.services.broker
        try:
            snapshot = broker.account()
            positions = broker.positions()
        except BrokerUnavailable as exc:
            raise DataUnavailable(f"broker unavailable: {exc}") from None
        # the cash dict is the broker's copy, ours alone; positions are frozen (contract, qty,
        # cost) records, equal when their fields are (the same objects while the book is)
        key = (now, snapshot.cash, tuple(positions))
        with self._lock:
            if key == self._key and self._figures is not None:
                return self._figures
        settings = self.services.config
        try:
            figures = measure(
                broker,
                self.services.listings,
                self.services.to_capital,
                settings.account.capital_currency,
                now,
                settings.liquidity.max_quote_age_seconds,
                snapshot,
                positions,
            )
        except BrokerUnavailable as exc:
            raise DataUnavailable(f"broker unavailable: {exc}") from None
        with self._lock:
            self._key, self._figures = key, figures
        return figures

    def check(self, now: datetime) -> AccountFigures | None:
        """Measure the account, roll the session, let the limits trip; journal what changed.

        Return the figures, None when the account cannot be measured now.
        """
        try:
            figures = self.figures(now)
        except DataUnavailable as exc:
            self._unknown(now, str(exc))
            return None
        with self._lock:
            self._problem = self._noted_problem = None
            state = self.limits.state
            peak = state.peak
            events: list[LimitEvent] = []
            day, session = self._session_of(now)
            rolled = state.session != session
            if rolled:
                self.flush()
                capital = self.services.config.account.capital
                events += self.limits.new_session(day, figures, capital)
                if state.basis is not None:
                    self._apply_basis(state.basis)
            events += self.limits.assess(figures)
            key = (now, self._key)
            if key != self._journaled:
                self._journaled = key
                self._pending.append(self.journal.record("EQUITY", **self.equity_fields(figures)))
                if len(self._pending) >= EQUITY_BATCH:
                    self.flush()
            if events:
                self._journal_events(events)
            # what is saved changed: a new session (its reference, the basis), a trip, a new peak
            if rolled or events or state.peak is not peak:
                self._save()
        return figures

    def _session_of(self, now: datetime) -> tuple[date, str]:
        """Return the market day of `now` and its session key (ISO date), kept per time.

        Called with the lock held (every strategy asks at the same simulated time).
        """
        if now != self._session_at:
            day = now.astimezone(MARKET_TZ).date()
            self._session_at, self._session_day = now, (day, day.isoformat())
        return self._session_day

    def equity_fields(self, figures: AccountFigures) -> dict[str, Any]:
        """Return an EQUITY line's fields: the figures, what the limits measure, the basis."""
        state = self.limits.state
        measured = figures.as_dict()
        return {
            **measured,
            **{k: v for k, v in self.limits.figures(figures).items() if k not in measured},
            "basis": None if state.basis is None else round(state.basis, 2),
            "tripped": sorted(state.trips),
        }

    def flush(self) -> None:
        """Write the EQUITY lines kept so far (one fsync)."""
        with self._lock:
            pending, self._pending = self._pending, []
            if pending:
                self.journal.write_many(pending)

    def _unknown(self, now: datetime, problem: str) -> None:
        """Keep why the equity is unknown; journal it when the kind of problem changes.

        A problem's figures (a quote's age, a price) change every poll: the EQUITY line is written
        when its words change, not its numbers.
        """
        kind = problem_kind(problem)
        with self._lock:
            self._problem = problem
            if kind == self._noted_problem:
                return
            self._noted_problem = kind
            line = self.journal.record("EQUITY", equity=None, problem=problem)
            self._pending.append(line | {"tripped": sorted(self.limits.state.trips)})
            self.flush()
        self.services.emit(f"account: equity unknown ({problem}); no new entry until it is known")

    def _apply_basis(self, basis: float) -> None:
        caps = self.services.config.caps(basis)
        self.services.risk_guard.set_caps(caps)
        self.services.shadow_guard.set_caps(caps)

    def _journal_events(self, events: Iterable[LimitEvent]) -> None:
        for e in events:
            self.flush()
            self.journal.write(
                "LIMIT",
                change=e.change,
                limit=e.limit,
                action=e.action,
                by=e.by,
                reason=e.reason,
                **e.figures,
            )
            verb = "TRIPPED" if e.change == "trip" else "reset"
            what = f" ({e.action})" if e.change == "trip" else ""
            self.services.emit(f"account: {e.limit} limit {verb}{what}: {e.reason}")

    def _save(self) -> None:
        try:
            save_state(self.path, self.limits.state)
        except OSError as exc:  # the journal keeps the trip; say the file could not be kept
            log.error("account state not saved to %s: %s", self.path, exc)
            self.services.emit(f"account: state not saved to {self.path}: {exc}")

    # -- what strategies ask -----------------------------------------------------------------
    def entry_block(self, strategy: str, shadow: bool) -> str | None:
        """Return why a strategy may not open positions now, or None.

        A shadow strategy is stopped only by a person's holds, never by the account's limits.
        """
        with self._lock:
            if not shadow:
                if self._problem is not None:
                    return f"account equity unknown: {self._problem}"
                tripped = self.limits.tripped()
                if tripped is not None:
                    return tripped
            return self.limits.held(strategy)

    def flatten_reason(self, strategy: str, shadow: bool) -> str | None:
        """Return why every position of a strategy must be closed now, or None."""
        with self._lock:
            return self.limits.flatten_reason(strategy, trips=not shadow)

    def cash_for_risk(self, now: datetime) -> float | None:
        """Return the cash every open position's max loss must fit in ($, capital currency),
        None when funding is checked by the broker's margin; DataUnavailable when unknown."""
        if self.cfg.funding != "cash":
            return None
        figures = self.figures(now)
        if not math.isfinite(figures.cash_for_risk):
            raise DataUnavailable("the account's cash is not a number")
        return figures.cash_for_risk

    def margin_problem(
        self,
        strategy: str,
        position_id: str,
        listing_id: str,
        legs: tuple[Leg, ...],
        qty: int,
        limit: float,
    ) -> str | None:
        """Return why the broker's margin cannot carry an opening (funding = "margin"), or None.

        The broker's what-if is asked for the order at its worst limit; no figure is a refusal.
        """
        broker = self.services.broker
        if self.cfg.funding != "margin" or not isinstance(broker, MarginBroker):
            return None
        ref = order_ref(strategy, position_id, "open")
        try:
            impact = broker.what_if(ComboOrder(ref, listing_id, legs, qty, limit))
        except (DataUnavailable, BrokerUnavailable) as exc:
            return f"the broker's margin for this order is unknown: {exc}"
        if impact.excess_after < 0:
            return (
                f"margin: after this order the initial margin {impact.init_margin_after:,.2f} "
                f"{impact.currency} would exceed the equity with loan "
                f"{impact.equity_with_loan_after:,.2f} by {-impact.excess_after:,.2f}"
            )
        return None

    def take_closes(self, strategy: str) -> list[CloseRequest]:
        """Return and forget the close requests waiting for a strategy."""
        with self._lock:
            return self._closes.pop(strategy, [])

    # -- a person's commands -----------------------------------------------------------------
    def pause(self, names: Iterable[str], by: str, reason: str = "") -> list[str]:
        """Stop entries of the named strategies (none: all) until resumed; return the scope."""
        with self._lock:
            scope = self.limits.pause(names, Hold(by, self._now(), reason))
            self._save()
            return scope

    def flatten(self, strategy: str | None, by: str, reason: str = "") -> str:
        """Close every position of one strategy (None: all) and open nothing until resumed."""
        with self._lock:
            scope = self.limits.flatten(strategy, Hold(by, self._now(), reason))
            self._save()
            return scope

    def resume(self, names: Iterable[str], known: Iterable[str], by: str) -> list[LimitEvent]:
        """Lift holds (named strategies), or every hold and trip (none named); journal resets."""
        figures: AccountFigures | None
        try:
            figures = self.figures(self.services.clock.now())
        except DataUnavailable:
            figures = None
        with self._lock:
            events = self.limits.resume(names, known, by, figures)
            self._journal_events(events)
            self._save()
            return events

    def request_close(self, strategy: str, position_id: str, reason: str, by: str) -> None:
        """Queue a close for the strategy that holds the position (done at its next poll)."""
        with self._lock:
            request = CloseRequest(position_id, reason, by, self.services.clock.now())
            self._closes.setdefault(strategy, []).append(request)

    def note_line(self, journal: str, line: Mapping[str, Any]) -> None:
        """Count errors for the failsafe from the lines every journal writes (an observer)."""
        event = line.get("event")
        if journal.endswith(".shadow") or event not in ("ORDER_STATUS", "RISK"):
            return
        if event == "ORDER_STATUS" and line.get("status") in ERROR_STATUSES:
            what = f"{journal}: order {line.get('order_id')} rejected ({line.get('reason', '')})"
        elif event == "RISK" and line.get("rule") == "strategy_error":
            last = str(line.get("detail") or "").strip().splitlines()
            what = f"{journal}: strategy error ({last[-1] if last else '?'})"
        else:
            return
        ts = line.get("ts")
        when = ts if isinstance(ts, datetime) else self.services.clock.now()
        with self._lock:
            events = self.limits.note_error(when, what, self._figures)
            if events:
                self._journal_events(events)
                self._save()

    # -- reading -----------------------------------------------------------------------------
    def tripped_names(self) -> list[str]:
        """Return the limits tripped now."""
        with self._lock:
            return sorted(self.limits.state.trips)

    def reading(self) -> AccountReading:
        """Return a copy of what the watch knows now (a locked read, no broker call)."""
        with self._lock:
            state = LimitsState.from_dict(self.limits.state.as_dict())
            f = self._figures
            line = None if f is None else {"ts": f.ts, **self.equity_fields(f)}
            return AccountReading(state, f, line, self._problem)

    def status(self) -> dict[str, Any]:
        """Return the account's figures, limits and holds for status.json."""
        return account_status(self.reading(), self.cfg)

    def view(self) -> AccountView:
        """Return what a supervisor shows of the account now."""
        currency = self.services.config.account.capital_currency
        return account_view(self.reading(), self.cfg, currency)

    def _now(self) -> str:
        return self.services.clock.now().isoformat()
