"""Replay time: one decision time per quote date, and a calendar whose hours start there.

A replay has one market snapshot per quote date. Seeker decides at that snapshot's time (the
data's ``quote_time``, else the configured snapshot time) and, for what it started then (an order
walking its price ladder), until the exchange's close; the rest of the day and the days without a
snapshot do not exist for it. :class:`ReplayCalendars` is the exchange calendar with that view of
regular hours: ``is_open`` is true from a quote date's decision time to its close, and
``next_union_open`` jumps to the next decision time. Sessions, half days and holidays (what event
risk counts) stay the exchange's own.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta

from seeker.core.calendar import MARKET_TZ, MarketCalendars, Session
from seeker.core.clock import SimClock

REGULAR_CLOSE = time(16, 0)
"""The close of a full session, New York time."""


def snapshot_time_for(session: Session, snapshot_time: time) -> time:
    """Return the decision time of one session for a configured snapshot time.

    On a full session it is `snapshot_time`; on an early close it comes as long before that
    day's close as `snapshot_time` is before 16:00 (15:45 → 12:45 for a 13:00 close). When that
    would fall at or before the open (a snapshot time earlier than 16:00 by more than the short
    session lasts: 12:00 → 09:00 for a 13:00 close), it is `snapshot_time` itself, which the
    short session then holds. Either way it lies inside the session.
    """
    close = session.close.astimezone(MARKET_TZ)
    if close.time() >= REGULAR_CLOSE:
        return snapshot_time
    before = datetime.combine(session.day, REGULAR_CLOSE) - datetime.combine(
        session.day, snapshot_time
    )
    moved = close.replace(tzinfo=None) - before
    if moved <= session.open.astimezone(MARKET_TZ).replace(tzinfo=None):
        return snapshot_time
    return moved.time()


def snapshot_times(
    calendars: MarketCalendars, code: str, days: Iterable[date], snapshot_time: time
) -> dict[date, time]:
    """Return the decision time of each quote date; ValueError naming a day that is no session."""
    out: dict[date, time] = {}
    for day in days:
        session = calendars.session(code, day)
        if session is None:
            raise ValueError(f"{day} is not a {code} session: no decision time for its snapshot")
        out[day] = snapshot_time_for(session, snapshot_time)
    return out


class ReplayCalendars(MarketCalendars):
    """Exchange calendars whose regular hours run from each decision time to that day's close.

    `decisions` maps each replayed quote date to its decision time (aware); days not in it have
    no hours. After the last decision, :meth:`next_union_open` returns a time a day past that
    day's close (or past the time asked), so a clock bounded by the replay's end stops there.
    """

    def __init__(
        self, codes: Iterable[str], start: date, end: date, decisions: Mapping[date, datetime]
    ) -> None:
        super().__init__(codes, start, end)
        self.decisions = {d: t.astimezone(MARKET_TZ) for d, t in sorted(decisions.items())}
        self._decision_days = sorted(self.decisions)
        for day, at in self.decisions.items():
            span = super().union_session(day)
            if span is None or not span[0] <= at < span[1]:
                raise ValueError(f"decision time {at:%Y-%m-%d %H:%M} is outside {day}'s session")

    def is_open(self, code: str, t: datetime) -> bool:
        """Return True from the decision time of `t`'s quote date to the close of `code`."""
        day = t.astimezone(MARKET_TZ).date()
        at = self.decisions.get(day)
        if at is None or t < at:
            return False
        session = self.session(code, day)
        return session is not None and t < session.close

    def union_session(self, day: date) -> tuple[datetime, datetime] | None:
        """Return (decision time, close) of a replayed quote date, None on any other day."""
        at = self.decisions.get(day)
        span = super().union_session(day)
        if at is None or span is None:
            return None
        return at, span[1]

    def next_union_open(self, t: datetime) -> datetime:
        """Return the first replayed time at or after `t` (a day past the end when none is)."""
        idx = bisect.bisect_left(self._decision_days, t.astimezone(MARKET_TZ).date())
        while idx < len(self._decision_days):
            span = self.union_session(self._decision_days[idx])
            assert span is not None
            if t < span[1]:
                return max(t, span[0])
            idx += 1
        return max(t, self.end_of_replay()) + timedelta(days=1)

    def end_of_replay(self) -> datetime:
        """Return the close of the last replayed quote date."""
        if not self._decision_days:
            raise ValueError("no quote date to replay")
        span = self.union_session(self._decision_days[-1])
        assert span is not None
        return span[1]


class ReplayClock(SimClock):
    """The deterministic simulated clock over a replay's decision times: strategy threads take
    turns, time jumps from one decision time to the next (see :class:`ReplayCalendars`), and the
    clock stops at the close of the last replayed quote date."""

    end_reason = "end of the replay"

    def __init__(
        self,
        start: datetime,
        calendars: ReplayCalendars,
        on_advance: Callable[[datetime], None] | None = None,
    ) -> None:
        super().__init__(
            start, calendars, speed=None, end=calendars.end_of_replay(), on_advance=on_advance
        )
