"""IB's request budgets, shared by every thread: market-data lines, messages/s and history pacing.

* :class:`MarketDataGate` caps simultaneous market-data lines and, with a token bucket, the
  messages sent per second. Threads wait (bounded) with :meth:`~MarketDataGate.acquire_lines` /
  :meth:`~MarketDataGate.take_messages`; an asyncio loop polls the non-blocking ``try_`` forms so
  it never blocks.
* :class:`HistoryPacer` keeps historical-data requests within IB's pacing: at most N in any
  rolling 10 minutes and never the same request twice within 15 seconds.

Both take a ``clock`` (monotonic seconds) so tests can drive them with a fake clock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

from seeker.core.models import DataUnavailable

Clock = Callable[[], float]

HISTORY_WINDOW_SECONDS = 600.0
"""IB's pacing window for historical data (10 minutes)."""
IDENTICAL_REQUEST_SECONDS = 15.0
"""IB refuses an identical historical request within this many seconds."""


class MarketDataGate:
    """Share IB's market-data lines and message rate between threads (thread-safe)."""

    def __init__(
        self, max_lines: int, max_messages_per_second: float, clock: Clock = time.monotonic
    ) -> None:
        if max_lines < 1 or max_messages_per_second <= 0:
            raise ValueError("the gate needs at least one line and a positive message rate")
        self.max_lines = max_lines
        self.rate = float(max_messages_per_second)
        self.capacity = float(max_messages_per_second)
        self._clock = clock
        self._cond = threading.Condition()
        self._lines = 0
        self._tokens = self.capacity
        self._stamp = clock()

    # ---- state
    @property
    def lines_in_use(self) -> int:
        """Return the market-data lines held right now."""
        with self._cond:
            return self._lines

    def tokens(self) -> float:
        """Return the messages that could be sent at once right now."""
        with self._cond:
            self._refill()
            return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._stamp = now
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)

    # ---- lines
    def try_acquire_lines(self, n: int) -> bool:
        """Take `n` lines if free now; return whether they were taken."""
        self._check_lines(n)
        with self._cond:
            if self._lines + n > self.max_lines:
                return False
            self._lines += n
            return True

    def acquire_lines(self, n: int, timeout: float) -> None:
        """Take `n` lines, waiting at most `timeout` seconds; raise DataUnavailable after it."""
        self._check_lines(n)
        deadline = self._clock() + timeout
        with self._cond:
            while self._lines + n > self.max_lines:
                left = deadline - self._clock()
                if left <= 0:
                    raise DataUnavailable(
                        f"market-data lines busy: {self._lines} of {self.max_lines} in use, "
                        f"{n} wanted for {timeout:g} s"
                    )
                self._cond.wait(min(left, 0.05))
            self._lines += n

    def release_lines(self, n: int) -> None:
        """Give back `n` lines."""
        with self._cond:
            if n > self._lines:
                raise ValueError(f"releasing {n} lines but only {self._lines} are held")
            self._lines -= n
            self._cond.notify_all()

    @contextmanager
    def lines(self, n: int, timeout: float) -> Iterator[None]:
        """Hold `n` lines for the duration of a ``with`` block."""
        self.acquire_lines(n, timeout)
        try:
            yield
        finally:
            self.release_lines(n)

    def _check_lines(self, n: int) -> None:
        if not 1 <= n <= self.max_lines:
            raise ValueError(f"cannot hold {n} lines at once (1..{self.max_lines})")

    # ---- messages
    def try_take_messages(self, n: int) -> float:
        """Spend `n` messages if the bucket holds them; else return the seconds to wait (> 0)."""
        self._check_messages(n)
        with self._cond:
            self._refill()
            if self._tokens >= n:
                self._tokens -= n
                return 0.0
            return (n - self._tokens) / self.rate

    def take_messages(self, n: int, timeout: float) -> None:
        """Spend `n` messages, waiting at most `timeout` seconds; raise DataUnavailable after it."""
        self._check_messages(n)
        deadline = self._clock() + timeout
        while True:
            wait = self.try_take_messages(n)
            if wait == 0.0:
                return
            left = deadline - self._clock()
            if wait > left:
                raise DataUnavailable(
                    f"message budget: {n} messages need {wait:.2f} s more at "
                    f"{self.rate:g}/s, {max(left, 0.0):.2f} s left"
                )
            with self._cond:
                self._cond.wait(min(wait, 0.05))

    def _check_messages(self, n: int) -> None:
        if not 1 <= n <= self.capacity:
            raise ValueError(f"cannot send {n} messages at once (1..{self.capacity:g})")


class HistoryPacer:
    """Keep historical-data requests within IB's pacing (thread-safe)."""

    def __init__(
        self,
        max_per_window: int,
        window_seconds: float = HISTORY_WINDOW_SECONDS,
        identical_seconds: float = IDENTICAL_REQUEST_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        if max_per_window < 1:
            raise ValueError("the history budget needs at least one request")
        self.max_per_window = max_per_window
        self.window = window_seconds
        self.identical = identical_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._last: dict[Hashable, float] = {}

    def wait_needed(self, key: Hashable) -> float:
        """Return the seconds until a request `key` may be sent (0 = now)."""
        with self._lock:
            return self._wait(key, self._clock())

    def _wait(self, key: Hashable, now: float) -> float:
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()
        wait = 0.0
        if len(self._sent) >= self.max_per_window:
            wait = self._sent[0] + self.window - now
        last = self._last.get(key)
        if last is not None:
            wait = max(wait, last + self.identical - now)
        return max(wait, 0.0)

    def try_reserve(self, key: Hashable) -> float:
        """Record request `key` as sent if allowed now (return 0); else return the wait (> 0)."""
        with self._lock:
            now = self._clock()
            wait = self._wait(key, now)
            if wait > 0.0:
                return wait
            self._sent.append(now)
            self._last[key] = now
            return 0.0

    def reserve(self, key: Hashable, timeout: float) -> None:
        """Record request `key` as sent, waiting at most `timeout`; raise DataUnavailable after."""
        deadline = self._clock() + timeout
        while True:
            wait = self.try_reserve(key)
            if wait == 0.0:
                return
            left = deadline - self._clock()
            if wait > left:
                raise DataUnavailable(
                    f"history pacing: next request allowed in {wait:.1f} s "
                    f"({self.max_per_window} per {self.window:g} s), {max(left, 0.0):.1f} s left"
                )
            time.sleep(min(wait, 0.05))
