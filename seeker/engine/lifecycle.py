"""The Strategy ABC: lifecycle hooks and a thread-safe state machine.

STOPPED → STARTING → RUNNING → STOPPING → STOPPED, and ERROR from any running state. The thread
body (:meth:`Strategy.run`) joins the clock, runs ``setup``, then ``poll_once`` every
``poll_interval`` during trading hours, then ``teardown``. A strategy that raises goes to ERROR with
its traceback journaled; the other strategies are not affected.
"""

from __future__ import annotations

import threading
import traceback
from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from seeker.config.strategy import StrategyConfig
from seeker.core.calendar import MARKET_TZ

if TYPE_CHECKING:
    from seeker.engine.services import Services


class StrategyState(StrEnum):
    """Lifecycle states of a strategy."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    ERROR = "error"


_ALLOWED: dict[StrategyState, set[StrategyState]] = {
    StrategyState.STOPPED: {StrategyState.STARTING},
    StrategyState.STARTING: {StrategyState.RUNNING, StrategyState.STOPPING, StrategyState.ERROR},
    StrategyState.RUNNING: {StrategyState.STOPPING, StrategyState.ERROR},
    StrategyState.STOPPING: {StrategyState.STOPPED, StrategyState.ERROR},
    StrategyState.ERROR: {StrategyState.STOPPED},
}

_STATE_VALUES: dict[StrategyState, str] = {s: s.value for s in StrategyState}
"""Each state's plain string (looked up once per poll by the published view)."""


class Strategy(ABC):
    """A strategy that runs in its own thread under the StrategyManager."""

    _hours_memo: ClassVar[tuple[object, datetime | None, bool]] = (None, None, False)
    """The calendars, the time and whether some calendar was in regular hours then (the
    strategies ask in turn at the same simulated time; a pure function of both)."""

    name: ClassVar[str]
    description: ClassVar[str]
    config_model: ClassVar[type[StrategyConfig]]

    def __init__(self, services: Services, config: StrategyConfig) -> None:
        self.services = services
        self.config = config
        self._state = StrategyState.STOPPED
        self._state_lock = threading.Lock()
        self._stop = threading.Event()
        self.error: str | None = None
        self.last_poll: datetime | None = None
        self._interval: tuple[object, timedelta] = (None, timedelta())
        """The poll interval (minutes as configured, as a timedelta) last computed."""
        self._wake_span: tuple[object, datetime, datetime] | None = None
        """The calendars and the union session [open, close) the last wake fell in."""

    # -- state machine -------------------------------------------------------------------------
    @property
    def state(self) -> StrategyState:
        """Return the current lifecycle state."""
        with self._state_lock:
            return self._state

    @property
    def state_value(self) -> str:
        """Return the current lifecycle state as its plain string ("running", ...)."""
        with self._state_lock:
            return _STATE_VALUES[self._state]

    def _transition(self, new: StrategyState) -> None:
        with self._state_lock:
            if new not in _ALLOWED[self._state]:
                raise RuntimeError(f"{self.name}: illegal transition {self._state} → {new}")
            self._state = new

    def request_stop(self) -> None:
        """Ask the strategy to finish its step and wind down."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        """Return True once a stop was requested or the clock stops."""
        return self._stop.is_set() or self.services.clock.stopping

    # -- hooks ---------------------------------------------------------------------------------
    @abstractmethod
    def setup(self) -> None:
        """Prepare: rebuild positions from the journal, reconcile with the broker."""

    @abstractmethod
    def poll_once(self) -> None:
        """Do one cycle: manage open positions, then consider entries."""

    @abstractmethod
    def teardown(self) -> None:
        """Wind down: cancel unfilled orders, flush journals."""

    @abstractmethod
    def on_error(self, detail: str) -> None:
        """Journal a fatal error (called in the strategy's thread)."""

    def open_positions(self) -> int:
        """Return how many positions this strategy holds open (0 for one that holds none)."""
        return 0

    def poll_interval(self) -> timedelta:
        """Return the time between two polls."""
        minutes = self.config.poll_interval_minutes
        if minutes != self._interval[0]:
            self._interval = (minutes, timedelta(minutes=float(minutes)))
        return self._interval[1]

    def in_trading_hours(self) -> bool:
        """Return True when some calendar this strategy trades on is in regular hours."""
        now = self.services.clock.now()
        cals = self.services.calendars
        memo = Strategy._hours_memo  # one tuple, read and replaced whole: safe across threads
        if memo[0] is cals and memo[1] == now:
            return memo[2]
        is_open = any(cals.is_open(code, now) for code in cals.codes)
        Strategy._hours_memo = (cals, now, is_open)
        return is_open

    def next_wake(self) -> datetime:
        """Return when to poll next: after the interval, moved to the next open if closed."""
        t = self.services.clock.now() + self.poll_interval()
        cals = self.services.calendars
        span = self._wake_span
        if span is not None and span[0] is cals and span[1] <= t < span[2]:
            return t  # inside the union session the last wake fell in: t itself
        wake = cals.next_union_open(t)
        try:
            hours = cals.union_session(wake.astimezone(MARKET_TZ).date())
        except ValueError:  # past the loaded range (a replay's end): nothing to keep
            hours = None
        if hours is not None and hours[0] <= wake < hours[1]:
            self._wake_span = (cals, hours[0], hours[1])
        return wake

    # -- thread body ---------------------------------------------------------------------------
    def run(self) -> None:
        """Run the strategy until stopped (the body of its thread)."""
        clock = self.services.clock
        clock.join(self.name)
        try:
            self._transition(StrategyState.STARTING)
            self.setup()
            self._transition(StrategyState.RUNNING)
            while not self.stop_requested:
                if self.in_trading_hours():
                    self.last_poll = clock.now()
                    self.poll_once()
                if self.stop_requested or not clock.sleep_until(self.next_wake()):
                    break
            self._transition(StrategyState.STOPPING)
            self.teardown()
            self._transition(StrategyState.STOPPED)
        except Exception:
            detail = traceback.format_exc()
            self.error = detail.strip().splitlines()[-1]
            with self._state_lock:
                self._state = StrategyState.ERROR
            try:
                self.on_error(detail)
            finally:
                try:
                    self.teardown()
                except Exception:
                    self.on_error(traceback.format_exc())
        finally:
            clock.leave()
