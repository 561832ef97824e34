"""Replay time: decision times (early closes), the calendar of decision windows, the clock."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seeker.core.calendar import MARKET_TZ, MarketCalendars, Session
from seeker.core.replay.sessions import (
    ReplayCalendars,
    ReplayClock,
    snapshot_time_for,
    snapshot_times,
)

LO, HI = date(2019, 1, 1), date(2019, 12, 31)
CAL = MarketCalendars(["XNYS"], LO, HI)
DAYS = [
    date(2019, 7, 1),
    date(2019, 7, 2),
    date(2019, 7, 3),
    date(2019, 7, 5),
]  # 07-03 closes 13:00


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), MARKET_TZ)


def _replay(snapshot: time = time(15, 0)) -> ReplayCalendars:
    snaps = snapshot_times(CAL, "XNYS", DAYS, snapshot)
    return ReplayCalendars(
        ["XNYS"], LO, HI, {d: _at(d, t.hour, t.minute) for d, t in snaps.items()}
    )


def test_an_early_close_moves_the_decision_as_far_before_its_close() -> None:
    half = CAL.session("XNYS", date(2019, 7, 3))
    full = CAL.session("XNYS", date(2019, 7, 2))
    assert half is not None and half.half_day and full is not None
    assert snapshot_time_for(half, time(15, 45)) == time(12, 45)
    assert snapshot_time_for(half, time(15, 0)) == time(12, 0)
    assert snapshot_time_for(full, time(15, 45)) == time(15, 45)
    # moved as far before 13:00 it would come before the open: the session holds 12:00 itself
    assert snapshot_time_for(half, time(12, 0)) == time(12, 0)
    with pytest.raises(ValueError, match="2019-07-04 is not a XNYS session"):
        snapshot_times(CAL, "XNYS", [date(2019, 7, 4)], time(15, 0))


SESSIONS = [s for d in CAL.sessions("XNYS", LO, HI) if (s := CAL.session("XNYS", d)) is not None]
HALF_DAYS = [s for s in SESSIONS if s.half_day]


@given(
    minutes=st.integers(1, 389),  # 09:31 … 15:59, what the config accepts
    session=st.sampled_from(HALF_DAYS) | st.sampled_from(SESSIONS),
)
@settings(max_examples=300)
def test_every_decision_time_lies_inside_its_session(minutes: int, session: Session) -> None:
    assert len(HALF_DAYS) == 3  # 2019-07-03, 11-29, 12-24
    snapshot = (datetime(2019, 1, 1, 9, 30) + timedelta(minutes=minutes)).time()
    at = datetime.combine(session.day, snapshot_time_for(session, snapshot), MARKET_TZ)
    assert session.open < at < session.close, (session, snapshot)


def test_hours_run_from_each_decision_time_to_the_close_and_only_on_replayed_days() -> None:
    cal = _replay()
    assert not cal.is_open("XNYS", _at(date(2019, 7, 1), 10, 0))  # the exchange is, the replay not
    assert cal.is_open("XNYS", _at(date(2019, 7, 1), 15, 0))
    assert cal.is_open("XNYS", _at(date(2019, 7, 1), 15, 59))
    assert not cal.is_open("XNYS", _at(date(2019, 7, 1), 16, 0))
    assert cal.is_open("XNYS", _at(date(2019, 7, 3), 12, 30))
    assert not cal.is_open("XNYS", _at(date(2019, 7, 3), 13, 0))
    # a trading day without a snapshot (07-08 is a session, not replayed) has no hours
    assert CAL.is_open("XNYS", _at(date(2019, 7, 8), 15, 0))
    assert not cal.is_open("XNYS", _at(date(2019, 7, 8), 15, 0))
    assert cal.union_session(date(2019, 7, 8)) is None
    # sessions themselves stay the exchange's (event risk counts them)
    assert cal.session("XNYS", date(2019, 7, 8)) == CAL.session("XNYS", date(2019, 7, 8))
    assert cal.is_half_day("XNYS", date(2019, 7, 3))


def test_the_next_open_jumps_to_the_next_decision_then_past_the_end() -> None:
    cal = _replay()
    assert cal.next_union_open(_at(date(2019, 7, 1), 0)) == _at(date(2019, 7, 1), 15)
    assert cal.next_union_open(_at(date(2019, 7, 1), 15, 30)) == _at(date(2019, 7, 1), 15, 30)
    assert cal.next_union_open(_at(date(2019, 7, 1), 16)) == _at(date(2019, 7, 2), 15)
    assert cal.next_union_open(_at(date(2019, 7, 2), 16, 30)) == _at(date(2019, 7, 3), 12)
    assert cal.next_union_open(_at(date(2019, 7, 3), 13)) == _at(date(2019, 7, 5), 15)
    end = cal.end_of_replay()
    assert end == _at(date(2019, 7, 5), 16)
    assert cal.next_union_open(end) > end


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 7 * 24 * 60))
def test_the_next_open_is_never_earlier_and_always_open(minutes: int) -> None:
    cal = _replay(time(14, 30))
    t = _at(date(2019, 6, 30), 0) + timedelta(minutes=minutes)
    nxt = cal.next_union_open(t)
    assert nxt >= t
    if nxt <= cal.end_of_replay():
        assert cal.is_open("XNYS", nxt)
    # nothing in between is open
    if nxt > t and nxt <= cal.end_of_replay():
        assert not cal.is_open("XNYS", t)


def test_a_decision_time_outside_its_session_is_refused() -> None:
    with pytest.raises(ValueError, match="outside 2019-07-03's session"):
        ReplayCalendars(["XNYS"], LO, HI, {date(2019, 7, 3): _at(date(2019, 7, 3), 15)})


def test_the_clock_visits_each_decision_time_once_then_stops_at_the_end() -> None:
    cal = _replay()
    seen: list[datetime] = []
    clock = ReplayClock(_at(date(2019, 7, 1), 0), cal, on_advance=seen.append)
    visits: list[datetime] = []

    def body() -> None:
        clock.join("poller")
        try:
            while clock.sleep_until(cal.next_union_open(clock.now() + timedelta(minutes=60))):
                visits.append(clock.now())
        finally:
            clock.leave()

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert visits == [
        _at(date(2019, 7, 1), 15),
        _at(date(2019, 7, 2), 15),
        _at(date(2019, 7, 3), 12),
        _at(date(2019, 7, 5), 15),
    ]
    assert clock.reached_end and clock.now() == cal.end_of_replay()
    assert seen[-1] == cal.end_of_replay()
