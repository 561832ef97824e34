"""SimClock: deterministic turn-taking, jumps over closed hours, stops cleanly; WallClock sleeps."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta

from seeker.core.calendar import MARKET_TZ, MarketCalendars
from seeker.core.clock import SimClock, WallClock

CALS = MarketCalendars(["XNYS", "XTSE"], date(2026, 1, 1), date(2026, 12, 31))
OPEN = datetime(2026, 3, 2, 9, 30, tzinfo=MARKET_TZ)


def _run(names: list[str], steps: int, clock: SimClock, trace: list[tuple[str, str]]) -> None:
    clock.expect(names)

    def body(name: str, minutes: int) -> None:
        clock.join(name)
        try:
            for _ in range(steps):
                trace.append((clock.now().isoformat(), name))
                t = CALS.next_union_open(clock.now() + timedelta(minutes=minutes))
                if not clock.sleep_until(t):
                    break
        finally:
            clock.leave()

    threads = [threading.Thread(target=body, args=(n, 30 + 15 * i)) for i, n in enumerate(names)]
    for t in reversed(threads):  # start order must not matter
        t.start()
    for t in threads:
        t.join(10)


def test_turns_are_deterministic_whatever_the_thread_timing() -> None:
    traces = []
    for _ in range(3):
        trace: list[tuple[str, str]] = []
        _run(["a", "b", "c"], 40, SimClock(OPEN, CALS), trace)
        traces.append(trace)
    assert traces[0] == traces[1] == traces[2]
    times = [t for t, _ in traces[0]]
    assert times == sorted(times)


def test_closed_hours_are_skipped_and_listeners_see_every_advance() -> None:
    seen: list[datetime] = []
    clock = SimClock(OPEN, CALS, on_advance=seen.append)
    trace: list[tuple[str, str]] = []
    _run(["a"], 20, clock, trace)
    for t in seen:
        assert any(CALS.is_open(c, t) for c in CALS.codes), t
    assert {datetime.fromisoformat(t).date() for t, _ in trace} >= {
        date(2026, 3, 2),
        date(2026, 3, 3),
    }


def test_end_of_run_stops_everyone() -> None:
    end = datetime(2026, 3, 3, 16, 0, tzinfo=MARKET_TZ)
    clock = SimClock(OPEN, CALS, end=end)
    trace: list[tuple[str, str]] = []
    _run(["a", "b"], 1000, clock, trace)
    assert clock.reached_end and clock.stopping
    assert datetime.fromisoformat(trace[-1][0]) <= end


def test_paced_clock_waits_real_time_only_for_open_hours() -> None:
    clock = SimClock(datetime(2026, 3, 2, 15, 59, tzinfo=MARKET_TZ), CALS, speed=600.0)
    start = time.monotonic()
    assert clock.sleep_until(datetime(2026, 3, 3, 9, 31, tzinfo=MARKET_TZ))
    elapsed = time.monotonic() - start
    # two open minutes at ×600 take 0.2 s; the night is skipped
    assert 0.15 <= elapsed < 2.0


def test_stop_wakes_a_paced_sleeper() -> None:
    clock = SimClock(OPEN, CALS, speed=1.0)
    result: list[bool] = []
    t = threading.Thread(target=lambda: result.append(clock.sleep_until(OPEN + timedelta(hours=3))))
    t.start()
    time.sleep(0.1)
    clock.stop()
    t.join(2)
    assert result == [False]


def test_wall_clock_sleep_is_interruptible() -> None:
    clock = WallClock()
    threading.Timer(0.1, clock.stop).start()
    start = time.monotonic()
    assert clock.sleep_until(clock.now() + timedelta(seconds=30)) is False
    assert time.monotonic() - start < 5
