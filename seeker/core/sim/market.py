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
    cumulative_volume_share,
    expected_volume_weight,
    open_interest,
    typical_open_interest,
    volume_weight,
)
from seeker.core.sim.expiries import candidate_fridays
from seeker.core.sim.paths import PathGenerator, RegimeTable, SessionPath, Universe, shift_paths
from seeker.core.sim.settings import REGIMES, SimSettings
from seeker.core.sim.surface import DAYS_PER_YEAR, Surface

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


@dataclass(frozen=True)
class _Expiry:
    """A listed expiry of one calendar: its date, monthly flag and close (POSIX seconds)."""

    day: date
    monthly: bool
    close_ts: float


@dataclass(frozen=True, slots=True)
class _ExpiryLiquidity:
    """Open interest and volume weights of one expiry, rows (call, put) × strikes from j0."""

    j0: int
    oi: np.ndarray
    weight: np.ndarray
    contracts: np.ndarray
    """OptionContract objects (made on first use), rows (call, put) × strikes from j0."""
    made: np.ndarray
    """True where ``contracts`` holds an object."""


@dataclass(frozen=True)
class _Obs:
    """Where a listing's observable state sits: a session path and a grid point in it."""

    path: SessionPath
    g: int

    @property
    def ts(self) -> float:
        """Return the POSIX time of the grid point."""
        return float(self.path.times[self.g])


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
        self._expiry_cache: dict[tuple[str, date], list[_Expiry]] = {}
        self._cache: dict[tuple[object, ...], object] = {}
        self._day_cache: dict[tuple[object, ...], object] = {}
        self._contract_cache: dict[tuple[int, date, int, str], OptionContract] = {}
        """Contracts by (listing index, expiry, strike index, right), kept until they expire."""

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
        today = self._paths[self._pos[0]].day if self._paths else None
        if today is not None:
            gone = [k for k in self._contract_cache if k[1] < today]
            for k in gone:
                del self._contract_cache[k]

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
            price = self._price(i, self._obs(i))
            tick = 0.01
            width = max(1, round(self.settings.quotes.underlying_spread / tick))
            bid_ticks = math.floor(price / tick - (width - 1) / 2)
            bid = round(bid_ticks * tick, 2)
            ask = round((bid_ticks + width) * tick, 2)
            return UnderlyingQuote(listing_id, bid, ask, round(price, 2), self._now)

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
    def _calendar_expiries(self, code: str, today: date) -> list[_Expiry]:
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
            hit = sorted(out.values(), key=lambda e: e.day)
            if len(self._expiry_cache) > 64:
                self._expiry_cache.clear()
            self._expiry_cache[key] = hit
        return hit

    def _listed_at(self, i: int, ts: float) -> dict[date, _Expiry]:
        """Return the expiries listed at POSIX time `ts` for listing `i`, by date."""
        code = self.listings[self._u.ids[i]].calendar
        today = datetime.fromtimestamp(ts, MARKET_TZ).date()
        live = [e for e in self._calendar_expiries(code, today) if e.close_ts > ts]
        weeklies = live[: self.settings.weekly_expiry_weeks]
        chosen = {e.day: e for e in live if e.monthly}
        chosen.update({e.day: e for e in weeklies})
        return dict(sorted(chosen.items()))

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

    def _strike_grid(self, i: int, obs: _Obs, e: _Expiry) -> np.ndarray:
        """Return the strikes listed at `obs`: ±max(4 σ√T, 25 %) around spot, on the increment."""
        inc = self.listings[self._u.ids[i]].strike_increment
        spot = self._price(i, obs)
        t = max((e.close_ts - obs.ts) / YEAR_SECONDS, MIN_OPTION_T)
        sd = self._surface(i, obs).atm_at(t) * math.sqrt(t)
        down = max(STRIKE_SD * sd, -math.log(1.0 - STRIKE_MIN_SPAN))
        up = max(STRIKE_SD * sd, math.log(1.0 + STRIKE_MIN_SPAN))
        centre = round(spot / inc)
        lo = max(math.floor(spot * math.exp(-down) / inc), centre - MAX_STRIKES_PER_SIDE, 1)
        hi = min(math.ceil(spot * math.exp(up) / inc), centre + MAX_STRIKES_PER_SIDE)
        return np.round(np.arange(lo, max(hi, lo) + 1) * inc, 4)

    def strikes(self, listing_id: str, expiry: date) -> np.ndarray:
        """Return the listed strikes of one expiry, sorted, on the listing's strike increment."""
        with self._lock:
            self._listing(listing_id)
            i = self._u.index[listing_id]
            return self._strike_grid(i, self._obs(i), self._expiry(i, expiry))

    # -- option quotes --------------------------------------------------------------------------
    def _reference(self, i: int) -> _Obs:
        """Return the listing's last close before the current session (open interest's basis)."""
        prev = int(self._paths[self._pos[0]].prev_traded[i])
        path = self._paths[prev]
        return _Obs(path, int(path.last_trade[i]))

    def _k_ref(self, i: int, close_ts: np.ndarray, strikes: np.ndarray) -> np.ndarray:
        """Return the standardized log-moneyness of rows at the previous close."""
        ref = self._reference(i)
        listing = self.listings[self._u.ids[i]]
        t = np.maximum((close_ts - ref.ts) / YEAR_SECONDS, MIN_OPTION_T)
        carry = self.rates[listing.currency] - listing.dividend_yield
        fwd = self._price(i, ref) * np.exp(carry * t)
        return self._surface(i, ref).smile(strikes, fwd, t)[1]

    def _open_interest(
        self, i: int, e: _Expiry, strikes: np.ndarray, is_call: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (open interest, volume weight) of rows of one expiry, as of the previous close."""
        lid = self._u.ids[i]
        liq = self.settings.liquidity
        k_ref = self._k_ref(i, np.full(strikes.shape, e.close_ts), strikes)
        monthly = np.full(strikes.shape, e.monthly)
        typical = float(self.settings.listings[lid].open_interest)
        median = typical_open_interest(strikes, k_ref, monthly, typical, liq)
        oi = open_interest(
            self.settings.seed,
            self._keys[i],
            self._paths[self._pos[0]].day.toordinal(),
            np.full(strikes.shape, e.day.toordinal()),
            strikes,
            is_call,
            median,
            liq,
        )
        return oi, volume_weight(oi, k_ref, liq)

    def _liquidity(self, i: int, e: _Expiry) -> _ExpiryLiquidity:
        """Return the day's open interest and volume weights of one expiry's strikes."""
        key = ("liq", i, e.day)
        hit = self._day_cache.get(key)
        if hit is None:
            inc = self.listings[self._u.ids[i]].strike_increment
            listed = np.rint(self._strike_grid(i, self._reference(i), e) / inc).astype(np.intp)
            margin = (int(listed[-1]) - int(listed[0])) // 2  # spot moves during the day
            j0 = max(1, int(listed[0]) - margin)
            strikes = np.round(np.arange(j0, int(listed[-1]) + margin + 1) * inc, 4)
            both = np.concatenate([strikes, strikes])
            calls = np.repeat([True, False], len(strikes))
            oi, weight = self._open_interest(i, e, both, calls)
            hit = _ExpiryLiquidity(
                j0,
                oi.reshape(2, -1),
                weight.reshape(2, -1),
                np.full((2, len(strikes)), None, dtype=object),
                np.zeros((2, len(strikes)), dtype=bool),
            )
            self._day_cache[key] = hit
        return hit  # type: ignore[return-value]

    def _total_weight(self, i: int) -> float:
        """Return the expected summed volume weight of the listing's whole chain today.

        Every strike listed at the previous close, for every expiry listed at today's open, both
        rights; contract noise is averaged out (it is the normaliser of per-contract volumes).
        """
        key = ("weight", i)
        hit = self._day_cache.get(key)
        if hit is None:
            ref = self._reference(i)
            session_open = self._paths[self._pos[0]].open_ts
            expiries = list(self._listed_at(i, session_open).values())
            grids = [self._strike_grid(i, ref, e) for e in expiries]
            strikes = np.concatenate(grids)
            close_ts = np.concatenate(
                [np.full(len(g), e.close_ts) for e, g in zip(expiries, grids, strict=True)]
            )
            monthly = np.concatenate(
                [np.full(len(g), e.monthly) for e, g in zip(expiries, grids, strict=True)]
            )
            k_ref = self._k_ref(i, close_ts, strikes)
            liq = self.settings.liquidity
            typical = float(self.settings.listings[self._u.ids[i]].open_interest)
            median = typical_open_interest(strikes, k_ref, monthly, typical, liq)
            hit = 2.0 * float(expected_volume_weight(median, k_ref, liq).sum())
            self._day_cache[key] = hit
        return hit  # type: ignore[return-value]

    def _rows_liquidity(
        self, i: int, e: _Expiry, strikes: np.ndarray, is_call: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (open interest, volume weight) of rows of one expiry."""
        liq = self._liquidity(i, e)
        inc = self.listings[self._u.ids[i]].strike_increment
        idx = np.rint(strikes / inc).astype(np.intp) - liq.j0
        side = np.where(is_call, 0, 1)
        inside = (idx >= 0) & (idx < liq.oi.shape[1])
        if inside.all():
            return liq.oi[side, idx], liq.weight[side, idx]
        oi = np.empty(strikes.shape)
        weight = np.empty(strikes.shape)
        oi[inside] = liq.oi[side[inside], idx[inside]]
        weight[inside] = liq.weight[side[inside], idx[inside]]
        out = ~inside
        oi[out], weight[out] = self._open_interest(i, e, strikes[out], is_call[out])
        return oi, weight

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

    def _quote_arrays(
        self, i: int, groups: Sequence[tuple[_Expiry, np.ndarray, np.ndarray]]
    ) -> dict[str, np.ndarray]:
        """Return flat quote arrays for groups of (expiry, strikes, is_call) rows."""
        listing = self.listings[self._u.ids[i]]
        cfg = self.settings.listings[listing.listing_id]
        obs = self._obs(i)
        spot = self._price(i, obs)
        strikes = np.concatenate([g[1] for g in groups])
        is_call = np.concatenate([g[2] for g in groups])
        close_ts = np.concatenate([np.full(len(g[1]), g[0].close_ts) for g in groups])
        liq = [self._rows_liquidity(i, e, k, c) for e, k, c in groups]
        oi = np.concatenate([x[0] for x in liq])
        weight = np.concatenate([x[1] for x in liq])
        t = np.maximum((close_ts - obs.ts) / YEAR_SECONDS, MIN_OPTION_T)
        rate = self.rates[listing.currency]
        fwd = spot * np.exp((rate - listing.dividend_yield) * t)
        iv, k = self._surface(i, obs).smile(strikes, fwd, t)
        out = bs_price_greeks(spot, strikes, t, rate, iv, is_call, listing.dividend_yield)
        bid, ask = bid_ask(
            out["price"], k, cfg.option_spread, obs.path.mix.spread_mult, self.settings.quotes
        )
        volume = np.floor(self._chain_volume(i) * weight / self._total_weight(i))
        size = np.maximum(np.floor(oi * self.settings.quotes.size_per_open_interest), 1.0)
        out.update(bid=bid, ask=ask, iv=iv, oi=oi, volume=volume, size=size)
        return out

    def _contracts_of(
        self, i: int, groups: Sequence[tuple[_Expiry, np.ndarray, np.ndarray]]
    ) -> list[OptionContract]:
        """Return the contracts of the rows of `groups`, made once per session and reused."""
        lid = self._u.ids[i]
        inc = self.listings[lid].strike_increment
        out: list[OptionContract] = []
        for e, strikes, calls in groups:
            liq = self._liquidity(i, e)
            idx = np.rint(strikes / inc).astype(np.intp) - liq.j0
            side = np.where(calls, 0, 1)
            if not ((idx >= 0) & (idx < liq.oi.shape[1])).all():
                out.extend(
                    OptionContract(lid, e.day, k, "C" if c else "P")
                    for k, c in zip(strikes.tolist(), calls.tolist(), strict=True)
                )
                continue
            missing = ~liq.made[side, idx]
            if missing.any():
                known = self._contract_cache
                for r in np.flatnonzero(missing).tolist():
                    right = "C" if calls[r] else "P"
                    key = (i, e.day, int(idx[r]) + liq.j0, right)
                    c = known.get(key)
                    if c is None:
                        c = OptionContract(lid, e.day, float(strikes[r]), right)
                        known[key] = c
                    liq.contracts[side[r], idx[r]] = c
                liq.made[side, idx] = True
            out.extend(liq.contracts[side, idx].tolist())
        return out

    def _build_quotes(
        self,
        i: int,
        groups: Sequence[tuple[_Expiry, np.ndarray, np.ndarray]],
        contracts: Sequence[OptionContract] | None = None,
    ) -> list[OptionQuote]:
        """Return OptionQuote objects of the rows of `groups` (contracts given or made)."""
        a = self._quote_arrays(i, groups)
        if contracts is None:
            contracts = self._contracts_of(i, groups)
        spot = self._price(i, self._obs(i))
        now = self._now
        size = a["size"].astype(np.int64).tolist()
        return [
            OptionQuote(c, b, ak, v, d, g, ve, th, o, vo, spot, now, sz, sz)
            for c, b, ak, v, d, g, ve, th, o, vo, sz in zip(
                contracts,
                a["bid"].tolist(),
                a["ask"].tolist(),
                a["iv"].tolist(),
                a["delta"].tolist(),
                a["gamma"].tolist(),
                a["vega"].tolist(),
                a["theta"].tolist(),
                a["oi"].astype(np.int64).tolist(),
                a["volume"].astype(np.int64).tolist(),
                size,
                strict=True,
            )
        ]

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
            obs = self._obs(i)
            groups = []
            for day in sorted(set(expiries)):
                e = self._expiry(i, day)
                strikes = self._strike_grid(i, obs, e)
                if strike_range is not None:
                    lo, hi = strike_range
                    strikes = strikes[(strikes >= lo - 1e-9) & (strikes <= hi + 1e-9)]
                calls = np.zeros(2 * len(strikes), dtype=bool)
                calls[::2] = True
                groups.append((e, np.repeat(strikes, 2), calls))
            quotes = self._build_quotes(i, groups) if groups else []
            chain = Chain(
                listing_id=listing_id,
                underlying=self.underlying_quote(listing_id),
                quotes=tuple(quotes),
                chain_volume=self._last_full_day_volume(i),
                ts=self._now,
            )
            self._cache[key] = chain
            return chain

    def option_quotes(
        self, contracts: Sequence[OptionContract]
    ) -> dict[OptionContract, OptionQuote]:
        """Return quotes of the given contracts; unknown or expired contracts are absent.

        Any positive strike on the listing's increment is quoted for a listed expiry (strikes once
        listed stay listed, even when spot has moved away from them).
        """
        with self._lock:
            wanted: dict[tuple[int, date], list[OptionContract]] = {}
            for c in contracts:
                i = self._u.index.get(c.listing_id)
                if i is None or c.right not in ("C", "P") or c.expiry not in self._listed(i):
                    continue
                units = c.strike / self.listings[c.listing_id].strike_increment
                if c.strike <= 0 or abs(units - round(units)) > 1e-6:
                    continue
                wanted.setdefault((i, c.expiry), []).append(c)
            out: dict[OptionContract, OptionQuote] = {}
            by_listing: dict[int, list[tuple[_Expiry, list[OptionContract]]]] = {}
            for (i, day), cs in wanted.items():
                by_listing.setdefault(i, []).append((self._listed(i)[day], cs))
            for i, items in by_listing.items():
                groups = [
                    (
                        e,
                        np.array([round(c.strike, 4) for c in cs]),
                        np.array([c.right == "C" for c in cs]),
                    )
                    for e, cs in items
                ]
                asked = [c for _, cs in items for c in cs]
                for c, q in zip(asked, self._build_quotes(i, groups, asked), strict=True):
                    out[c] = q
            return out

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
