"""Event Risk: macro releases (CPI, FOMC, NFP), single-stock earnings, and early-close sessions.

Two CSV files (``date,time,kind,symbol``; times America/New_York) list the events: the macro file
(``symbol`` is ``*``) and the earnings file (``kind`` is ``EARNINGS``, ``symbol`` the company's,
which applies to every listing of that symbol, e.g. ``TD`` to TD and TD.TO).

How the spec's rules are read here:

* Distance to an event is counted in sessions of the listing's exchange calendar: the event's own
  session is J0 (an event on a non-trading day belongs to the next session), the session before it
  J-1, and so on; only events not yet past (``event.at > now``) count. An event is inside a buffer
  of N sessions when it is J-N or nearer.
* A calendar that does not cover the trade's life is missing data: a trade living until its last
  expiry is covered only if, for every watched macro kind, an event of that kind is listed strictly
  after that expiry (so every event before it is known), and, for a single stock, an earnings date
  of its symbol likewise. ETFs need no earnings coverage. An empty macro file refuses every opening.
* "Privilégier ETF" (``prefer_etfs``): a stock whose earnings fall inside ``earnings_buffer_days``
  is refused outright, even under ``entry_rule = "reduce"``, so the ETFs (which have no earnings)
  take its place; with ``prefer_etfs = false`` earnings follow ``entry_rule`` like macro events.
"""

from __future__ import annotations

import bisect
import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, ValidationInfo, field_validator, model_validator

from seeker.agents.verdict import Verdict
from seeker.core.calendar import MARKET_TZ, MarketCalendars
from seeker.core.config_base import StrictModel, existing_file
from seeker.core.models import DataUnavailable, Listing

AGENT = "event_risk"
MacroKind = Literal["CPI", "FOMC", "NFP"]
MACRO_KINDS: tuple[str, ...] = get_args(MacroKind)
"""The macro kinds the macro file may list."""
EARNINGS = "EARNINGS"
MACRO_SYMBOL = "*"
HEADER = ("date", "time", "kind", "symbol")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})$")
_SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]*$")
# A holiday run never lasts this long, so the first session on or after a day lies within it.
_MAX_CLOSED_DAYS = 14


class EventsConfig(StrictModel):
    """The ``[events]`` table: event files, watched kinds, buffers (sessions) and rules."""

    macro_file: Path
    earnings_file: Path
    macro_kinds: list[MacroKind] = Field(min_length=1)
    macro_buffer_days: int = Field(ge=0, le=60)
    earnings_buffer_days: int = Field(ge=0, le=60)
    entry_rule: Literal["avoid", "reduce"]
    reduce_fraction: float = Field(gt=0.0, lt=1.0)
    position_rule: Literal["hold", "reduce", "close"]
    avoid_half_days: bool
    prefer_etfs: bool

    @field_validator("macro_file", "earnings_file", mode="before")
    @classmethod
    def _existing_file(cls, value: Any, info: ValidationInfo) -> Path:
        return existing_file(value, info)

    @field_validator("macro_kinds")
    @classmethod
    def _unique_kinds(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a kind is listed twice")
        return value

    @model_validator(mode="after")
    def _files_parse(self) -> EventsConfig:
        self.load_calendar()  # a malformed line is a config error, found before connecting
        return self

    def load_calendar(self) -> EventCalendar:
        """Parse and return the calendar the two files describe (ValueError on a bad line)."""
        return EventCalendar.load(self.macro_file, self.earnings_file)


@dataclass(frozen=True, slots=True)
class Event:
    """One scheduled event: its kind, when it happens (aware, New York) and its symbol (``*``)."""

    kind: str
    at: datetime
    symbol: str
    _day: date = field(init=False, repr=False, compare=False)
    """The event's date in New York (made once: the event is immutable)."""
    _at_text: str = field(init=False, repr=False, compare=False)
    _day_text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        day = self.at.astimezone(MARKET_TZ).date()
        object.__setattr__(self, "_day", day)
        object.__setattr__(self, "_at_text", self.at.isoformat())
        object.__setattr__(self, "_day_text", day.isoformat())

    @property
    def day(self) -> date:
        """Return the event's date in New York."""
        return self._day

    @property
    def iso_day(self) -> str:
        """Return ``day`` as YYYY-MM-DD."""
        return self._day_text

    @property
    def label(self) -> str:
        """Return a short name: ``CPI`` for macro, ``TD earnings`` for earnings."""
        return self.kind if self.symbol == MACRO_SYMBOL else f"{self.symbol} earnings"

    def as_dict(self) -> dict[str, Any]:
        """Return the event as a journal-ready mapping."""
        return {"kind": self.kind, "symbol": self.symbol, "at": self._at_text}

    def as_line(self, away: int | None, buffer: int) -> dict[str, Any]:
        """Return ``as_dict()`` with the date, sessions away and buffer (an entry's next event)."""
        return {
            "kind": self.kind,
            "symbol": self.symbol,
            "at": self._at_text,
            "date": self._day_text,
            "sessions_away": away,
            "buffer": buffer,
        }


def _parse_file(path: Path, macro: bool) -> list[Event]:
    """Return the events of one CSV file; ValueError naming ``file:line`` on any bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    events: list[Event] = []
    seen: dict[tuple[str, datetime, str], int] = {}
    header_seen = False
    for lineno, row in enumerate(csv.reader(text.splitlines()), start=1):
        where = f"{path}:{lineno}"
        if not row or all(not cell.strip() for cell in row):
            continue
        if not header_seen:
            if tuple(cell.strip() for cell in row) != HEADER:
                raise ValueError(f"{where}: header must be {','.join(HEADER)}, got {','.join(row)}")
            header_seen = True
            continue
        if len(row) != len(HEADER):
            raise ValueError(f"{where}: expected 4 fields (date,time,kind,symbol), got {len(row)}")
        day_s, time_s, kind, symbol = (cell.strip() for cell in row)
        if not _DATE_RE.match(day_s):
            raise ValueError(f"{where}: date {day_s!r} is not YYYY-MM-DD")
        try:
            day = date.fromisoformat(day_s)
        except ValueError:
            raise ValueError(f"{where}: {day_s!r} is not a calendar date") from None
        m = _TIME_RE.match(time_s)
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ValueError(f"{where}: time {time_s!r} is not HH:MM (00:00-23:59, New York)")
        at = datetime.combine(day, time(int(m.group(1)), int(m.group(2))), tzinfo=MARKET_TZ)
        if macro:
            if kind not in MACRO_KINDS:
                known = ", ".join(MACRO_KINDS)
                raise ValueError(f"{where}: kind {kind!r} is not a macro kind ({known})")
            if symbol != MACRO_SYMBOL:
                raise ValueError(f"{where}: a macro event's symbol must be '*', got {symbol!r}")
        else:
            if kind != EARNINGS:
                raise ValueError(f"{where}: kind must be {EARNINGS} in the earnings file")
            if not _SYMBOL_RE.match(symbol):
                raise ValueError(f"{where}: symbol {symbol!r} is not a ticker such as TD")
        key = (kind, at, symbol)
        if key in seen:
            raise ValueError(f"{where}: duplicate of line {seen[key]}")
        seen[key] = lineno
        events.append(Event(kind, at, symbol))
    return events


class EventCalendar:
    """The macro and earnings events, sorted by time; immutable once loaded (thread-safe)."""

    def __init__(self, events: Iterable[Event]) -> None:
        self.events: tuple[Event, ...] = tuple(sorted(events, key=lambda e: (e.at, e.kind)))
        by_key: dict[tuple[str, str], list[Event]] = {}
        for e in self.events:
            by_key.setdefault((e.kind, e.symbol), []).append(e)
        self._by_key = {k: tuple(v) for k, v in by_key.items()}
        self._times = {k: [e.at for e in v] for k, v in self._by_key.items()}

    @classmethod
    def load(cls, macro_path: Path, earnings_path: Path) -> EventCalendar:
        """Parse both files strictly; an empty file is valid but covers nothing."""
        return cls([*_parse_file(Path(macro_path), True), *_parse_file(Path(earnings_path), False)])

    def of(self, kind: str, symbol: str = MACRO_SYMBOL) -> tuple[Event, ...]:
        """Return the events of one kind (and symbol, for earnings), oldest first."""
        return self._by_key.get((kind, symbol), ())

    def last(self, kind: str, symbol: str = MACRO_SYMBOL) -> Event | None:
        """Return the last listed event of a kind (and symbol), or None when none is listed."""
        found = self.of(kind, symbol)
        return found[-1] if found else None

    def upcoming(self, kind: str, symbol: str, now: datetime) -> tuple[Event, ...]:
        """Return the events of a kind (and symbol) strictly after `now`, oldest first."""
        key = (kind, symbol)
        times = self._times.get(key)
        if not times:
            return ()
        return self._by_key[key][bisect.bisect_right(times, now) :]


def _plural(n: int) -> str:
    return f"{n} session" if n == 1 else f"{n} sessions"


def _in_buffer(event: Event, away: int | None, buffer: int) -> str:
    """Return e.g. ``CPI on 2026-03-11 is J-1 (buffer 1 session)``."""
    return f"{event.label} on {event.iso_day} is J-{away} (buffer {_plural(buffer)})"


@dataclass(frozen=True, slots=True)
class _Watch:
    """One stream of events that matters to a listing, with its buffer in sessions."""

    kind: str
    symbol: str
    buffer: int

    @property
    def name(self) -> str:
        return self.kind if self.symbol == MACRO_SYMBOL else f"{self.symbol} earnings"


class EventRisk:
    """Refuse or shrink openings near events; tell open positions to reduce or close."""

    def __init__(self, cfg: EventsConfig, calendar: EventCalendar, calendars: MarketCalendars):
        self.cfg = cfg
        self.calendar = calendar
        self.calendars = calendars
        self._away: tuple[date, dict[tuple[str, date], int]] = (date.min, {})
        """J-N of (calendar, event day) for one `today` (the loaded calendars never change)."""
        self._watched: tuple[EventsConfig | None, dict[tuple[bool, str], tuple[_Watch, ...]]] = (
            None,
            {},
        )
        """The watches of each (stock?, symbol) under one config (``_watches``)."""

    # ------------------------------------------------------------------ helpers
    def _watches(self, listing: Listing) -> tuple[_Watch, ...]:
        """Return the event streams a listing watches (made once per config, kind and symbol)."""
        cfg, known = self._watched
        if cfg is not self.cfg:
            cfg, known = self.cfg, {}
            self._watched = (cfg, known)
        key = (listing.kind == "stock", listing.symbol)
        found = known.get(key)
        if found is None:
            out = [_Watch(k, MACRO_SYMBOL, cfg.macro_buffer_days) for k in cfg.macro_kinds]
            if listing.kind == "stock":
                out.append(_Watch(EARNINGS, listing.symbol, cfg.earnings_buffer_days))
            found = known[key] = tuple(out)
        return found

    @staticmethod
    def _today(now: datetime) -> date:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        return now.astimezone(MARKET_TZ).date()

    def sessions_away(self, code: str, today: date, day: date) -> int:
        """Return N of J-N: sessions of `code` after `today` up to the event's session (J0).

        The event's session is the first session on or after `day`. DataUnavailable when the
        loaded exchange calendars do not reach that far. Counted once per calendar, day and event
        day (the calendars are fixed once loaded).
        """
        on, known = self._away
        if on != today:
            on, known = today, {}
            self._away = (on, known)
        n = known.get((code, day))
        if n is None:
            n = known[code, day] = self._count_away(code, today, day)
        return n

    def _count_away(self, code: str, today: date, day: date) -> int:
        """Return N of J-N, counted in the loaded calendars (see ``sessions_away``)."""
        cals = self.calendars
        if today < cals.start:
            raise DataUnavailable(f"{today} is before the loaded calendar range {cals.start}")
        if day <= today:
            return 0
        if day > cals.end:
            raise DataUnavailable(
                f"{day} is beyond the loaded {code} calendar (ends {cals.end}): sessions unknown"
            )
        ahead = cals.sessions(code, day, min(day + timedelta(days=_MAX_CLOSED_DAYS), cals.end))
        if not ahead:
            raise DataUnavailable(f"no {code} session on or after {day} in the loaded calendar")
        return len(cals.sessions(code, today + timedelta(days=1), ahead[0]))

    def _within(self, code: str, today: date, day: date, buffer: int) -> tuple[bool, int | None]:
        """Return (inside the buffer, sessions away or None when beyond the loaded calendars)."""
        cals = self.calendars
        if today < cals.start:
            raise DataUnavailable(f"{today} is before the loaded calendar range {cals.start}")
        if day > cals.end:
            # Every session up to the range's end lies before the event: a lower bound.
            floor = len(cals.sessions(code, today + timedelta(days=1), cals.end)) + 1
            if floor > buffer:
                return False, None
        n = self.sessions_away(code, today, day)
        return n <= buffer, n

    # ------------------------------------------------------------------ entries
    def entry_verdict(self, listing: Listing, now: datetime, last_expiry: date) -> Verdict:
        """Judge an opening on `listing` at `now` whose last leg expires on `last_expiry`.

        Refuses when the calendar does not cover the trade, when a watched event is inside its
        buffer (with ``entry_rule = "reduce"``: allowed with ``details["qty_factor"]`` instead,
        except for a stock's earnings when ``prefer_etfs``), or on an early-close session when
        ``avoid_half_days``. A quantity times ``qty_factor`` rounds down; 0 means no trade.
        """
        today = self._today(now)
        code = listing.calendar
        cfg = self.cfg
        refusals: list[str] = []
        reductions: list[str] = []
        coverage: dict[str, str | None] = {}
        uncovered: list[tuple[str, str]] = []
        upcoming: list[tuple[Event, int | None, int]] = []
        try:
            for w in self._watches(listing):
                last = self.calendar.last(w.kind, w.symbol)
                coverage[w.name] = last.iso_day if last else None
                if last is None:
                    uncovered.append((w.name, f"no {w.name} listed"))
                elif last.day <= last_expiry:
                    uncovered.append((w.name, f"last {w.name} listed {last.iso_day}"))
                nxt = self.calendar.upcoming(w.kind, w.symbol, now)
                if not nxt:
                    continue
                event = nxt[0]
                inside, away = self._within(code, today, event.day, w.buffer)
                upcoming.append((event, away, w.buffer))
                if not inside:
                    continue
                text = _in_buffer(event, away, w.buffer)
                earnings_refused = w.kind == EARNINGS and cfg.prefer_etfs
                if cfg.entry_rule == "reduce" and not earnings_refused:
                    reductions.append(text)
                elif earnings_refused:
                    refusals.append(f"{text}: single stock refused, ETFs preferred")
                else:
                    refusals.append(text)
            session = self.calendars.session(code, today)
        except (DataUnavailable, ValueError) as exc:
            return Verdict(
                AGENT,
                False,
                f"event risk cannot be assessed: {exc}",
                details={"missing_data": True, "coverage": coverage},
            )
        if uncovered:
            refusals.insert(
                0,
                f"event calendar does not cover the trade (lives to {last_expiry.isoformat()}): "
                + ", ".join(text for _, text in uncovered),
            )
        upcoming.sort(key=lambda u: (u[0].at, u[0].kind))
        half_day = session is not None and session.half_day
        if session is not None and half_day and cfg.avoid_half_days:
            close = session.close.astimezone(MARKET_TZ)
            refusals.append(
                f"{today.isoformat()} is an early-close session ({code} closes "
                f"{close:%H:%M}): no opening"
            )
        details: dict[str, Any] = {
            "listing_id": listing.listing_id,
            "trade_until": last_expiry.isoformat(),
            "coverage": coverage,
            "uncovered": [name for name, _ in uncovered],
            "next_events": [e.as_line(away, b) for e, away, b in upcoming],
            "half_day": half_day,
            "entry_rule": cfg.entry_rule,
        }
        if refusals:
            return Verdict(AGENT, False, "; ".join(refusals + reductions), details=details)
        if reductions:
            details["qty_factor"] = cfg.reduce_fraction
            reason = "; ".join(reductions) + f": size reduced to {cfg.reduce_fraction:.0%}"
            return Verdict(AGENT, True, reason, details=details)
        return Verdict(AGENT, True, self._clear_reason(upcoming), details=details)

    @staticmethod
    def _clear_reason(upcoming: Sequence[tuple[Event, int | None, int]]) -> str:
        if not upcoming:
            return "no event inside its buffer"
        event, away, _ = upcoming[0]
        when = f"J-{away}" if away is not None else "beyond the loaded calendar"
        return f"no event inside its buffer; next {event.label} on {event.iso_day} ({when})"

    # ------------------------------------------------------------------ positions
    def position_action(
        self, listing: Listing, now: datetime, expiry: date
    ) -> tuple[str, str] | None:
        """Return ("reduce" | "close", reason) when a watched event falls inside its buffer on or
        before the position's `expiry`; None when none does or ``position_rule`` is "hold".

        DataUnavailable when the loaded exchange calendars cannot tell the distance.
        """
        if self.cfg.position_rule == "hold":
            return None
        today = self._today(now)
        found: list[tuple[datetime, Event, int, int]] = []
        for w in self._watches(listing):
            nxt = self.calendar.upcoming(w.kind, w.symbol, now)
            if not nxt or nxt[0].day > expiry:
                continue  # later events of this stream are further away still
            inside, away = self._within(listing.calendar, today, nxt[0].day, w.buffer)
            if inside and away is not None:
                found.append((nxt[0].at, nxt[0], away, w.buffer))
        if not found:
            return None
        _, event, away, buffer = min(found, key=lambda f: (f[0], f[1].kind))
        rule = self.cfg.position_rule
        reason = f"{_in_buffer(event, away, buffer)} before expiry {expiry.isoformat()}: {rule}"
        return rule, reason

    def next_event(self, listing: Listing, now: datetime) -> tuple[Event, int] | None:
        """Return the nearest watched upcoming event and its distance in sessions (J-N), or None
        when none is listed. DataUnavailable when the loaded exchange calendars stop before it."""
        today = self._today(now)
        nearest: Event | None = None
        for w in self._watches(listing):
            nxt = self.calendar.upcoming(w.kind, w.symbol, now)
            if nxt and (nearest is None or (nxt[0].at, nxt[0].kind) < (nearest.at, nearest.kind)):
                nearest = nxt[0]
        if nearest is None:
            return None
        return nearest, self.sessions_away(listing.calendar, today, nearest.day)
