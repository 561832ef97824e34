"""Clocks: everything in Seeker asks a clock for "now" and sleeps through it.

* :class:`WallClock` — real time, for a real broker; sleeps are interruptible by :meth:`stop`.
* :class:`SimClock` — simulated time for the embedded market. It is a deterministic discrete-event
  scheduler: strategy threads take turns (one runs at a time, in a fixed order), and time jumps to
  the earliest requested wake-up once every participant sleeps. Closed hours are skipped at once;
  open hours are paced at ``speed`` simulated seconds per real second, or not paced at all
  (``speed=None``, for ``--days N`` runs). The same seed and inputs therefore give the same journal.
"""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol

from seeker.core.calendar import MARKET_TZ, MarketCalendars


class Clock(Protocol):
    """What strategies and services need from a clock."""

    simulated: bool

    def now(self) -> datetime:
        """Return the current time (aware, in the market's zone)."""
        ...

    def sleep_until(self, t: datetime) -> bool:
        """Sleep until `t`; return False if the clock is stopping (the caller should wind down)."""
        ...

    def sleep(self, seconds: float) -> bool:
        """Sleep `seconds` of this clock's time; return False if the clock is stopping."""
        ...

    def stop(self) -> None:
        """Wake every sleeper and make further sleeps return False at once."""
        ...

    @property
    def stopping(self) -> bool:
        """Return True once :meth:`stop` was called."""
        ...

    def join(self, name: str) -> None:
        """Register the calling thread as a participant (a no-op on the wall clock)."""
        ...

    def leave(self) -> None:
        """Unregister the calling thread."""
        ...


class WallClock:
    """Real time in the market's zone; sleeps wake early when the clock stops."""

    simulated = False

    def __init__(self) -> None:
        self._stop = threading.Event()

    def now(self) -> datetime:
        """Return the current wall-clock time."""
        return datetime.now(MARKET_TZ)

    def sleep_until(self, t: datetime) -> bool:
        """Sleep until `t` or until stopped; return False if stopped."""
        delay = (t - self.now()).total_seconds()
        if delay > 0:
            self._stop.wait(delay)
        return not self._stop.is_set()

    def sleep(self, seconds: float) -> bool:
        """Sleep `seconds` of wall time, or until stopped."""
        return self.sleep_until(self.now() + timedelta(seconds=seconds))

    def stop(self) -> None:
        """Wake every sleeper."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Return True once stopped."""
        return self._stop.is_set()

    def join(self, name: str) -> None:
        """Do nothing: wall-clock threads run freely."""

    def leave(self) -> None:
        """Do nothing: wall-clock threads run freely."""


class SimClock:
    """Deterministic simulated time shared by participant threads that take turns."""

    simulated = True

    def __init__(
        self,
        start: datetime,
        calendars: MarketCalendars,
        speed: float | None = None,
        end: datetime | None = None,
        on_advance: Callable[[datetime], None] | None = None,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock needs an aware start time")
        self._now = start.astimezone(MARKET_TZ)
        self._calendars = calendars
        self._speed = speed
        self._end = end
        self._listeners: list[Callable[[datetime], None]] = [on_advance] if on_advance else []
        self._lock = threading.RLock()
        self._cv = threading.Condition(self._lock)
        """Woken at every change a pacing wait must see (its only waiter paces real time)."""
        self._turn_cvs: dict[str, threading.Condition] = {}
        """One condition per participant, on the same lock: a new turn wakes only its holder."""
        self._order: list[str] = []
        self._expected: set[str] = set()
        self._threads: dict[int, str] = {}
        self._wake: dict[str, datetime] = {}
        self._turn: str | None = None
        self._stopping = False
        self.reached_end = False

    # -- reading -----------------------------------------------------------------------------
    def now(self) -> datetime:
        """Return the simulated time."""
        return self._now

    @property
    def stopping(self) -> bool:
        """Return True once stopped (Ctrl+C, end of the --days run, or a fatal error)."""
        return self._stopping

    def add_listener(self, fn: Callable[[datetime], None]) -> None:
        """Call `fn(new_time)` every time the clock advances (in the advancing thread)."""
        with self._cv:
            self._listeners.append(fn)

    # -- participants --------------------------------------------------------------------------
    def expect(self, names: Iterable[str]) -> None:
        """Declare the participants that must all join before time may advance."""
        with self._cv:
            for name in names:
                self._expected.add(name)
                if name not in self._order:
                    self._order.append(name)

    def join(self, name: str) -> None:
        """Register the calling thread and wait for its first turn."""
        with self._cv:
            if name in self._threads.values():
                raise RuntimeError(f"participant {name!r} already joined")
            if name not in self._order:
                self._order.append(name)
            self._expected.add(name)
            self._threads[threading.get_ident()] = name
            self._turn_cvs.setdefault(name, threading.Condition(self._lock))
            self._wake[name] = self._now
            if self._turn is None:
                self._schedule()
            self._wait_turn(name)

    def leave(self) -> None:
        """Unregister the calling thread and hand the turn on."""
        with self._cv:
            name = self._threads.pop(threading.get_ident(), None)
            if name is None:
                return
            self._expected.discard(name)
            self._wake.pop(name, None)
            if self._turn == name:
                self._turn = None
            if self._turn is None and not self._stopping:
                self._schedule()
            self._cv.notify_all()

    # -- sleeping ------------------------------------------------------------------------------
    def sleep_until(self, t: datetime) -> bool:
        """Yield the turn until simulated time reaches `t`; return False when stopping."""
        with self._lock:  # the condition's lock (taken directly: this runs at every poll)
            name = self._threads.get(threading.get_ident())
            if name is None:
                if self._threads:
                    raise RuntimeError("a thread that did not join the SimClock tried to sleep")
                return self._advance_alone(t)
            if self._stopping:
                return False
            self._wake[name] = max(t, self._now)
            if self._turn == name:
                self._turn = None
            self._schedule()
            return self._wait_turn(name)

    def sleep(self, seconds: float) -> bool:
        """Sleep `seconds` of simulated time."""
        return self.sleep_until(self._now + timedelta(seconds=seconds))

    def stop(self) -> None:
        """Stop: every sleeper wakes with False; the thread that runs finishes its step."""
        with self._cv:
            self._stopping = True
            self._wake_everyone()

    # -- internals (called with the condition held) -------------------------------------------
    def _wait_turn(self, name: str) -> bool:
        cv = self._turn_cvs[name]
        while not self._stopping and self._turn != name:
            cv.wait()
        return not self._stopping

    def _wake_everyone(self) -> None:
        """Wake every waiting participant and the pacing wait (stop, end of the run)."""
        self._cv.notify_all()
        for cv in self._turn_cvs.values():
            cv.notify_all()

    def _advance_alone(self, t: datetime) -> bool:
        if self._stopping:
            return False
        if t > self._now:
            if self._end is not None and t > self._end:
                self._set_time(self._end)
                self.reached_end = True
                self._stopping = True
                self._wake_everyone()
                return False
            self._pace(t)
            if self._stopping:
                return False
            self._set_time(t)
        return True

    def _schedule(self) -> None:
        """Give the turn to the next sleeper, advancing time once every participant sleeps."""
        while not self._stopping and self._turn is None:
            joined = set(self._threads.values())
            if not self._expected <= joined or not self._wake:
                return
            if len(self._wake) < len(joined):
                return  # someone still runs (it holds no turn only while joining)
            due = min(self._wake.values())  # the earliest wake; the first in order among ties
            for name in self._order:
                if self._wake.get(name) == due:
                    break
            if due > self._now:
                if self._end is not None and due > self._end:
                    self._set_time(self._end)
                    self.reached_end = True
                    self._stopping = True
                    self._wake_everyone()
                    return
                self._pace(due)
                if self._stopping or self._turn is not None:
                    return
                if set(self._threads.values()) != joined or self._wake.get(name) != due:
                    continue
                self._set_time(due)
            del self._wake[name]
            self._turn = name
            if self._speed is not None:  # only a pacing wait waits on `_cv`
                self._cv.notify_all()
            self._turn_cvs[name].notify()
            return

    def _pace(self, due: datetime) -> None:
        """Wait the real time that the open hours between now and `due` take at `speed`."""
        if self._speed is None:
            return
        seconds = self._open_seconds(self._now, due) / self._speed
        deadline = _time.monotonic() + seconds
        while not self._stopping:
            left = deadline - _time.monotonic()
            if left <= 0:
                return
            self._cv.wait(left)

    def _open_seconds(self, a: datetime, b: datetime) -> float:
        total = 0.0
        day = a.astimezone(MARKET_TZ).date()
        last = b.astimezone(MARKET_TZ).date()
        while day <= last:
            span = self._calendars.union_session(day)
            if span is not None:
                lo, hi = max(a, span[0]), min(b, span[1])
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def _set_time(self, t: datetime) -> None:
        self._now = t
        for fn in self._listeners:
            fn(t)


class BrokerClock:
    """The broker's time (TWS's clock), extrapolated between readings.

    With a real TWS this is wall time, immune to a skewed local clock; with a simulated TWS that
    runs faster than real time it follows the simulation. The rate (broker seconds per real
    second) is measured from successive readings; sleeps wait the estimated real time, then check.
    """

    simulated = False

    def __init__(self, source: Callable[[], datetime], refresh_seconds: float = 0.25) -> None:
        self._source = source
        self._refresh = refresh_seconds
        self._stop = threading.Event()
        self._lock = threading.Lock()
        first = source().astimezone(MARKET_TZ)
        self._anchor = (first, _time.monotonic())
        self._previous = self._anchor
        self._rate = 1.0

    def _read(self) -> None:
        try:
            t = self._source().astimezone(MARKET_TZ)
        except Exception:  # disconnected: keep extrapolating from the last reading
            return
        mono = _time.monotonic()
        with self._lock:
            prev_t, prev_m = self._previous
            if mono - prev_m >= 1.0:
                measured = (t - prev_t).total_seconds() / (mono - prev_m)
                self._rate = max(1.0, measured)
                self._previous = (t, mono)
            self._anchor = (t, mono)

    def now(self) -> datetime:
        """Return the broker's time now (re-read when the last reading is stale)."""
        with self._lock:
            t, mono = self._anchor
            rate = self._rate
        age = _time.monotonic() - mono
        if age > self._refresh:
            self._read()
            with self._lock:
                t, mono = self._anchor
            age = _time.monotonic() - mono
        return t + timedelta(seconds=age * rate)

    def sleep_until(self, t: datetime) -> bool:
        """Sleep until the broker's clock reaches `t`, or until stopped; return False if stopped."""
        while not self._stop.is_set():
            left = (t - self.now()).total_seconds()
            if left <= 0:
                return True
            with self._lock:
                rate = self._rate
            self._stop.wait(min(60.0, max(0.05, left / rate)))
        return False

    def sleep(self, seconds: float) -> bool:
        """Sleep `seconds` of broker time."""
        return self.sleep_until(self.now() + timedelta(seconds=seconds))

    def stop(self) -> None:
        """Wake every sleeper."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Return True once stopped."""
        return self._stop.is_set()

    def join(self, name: str) -> None:
        """Do nothing: threads run freely on the broker's clock."""

    def leave(self) -> None:
        """Do nothing: threads run freely on the broker's clock."""
