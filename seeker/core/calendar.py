"""Trading sessions, regular trading hours, half days and holidays, from exchange_calendars.

US listings follow XNYS, Canadian listings XTSE. Sessions are read once for a bounded range and kept
as plain Python datetimes, so the hot path (``is_open``) is a dictionary lookup.

exchange_calendars brings pandas (0.7 s and about 90 MB to import), so the sessions it gives are
kept in a small cache file per calendar, range and exchange_calendars version (under
``$SEEKER_CACHE_DIR``, else ``$XDG_CACHE_HOME/seeker``, else ``~/.cache/seeker``; an empty
``SEEKER_CACHE_DIR`` turns the cache off). A process that finds its calendars there never imports
pandas. A cache that cannot be read or written is ignored: the sessions are computed again.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
import os
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from seeker.core.tz import MARKET_TZ  # the zone Seeker shows times in (re-exported here)

log = logging.getLogger(__name__)
CACHE_ENV = "SEEKER_CACHE_DIR"
CACHE_VERSION = 1
"""Format of the cached session files (bump when it changes)."""

EXCHANGE_CALENDAR = {
    "NYSE": "XNYS",
    "ARCA": "XNYS",
    "NASDAQ": "XNYS",
    "BATS": "XNYS",
    "AMEX": "XNYS",
    "CBOE": "XNYS",
    "TSE": "XTSE",
    "TSX": "XTSE",
}
"""The exchange_calendars code that governs each listing exchange we accept."""


@dataclass(frozen=True, slots=True)
class Session:
    """One trading session: its date, open and close (aware datetimes), and whether it is short."""

    day: date
    open: datetime
    close: datetime
    half_day: bool


class MarketCalendars:
    """Sessions of one or more exchange calendars over a fixed range of dates."""

    def __init__(self, codes: Iterable[str], start: date, end: date) -> None:
        self.codes = tuple(sorted(set(codes)))
        self.start = start
        self.end = end
        self._sessions: dict[str, dict[date, Session]] = {}
        self._days: dict[str, list[date]] = {}
        self._lock = threading.Lock()
        for code in self.codes:
            self._load(code)
        union = sorted({d for code in self.codes for d in self._days[code]})
        self._union_days = union
        self._union_spans: dict[date, tuple[datetime, datetime] | None] = {}
        """``union_session`` of each day asked so far (the sessions never change once loaded)."""

    def _load(self, code: str) -> None:
        path = _cache_file(code, self.start, self.end)
        sessions = _read_cache(path) if path is not None else None
        if sessions is None:
            sessions = self._compute(code)
            if path is not None:
                _write_cache(path, sessions)
        self._sessions[code] = sessions
        self._days[code] = sorted(sessions)

    def _compute(self, code: str) -> dict[date, Session]:
        """Return the sessions of `code` over the range, from exchange_calendars."""
        # heavy (pandas): imported only when the sessions are not cached
        import exchange_calendars as xcals
        import pandas as pd

        with warnings.catch_warnings():
            # exchange_calendars 4.x reads Series.values, deprecated by pandas 3.1; harmless here.
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
            cal = xcals.get_calendar(
                code, start=pd.Timestamp(self.start), end=pd.Timestamp(self.end)
            )
        opens = cal.opens.dt.tz_convert(MARKET_TZ)
        closes = cal.closes.dt.tz_convert(MARKET_TZ)
        early = {ts.date() for ts in cal.early_closes}
        sessions: dict[date, Session] = {}
        for label, open_ts, close_ts in zip(opens.index, opens, closes, strict=True):
            day = label.date()
            sessions[day] = Session(
                day=day,
                open=open_ts.to_pydatetime(),
                close=close_ts.to_pydatetime(),
                half_day=day in early,
            )
        return sessions

    def _require(self, code: str) -> dict[date, Session]:
        try:
            return self._sessions[code]
        except KeyError:
            raise KeyError(f"calendar {code!r} not loaded (have {', '.join(self.codes)})") from None

    def _check_range(self, day: date) -> None:
        if not (self.start <= day <= self.end):
            raise ValueError(f"{day} is outside the loaded calendar range {self.start}..{self.end}")

    def session(self, code: str, day: date) -> Session | None:
        """Return the session of `day` on calendar `code`, or None on a holiday or weekend."""
        self._check_range(day)
        return self._require(code).get(day)

    def is_session(self, code: str, day: date) -> bool:
        """Return True when `day` is a trading day on calendar `code`."""
        return self.session(code, day) is not None

    def is_half_day(self, code: str, day: date) -> bool:
        """Return True when `day` is an early-close session."""
        s = self.session(code, day)
        return s is not None and s.half_day

    def is_open(self, code: str, t: datetime) -> bool:
        """Return True when `t` falls in regular trading hours of calendar `code`."""
        s = self.session(code, t.astimezone(MARKET_TZ).date())
        return s is not None and s.open <= t < s.close

    def sessions(self, code: str, start: date, end: date) -> list[date]:
        """Return the trading days of `code` from `start` to `end` inclusive."""
        days = self._days[code]
        lo = bisect.bisect_left(days, start)
        hi = bisect.bisect_right(days, end)
        return days[lo:hi]

    def union_sessions(self, start: date, end: date) -> list[date]:
        """Return the days on which at least one loaded calendar trades."""
        lo = bisect.bisect_left(self._union_days, start)
        hi = bisect.bisect_right(self._union_days, end)
        return self._union_days[lo:hi]

    def union_session(self, day: date) -> tuple[datetime, datetime] | None:
        """Return the earliest open and latest close across calendars on `day`, or None."""
        self._check_range(day)
        try:
            return self._union_spans[day]
        except KeyError:
            span = self._union_spans[day] = self._union_span(day)
            return span

    def _union_span(self, day: date) -> tuple[datetime, datetime] | None:
        found = [self._sessions[c][day] for c in self.codes if day in self._sessions[c]]
        if not found:
            return None
        return min(s.open for s in found), max(s.close for s in found)

    def next_union_open(self, t: datetime) -> datetime:
        """Return the first time at or after `t` when some calendar is in regular hours."""
        day = t.astimezone(MARKET_TZ).date()
        idx = bisect.bisect_left(self._union_days, day)
        while idx < len(self._union_days):
            d = self._union_days[idx]
            span = self.union_session(d)
            assert span is not None
            open_, close = span
            if t < close:
                return max(t, open_)
            idx += 1
        raise ValueError(
            f"no session after {t.isoformat()} within the loaded range (ends {self.end})"
        )

    def session_offset(self, code: str, day: date, n: int) -> date:
        """Return the trading day `n` sessions after (n > 0) or before (n < 0) `day`.

        When `day` is not a session, the next session counts as one after it and the previous one
        as one before it.
        """
        days = self._days[code]
        idx = bisect.bisect_left(days, day)
        on_session = idx < len(days) and days[idx] == day
        target = idx + n - 1 if (n > 0 and not on_session) else idx + n
        if not (0 <= target < len(days)):
            raise ValueError(f"{n} sessions from {day} falls outside the loaded calendar range")
        return days[target]


def calendar_for_exchange(exchange: str) -> str:
    """Return the exchange_calendars code for a listing exchange, e.g. ARCA → XNYS."""
    try:
        return EXCHANGE_CALENDAR[exchange.upper()]
    except KeyError:
        known = ", ".join(sorted(EXCHANGE_CALENDAR))
        raise ValueError(f"unknown exchange {exchange!r} (known: {known})") from None


def calendar_span(first: date, days_before: int, days_after: int) -> tuple[date, date]:
    """Return a (start, end) range around `first`, in calendar days."""
    return first - timedelta(days=days_before), first + timedelta(days=days_after)


EXPIRY_CLOSE = time(16, 0)
"""When an option stops trading on its expiry day (New York time)."""
YEAR_SECONDS = 365.0 * 86400.0
"""Seconds in a year of 365 calendar days (the time unit of pricing)."""


def expiry_close(expiry: date) -> datetime:
    """Return the moment an expiry stops trading (16:00 New York, aware)."""
    return datetime.combine(expiry, EXPIRY_CLOSE, tzinfo=MARKET_TZ)


def years_between(start: datetime, end: datetime) -> float:
    """Return (end − start) in years of 365 calendar days."""
    return (end - start).total_seconds() / YEAR_SECONDS


def _cache_file(code: str, start: date, end: date) -> Path | None:
    """Return the cache file of one calendar and range, None when the cache is off."""
    from importlib.metadata import PackageNotFoundError, version

    root = os.environ.get(CACHE_ENV)
    if root == "":
        return None
    if root is None:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = str(Path(base) / "seeker")
    try:
        xcals_version = version("exchange_calendars")
    except PackageNotFoundError:
        return None
    name = f"{code}_{start}_{end}_xcals-{xcals_version}_v{CACHE_VERSION}.json"
    return Path(root) / "calendars" / name


def _read_cache(path: Path) -> dict[date, Session] | None:
    """Return the cached sessions at `path`, None when absent or unreadable."""
    try:
        rows = json.loads(path.read_bytes())
        sessions = {}
        for day_s, open_s, close_s, half in rows:
            day = date.fromisoformat(day_s)
            sessions[day] = Session(
                day=day,
                open=datetime.fromisoformat(open_s).replace(tzinfo=MARKET_TZ),
                close=datetime.fromisoformat(close_s).replace(tzinfo=MARKET_TZ),
                half_day=bool(half),
            )
        return sessions
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("%s: unreadable calendar cache, computing the sessions again (%s)", path, exc)
        return None


def _write_cache(path: Path, sessions: dict[date, Session]) -> None:
    """Write the sessions to `path` atomically (write, rename); give up quietly on failure."""
    rows = [
        [
            s.day.isoformat(),
            s.open.astimezone(MARKET_TZ).replace(tzinfo=None).isoformat(),
            s.close.astimezone(MARKET_TZ).replace(tzinfo=None).isoformat(),
            s.half_day,
        ]
        for s in sessions.values()
    ]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(rows, separators=(",", ":")))
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("%s: calendar cache not written (%s)", path, exc)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
