"""Strategy timing kept between polls: the poll interval, trading hours and the next wake.

Each is remembered (per configured interval, per time, per union session) and must follow the
clock and the config: these tests fail if a kept answer outlives what it was computed from. They
run a real strategy on a real SimClock over real calendars (time moved as a lone sleeper moves it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from seeker.config.loading import validate_config
from seeker.config.strategy import StrategyConfig
from seeker.core.calendar import MARKET_TZ, MarketCalendars
from seeker.core.clock import SimClock
from seeker.engine.lifecycle import Strategy
from tests.support import ROOT, shipped, strategy_config_models

CALS = MarketCalendars(["XNYS", "XTSE"], date(2026, 1, 1), date(2026, 12, 31))
CONFIG = validate_config(shipped(), strategy_config_models(), ROOT / "config")
_TABLE = CONFIG.strategies.table("iron_condor")
assert _TABLE is not None
STRATEGY_CONFIG: StrategyConfig = _TABLE


@dataclass
class _Wiring:
    """What a strategy's timing reads of the services: the clock and the calendars."""

    clock: SimClock
    calendars: MarketCalendars


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


def _strategy(start: datetime, cals: MarketCalendars = CALS) -> _Timed:
    wiring = _Wiring(SimClock(start, cals), cals)
    return _Timed(wiring, STRATEGY_CONFIG)  # type: ignore[arg-type]


def _to(s: Strategy, t: datetime) -> None:
    """Move the strategy's clock forward to `t` (the calling thread sleeps alone on it)."""
    assert s.services.clock.sleep_until(t)
    assert s.services.clock.now() == t


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=MARKET_TZ)  # 2026-03-02 is a Monday


def test_poll_interval_follows_the_config() -> None:
    s = _strategy(_at(2, 10))
    assert s.poll_interval() == timedelta(minutes=STRATEGY_CONFIG.poll_interval_minutes)
    s.config = STRATEGY_CONFIG.model_copy(update={"poll_interval_minutes": 5.0})
    assert s.poll_interval() == timedelta(minutes=5)


def test_trading_hours_follow_the_clock() -> None:
    a, b = _strategy(_at(2, 10)), _strategy(_at(2, 10))
    assert a.in_trading_hours() and b.in_trading_hours()
    _to(a, _at(2, 17))  # after every close: a's answer, not b's remembered one
    assert not a.in_trading_hours() and b.in_trading_hours()
    _to(b, _at(2, 17))
    assert not b.in_trading_hours()
    _to(a, _at(3, 9, 30))
    assert a.in_trading_hours()


def test_trading_hours_follow_the_calendars() -> None:
    canada_day = datetime(2026, 7, 1, 10, tzinfo=MARKET_TZ)  # XNYS trades, XTSE is closed
    assert _strategy(canada_day).in_trading_hours()
    toronto = MarketCalendars(["XTSE"], date(2026, 1, 1), date(2026, 12, 31))
    assert not _strategy(canada_day, toronto).in_trading_hours()  # the same time, other hours


def test_next_wake_within_a_session_and_across_its_close() -> None:
    s = _strategy(_at(2, 10))
    step = timedelta(minutes=STRATEGY_CONFIG.poll_interval_minutes)
    assert s.next_wake() == _at(2, 10) + step
    _to(s, _at(2, 16) - step + timedelta(minutes=5))  # the interval ends after the close
    assert s.next_wake() == _at(3, 9, 30)  # the next day's open
    _to(s, _at(3, 9, 30))
    assert s.next_wake() == _at(3, 9, 30) + step


def test_next_wake_matches_the_calendars_at_every_step() -> None:
    s = _strategy(_at(2, 9, 30))
    s.config = STRATEGY_CONFIG.model_copy(update={"poll_interval_minutes": 7.0})
    end = _at(10, 16)
    while s.services.clock.now() < end:
        expected = CALS.next_union_open(s.services.clock.now() + timedelta(minutes=7))
        assert s.next_wake() == expected
        _to(s, expected)
