"""Strategy timing kept between polls: the poll interval, trading hours and the next wake.

Each is remembered (per configured interval, per time, per union session) and must follow the
clock and the config: these tests fail if a kept answer outlives what it was computed from.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from seeker.core.calendar import MARKET_TZ, MarketCalendars
from seeker.engine.lifecycle import Strategy

CALS = MarketCalendars(["XNYS", "XTSE"], date(2026, 1, 1), date(2026, 12, 31))


class _Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t
        self.stopping = False

    def now(self) -> datetime:
        return self.t


class _Timed(Strategy):
    name = "timed"
    description = "a strategy that only tells time"

    def setup(self) -> None:
        pass

    def poll_once(self) -> None:
        pass

    def teardown(self) -> None:
        pass

    def on_error(self, detail: str) -> None:
        pass


def _strategy(clock: _Clock, minutes: float = 30.0, cals: MarketCalendars = CALS) -> _Timed:
    services = SimpleNamespace(clock=clock, calendars=cals)
    config = SimpleNamespace(poll_interval_minutes=minutes)
    return _Timed(cast(Any, services), cast(Any, config))


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=MARKET_TZ)  # 2026-03-02 is a Monday


def test_poll_interval_follows_the_config() -> None:
    s = _strategy(_Clock(_at(2, 10)), minutes=30.0)
    assert s.poll_interval() == timedelta(minutes=30)
    cast(Any, s.config).poll_interval_minutes = 5.0
    assert s.poll_interval() == timedelta(minutes=5)


def test_trading_hours_follow_the_clock() -> None:
    clock = _Clock(_at(2, 10))
    a, b = _strategy(clock), _strategy(clock)
    assert a.in_trading_hours() and b.in_trading_hours()
    clock.t = _at(2, 17)  # after every close
    assert not a.in_trading_hours() and not b.in_trading_hours()
    clock.t = _at(3, 9, 30)
    assert a.in_trading_hours()


def test_trading_hours_follow_the_calendars() -> None:
    clock = _Clock(datetime(2026, 7, 1, 10, tzinfo=MARKET_TZ))  # Canada Day: XNYS trades
    assert _strategy(clock).in_trading_hours()
    toronto = MarketCalendars(["XTSE"], date(2026, 1, 1), date(2026, 12, 31))
    assert not _strategy(clock, cals=toronto).in_trading_hours()  # the same time, other hours


def test_next_wake_within_a_session_and_across_its_close() -> None:
    clock = _Clock(_at(2, 10))
    s = _strategy(clock)
    assert s.next_wake() == _at(2, 10, 30)
    clock.t = _at(2, 15, 20)
    assert s.next_wake() == _at(2, 15, 50)
    clock.t = _at(2, 15, 45)  # the interval ends after the close: the next day's open
    assert s.next_wake() == _at(3, 9, 30)
    clock.t = _at(3, 9, 30)
    assert s.next_wake() == _at(3, 10)


def test_next_wake_matches_the_calendars_at_every_step() -> None:
    clock = _Clock(_at(2, 9, 30))
    s = _strategy(clock, minutes=7.0)
    end = _at(10, 16)
    while clock.t < end:
        expected = CALS.next_union_open(clock.t + timedelta(minutes=7))
        assert s.next_wake() == expected
        clock.t = expected
