"""SimMarket: the embedded simulated market (seeded and deterministic).

The market lives on a fixed grid: every union session of the listings' calendars has
``steps_per_session`` equal steps from its open to its close, and the state at time t is the state
at the last grid point at or before t. Sessions are generated whole, one after the other, from
seeded generators (see :mod:`seeker.core.sim.paths`), so prices, IVs, regimes, FX and volumes
depend only on the seed and the grid, never on the queries made. A listing trades only while its
own calendar is open: outside its hours (or on its holidays) its quotes are those of its last
trading grid point. ``history_sessions`` of history are generated before the first session, so
IV rank and rolling correlations exist on day one; prices and USD.CAD are anchored so that the
first session opens at the configured spots and rate.

Option quotes are pure functions of the seed and the grid point, computed in vectorised passes
over many rows at once; caches only spare recomputing them and never change a number, whatever
the order or shape of the requests: per grid point, the quote values of every (listing, expiry,
strike, right) already asked (shared by every later chain or quote request at that point); per
session, each listing's quote basis (its previous close), its expected chain volume weight and
each asked expiry's open interest; per expiry until it passes, the contracts handed out and the
contract noise behind open interest (a weekly drift knot).

Thread-safe: every public method holds one re-entrant lock.
"""

from __future__ import annotations

import bisect
import math
import threading
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from functools import partial
from itertools import repeat
from typing import Any

import numpy as np

from seeker.core.calendar import MARKET_TZ, MarketCalendars
from seeker.core.models import (
    PIP,
    Chain,
    DailyHistory,
    DataUnavailable,
    FxQuote,
    Listing,
    OptionContract,
    OptionQuote,
    UnderlyingQuote,
)
from seeker.core.pricing import bs_price_greeks
from seeker.core.sim.chain import (
    bid_ask,
    contract_noise,
    cumulative_volume_share,
    expected_volume_weight,
    noisy_open_interest,
    oi_knot,
    open_interest,
    strike_factor,
    typical_open_interest,
    volume_weight,
)
from seeker.core.sim.expiries import candidate_fridays
from seeker.core.sim.paths import PathGenerator, RegimeTable, SessionPath, Universe, shift_paths
from seeker.core.sim.settings import REGIMES, SimSettings, SimVolSettings
from seeker.core.sim.surface import DAYS_PER_YEAR, Surface, atm_vol, smile_rows

YEAR_SECONDS = DAYS_PER_YEAR * 86400.0
"""Seconds in a year of option time (calendar days)."""

STRIKE_SD = 4.0
"""Listed strikes cover at least this many standard deviations (σ√T) each side of spot."""

STRIKE_MIN_SPAN = 0.25
"""Listed strikes cover at least this fraction of spot each side."""

MAX_STRIKES_PER_SIDE = 300
"""At most this many strikes are listed below and above spot (keeps chains bounded)."""

MIN_OPTION_T = 60.0 / YEAR_SECONDS
"""Shortest time to expiry used in pricing (one minute), in years."""

_MIN_DOWN = -math.log(1.0 - STRIKE_MIN_SPAN)
_MIN_UP = math.log(1.0 + STRIKE_MIN_SPAN)

_CALL_PUT = np.array([[True], [False]])
"""Broadcasts a row of strikes to rows (call, put)."""

FX_PAIR = "USD.CAD"
FX_TICK = 0.00001
"""USD.CAD quotes are on tenths of a pip."""


@dataclass
class _Bars:
    """Completed daily bars of one listing, oldest first."""

    days: list[date] = field(default_factory=list)
    close_ts: list[float] = field(default_factory=list)
    open: list[float] = field(default_factory=list)
    high: list[float] = field(default_factory=list)
    low: list[float] = field(default_factory=list)
    close: list[float] = field(default_factory=list)
    iv: list[float] = field(default_factory=list)
    index: dict[date, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Expiry:
    """A listed expiry of one calendar: its date, monthly flag and close (POSIX seconds)."""

    day: date
    monthly: bool
    close_ts: float


@dataclass(frozen=True, slots=True)
class _ExpiryLiquidity:
    """One session's open interest and volume weights of one expiry, rows (call, put) × strikes.

    Column c is strike index ``j0 + c`` (strike = index × the listing's increment).
    """

    j0: int
    oi: np.ndarray
    weight: np.ndarray
    oi_rows: np.ndarray
    """``oi`` as quote rows: call then put per strike (column c at rows 2c, 2c + 1)."""
    weight_rows: np.ndarray
    """``weight`` as quote rows, like ``oi_rows``."""


@dataclass(slots=True)
class _Noise:
    """Contract noise of one expiry over strike indices lo.., rows (call, put); kept to expiry."""

    lo: int
    base: np.ndarray
    knots: dict[int, np.ndarray]
    """Drift noise by weekly knot."""


@dataclass(slots=True)
class _StepRows:
    """Quote values of one expiry at one grid point, shared by every request at that point.

    Strike indices lo.., two rows per strike (call, put); each column a list, None where not
    computed yet. Columns: bid, ask, iv, delta, gamma, vega, theta, open interest, volume, size.
    """

    lo: int
    cols: list[list[Any]]
    quotes: list[OptionQuote | None]
    """Chain quotes made from the columns at time ``now`` (None where not made yet)."""
    now: datetime | None = None


_COLUMNS = 10


@dataclass(slots=True)
class _ContractRow:
    """The contracts of one expiry over strike indices lo.., kept until the expiry passes."""

    lo: int
    calls: list[OptionContract]
    puts: list[OptionContract]


class _Obs:
    """Where a listing's observable state sits: a session path, a grid point and its time."""

    __slots__ = ("g", "path", "ts")

    def __init__(self, path: SessionPath, g: int) -> None:
        self.path = path
        self.g = g
        self.ts = float(path.times[g])
        """The POSIX time of the grid point."""


@dataclass(slots=True)
class _ListingDay:
    """One listing's quote basis for one session: its previous close and what derives from it."""

    ref: _Obs
    """The listing's last close before the session (open interest's basis)."""
    spot: float
    surface: Surface
    liquidity: dict[date, _ExpiryLiquidity] = field(default_factory=dict)
    total_weight: float | None = None


_Rows = tuple[_Expiry, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Quote rows of one expiry: (expiry, strikes, is_call, open interest, volume weight)."""


class SimMarket:
    """The simulated market: prices, IV surfaces, option quotes, history and USD.CAD."""

    def __init__(
        self,
        settings: SimSettings,
        listings: Mapping[str, Listing],
        calendars: MarketCalendars,
        rates: Mapping[str, float],
    ) -> None:
        _check_inputs(settings, listings, calendars, rates)
        self.settings = settings
        self.listings = dict(listings)
        self.calendars = calendars
        self.rates = dict(rates)
        self._lock = threading.RLock()
        self._u = Universe.build(settings, listings)
        self._table = RegimeTable.build(settings)
        self._gen = PathGenerator(settings, self._u, self._table)
        self._n = settings.steps_per_session
        self._keys = [zlib.crc32(lid.encode("utf-8")) for lid in self._u.ids]
        self._codes = sorted({listings[lid].calendar for lid in self._u.ids})
        self._rows = {
            c: np.array([listings[lid].calendar == c for lid in self._u.ids]) for c in self._codes
        }
        self._bars = [_Bars() for _ in self._u.ids]
        self._paths: list[SessionPath] = []
        self._next: tuple[date, float] | None = None
        self._expiry_cache: dict[tuple[str, date], tuple[list[_Expiry], list[float]]] = {}
        """Candidate expiries (and their closes, ascending) by (calendar, New York date)."""
        self._listed_cache: dict[tuple[str, date, int], dict[date, _Expiry]] = {}
        """Listed expiries by (calendar, New York date, candidates already closed)."""
        self._day_span: tuple[float, float, date] | None = None
        """The POSIX span [start, end) of the New York date last asked for, and that date."""
        self._cache: dict[tuple[object, ...], object] = {}
        self._day_cache: dict[tuple[object, ...], object] = {}
        self._listing_days: dict[int, _ListingDay] = {}
        """Each listing's quote basis for the current session (dropped at the next session)."""
        self._contract_rows: dict[tuple[int, date], _ContractRow] = {}
        """Chain contracts by (listing index, expiry), kept until they expire."""
        self._noise: dict[tuple[int, date], _Noise] = {}
        """Contract noise by (listing index, expiry), kept until they expire."""
        self._strike_table = [np.zeros(0) for _ in self._u.ids]
        """Strikes by strike index (index × increment, rounded), per listing."""
        self._strike_pairs = [np.zeros(0) for _ in self._u.ids]
        """The strike tables with every strike twice (quote rows: call, put per strike)."""
        self._strike_lists: list[list[float]] = [[] for _ in self._u.ids]
        """The strike tables as lists (for per-contract lookups)."""
        self._calls_first = np.zeros(0, dtype=bool)
        """Quote rows' rights (True: call), alternating call, put per strike; grown on demand."""
        self._factor_table = [np.zeros(0) for _ in self._u.ids]
        """Open-interest strike factors by strike index, per listing."""
        ordered = [listings[lid] for lid in self._u.ids]
        self._inc = [x.strike_increment for x in ordered]
        self._carry = [rates[x.currency] - x.dividend_yield for x in ordered]
        self._typical_oi = [float(settings.listings[lid].open_interest) for lid in self._u.ids]

        start_day, first_day = self._history_range()
        for day in calendars.union_sessions(first_day, start_day):
            self._paths.append(self._generate(day))
        self._anchor()
        for path in self._paths:
            self._record_bars(path)
        self.start_time: datetime = datetime.fromtimestamp(self._paths[-1].open_ts, MARKET_TZ)
        """The open of the first simulated session."""
        self._now = self.start_time
        self._now_ts = self._paths[-1].open_ts
        self._pos = (len(self._paths) - 1, 0)

    # -- construction ------------------------------------------------------------------------
    def _history_range(self) -> tuple[date, date]:
        """Return (first simulated session, first history session)."""
        s = self.settings
        upcoming = self.calendars.union_sessions(s.start, s.start + timedelta(days=14))
        if not upcoming:
            raise ValueError(f"no session within 14 days of sim.start {s.start} in the calendars")
        start_day = upcoming[0]
        firsts = []
        for code in self._codes:
            try:
                firsts.append(self.calendars.session_offset(code, start_day, -s.history_sessions))
            except ValueError:
                raise ValueError(
                    f"calendar {code} must cover {s.history_sessions} sessions before {start_day} "
                    f"(history); it starts {self.calendars.start}"
                ) from None
        return start_day, min(firsts)

    def _generate(self, day: date) -> SessionPath:
        span = self.calendars.union_session(day)
        if span is None:
            raise ValueError(f"{day} is not a session of any calendar")
        times = np.linspace(span[0].timestamp(), span[1].timestamp(), self._n + 1)
        trades = np.zeros((len(self._u.ids), self._n + 1), dtype=bool)
        for code in self._codes:
            sess = self.calendars.session(code, day)
            if sess is not None:
                mask = (times >= sess.open.timestamp() - 1.0) & (
                    times <= sess.close.timestamp() + 1.0
                )
                trades[self._rows[code]] = mask
        return self._gen.generate(len(self._paths), day, times, trades)

    def _anchor(self) -> None:
        """Shift prices and USD.CAD so the first session opens at the configured values."""
        first = self._paths[-1]
        spots = np.array([self.settings.listings[lid].spot for lid in self._u.ids])
        base_off = np.log(spots) - first.logp[:, 0]
        fx_off = math.log(self.settings.usd_cad) - float(first.logfx[0])
        self._paths = shift_paths(self._paths, self._u, base_off, fx_off)
        self._gen.shift(base_off, fx_off)

    def _record_bars(self, path: SessionPath) -> None:
        """Append the daily bar of every listing that traded in `path`."""
        iv = self.settings.iv
        level = self._u.base_iv * path.mix.iv_mult
        prices = np.exp(path.logp)
        high = np.where(path.trades, prices, -np.inf).max(axis=1).tolist()
        low = np.where(path.trades, prices, np.inf).min(axis=1).tolist()
        rows = np.arange(len(self._u.ids))
        first, last = path.first_trade, path.last_trade
        opens = prices[rows, first].tolist()
        closes = prices[rows, last].tolist()
        ivs = np.clip(level * np.exp(path.ivx[rows, last]), iv.min_iv, iv.max_iv).tolist()
        close_ts = {}
        for code in self._codes:
            sess = self.calendars.session(code, path.day)
            close_ts[code] = None if sess is None else sess.close.timestamp()
        for i, lid in enumerate(self._u.ids):
            if first[i] < 0:
                continue
            bars = self._bars[i]
            bars.index[path.day] = len(bars.days)
            bars.days.append(path.day)
            bars.close_ts.append(close_ts[self.listings[lid].calendar])  # type: ignore[arg-type]
            bars.open.append(opens[i])
            bars.high.append(high[i])
            bars.low.append(low[i])
            bars.close.append(closes[i])
            bars.iv.append(ivs[i])

    # -- time ----------------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        """Return the market's current time."""
        return self._now

    def advance_to(self, t: datetime) -> None:
        """Move the market forward to `t` (aware); a time at or before now is a no-op.

        The market never goes back. Sessions whose open is at or before `t` are generated whole.
        ValueError when `t` is naive or beyond the loaded calendars (see sim_calendar_span).
        """
        if t.tzinfo is None:
            raise ValueError("advance_to needs an aware datetime")
        ts = t.timestamp()
        with self._lock:
            if ts <= self._now_ts:
                return
            while True:
                day, open_ts = self._next_session()
                if open_ts > ts:
                    break
                path = self._generate(day)
                self._paths.append(path)
                self._record_bars(path)
                self._next = None
            last = self._paths[-1]
            g = min(self._n, int((ts - last.open_ts) / last.step_seconds + 1e-6))
            self._now = t
            self._now_ts = ts
            pos = (len(self._paths) - 1, g)
            if pos != self._pos:
                if pos[0] != self._pos[0]:
                    self._new_day()
                self._pos = pos
                self._cache.clear()

    def _new_day(self) -> None:
        """Drop the caches of the previous session and the contracts that have expired."""
        self._day_cache.clear()
        self._listing_days.clear()
        today = self._paths[self._pos[0]].day if self._paths else None
        if today is not None:
            for store in (self._contract_rows, self._noise):
                for k in [k for k in store if k[1] < today]:
                    del store[k]

    def _next_session(self) -> tuple[date, float]:
        if self._next is None:
            last = self._paths[-1].day
            days = self.calendars.union_sessions(
                last + timedelta(days=1), last + timedelta(days=15)
            )
            if not days:
                raise ValueError(
                    f"the calendars end ({self.calendars.end}); no session after {last}"
                )
            span = self.calendars.union_session(days[0])
            assert span is not None
            self._next = (days[0], span[0].timestamp())
        return self._next

    def current_session(self) -> date:
        """Return the union session now is in (the latest one opened at or before now)."""
        with self._lock:
            return self._paths[self._pos[0]].day

    def is_open(self, listing_id: str) -> bool:
        """Return True when the listing's own calendar is in regular trading hours now."""
        with self._lock:
            return self.calendars.is_open(self._listing(listing_id).calendar, self._now)

    def regime(self) -> str:
        """Return the ground-truth market regime of the current session (diagnostics only)."""
        with self._lock:
            return REGIMES[self._paths[self._pos[0]].regime]

    def regime_history(self) -> list[tuple[date, str]]:
        """Return (session, regime) of every union session opened so far, oldest first."""
        with self._lock:
            return [(p.day, REGIMES[p.regime]) for p in self._paths[: self._pos[0] + 1]]

    # -- underlyings ---------------------------------------------------------------------------
    def _listing(self, listing_id: str) -> Listing:
        try:
            return self.listings[listing_id]
        except KeyError:
            raise DataUnavailable(
                f"{listing_id}: unknown listing in the simulated market"
            ) from None

    def _obs(self, i: int) -> _Obs:
        """Return the last grid point at or before now at which listing `i` traded."""
        key = ("obs", i)
        hit = self._cache.get(key)
        if hit is not None:
            return hit  # type: ignore[return-value]
        s, g = self._pos
        path = self._paths[s]
        if path.trades[i, g]:
            obs = _Obs(path, g)
        elif path.first_trade[i] >= 0 and g > path.last_trade[i]:
            obs = _Obs(path, int(path.last_trade[i]))
        else:
            prev = int(path.prev_traded[i])
            if prev < 0:
                raise DataUnavailable(f"{self._u.ids[i]}: has not traded yet")
            obs = _Obs(self._paths[prev], int(self._paths[prev].last_trade[i]))
        self._cache[key] = obs
        return obs

    def _price(self, i: int, obs: _Obs) -> float:
        return math.exp(float(obs.path.logp[i, obs.g]))

    def spot(self, listing_id: str) -> float:
        """Return the underlying's price now ($ per share, the listing's currency)."""
        with self._lock:
            self._listing(listing_id)
            i = self._u.index[listing_id]
            return self._price(i, self._obs(i))

    def underlying_quote(self, listing_id: str) -> UnderlyingQuote:
        """Return bid/ask around the price (``quotes.underlying_spread`` wide) and last."""
        with self._lock:
            self._listing(listing_id)
            i = self._u.index[listing_id]
            key = ("underlying", i, self._now_ts)
            hit = self._cache.get(key)
            if hit is not None:
                return hit  # type: ignore[return-value]
            price = self._price(i, self._obs(i))
            tick = 0.01
            width = max(1, round(self.settings.quotes.underlying_spread / tick))
            bid_ticks = math.floor(price / tick - (width - 1) / 2)
            bid = round(bid_ticks * tick, 2)
            ask = round((bid_ticks + width) * tick, 2)
            quote = self._cache[key] = UnderlyingQuote(
                listing_id, bid, ask, round(price, 2), self._now
            )
            return quote

    # -- IV surface ---------------------------------------------------------------------------
    def _surface(self, i: int, obs: _Obs) -> Surface:
        """Return the listing's IV surface at observation `obs`."""
        key = ("surface", i, obs.path.index, obs.g)
        hit = self._day_cache.get(key)
        if hit is None:
            mix = obs.path.mix
            hit = Surface(
                base_iv=float(self._u.base_iv[i]),
                shift=math.log(mix.iv_mult) + float(obs.path.ivx[i, obs.g]),
                term_slope=mix.term_slope,
                skew=mix.skew,
                params=self.settings.iv,
            )
            if len(self._day_cache) > 4096:
                self._day_cache.clear()
            self._day_cache[key] = hit
        return hit  # type: ignore[return-value]

    def atm_iv(self, listing_id: str, days: float) -> float:
        """Return the at-the-money implied vol (per 1.00) for an expiry `days` calendar days out."""
        if not days > 0:
            raise ValueError(f"days must be positive, got {days}")
        with self._lock:
            self._listing(listing_id)
            i = self._u.index[listing_id]
            surface = self._surface(i, self._obs(i))
            return surface.atm_at(days / DAYS_PER_YEAR)

    # -- expiries and strikes ------------------------------------------------------------------
    def _calendar_expiries(self, code: str, today: date) -> tuple[list[_Expiry], list[float]]:
        """Return a calendar's candidate expiries on `today`, by date, and their closes."""
        key = (code, today)
        hit = self._expiry_cache.get(key)
        if hit is None:
            s = self.settings
            out: dict[date, _Expiry] = {}
            for friday, monthly in candidate_fridays(
                today, s.weekly_expiry_weeks, s.monthly_expiry_days
            ).items():
                day = friday
                if not self.calendars.is_session(code, day):
                    day = self.calendars.session_offset(code, friday, -1)
                sess = self.calendars.session(code, day)
                assert sess is not None
                prior = out.get(day)
                out[day] = _Expiry(
                    day, monthly or (prior is not None and prior.monthly), sess.close.timestamp()
                )
            ordered = sorted(out.values(), key=lambda e: e.day)
            if len(self._expiry_cache) > 64:
                self._expiry_cache.clear()
            hit = self._expiry_cache[key] = (ordered, [e.close_ts for e in ordered])
        return hit

    def _market_date(self, ts: float) -> date:
        """Return the New York date of POSIX time `ts` (the date's span is kept for the next)."""
        span = self._day_span
        if span is not None and span[0] <= ts < span[1]:
            return span[2]
        today = datetime.fromtimestamp(ts, MARKET_TZ).date()
        start = datetime.combine(today, dtime(), MARKET_TZ).timestamp()
        end = datetime.combine(today + timedelta(days=1), dtime(), MARKET_TZ).timestamp()
        self._day_span = (start, end, today)
        return today

    def _listed_at(self, i: int, ts: float) -> dict[date, _Expiry]:
        """Return the expiries listed at POSIX time `ts` for listing `i`, by date (shared)."""
        code = self.listings[self._u.ids[i]].calendar
        today = self._market_date(ts)
        candidates, closes = self._calendar_expiries(code, today)
        closed = bisect.bisect_right(closes, ts)  # dates ascend, so do closes: live = the rest
        key = (code, today, closed)
        hit = self._listed_cache.get(key)
        if hit is None:
            live = candidates[closed:]
            weeklies = live[: self.settings.weekly_expiry_weeks]
            chosen = {e.day: e for e in live if e.monthly}
            chosen.update({e.day: e for e in weeklies})
            if len(self._listed_cache) > 64:
                self._listed_cache.clear()
            hit = self._listed_cache[key] = dict(sorted(chosen.items()))
        return hit

    def _listed(self, i: int) -> dict[date, _Expiry]:
        """Return the expiries listed now for listing `i`, by date."""
        key = ("listed", i, self._now_ts)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._listed_at(i, self._now_ts)
        return hit  # type: ignore[return-value]

    def expiries(self, listing_id: str) -> list[date]:
        """Return the listed expiries, sorted: weeklies and monthlies to ≥ monthly_expiry_days."""
        with self._lock:
            self._listing(listing_id)
            return list(self._listed(self._u.index[listing_id]))

    def _expiry(self, i: int, expiry: date) -> _Expiry:
        e = self._listed(i).get(expiry)
        if e is None:
            raise DataUnavailable(f"{self._u.ids[i]}: expiry {expiry} is not listed now")
        return e

    def _grid_bounds(self, i: int, obs: _Obs, e: _Expiry) -> tuple[int, int]:
        """Return the strike indices (lo, hi) listed at `obs`: ±max(4 σ√T, 25 %) around spot."""
        return self._grids(i, obs, (e,))[0]

    def _grids(self, i: int, obs: _Obs, expiries: Sequence[_Expiry]) -> list[tuple[int, int]]:
        """Return the listed strike indices (lo, hi) of several expiries at `obs`."""
        inc = self._inc[i]
        spot = self._price(i, obs)
        atm_at = self._surface(i, obs).atm_at
        centre = round(spot / inc)
        floor_lo, ceil_hi = max(centre - MAX_STRIKES_PER_SIDE, 1), centre + MAX_STRIKES_PER_SIDE
        out = []
        for e in expiries:
            t = max((e.close_ts - obs.ts) / YEAR_SECONDS, MIN_OPTION_T)
            sd = STRIKE_SD * (atm_at(t) * math.sqrt(t))
            lo = max(math.floor(spot * math.exp(-max(sd, _MIN_DOWN)) / inc), floor_lo)
            hi = min(math.ceil(spot * math.exp(max(sd, _MIN_UP)) / inc), ceil_hi)
            out.append((lo, max(hi, lo)))
        return out

    def _strike_values(self, i: int, lo: int, hi: int) -> np.ndarray:
        """Return the strikes of indices lo..hi (inclusive) of listing `i` (a read-only view)."""
        table = self._strike_table[i]
        if hi >= len(table):
            table = self._grow_tables(i, hi)
        return table[lo : hi + 1]

    def _strike_factors(self, i: int, lo: int, hi: int) -> np.ndarray:
        """Return the open-interest strike factors of indices lo..hi of listing `i`."""
        table = self._factor_table[i]
        if hi >= len(table):
            self._grow_tables(i, hi)
            table = self._factor_table[i]
        return table[lo : hi + 1]

    def _grow_tables(self, i: int, hi: int) -> np.ndarray:
        """Extend listing `i`'s strike tables past index `hi`; return the strikes."""
        size = max(2 * len(self._strike_table[i]), hi + 1, 64)
        table = np.round(np.arange(size) * self._inc[i], 4)
        factors = strike_factor(table, self.settings.liquidity)
        table.flags.writeable = False
        factors.flags.writeable = False
        self._strike_lists[i] = table.tolist()
        pairs = np.repeat(table, 2)
        pairs.flags.writeable = False
        self._strike_pairs[i] = pairs
        self._strike_table[i] = table
        self._factor_table[i] = factors
        return table

    def strikes(self, listing_id: str, expiry: date) -> np.ndarray:
        """Return the listed strikes of one expiry, sorted, on the listing's strike increment."""
        with self._lock:
            self._listing(listing_id)
            i = self._u.index[listing_id]
            lo, hi = self._grid_bounds(i, self._obs(i), self._expiry(i, expiry))
            return self._strike_values(i, lo, hi).copy()

    # -- option quotes --------------------------------------------------------------------------
    def _day_of(self, i: int) -> _ListingDay:
        """Return listing `i`'s quote basis for the current session (made once per session)."""
        hit = self._listing_days.get(i)
        if hit is None:
            path = self._paths[int(self._paths[self._pos[0]].prev_traded[i])]
            ref = _Obs(path, int(path.last_trade[i]))
            hit = _ListingDay(ref, self._price(i, ref), self._surface(i, ref))
            self._listing_days[i] = hit
        return hit

    def _k_ref(
        self,
        i: int,
        day: _ListingDay,
        close_ts: float | np.ndarray,
        strikes: np.ndarray,
        counts: Sequence[int] | None = None,
    ) -> np.ndarray:
        """Return the standardized log-moneyness of rows at the previous close.

        `close_ts` holds one expiry close per group of `counts` rows, or is the close of the only
        expiry (a float: no counts).
        """
        if isinstance(close_ts, float):
            t1 = max((close_ts - day.ref.ts) / YEAR_SECONDS, MIN_OPTION_T)
            fwd1 = day.spot * float(np.exp(self._carry[i] * t1))
            return day.surface.moneyness(strikes, fwd1, t1)
        t = np.maximum((close_ts - day.ref.ts) / YEAR_SECONDS, MIN_OPTION_T)
        fwd = day.spot * np.exp(self._carry[i] * t)
        return day.surface.moneyness(strikes, fwd, t, counts)

    def _open_interest(
        self, i: int, e: _Expiry, strikes: np.ndarray, is_call: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (open interest, volume weight) of contracts of one expiry, at the last close.

        `strikes` and `is_call` broadcast (a row of strikes with [[True], [False]] gives rows
        (call, put) × strikes).
        """
        day = self._day_of(i)
        liq = self.settings.liquidity
        k_ref = self._k_ref(i, day, e.close_ts, strikes)
        median = typical_open_interest(strikes, k_ref, e.monthly, self._typical_oi[i], liq)
        oi = open_interest(
            self.settings.seed,
            self._keys[i],
            self._paths[self._pos[0]].day.toordinal(),
            e.day.toordinal(),
            strikes,
            is_call,
            median,
            liq,
        )
        return oi, volume_weight(oi, k_ref, liq)

    def _liquidity(self, i: int, e: _Expiry) -> _ExpiryLiquidity:
        """Return the session's open interest and volume weights of one expiry's strikes.

        They cover the strikes listed at the last close, widened by half their span each side
        (spot moves during the day); other strikes are computed on demand, with the same values.
        """
        day = self._day_of(i)
        hit = day.liquidity.get(e.day)
        if hit is None:
            inc = self._inc[i]
            lo, hi = self._grid_bounds(i, day.ref, e)
            table = self._strike_values(i, 0, hi)
            first, last = int(np.rint(table[lo] / inc)), int(np.rint(table[hi] / inc))
            margin = (last - first) // 2
            j0, j1 = max(1, first - margin), last + margin
            strikes = self._strike_values(i, j0, j1)
            liq = self.settings.liquidity
            k_ref = self._k_ref(i, day, e.close_ts, strikes)
            median = typical_open_interest(
                strikes,
                k_ref,
                e.monthly,
                self._typical_oi[i],
                liq,
                self._strike_factors(i, j0, j1),
            )
            knot, w = oi_knot(self._paths[self._pos[0]].day.toordinal())
            base, d0, d1 = self._noise_of(i, e, j0, j1, knot)
            oi = noisy_open_interest(median, base, d0, d1, w, liq)
            weight = volume_weight(oi, k_ref, liq)
            hit = _ExpiryLiquidity(j0, oi, weight, oi.T.ravel(), weight.T.ravel())
            day.liquidity[e.day] = hit
        return hit

    def _noise_of(
        self, i: int, e: _Expiry, j0: int, j1: int, knot: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (base, knot, next knot) noise of strike indices j0..j1, rows (call, put).

        Kept per expiry and reused across sessions (the base never changes, a knot lasts a week).
        """
        key = (i, e.day)
        noise = self._noise.get(key)
        args = (self.settings.seed, self._keys[i], e.day.toordinal())
        if noise is None or j0 < noise.lo or j1 >= noise.lo + noise.base.shape[1]:
            pad = (j1 - j0) // 4  # room for spot to drift before the next recomputation
            lo, hi = max(1, j0 - pad), j1 + pad
            if noise is not None:
                lo, hi = min(lo, noise.lo), max(hi, noise.lo + noise.base.shape[1] - 1)
            strikes = self._strike_values(i, lo, hi)
            base, (d0, d1) = contract_noise(*args, strikes, _CALL_PUT, (knot, knot + 1))
            assert base is not None
            noise = self._noise[key] = _Noise(lo, base, {knot: d0, knot + 1: d1})
        missing = [k for k in (knot, knot + 1) if k not in noise.knots]
        if missing:
            strikes = self._strike_values(i, noise.lo, noise.lo + noise.base.shape[1] - 1)
            _, drift = contract_noise(*args, strikes, _CALL_PUT, missing, base=False)
            noise.knots = {k: v for k, v in noise.knots.items() if k >= knot}
            noise.knots.update(zip(missing, drift, strict=True))
        a, b = j0 - noise.lo, j1 - noise.lo + 1
        return noise.base[:, a:b], noise.knots[knot][:, a:b], noise.knots[knot + 1][:, a:b]

    def _total_weight(self, i: int) -> float:
        """Return the expected summed volume weight of the listing's whole chain today.

        Every strike listed at the previous close, for every expiry listed at today's open, both
        rights; contract noise is averaged out (it is the normaliser of per-contract volumes).
        """
        day = self._day_of(i)
        if day.total_weight is None:
            session_open = self._paths[self._pos[0]].open_ts
            expiries = list(self._listed_at(i, session_open).values())
            bounds = self._grids(i, day.ref, expiries)
            strikes = np.concatenate([self._strike_values(i, lo, hi) for lo, hi in bounds])
            counts = [hi - lo + 1 for lo, hi in bounds]
            close_ts = np.array([e.close_ts for e in expiries])
            k_ref = self._k_ref(i, day, close_ts, strikes, counts)
            monthly = np.repeat(np.array([e.monthly for e in expiries]), counts)
            factor = np.concatenate([self._strike_factors(i, lo, hi) for lo, hi in bounds])
            liq = self.settings.liquidity
            median = typical_open_interest(
                strikes, k_ref, monthly, self._typical_oi[i], liq, factor
            )
            day.total_weight = 2.0 * float(expected_volume_weight(median, k_ref, liq).sum())
        return day.total_weight

    def _chain_volume(self, i: int) -> float:
        """Return the listing's option volume so far today (0 when it does not trade today)."""
        s, g = self._pos
        path = self._paths[s]
        first, last = int(path.first_trade[i]), int(path.last_trade[i])
        if first < 0 or g < first:
            return 0.0
        frac = 1.0 if last <= first else (min(g, last) - first) / (last - first)
        share = cumulative_volume_share(frac, self.settings.liquidity.volume_u_shape)
        return float(path.day_volume[i]) * share

    def _last_full_day_volume(self, i: int) -> int | None:
        """Return the listing's option volume over its last complete session (None if none)."""
        s, g = self._pos
        today = self._paths[s]
        last_trade = int(today.last_trade[i])
        if last_trade >= 0 and g >= last_trade:
            return int(today.day_volume[i])
        for k in range(s - 1, max(-1, s - 6), -1):
            path = self._paths[k]
            if int(path.first_trade[i]) >= 0:
                return int(path.day_volume[i])
        return None

    def _quote_columns(self, groups: Sequence[tuple[int, _Rows]]) -> list[list[Any]]:
        """Return the quote values of the rows of `groups` (listing index, rows), by column."""
        meta = [(i, rows[0], len(rows[1])) for i, rows in groups]
        if len(groups) == 1:
            return self._columns(meta, *groups[0][1][1:])
        flat = (np.concatenate([rows[k] for _, rows in groups]) for k in range(1, 5))
        return self._columns(meta, *flat)

    def _columns(
        self,
        meta: Sequence[tuple[int, _Expiry, int]],
        strikes: np.ndarray,
        is_call: np.ndarray,
        oi: np.ndarray,
        weight: np.ndarray,
    ) -> list[list[Any]]:
        """Return the quote values of rows given flat, in groups of (listing index, expiry, rows).

        One vectorised pass whatever the listings and expiries. Columns: bid, ask, iv, delta,
        gamma, vega, theta, open interest, volume, size.
        """
        params = [self._quote_params(i) for i, _, _ in meta]
        vp = self.settings.iv
        quotes = self.settings.quotes
        points = [
            _expiry_point(p, e.close_ts, vp) for p, (_, e, _) in zip(params, meta, strict=True)
        ]
        if len(meta) == 1:  # one listing and expiry: its parameters broadcast as scalars
            _, spot, rate, dy, _, _, _, skew, spread, mult, cv, tw = params[0]
            t_rows, fwd, atm = points[0]
            iv, k = smile_rows(atm, skew, strikes, fwd, t_rows, vp)
            assert iv is not None
        else:
            counts = [n for _, _, n in meta]
            t, fwd, atm = np.array(points).T
            g = np.array([(p[1], p[2], p[3], p[7]) for p in params]).T
            spot, rate, dy, skew = g
            iv, k = smile_rows(atm, skew, strikes, fwd, t, vp, counts)
            assert iv is not None
            spot, t_rows, rate, dy = (x.repeat(counts) for x in (spot, t, rate, dy))
            spread, mult, cv, tw = np.array([p[8:] for p in params]).T.repeat(counts, axis=1)
        out = bs_price_greeks(spot, strikes, t_rows, rate, iv, is_call, dy)
        bid, ask = bid_ask(out["price"], k, spread, mult, quotes)
        volume = np.floor(cv * weight / tw)
        size = np.maximum(np.floor(oi * quotes.size_per_open_interest), 1.0)
        floats = (bid, ask, iv, out["delta"], out["gamma"], out["vega"], out["theta"])
        ints = (oi, volume, size)  # whole numbers as floats: truncated to int64
        return [x.tolist() for x in floats] + [x.astype(np.int64).tolist() for x in ints]

    def _quote_params(self, i: int) -> tuple[float, ...]:
        """Return what listing `i`'s quotes rest on at this grid point (cached per point).

        (observation time, spot, rate, dividend yield, base IV, IV shift, term slope, skew,
        option spread, spread multiplier, volume so far today, expected volume weight).
        """
        key = ("params", i)
        hit = self._cache.get(key)
        if hit is None:
            listing = self.listings[self._u.ids[i]]
            obs = self._obs(i)
            surface = self._surface(i, obs)
            hit = self._cache[key] = (
                obs.ts,
                self._price(i, obs),
                self.rates[listing.currency],
                listing.dividend_yield,
                surface.base_iv,
                surface.shift,
                surface.term_slope,
                surface.skew,
                self.settings.listings[listing.listing_id].option_spread,
                obs.path.mix.spread_mult,
                self._chain_volume(i),
                self._total_weight(i),
            )
        return hit  # type: ignore[return-value]

    def _quotes_of(
        self, i: int, contracts: Sequence[OptionContract], cols: Sequence[Sequence[Any]]
    ) -> list[OptionQuote]:
        """Return OptionQuote objects of `contracts` from their columns of values."""
        bid, ask, iv, delta, gamma, vega, theta, oi, volume, size = cols
        rows = zip(
            contracts,
            bid,
            ask,
            iv,
            delta,
            gamma,
            vega,
            theta,
            oi,
            volume,
            repeat(self._price(i, self._obs(i))),
            repeat(self._now),
            size,
            size,
            strict=False,
        )
        return list(map(tuple.__new__, repeat(OptionQuote), rows))  # type: ignore[arg-type]

    def _step_rows(self, i: int, e: _Expiry, lo: int, hi: int) -> _StepRows:
        """Return the grid point's quote store of one expiry, covering strike indices lo..hi."""
        key = ("rows", i, e.day)
        rows: _StepRows | None = self._cache.get(key)  # type: ignore[assignment]
        if rows is None:
            size = 2 * (hi - lo + 1)
            rows = _StepRows(lo, [[None] * size for _ in range(_COLUMNS)], [None] * size)
            self._cache[key] = rows
            return rows
        if lo < rows.lo:
            pad = [None] * (2 * (rows.lo - lo))
            for col in (*rows.cols, rows.quotes):
                col[:0] = pad
            rows.lo = lo
        extra = 2 * (hi - rows.lo + 1) - len(rows.quotes)
        if extra > 0:
            for col in (*rows.cols, rows.quotes):
                col.extend([None] * extra)
        return rows

    def _chain_contracts(self, i: int, e: _Expiry, lo: int, hi: int) -> list[OptionContract]:
        """Return the contracts of strike indices lo..hi, call then put per strike, made once."""
        key = (i, e.day)
        row = self._contract_rows.get(key)
        if row is None:
            row = self._contract_rows[key] = _ContractRow(lo, [], [])
        if lo < row.lo:
            calls, puts = self._make_contracts(i, e, lo, row.lo - 1)
            row.calls[:0] = calls
            row.puts[:0] = puts
            row.lo = lo
        top = row.lo + len(row.calls) - 1
        if hi > top:
            calls, puts = self._make_contracts(i, e, top + 1, hi)
            row.calls.extend(calls)
            row.puts.extend(puts)
        a, b = lo - row.lo, hi - row.lo + 1
        out: list[OptionContract] = [None] * (2 * (b - a))  # type: ignore[list-item]
        out[0::2] = row.calls[a:b]
        out[1::2] = row.puts[a:b]
        return out

    def _make_contracts(
        self, i: int, e: _Expiry, lo: int, hi: int
    ) -> tuple[list[OptionContract], list[OptionContract]]:
        """Return new (calls, puts) of strike indices lo..hi of one expiry."""
        strikes = self._strike_values(i, lo, hi).tolist()
        lid, day = self._u.ids[i], e.day
        make = partial(tuple.__new__, OptionContract)
        calls = list(map(make, zip(repeat(lid), repeat(day), strikes, repeat("C"))))
        puts = list(map(make, zip(repeat(lid), repeat(day), strikes, repeat("P"))))
        return calls, puts  # type: ignore[return-value]

    def chain(
        self,
        listing_id: str,
        expiries: Sequence[date],
        strike_range: tuple[float, float] | None = None,
    ) -> Chain:
        """Return calls and puts of every listed strike (within `strike_range`) of `expiries`.

        An expiry that is not listed now raises DataUnavailable. ``chain_volume`` is the
        listing's option volume over its last complete session (a daily figure, as the liquidity
        rule reads it), None before any complete session.
        """
        with self._lock:
            self._listing(listing_id)
            i = self._u.index[listing_id]
            key = ("chain", i, self._now_ts, tuple(expiries), strike_range)
            hit = self._cache.get(key)
            if hit is not None:
                return hit  # type: ignore[return-value]
            asked = [self._expiry(i, day) for day in sorted(set(expiries))]
            spans: list[tuple[_Expiry, int, int, _StepRows]] = []
            for e, (lo, hi) in zip(asked, self._grids(i, self._obs(i), asked), strict=True):
                if strike_range is not None:
                    inside = self._inside(i, lo, hi, strike_range)
                    if inside is None:
                        continue
                    lo, hi = inside
                spans.append((e, lo, hi, self._step_rows(i, e, lo, hi)))
            self._fill_spans(i, spans)
            quotes: list[OptionQuote] = []
            sides: dict[tuple[date, str], list[OptionQuote]] = {}
            for e, lo, hi, rows in spans:
                p0, p1 = 2 * (lo - rows.lo), 2 * (hi - rows.lo + 1)
                if rows.now is not self._now:
                    rows.quotes = [None] * len(rows.quotes)
                    rows.now = self._now
                made = rows.quotes[p0:p1]
                if None in made:
                    cols = [col[p0:p1] for col in rows.cols]
                    made = self._quotes_of(i, self._chain_contracts(i, e, lo, hi), cols)
                    rows.quotes[p0:p1] = made
                quotes += made
                sides[e.day, "C"] = made[0::2]  # strikes ascend: already sorted
                sides[e.day, "P"] = made[1::2]
            chain = Chain.presorted(
                listing_id,
                self.underlying_quote(listing_id),
                tuple(quotes),
                self._last_full_day_volume(i),
                self._now,
                sides,
            )
            self._cache[key] = chain
            return chain

    def _inside(
        self, i: int, lo: int, hi: int, strike_range: tuple[float, float]
    ) -> tuple[int, int] | None:
        """Return the strike indices of lo..hi within `strike_range` (±1e-9), None if none."""
        below, above = strike_range[0] - 1e-9, strike_range[1] + 1e-9
        self._strike_values(i, lo, hi)  # grows the strike tables to hi
        if below != below or above != above:  # NaN: nothing is inside
            return None
        table = self._strike_lists[i]  # ascending
        first = bisect.bisect_left(table, below, lo, hi + 1)
        last = bisect.bisect_right(table, above, lo, hi + 1) - 1
        return (first, last) if first <= last else None

    def _fill_spans(self, i: int, spans: Sequence[tuple[_Expiry, int, int, _StepRows]]) -> None:
        """Compute the quote values missing in strike-index spans (both rights), in one pass."""
        todo: list[tuple[_StepRows, int, int]] = []
        groups: list[_Rows] = []
        for e, lo, hi, rows in spans:
            p0, p1 = 2 * (lo - rows.lo), 2 * (hi - rows.lo + 1)
            seg = rows.cols[0][p0:p1]
            if None not in seg:
                continue
            first = lo + seg.index(None) // 2
            last = lo + (len(seg) - 1 - seg[::-1].index(None)) // 2
            todo.append((rows, first, last))
            groups.append(self._chain_rows(i, e, first, last))
        if not groups:
            return
        values = self._quote_columns([(i, rows) for rows in groups])
        at = 0
        for rows, first, last in todo:
            n = 2 * (last - first + 1)
            p0 = 2 * (first - rows.lo)
            if n == len(rows.quotes):  # the whole store: it takes the new columns as they are
                rows.cols = values if n == len(values[0]) else [new[at : at + n] for new in values]
            else:
                for col, new in zip(rows.cols, values, strict=True):
                    col[p0 : p0 + n] = new[at : at + n]
            at += n

    def _chain_rows(self, i: int, e: _Expiry, lo: int, hi: int) -> _Rows:
        """Return the rows of strike indices lo..hi of one expiry, call then put per strike."""
        strikes = self._strike_pairs[i]
        if 2 * hi + 2 > len(strikes):
            self._strike_values(i, lo, hi)
            strikes = self._strike_pairs[i]
        strikes = strikes[2 * lo : 2 * hi + 2]
        is_call = self._calls_first
        if len(is_call) < len(strikes):
            is_call = np.zeros(max(len(strikes), 2 * len(is_call)), dtype=bool)
            is_call[::2] = True
            is_call.flags.writeable = False
            self._calls_first = is_call
        is_call = is_call[: len(strikes)]
        liq = self._liquidity(i, e)
        a, b = lo - liq.j0, hi - liq.j0 + 1
        if a >= 0 and b <= liq.oi.shape[1]:
            return e, strikes, is_call, liq.oi_rows[2 * a : 2 * b], liq.weight_rows[2 * a : 2 * b]
        return e, strikes, is_call, *self._open_interest(i, e, strikes, is_call)

    def option_quotes(
        self, contracts: Sequence[OptionContract]
    ) -> dict[OptionContract, OptionQuote]:
        """Return quotes of the given contracts; unknown or expired contracts are absent.

        Any positive strike on the listing's increment is quoted for a listed expiry (strikes once
        listed stay listed, even when spot has moved away from them).
        """
        with self._lock:
            wanted: dict[tuple[int, date], list[tuple[OptionContract, int]]] = {}
            listed: dict[int, dict[date, _Expiry]] = {}
            for c in contracts:
                i = self._u.index.get(c.listing_id)
                if i is None or c.right not in ("C", "P"):
                    continue
                days = listed.get(i)
                if days is None:
                    days = listed[i] = self._listed(i)
                if c.expiry not in days:
                    continue
                units = c.strike / self._inc[i]
                j = round(units)
                if c.strike <= 0 or abs(units - j) > 1e-6:
                    continue
                wanted.setdefault((i, c.expiry), []).append((c, j))
            items = [(i, listed[i][day], cs) for (i, day), cs in wanted.items()]
            by_listing: dict[int, list[tuple[OptionContract, OptionQuote]]] = {}
            for (i, _, cs), quotes in zip(items, self._asked_quotes(items), strict=True):
                by_listing.setdefault(i, []).extend(zip((c for c, _ in cs), quotes, strict=True))
            out: dict[OptionContract, OptionQuote] = {}
            for pairs in by_listing.values():
                out.update(pairs)
            return out

    def _asked_quotes(
        self, items: Sequence[tuple[int, _Expiry, Sequence[tuple[OptionContract, int]]]]
    ) -> list[list[OptionQuote]]:
        """Return the quotes of asked (contract, strike index) pairs, one list per item.

        Items are (listing index, expiry, pairs). Values come from the grid point's store when a
        chain or an earlier request made them (and so does the quote itself when a chain made it
        now for the very same contract); the missing ones are computed in one pass over every
        listing and stored (unless their strike is off the strike table).
        """
        now = self._now
        found: list[list[OptionQuote | None]] = []
        todo: list[tuple[int, int, _StepRows | None, int]] = []  # (item, row, store, position)
        meta: list[tuple[int, _Expiry, int]] = []
        strikes: list[float] = []
        calls: list[bool] = []
        oi: list[float] = []
        weight: list[float] = []
        for n, (i, e, cs) in enumerate(items):
            table = self._strike_lists[i]  # the strikes chains and session spans have listed
            on_table = [j for _, j in cs if 1 <= j < len(table)]
            rows = self._step_rows(i, e, min(on_table), max(on_table)) if on_table else None
            made = rows.quotes if rows is not None and rows.now is now else None
            price = self._price(i, self._obs(i))
            got: list[OptionQuote | None] = []
            new: list[tuple[float, bool, int, int]] = []  # (strike, is call, row, strike index)
            for r, (c, j) in enumerate(cs):
                k = round(c.strike, 4)
                store = rows if rows is not None and 1 <= j < len(table) and table[j] == k else None
                if store is not None:
                    pos = 2 * (j - store.lo) + (c.right == "P")
                    if made is not None:
                        q = made[pos]
                        if q is not None and q[0] == c and _plain(c):
                            got.append(q)  # the chain's quote of this very contract
                            continue
                    if store.cols[0][pos] is not None:
                        got.append(_quote(c, store.cols, pos, price, now))
                        continue
                else:
                    pos = -1
                got.append(None)
                todo.append((n, r, store, pos))
                new.append((k, c.right == "C", r, j))
            found.append(got)
            if not new:
                continue
            meta.append((i, e, len(new)))
            liq = self._liquidity(i, e)
            width = liq.oi.shape[1]
            inside = [0 <= j - liq.j0 < width for _, _, _, j in new]
            if all(inside):
                for _, is_call, _, j in new:
                    side, col = (0 if is_call else 1), j - liq.j0
                    oi.append(liq.oi[side, col])
                    weight.append(liq.weight[side, col])
            else:  # a strike beyond the session's precomputed span: compute them all directly
                ks = np.array([k for k, _, _, _ in new])
                cl = np.array([is_call for _, is_call, _, _ in new])
                o, w = self._open_interest(i, e, ks, cl)
                oi.extend(o.tolist())
                weight.extend(w.tolist())
            strikes.extend(k for k, _, _, _ in new)
            calls.extend(is_call for _, is_call, _, _ in new)
        if meta:
            values = self._columns(
                meta,
                np.array(strikes, dtype=np.float64),
                np.array(calls, dtype=bool),
                np.array(oi, dtype=np.float64),
                np.array(weight, dtype=np.float64),
            )
            for k, (n, r, rows, pos) in enumerate(todo):
                i, _, cs = items[n]
                found[n][r] = _quote(cs[r][0], values, k, self._price(i, self._obs(i)), now)
                if rows is not None:
                    for col, new_col in zip(rows.cols, values, strict=True):
                        col[pos] = new_col[k]
        return found  # type: ignore[return-value]

    # -- history -----------------------------------------------------------------------------
    def _completed(self, i: int) -> int:
        """Return how many of listing `i`'s bars are complete (closed at or before now)."""
        return bisect.bisect_right(self._bars[i].close_ts, self._now_ts)

    def history(self, listing_id: str, sessions: int) -> DailyHistory:
        """Return OHLC and 30-day ATM IV of the last `sessions` completed sessions, newest last.

        Only sessions of the listing's own calendar that closed at or before now count (no
        look-ahead). Asking for more than exist raises DataUnavailable.
        """
        if sessions < 1:
            raise ValueError(f"sessions must be at least 1, got {sessions}")
        with self._lock:
            self._listing(listing_id)
            i = self._u.index[listing_id]
            bars = self._bars[i]
            end = self._completed(i)
            if sessions > end:
                raise DataUnavailable(
                    f"{listing_id}: {sessions} sessions of history asked, {end} available"
                )
            sl = slice(end - sessions, end)
            return DailyHistory(
                listing_id=listing_id,
                dates=tuple(bars.days[sl]),
                open=np.array(bars.open[sl]),
                high=np.array(bars.high[sl]),
                low=np.array(bars.low[sl]),
                close=np.array(bars.close[sl]),
                iv=np.array(bars.iv[sl]),
            )

    def close_price(self, listing_id: str, day: date) -> float:
        """Return the official close of a completed session of the listing (for settlement)."""
        with self._lock:
            self._listing(listing_id)
            i = self._u.index[listing_id]
            bars = self._bars[i]
            k = bars.index.get(day)
            if k is None or bars.close_ts[k] > self._now_ts:
                raise DataUnavailable(f"{listing_id}: no completed session on {day}")
            return bars.close[k]

    # -- FX -----------------------------------------------------------------------------------
    def fx_rate(self) -> float:
        """Return the USD.CAD mid now (CAD per USD), whatever the day (for valuation)."""
        with self._lock:
            s, g = self._pos
            return math.exp(float(self._paths[s].logfx[g]))

    def fx_quote(self) -> FxQuote:
        """Return the USD.CAD quote (24/5: DataUnavailable from Friday 17:00 to Sunday 17:00 ET)."""
        with self._lock:
            local = self._now.astimezone(MARKET_TZ)
            wd, hour = local.weekday(), local.hour
            if wd == 5 or (wd == 4 and hour >= 17) or (wd == 6 and hour < 17):
                raise DataUnavailable(f"{FX_PAIR}: the FX market is closed for the weekend")
            mid = self.fx_rate()
            width = max(1, round(self.settings.usd_cad_spread_pips * PIP / FX_TICK))
            bid_ticks = math.floor(mid / FX_TICK - (width - 1) / 2)
            bid = round(bid_ticks * FX_TICK, 5)
            ask = round((bid_ticks + width) * FX_TICK, 5)
            return FxQuote(FX_PAIR, bid, ask, self._now)


def _expiry_point(
    params: tuple[float, ...], close_ts: float, vp: SimVolSettings
) -> tuple[float, float, float]:
    """Return (years to expiry, forward, ATM vol) of one expiry from its listing's quote params.

    Floats, computed as the array passes of :func:`atm_vols` compute them (same numbers).
    """
    obs_ts, spot, rate, dy, base_iv, shift, slope = params[:7]
    t = max((close_ts - obs_ts) / YEAR_SECONDS, MIN_OPTION_T)
    fwd = spot * float(np.exp((rate - dy) * t))
    return t, fwd, atm_vol(base_iv, shift, slope, t, vp)


def _plain(c: OptionContract) -> bool:
    """Return whether `c` is a plain contract, as the chain makes them (float strike)."""
    return type(c) is OptionContract and type(c.strike) is float


def _quote(
    c: OptionContract, cols: Sequence[Sequence[Any]], pos: int, price: float, now: datetime
) -> OptionQuote:
    """Return the OptionQuote of `c` from position `pos` of quote value columns."""
    bid, ask, iv, delta, gamma, vega, theta, oi, volume, size = cols
    return tuple.__new__(  # type: ignore[return-value]
        OptionQuote,
        (
            c,
            bid[pos],
            ask[pos],
            iv[pos],
            delta[pos],
            gamma[pos],
            vega[pos],
            theta[pos],
            oi[pos],
            volume[pos],
            price,
            now,
            size[pos],
            size[pos],
        ),
    )


def sim_calendar_span(settings: SimSettings, last_day: date) -> tuple[date, date]:
    """Return the (start, end) range MarketCalendars must load to simulate up to `last_day`.

    The start leaves room for ``history_sessions`` of history on every calendar; the end for the
    longest monthly expiry listed on `last_day` (moved off holidays by the calendars).
    """
    start = settings.start - timedelta(days=int(settings.history_sessions * 1.6) + 30)
    end = max(last_day, settings.start) + timedelta(days=settings.monthly_expiry_days + 45)
    return start, end


def _check_inputs(
    settings: SimSettings,
    listings: Mapping[str, Listing],
    calendars: MarketCalendars,
    rates: Mapping[str, float],
) -> None:
    """Raise ValueError naming the first listing, calendar or currency that does not fit."""
    for lid in sorted(set(listings) - set(settings.listings)):
        raise ValueError(f"listing {lid!r} has no sim settings (sim.listings)")
    for lid in sorted(set(settings.listings) - set(listings)):
        raise ValueError(f"sim.listings has {lid!r}, which is not a listing of the universe")
    for lid, listing in sorted(listings.items()):
        if listing.listing_id != lid:
            raise ValueError(f"listing keyed {lid!r} has listing_id {listing.listing_id!r}")
        if listing.calendar not in calendars.codes:
            raise ValueError(f"listing {lid!r}: calendar {listing.calendar} is not loaded")
        if listing.currency not in rates:
            raise ValueError(f"listing {lid!r}: no risk-free rate for {listing.currency}")
        if listing.strike_increment <= 0:
            raise ValueError(f"listing {lid!r}: strike increment must be positive")
        follows = settings.listings[lid].follows
        if follows is not None and (listing.currency, listings[follows].currency) != ("CAD", "USD"):
            raise ValueError(
                f"listing {lid!r} follows {follows!r} through USD.CAD: it must be quoted in CAD "
                "and its twin in USD"
            )
