"""The factor and regime process behind every simulated price, IV level and FX rate.

One session at a time, :class:`PathGenerator` draws the whole session's grid (the overnight move
into the open, then ``steps_per_session`` equal steps to the close) for every listing at once.
Each random component (the regime chain, the market factor, each sector, each listing, USD.CAD) has
its own generator seeded from the settings' seed and the component's name, and draws a fixed count
of numbers per session; the path therefore depends only on the seed and the session grid, never on
how the market is queried, and adding a listing leaves the others' paths unchanged.

Model (log prices, trading time in years of 252 sessions):

* regime: a daily Markov chain; leaving regime a (chance 1/mean duration), the next regime b ≠ a is
  drawn with chance proportional to its entry weight. Drift, realised-vol multiplier and gaps
  switch at once; IV level, term slope, skew, spreads and volume follow a smoothed blend.
* market factor: drift + ``market_vol`` × regime vol multiplier, with an overnight gap in the open.
* return of listing i: own slow drift (an AR(1) trend per listing) + beta × market + sector loading
  × its sector factor + idiosyncratic noise.
* IV factor x (log of ATM IV over its regime level): mean-reverting, with vol of vol partly common
  to all listings, and pushed up by negative return shocks (spot down ⇒ IV up).
* USD.CAD: a random walk correlated with the market factor.
* a follower (Canadian cross-listing): twin price × USD.CAD × non-accumulating tracking noise; it
  shares its twin's IV factor.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from seeker.core.models import Listing
from seeker.core.sim.settings import REGIMES, SimSettings

SESSIONS_PER_YEAR = 252.0
"""Trading sessions per year: the time unit of realised volatilities and drifts."""

FULL_SESSION_SECONDS = 6.5 * 3600.0
"""Length of a regular session; shorter (half-day) sessions carry proportionally less variance."""

IV_FACTOR_CLIP = 2.5
"""Bound of the log IV factor (a numerical guard; the surface clips IVs to min_iv..max_iv too)."""


def component_rng(seed: int, name: str) -> np.random.Generator:
    """Return the generator of one named random component of the simulation."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))


@dataclass(frozen=True)
class Universe:
    """Static per-listing arrays of the factor model, in a fixed listing order."""

    ids: tuple[str, ...]
    index: Mapping[str, int]
    sectors: tuple[str, ...]
    sector_of: np.ndarray
    base: np.ndarray
    followers: np.ndarray
    twins: np.ndarray
    beta: np.ndarray
    loading: np.ndarray
    idio: np.ndarray
    base_iv: np.ndarray
    chain_volume: np.ndarray

    @classmethod
    def build(cls, settings: SimSettings, listings: Mapping[str, Listing]) -> Universe:
        """Return the universe arrays; listings are ordered by id."""
        ids = tuple(sorted(listings))
        index = {lid: i for i, lid in enumerate(ids)}
        sectors = tuple(sorted({listings[lid].sector for lid in ids}))
        sec_index = {s: k for k, s in enumerate(sectors)}
        cfg = [settings.listings[lid] for lid in ids]
        followers = [i for i, c in enumerate(cfg) if c.follows is not None]
        twins = [index[c.follows] for c in cfg if c.follows is not None]
        return cls(
            ids=ids,
            index=index,
            sectors=sectors,
            sector_of=np.array([sec_index[listings[lid].sector] for lid in ids], dtype=np.intp),
            base=np.array([i for i in range(len(ids)) if i not in followers], dtype=np.intp),
            followers=np.array(followers, dtype=np.intp),
            twins=np.array(twins, dtype=np.intp),
            beta=np.array([c.beta for c in cfg]),
            loading=np.array([c.sector_loading for c in cfg]),
            idio=np.array([c.idio_vol for c in cfg]),
            base_iv=np.array([c.base_iv for c in cfg]),
            chain_volume=np.array([float(c.chain_volume) for c in cfg]),
        )


@dataclass(frozen=True)
class RegimeTable:
    """Regime parameters as arrays indexed like :data:`REGIMES`."""

    duration: np.ndarray
    entry_weight: np.ndarray
    drift: np.ndarray
    vol_mult: np.ndarray
    iv_mult: np.ndarray
    gap_prob: np.ndarray
    gap_size: np.ndarray
    term_slope: np.ndarray
    skew: np.ndarray
    spread_mult: np.ndarray
    volume_mult: np.ndarray

    @classmethod
    def build(cls, settings: SimSettings) -> RegimeTable:
        """Return the table of the settings' regimes."""
        regs = settings.regimes.ordered()

        def col(name: str) -> np.ndarray:
            return np.array([getattr(r, name) for r in regs], dtype=float)

        return cls(
            duration=col("mean_duration_sessions"),
            entry_weight=col("entry_weight"),
            drift=col("drift_per_year"),
            vol_mult=col("vol_multiplier"),
            iv_mult=col("iv_multiplier"),
            gap_prob=col("gap_probability"),
            gap_size=col("gap_size"),
            term_slope=col("term_slope"),
            skew=col("skew"),
            spread_mult=col("spread_multiplier"),
            volume_mult=col("volume_multiplier"),
        )

    def jump_matrix(self) -> np.ndarray:
        """Return P[a, b]: chance that the chain goes to b when it leaves a."""
        n = len(self.duration)
        p = np.tile(self.entry_weight, (n, 1))
        np.fill_diagonal(p, 0.0)
        return p / p.sum(axis=1, keepdims=True)

    def stationary_shares(self) -> np.ndarray:
        """Return the long-run share of sessions spent in each regime."""
        p = self.jump_matrix()
        vals, vecs = np.linalg.eig(p.T)
        pi = np.real(vecs[:, np.argmin(np.abs(vals - 1.0))])
        share = np.abs(pi) * self.duration
        return share / share.sum()


@dataclass(frozen=True, slots=True)
class RegimeMix:
    """Regime parameters of one session blended with its smoothed regime weights."""

    iv_mult: float
    term_slope: float
    skew: float
    spread_mult: float
    volume_mult: float

    @classmethod
    def of(cls, table: RegimeTable, blend: np.ndarray) -> RegimeMix:
        """Return the blend of the table's smoothed parameters with weights `blend`."""
        return cls(
            iv_mult=float(blend @ table.iv_mult),
            term_slope=float(blend @ table.term_slope),
            skew=float(blend @ table.skew),
            spread_mult=float(blend @ table.spread_mult),
            volume_mult=float(blend @ table.volume_mult),
        )


@dataclass(frozen=True)
class SessionPath:
    """Every simulated quantity of one union session on its grid (column 0 is the open).

    ``logp`` and ``ivx`` are (listings × grid points); a listing's observable values are those of
    the grid points where ``trades`` is True (its own calendar is open, close included).
    """

    index: int
    day: date
    times: np.ndarray
    step_seconds: float
    regime: int
    mix: RegimeMix
    logp: np.ndarray
    ivx: np.ndarray
    logfx: np.ndarray
    trades: np.ndarray
    first_trade: np.ndarray
    last_trade: np.ndarray
    prev_traded: np.ndarray
    day_volume: np.ndarray
    gap: float

    @property
    def open_ts(self) -> float:
        """Return the POSIX time of the open."""
        return float(self.times[0])

    @property
    def close_ts(self) -> float:
        """Return the POSIX time of the close."""
        return float(self.times[-1])


class PathGenerator:
    """Draw session after session of the factor/regime process from seeded generators."""

    def __init__(self, settings: SimSettings, universe: Universe, table: RegimeTable) -> None:
        self.settings = settings
        self.u = universe
        self.table = table
        self.n = settings.steps_per_session
        seed = settings.seed
        self._rng_regime = component_rng(seed, "regime")
        self._rng_market = component_rng(seed, "market")
        self._rng_fx = component_rng(seed, "fx:USD.CAD")
        self._rng_sector = [component_rng(seed, f"sector:{s}") for s in universe.sectors]
        self._rng_listing = [component_rng(seed, f"listing:{lid}") for lid in universe.ids]
        f = settings.factors
        self._trend_decay = 0.5 ** (1.0 / f.trend_half_life_sessions)
        self._blend_keep = 0.5 ** (1.0 / settings.iv.regime_half_life_sessions)
        self._jump = table.jump_matrix()
        count = len(universe.ids)
        self._logp = np.zeros(count)
        self._x = np.zeros(count)
        self._mu = np.zeros(count)
        self._logfx = 0.0
        self._regime = -1
        self._blend = np.zeros(len(REGIMES))
        self._prev_traded = np.full(count, -1, dtype=np.intp)
        self._started = False

    # -- state --------------------------------------------------------------------------------
    def shift(self, logp_offset: np.ndarray, logfx_offset: float) -> None:
        """Shift the carried log prices (base listings) and log USD.CAD by constant offsets."""
        self._logp = self._logp + logp_offset
        self._logfx += logfx_offset

    def _start(self) -> None:
        """Draw the initial state from the stationary distributions (first session only)."""
        shares = self.table.stationary_shares()
        self._regime = int(np.searchsorted(np.cumsum(shares), self._rng_regime.random()))
        self._regime = min(self._regime, len(REGIMES) - 1)
        self._blend = np.eye(len(REGIMES))[self._regime]
        iv = self.settings.iv
        x_sd = iv.vol_of_vol / math.sqrt(2.0 * iv.mean_reversion_per_year)
        trend_vol = self.settings.factors.trend_vol
        for i, rng in enumerate(self._rng_listing):
            z = rng.standard_normal(2)
            self._x[i] = float(np.clip(x_sd * z[0], -IV_FACTOR_CLIP, IV_FACTOR_CLIP))
            self._mu[i] = trend_vol * z[1]
        self._started = True

    def _step_regime(self) -> None:
        u = self._rng_regime.random(2)
        if not self._started:
            self._start()
        elif u[0] < 1.0 / self.table.duration[self._regime]:
            cum = np.cumsum(self._jump[self._regime])
            self._regime = min(int(np.searchsorted(cum, u[1])), len(REGIMES) - 1)
        onehot = np.eye(len(REGIMES))[self._regime]
        self._blend = self._blend_keep * self._blend + (1.0 - self._blend_keep) * onehot

    # -- one session ------------------------------------------------------------------------
    def generate(self, index: int, day: date, times: np.ndarray, trades: np.ndarray) -> SessionPath:
        """Return the next session's path on grid `times` (POSIX seconds, open..close)."""
        s = self.settings
        u = self.u
        n = self.n
        self._step_regime()
        reg = self._regime
        tab = self.table
        vm = tab.vol_mult[reg]
        drift = tab.drift[reg]

        session_seconds = float(times[-1] - times[0])
        length = min(1.0, session_seconds / FULL_SESSION_SECONDS)
        share = s.factors.overnight_variance_share
        dt = np.empty(n + 1)
        dt[0] = share / SESSIONS_PER_YEAR
        dt[1:] = (1.0 - share) * length / SESSIONS_PER_YEAR / n
        sq = np.sqrt(dt)

        # market factor (with the overnight gap in the open)
        rm = self._rng_market
        zm = rm.standard_normal(n + 1)
        zm_iv = rm.standard_normal(n + 1)
        gap_z, gap_u = rm.standard_normal(), rm.random()
        shock_m = s.factors.market_vol * vm * sq * zm
        gap = float(tab.gap_size[reg] * gap_z) if gap_u < tab.gap_prob[reg] else 0.0
        shock_m[0] += gap

        # sector factors
        sector_vol = s.factors.sector_vol * vm
        ds = np.empty((len(u.sectors), n + 1))
        for k, rng in enumerate(self._rng_sector):
            ds[k] = sector_vol * sq * rng.standard_normal(n + 1)

        # listing draws: return noise, IV noise, trend shock, volume noise
        count = len(u.ids)
        z_ret = np.empty((count, n + 1))
        z_iv = np.empty((count, n + 1))
        z_trend = np.empty(count)
        z_vol = np.empty(count)
        for i, rng in enumerate(self._rng_listing):
            z = rng.standard_normal(2 * (n + 1) + 2)
            z_ret[i] = z[: n + 1]
            z_iv[i] = z[n + 1 : 2 * (n + 1)]
            z_trend[i] = z[-2]
            z_vol[i] = z[-1]

        a = self._trend_decay
        self._mu = a * self._mu + math.sqrt(1.0 - a * a) * s.factors.trend_vol * z_trend
        shock = (
            u.beta[:, None] * shock_m[None, :]
            + u.loading[:, None] * ds[u.sector_of]
            + (u.idio * vm)[:, None] * sq[None, :] * z_ret
        )
        ret = (self._mu + u.beta * drift)[:, None] * dt[None, :] + shock
        logp = self._logp[:, None] + np.cumsum(ret, axis=1)

        # IV factor: mean reversion, vol of vol (partly common), leverage on return shocks
        iv = s.iv
        mix = RegimeMix.of(tab, self._blend)
        level = u.base_iv * mix.iv_mult
        rho = iv.market_correlation
        noise = (
            iv.vol_of_vol * sq[None, :] * (rho * zm_iv[None, :] + math.sqrt(1 - rho * rho) * z_iv)
        )
        # x_g = x_(g-1) e^(-κ dt_g) + e_g, solved in closed form; return shocks are measured in
        # units of the regime's IV level (not the current IV, which would feed back on itself).
        push = (iv.spot_sensitivity / level)[:, None] * shock
        decay = np.exp(-iv.mean_reversion_per_year * np.cumsum(dt))
        ivx = decay[None, :] * (self._x[:, None] + np.cumsum((noise - push) / decay, axis=1))
        ivx = np.minimum(np.maximum(ivx, -IV_FACTOR_CLIP), IV_FACTOR_CLIP)

        # USD.CAD, 24 h a day: the session holds its share of a day's variance
        fx_day = min(1.0, session_seconds / 86400.0)
        dt_fx = np.empty(n + 1)
        dt_fx[0] = (1.0 - fx_day) / SESSIONS_PER_YEAR
        dt_fx[1:] = fx_day / SESSIONS_PER_YEAR / n
        rfx = s.usd_cad_market_correlation
        zf = self._rng_fx.standard_normal(n + 1)
        dfx = s.usd_cad_vol * np.sqrt(dt_fx) * (rfx * zm + math.sqrt(1 - rfx * rfx) * zf)
        logfx = self._logfx + np.cumsum(dfx)

        # followers: twin × USD.CAD × tracking noise; they share the twin's IV factor
        if len(u.followers):
            f, t = u.followers, u.twins
            track = (u.idio[f] * math.sqrt(float(dt[-1])))[:, None] * z_ret[f]
            logp[f] = logp[t] + logfx[None, :] + track
            ivx[f] = ivx[t]

        vn = s.liquidity.volume_noise
        day_volume = u.chain_volume * mix.volume_mult * np.exp(vn * z_vol)

        self._logp = logp[:, -1].copy()
        self._x = ivx[:, -1].copy()
        self._logfx = float(logfx[-1])

        any_trade = trades.any(axis=1)
        first = np.where(any_trade, trades.argmax(axis=1), -1)
        last = np.where(any_trade, n - trades[:, ::-1].argmax(axis=1), -1)
        prev = self._prev_traded.copy()
        self._prev_traded = np.where(any_trade, index, self._prev_traded)
        return SessionPath(
            index=index,
            day=day,
            times=times,
            step_seconds=session_seconds / n,
            regime=reg,
            mix=mix,
            logp=logp,
            ivx=ivx,
            logfx=logfx,
            trades=trades,
            first_trade=first,
            last_trade=last,
            prev_traded=prev,
            day_volume=day_volume,
            gap=gap,
        )


def shift_paths(
    paths: Sequence[SessionPath], universe: Universe, base_offset: np.ndarray, fx_offset: float
) -> list[SessionPath]:
    """Return the paths with log prices and log USD.CAD shifted (followers by twin + FX)."""
    offset = base_offset.copy()
    if len(universe.followers):
        offset[universe.followers] = base_offset[universe.twins] + fx_offset
    return [replace(p, logp=p.logp + offset[:, None], logfx=p.logfx + fx_offset) for p in paths]
