"""Market regime: indicators, the IV surface points and the Regime Classifier.

Indicators (``adx``, ``iv_rank``, ``iv_percentile``) take numpy arrays (or anything ``np.asarray``
accepts) and return a float64 array of the same length, aligned bar for bar with its input, with
NaN wherever the value is not defined (warm-up, missing data, degenerate window). A missing value
is NaN or ±inf; it never turns into a number silently.

The classifier (spec, "Regime Classifier: IV Rank/Percentile, tendance (SMA 20/50, ADX), structure
de terme, range/breakout") reads an underlying's daily history and three points of its option
surface (front and next ATM IV, front 25-delta put and call IV) and labels five dimensions:
trend, IV rank, structure (range / breakout), term structure and skew. A missing or undefined
input raises ``DataUnavailable`` with the reason; no value is ever substituted.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from operator import attrgetter
from typing import Any, Literal, get_args

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray
from pydantic import Field, ValidationInfo, field_validator

from seeker.core.config_base import StrictModel
from seeker.core.models import Chain, DailyHistory, DataUnavailable, OptionQuote

__all__ = [
    "LABELS",
    "IvrLevel",
    "Regime",
    "RegimeConfig",
    "Skew",
    "Structure",
    "SurfacePoints",
    "Term",
    "Trend",
    "adx",
    "classify",
    "iv_percentile",
    "iv_rank",
    "ivr_label",
    "skew_label",
    "structure_label",
    "surface_points",
    "term_expiries",
    "term_label",
    "trend_label",
]

FloatArray = NDArray[np.float64]


def _check_length(name: str, value: object) -> int:
    """Return ``value`` as an int >= 1, or raise ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _series(name: str, values: ArrayLike) -> FloatArray:
    """Return ``values`` as a 1-D float64 copy with every non-finite entry set to NaN."""
    arr = np.array(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    arr[~np.isfinite(arr)] = np.nan
    return arr


def _smooth(x: FloatArray, gain: float, decay: float, prev: float) -> list[float]:
    """Return y_t = decay · y_(t-1) + gain · x_t over `x`, with y_(-1) = `prev`.

    The first-order IIR filter ``scipy.signal.lfilter([gain], [1, -decay], x, zi=[decay·prev])``
    computes, bit for bit, for the NaN-free non-negative inputs here (a plain loop: the series
    are a few hundred values, and it spares importing scipy.signal).
    """
    out: list[float] = []
    append = out.append
    y = prev
    if gain == 1.0:  # 1.0 · v is v
        for v in x.tolist():
            y = decay * y + v
            append(y)
    else:
        for v in x.tolist():
            y = decay * y + gain * v
            append(y)
    return out


def _wilder_sum(x: FloatArray, period: int) -> FloatArray:
    """Wilder-smooth ``x``: S = sum(x[:period]) at index period-1, then S - S/period + x_t.

    Indices before period-1 are NaN. ``x`` must be NaN-free and at least ``period`` long.
    """
    out = np.full(x.shape, np.nan)
    seed = x[:period].sum()
    out[period - 1] = seed
    decay = 1.0 - 1.0 / period
    if x.size > period:
        out[period:] = _smooth(x[period:], 1.0, decay, float(seed))
    return out


def _adx_run(high: FloatArray, low: FloatArray, close: FloatArray, period: int) -> FloatArray:
    """ADX of one NaN-free run of bars; index 0 of the result is the run's first bar."""
    n = high.size
    out = np.full(n, np.nan)
    if n < 2 * period:
        return out
    # Directional movement and true range exist from the second bar on (k = t - 1).
    up = high[1:] - high[:-1]
    down = low[:-1] - low[1:]
    plus_dm = np.where((up > down) & (up > 0.0), up, 0.0)
    minus_dm = np.where((down > up) & (down > 0.0), down, 0.0)
    prev_close = close[:-1]
    tr = np.maximum(
        high[1:] - low[1:],
        np.maximum(np.abs(high[1:] - prev_close), np.abs(low[1:] - prev_close)),
    )
    tr_s = _wilder_sum(tr, period)[period - 1 :]
    plus_s = _wilder_sum(plus_dm, period)[period - 1 :]
    minus_s = _wilder_sum(minus_dm, period)[period - 1 :]
    # A flat stretch has smoothed TR 0 (then both smoothed DMs are 0 too, since DM <= TR): DI = 0.
    safe_tr = np.where(tr_s > 0.0, tr_s, 1.0)
    plus_di = np.where(tr_s > 0.0, 100.0 * plus_s / safe_tr, 0.0)
    minus_di = np.where(tr_s > 0.0, 100.0 * minus_s / safe_tr, 0.0)
    di_sum = plus_di + minus_di
    # No directional movement at all (+DI + -DI = 0): DX = 0 by definition.
    safe_sum = np.where(di_sum > 0.0, di_sum, 1.0)
    dx = np.where(di_sum > 0.0, 100.0 * np.abs(plus_di - minus_di) / safe_sum, 0.0)
    # dx[j] belongs to bar j + period; the first ADX (mean of the first `period` DX) to bar 2p - 1.
    first = dx[:period].mean()
    smoothed = np.empty(dx.size - period + 1)
    smoothed[0] = first
    if smoothed.size > 1:
        decay = (period - 1.0) / period
        smoothed[1:] = _smooth(dx[period:], 1.0 / period, decay, float(first))
    out[2 * period - 1 :] = smoothed
    return out


def adx(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int) -> FloatArray:
    """Return Wilder's Average Directional Index (0..100), aligned with the input bars.

    Per Wilder (New Concepts in Technical Trading Systems, 1978), for bar t >= 1:
    +DM = H_t - H_{t-1} if that exceeds L_{t-1} - L_t and is positive, else 0; -DM likewise
    the other way round (a tie gives 0 to both); TR = max(H_t - L_t, |H_t - C_{t-1}|,
    |L_t - C_{t-1}|). TR, +DM and -DM are Wilder-smoothed (first value the sum of the first
    ``period`` values, then S_t = S_{t-1} - S_{t-1}/period + x_t); +DI and -DI are 100 times
    the smoothed DM over the smoothed TR; DX = 100 |+DI - -DI| / (+DI + -DI). The first ADX is
    the mean of the first ``period`` DX values, then ADX_t = (ADX_{t-1} (period - 1) + DX_t)
    / period.

    Warm-up: with 0-based bars the first DM/TR is at bar 1, the first DI/DX at bar ``period``
    and the first ADX at bar ``2 * period - 1`` (bar 27 for the usual 14); earlier bars are
    NaN. This matches the StockCharts ChartSchool ADX worked example.

    Degenerate cases: where the smoothed TR is 0 (no range at all) both DIs are 0; where
    +DI + -DI = 0 (no directional movement) DX is 0, so a flat market has ADX 0.

    Missing data: a bar with NaN (or ±inf) in high, low or close is NaN, and it breaks the
    series. The smoothing restarts on the next complete bar, so the first ADX after a gap is
    again ``2 * period - 1`` bars later and never depends on the missing bar.
    """
    period = _check_length("period", period)
    h = _series("high", high)
    lo = _series("low", low)
    c = _series("close", close)
    if not h.size == lo.size == c.size:
        raise ValueError(
            f"high, low and close must have equal lengths, got {h.size}, {lo.size}, {c.size}"
        )
    out = np.full(h.size, np.nan)
    valid = ~(np.isnan(h) | np.isnan(lo) | np.isnan(c))
    if not valid.any():
        return out
    # Split into maximal runs of complete bars and compute each run on its own.
    edges = np.flatnonzero(np.diff(np.concatenate(([False], valid, [False])).astype(np.int8)))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if stop - start >= 2 * period:
            out[start:stop] = _adx_run(h[start:stop], lo[start:stop], c[start:stop], period)
    # Guard against a one-ulp overshoot of the averages.
    return np.clip(out, 0.0, 100.0)


def iv_rank(iv: ArrayLike, window: int) -> FloatArray:
    """Return the IV rank (0..100) of each session within the trailing ``window`` sessions.

    IV rank_t = 100 (IV_t - min) / (max - min), min and max taken over sessions
    t - window + 1 .. t (today included). ``iv`` may be in any unit (decimal or percent); the
    result is a percentage. NaN for the first ``window - 1`` sessions, when any IV in the window
    is NaN, and when max == min (a flat window, and always when ``window`` is 1).
    """
    window = _check_length("window", window)
    x = _series("iv", iv)
    out = np.full(x.size, np.nan)
    if x.size < window:
        return out
    windows = sliding_window_view(x, window)
    lo = windows.min(axis=1)  # NaN if any value in the window is NaN
    hi = windows.max(axis=1)
    span = hi - lo
    today = x[window - 1 :]
    with np.errstate(invalid="ignore", divide="ignore"):
        rank = np.where(span > 0.0, 100.0 * ((today - lo) / span), np.nan)
    out[window - 1 :] = rank
    return out


def iv_percentile(iv: ArrayLike, window: int) -> FloatArray:
    """Return the IV percentile (0..100): the share of the prior ``window`` sessions below today.

    IV percentile_t = 100 * count(IV_s < IV_t for s in t - window .. t - 1) / window, a strict
    comparison, today excluded. NaN for the first ``window`` sessions (the prior sessions do not
    exist yet), and when today's IV or any of the prior ``window`` IVs is NaN.
    """
    window = _check_length("window", window)
    x = _series("iv", iv)
    out = np.full(x.size, np.nan)
    if x.size <= window:
        return out
    prior = sliding_window_view(x[:-1], window)  # row j: sessions j .. j + window - 1
    today = x[window:]  # session j + window
    below = (prior < today[:, None]).sum(axis=1)
    missing = np.isnan(today) | np.isnan(prior).any(axis=1)
    out[window:] = np.where(missing, np.nan, 100.0 * below / window)
    return out


# ---------------------------------------------------------------------------------------------
# Regime Classifier
# ---------------------------------------------------------------------------------------------

Trend = Literal["up", "down", "none"]
IvrLevel = Literal["high", "mid", "low"]
Structure = Literal["range", "breakout_up", "breakout_down", "neutral"]
Term = Literal["contango", "backwardation", "flat"]
Skew = Literal["marked", "normal"]

LABELS: dict[str, tuple[str, ...]] = {
    "trend": get_args(Trend),
    "structure": get_args(Structure),
    "ivr": get_args(IvrLevel),
    "term": get_args(Term),
    "skew": get_args(Skew),
}
"""Every label dimension and its possible values, in display order."""

PUT_25_DELTA = -0.25
CALL_25_DELTA = 0.25


class RegimeConfig(StrictModel):
    """The ``[regime]`` table: indicator lengths (sessions) and label thresholds.

    ADX and IV rank thresholds are on their 0..100 scales; IV differences are per 1.00 of vol
    (0.04 = 4 vol points); DTEs are calendar days.
    """

    sma_fast: int = Field(ge=2, le=400)
    sma_slow: int = Field(ge=3, le=400)
    adx_period: int = Field(ge=2, le=100)
    adx_trend: float = Field(gt=0.0, lt=100.0)
    adx_range: float = Field(gt=0.0, lt=100.0)
    iv_rank_window: int = Field(ge=20, le=1260)
    high_ivr: float = Field(gt=0.0, lt=100.0)
    low_ivr: float = Field(gt=0.0, lt=100.0)
    breakout_lookback: int = Field(ge=2, le=400)
    atr_period: int = Field(ge=1, le=100)
    skew_marked: float = Field(gt=0.0, le=1.0)
    term_flat_band: float = Field(gt=0.0, le=0.5)
    front_min_dte: int = Field(ge=1, le=365)
    next_min_dte: int = Field(ge=2, le=730)

    @field_validator("sma_slow")
    @classmethod
    def _slow_after_fast(cls, value: int, info: ValidationInfo) -> int:
        fast = info.data.get("sma_fast")
        if fast is not None and value <= fast:
            raise ValueError(f"must be greater than sma_fast ({fast}), got {value}")
        return value

    @field_validator("adx_range")
    @classmethod
    def _range_below_trend(cls, value: float, info: ValidationInfo) -> float:
        trend = info.data.get("adx_trend")
        if trend is not None and value > trend:
            raise ValueError(f"must be at most adx_trend ({trend}), got {value}")
        return value

    @field_validator("low_ivr")
    @classmethod
    def _low_below_high(cls, value: float, info: ValidationInfo) -> float:
        high = info.data.get("high_ivr")
        if high is not None and value >= high:
            raise ValueError(f"must be less than high_ivr ({high}), got {value}")
        return value

    @field_validator("next_min_dte")
    @classmethod
    def _next_after_front(cls, value: int, info: ValidationInfo) -> int:
        front = info.data.get("front_min_dte")
        if front is not None and value <= front:
            raise ValueError(f"must be greater than front_min_dte ({front}), got {value}")
        return value

    def requirements(self) -> dict[str, int]:
        """Return the sessions of history each measure needs, keyed by the measure's name."""
        return {
            f"SMA {self.sma_slow}": self.sma_slow,
            f"ADX {self.adx_period}": 2 * self.adx_period,
            f"ATR {self.atr_period}": self.atr_period + 1,
            f"{self.breakout_lookback}-session channel": self.breakout_lookback + 1,
            f"IV rank over {self.iv_rank_window} sessions": self.iv_rank_window,
        }

    @property
    def sessions_needed(self) -> int:
        """Return the fewest daily bars ``classify`` accepts (ask the broker for at least this)."""
        return max(self.requirements().values())


@dataclass(frozen=True, slots=True)
class SurfacePoints:
    """The option-surface measures of one underlying at one moment (IVs per 1.00)."""

    listing_id: str
    spot: float
    """Underlying mid the ATM IVs are interpolated at, $ per share."""
    front_expiry: date
    next_expiry: date
    front_dte: int
    next_dte: int
    front_iv: float
    """ATM IV of the front expiry."""
    next_iv: float
    """ATM IV of the next expiry."""
    put25_iv: float
    """IV of the front expiry's 25-delta put."""
    call25_iv: float
    """IV of the front expiry's 25-delta call."""


@dataclass(frozen=True, slots=True)
class Regime:
    """The measures and labels of one underlying's regime.

    ``day`` is the last completed session of the history (price and IV measures are as of its
    close); the surface measures are as of the chain the points were read from. ``skew`` is the
    measure (put25_iv − call25_iv, per 1.00) and ``skew_label`` its label; ``labels()`` names
    every label by its dimension.
    """

    listing_id: str
    day: date
    close: float
    sma_fast: float
    sma_slow: float
    adx: float
    atr: float
    """Wilder's average true range, $ per share."""
    atr_pct: float
    """ATR as a percentage of the close (1.5 means 1.5 %)."""
    iv: float
    """Last 30-day ATM IV of the history, per 1.00."""
    iv_rank: float
    iv_percentile: float
    channel_high: float
    """Highest high of the ``breakout_lookback`` sessions before ``day``."""
    channel_low: float
    """Lowest low of the ``breakout_lookback`` sessions before ``day``."""
    front_expiry: date
    next_expiry: date
    front_iv: float
    next_iv: float
    term_slope: float
    """next_iv − front_iv, per 1.00 (positive = contango)."""
    put25_iv: float
    call25_iv: float
    skew: float
    """put25_iv − call25_iv, per 1.00."""
    trend: Trend
    ivr: IvrLevel
    structure: Structure
    term: Term
    skew_label: Skew

    def labels(self) -> dict[str, str]:
        """Return the five labels keyed by dimension (the keys of ``LABELS``)."""
        return {
            "trend": self.trend,
            "structure": self.structure,
            "ivr": self.ivr,
            "term": self.term,
            "skew": self.skew_label,
        }

    def phrase(self, dimension: str) -> str:
        """Return one label in words with its measure, e.g. ``IVR 62 high`` or ``trend up``."""
        if dimension == "trend":
            return "no trend" if self.trend == "none" else f"trend {self.trend}"
        if dimension == "structure":
            return (
                "neutral structure"
                if self.structure == "neutral"
                else self.structure.replace("_", " ")
            )
        if dimension == "ivr":
            return f"IVR {self.iv_rank:.0f} {self.ivr}"
        if dimension == "term":
            return "flat term" if self.term == "flat" else self.term
        if dimension == "skew":
            return f"skew {self.skew_label}"
        raise ValueError(f"unknown label dimension {dimension!r} (known: {', '.join(LABELS)})")

    def summary(self) -> str:
        """Return the labels in words: ``no trend, range, IVR 62 high, contango, skew normal``."""
        return ", ".join(self.phrase(d) for d in LABELS)

    def as_dict(self) -> dict[str, Any]:
        """Return the measures (rounded) and labels as a journal-ready mapping (a fresh dict)."""
        fields = _journal_fields(self)
        return {**fields, "labels": dict(fields["labels"])}


@lru_cache(maxsize=256)
def _journal_fields(r: Regime) -> dict[str, Any]:
    """Return a regime's rounded measures and labels (made once per regime; never mutate it)."""
    return {
        "listing_id": r.listing_id,
        "day": r.day.isoformat(),
        "close": round(r.close, 4),
        "sma_fast": round(r.sma_fast, 4),
        "sma_slow": round(r.sma_slow, 4),
        "adx": round(r.adx, 2),
        "atr": round(r.atr, 4),
        "atr_pct": round(r.atr_pct, 3),
        "iv": round(r.iv, 4),
        "iv_rank": round(r.iv_rank, 1),
        "iv_percentile": round(r.iv_percentile, 1),
        "channel_high": round(r.channel_high, 4),
        "channel_low": round(r.channel_low, 4),
        "front_expiry": r.front_expiry.isoformat(),
        "next_expiry": r.next_expiry.isoformat(),
        "front_iv": round(r.front_iv, 4),
        "next_iv": round(r.next_iv, 4),
        "term_slope": round(r.term_slope, 4),
        "put25_iv": round(r.put25_iv, 4),
        "call25_iv": round(r.call25_iv, 4),
        "skew": round(r.skew, 4),
        "labels": r.labels(),
    }


# -- labels (pure functions of measures) ---------------------------------------------------------
def trend_label(
    close: float, sma_fast: float, sma_slow: float, adx_value: float, cfg: RegimeConfig
) -> Trend:
    """Return up when close > SMA fast > SMA slow and ADX ≥ adx_trend, down mirrored, else none."""
    if adx_value >= cfg.adx_trend:
        if close > sma_fast > sma_slow:
            return "up"
        if close < sma_fast < sma_slow:
            return "down"
    return "none"


def structure_label(
    close: float, channel_high: float, channel_low: float, adx_value: float, cfg: RegimeConfig
) -> Structure:
    """Return a breakout when the close is beyond the channel, range when ADX < adx_range inside.

    The channel is the prior sessions' highest high and lowest low; a close equal to a channel
    bound is inside it.
    """
    if close > channel_high:
        return "breakout_up"
    if close < channel_low:
        return "breakout_down"
    if adx_value < cfg.adx_range:
        return "range"
    return "neutral"


def ivr_label(rank: float, cfg: RegimeConfig) -> IvrLevel:
    """Return high when IV rank ≥ high_ivr, low when IV rank < low_ivr, else mid (0..100 scale)."""
    if rank >= cfg.high_ivr:
        return "high"
    if rank < cfg.low_ivr:
        return "low"
    return "mid"


def term_label(slope: float, cfg: RegimeConfig) -> Term:
    """Return contango if next − front IV ≥ term_flat_band, backwardation if ≤ −band, else flat."""
    if slope >= cfg.term_flat_band:
        return "contango"
    if slope <= -cfg.term_flat_band:
        return "backwardation"
    return "flat"


def skew_label(skew: float, cfg: RegimeConfig) -> Skew:
    """Return marked when the 25-delta put − call IV is at least skew_marked (per 1.00)."""
    return "marked" if skew >= cfg.skew_marked else "normal"


# -- surface points -----------------------------------------------------------------------------
def term_expiries(expiries: Iterable[date], today: date, cfg: RegimeConfig) -> tuple[date, date]:
    """Return the (front, next) expiries of the term structure.

    Front: the first expiry ``front_min_dte`` or more calendar days after ``today``; next: the first
    after it ``next_min_dte`` or more days out. Use it to ask the broker for the right chain.
    """
    days = sorted(set(expiries))
    front = next((e for e in days if (e - today).days >= cfg.front_min_dte), None)
    if front is None:
        last = f"; the last is {days[-1]} ({(days[-1] - today).days} d)" if days else ""
        raise DataUnavailable(f"no front expiry: none {cfg.front_min_dte} or more days out{last}")
    nxt = next((e for e in days if e > front and (e - today).days >= cfg.next_min_dte), None)
    if nxt is None:
        raise DataUnavailable(
            f"no next expiry: none {cfg.next_min_dte} or more days out after the front {front}"
        )
    return front, nxt


def _good_iv(iv: float) -> bool:
    return math.isfinite(iv) and iv > 0.0


def _strike_iv(calls: dict[float, OptionQuote], puts: dict[float, OptionQuote], k: float) -> float:
    """Return the IV at one strike: call and put IVs averaged where both are known, else the one."""
    ivs = [q.iv for q in (calls.get(k), puts.get(k)) if q is not None and _good_iv(q.iv)]
    return sum(ivs) / len(ivs) if ivs else math.nan


_BY_STRIKE = attrgetter("contract.strike")
"""Sort key of quotes: their contract's strike."""


def _sides(chain: Chain, expiries: Iterable[date]) -> dict[tuple[date, str], list[OptionQuote]]:
    """Return the quotes of ``expiries`` by (expiry, right), each sorted by strike (one pass)."""
    wanted = set(expiries)
    out: dict[tuple[date, str], list[OptionQuote]] = {
        (e, r): [] for e in wanted for r in ("C", "P")
    }
    for q in chain.quotes:
        c = q.contract
        if c.expiry in wanted:
            out[(c.expiry, c.right)].append(q)
    for rows in out.values():
        rows.sort(key=_BY_STRIKE)
    return out


def _atm_iv(
    lid: str, expiry: date, calls_side: list[OptionQuote], puts_side: list[OptionQuote], spot: float
) -> float:
    """Return the IV at ``spot`` interpolated linearly in strike between the bracketing strikes."""
    calls = {q.contract.strike: q for q in calls_side}
    puts = {q.contract.strike: q for q in puts_side}
    strikes = np.array(sorted(calls.keys() | puts.keys()))
    if strikes.size == 0:
        raise DataUnavailable(f"{lid} {expiry}: no quotes in the chain")
    if not strikes[0] <= spot <= strikes[-1]:
        raise DataUnavailable(
            f"{lid} {expiry}: spot {spot:g} outside the chain's strikes "
            f"{strikes[0]:g}..{strikes[-1]:g}, ATM IV not bracketed"
        )
    hi = int(np.searchsorted(strikes, spot, side="left"))
    k_hi = float(strikes[hi])
    k_lo = k_hi if k_hi == spot else float(strikes[hi - 1])
    iv_lo = _strike_iv(calls, puts, k_lo)
    iv_hi = _strike_iv(calls, puts, k_hi)
    for k, iv in ((k_lo, iv_lo), (k_hi, iv_hi)):
        if math.isnan(iv):
            raise DataUnavailable(
                f"{lid} {expiry}: no IV at strike {k:g} next to spot {spot:g} "
                "(neither call nor put IV is known)"
            )
    if k_hi == k_lo:
        return iv_lo
    w = (spot - k_lo) / (k_hi - k_lo)
    return iv_lo + w * (iv_hi - iv_lo)


def _delta_iv(quotes: Sequence[OptionQuote], target: float, what: str) -> float:
    """Return the IV at delta ``target`` interpolated linearly in delta between adjacent strikes.

    ``quotes`` are one expiry and right, sorted by strike. The bracketing pair must be adjacent in
    the chain with known deltas on both sides; their IVs must be known.
    """
    if not quotes:
        raise DataUnavailable(f"{what}: no quotes")
    d = np.array([q.delta for q in quotes], dtype=np.float64)
    iv = np.array([q.iv for q in quotes], dtype=np.float64)
    a, b = d[:-1] - target, d[1:] - target
    bracket = np.isfinite(a) & np.isfinite(b) & (a * b <= 0.0)
    exact = np.flatnonzero(d == target)
    if exact.size:
        i = int(exact[0])
        j = i
    elif bracket.any():
        i = int(np.argmax(bracket))
        j = i + 1
    else:
        known = d[np.isfinite(d)]
        if known.size == 0:
            raise DataUnavailable(f"{what}: no delta known")
        nan = d.size - known.size
        missing = f", {nan} delta(s) NaN" if nan else ""
        raise DataUnavailable(
            f"{what}: delta {target:+.2f} not bracketed by adjacent strikes "
            f"(deltas {known.min():+.3f}..{known.max():+.3f}{missing})"
        )
    for k in {i, j}:
        if not _good_iv(float(iv[k])):
            raise DataUnavailable(
                f"{what}: IV unknown at strike {quotes[k].contract.strike:g} (delta {d[k]:+.3f})"
            )
    if i == j:
        return float(iv[i])
    w = (target - d[i]) / (d[j] - d[i])
    return float(iv[i] + w * (iv[j] - iv[i]))


def surface_points(chain: Chain, today: date, cfg: RegimeConfig) -> SurfacePoints:
    """Return the front and next ATM IVs and the front 25-delta put and call IVs of ``chain``.

    The front expiry is the chain's first ≥ ``front_min_dte`` days out, the next the first
    ≥ ``next_min_dte`` after it (calendar days from ``today``). ATM IV: the strikes bracketing the
    underlying mid, each strike's IV the mean of its call and put IVs where both are known,
    interpolated linearly in strike at the mid (the spot, not the forward: no rate or dividend is
    assumed). 25-delta IVs: interpolated linearly in delta between the adjacent strikes whose
    deltas bracket −0.25 (puts) and +0.25 (calls). Any missing input raises DataUnavailable.
    """
    lid = chain.listing_id
    expiries = chain.expiries
    if len(expiries) < 2:
        raise DataUnavailable(
            f"{lid}: chain holds {len(expiries)} expiry(ies), two needed for the term structure"
        )
    u = chain.underlying
    spot = u.mid
    if not (math.isfinite(spot) and spot > 0.0):
        raise DataUnavailable(f"{lid}: underlying bid/ask unusable ({u.bid}/{u.ask}), no spot")
    try:
        front, nxt = term_expiries(expiries, today, cfg)
    except DataUnavailable as exc:
        raise DataUnavailable(f"{lid}: {exc}") from None
    sides = _sides(chain, (front, nxt))
    front_iv = _atm_iv(lid, front, sides[(front, "C")], sides[(front, "P")], spot)
    next_iv = _atm_iv(lid, nxt, sides[(nxt, "C")], sides[(nxt, "P")], spot)
    put25 = _delta_iv(sides[(front, "P")], PUT_25_DELTA, f"{lid} {front} 25-delta put")
    call25 = _delta_iv(sides[(front, "C")], CALL_25_DELTA, f"{lid} {front} 25-delta call")
    return SurfacePoints(
        listing_id=lid,
        spot=spot,
        front_expiry=front,
        next_expiry=nxt,
        front_dte=(front - today).days,
        next_dte=(nxt - today).days,
        front_iv=front_iv,
        next_iv=next_iv,
        put25_iv=put25,
        call25_iv=call25,
    )


# -- classify ----------------------------------------------------------------------------------
def _require_finite(
    lid: str, what: str, values: FloatArray, dates: Sequence[date], span: str
) -> None:
    """Raise DataUnavailable naming how many and which of ``values`` are missing."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        first = dates[int(bad[0])]
        raise DataUnavailable(
            f"no regime for {lid}: {what} missing on {bad.size} of {span} (first {first})"
        )


def _atr(high: FloatArray, low: FloatArray, close: FloatArray, period: int) -> float:
    """Return Wilder's ATR at the last bar of NaN-free bars (at least ``period + 1`` of them)."""
    prev = close[:-1]
    tr = np.maximum(high[1:] - low[1:], np.maximum(np.abs(high[1:] - prev), np.abs(low[1:] - prev)))
    return float(_wilder_sum(tr, period)[-1] / period)


def classify(
    listing_id: str, history: DailyHistory, points: SurfacePoints, cfg: RegimeConfig
) -> Regime:
    """Return the regime of ``listing_id`` from its daily history and surface points.

    trend: up when close > SMA fast > SMA slow and ADX ≥ adx_trend (down mirrored), else none.
    structure: breakout_up / breakout_down when the last close is above / below the prior
    ``breakout_lookback`` sessions' high / low, range when inside with ADX < adx_range, else
    neutral. ivr: IV rank (today within the last ``iv_rank_window`` sessions) ≥ high_ivr high,
    < low_ivr low, else mid; the IV percentile compares today with the ``iv_rank_window − 1``
    sessions before it (the same span). term: next − front ATM IV against ±term_flat_band.
    skew: 25-delta put − call IV ≥ skew_marked is marked.

    ADX and ATR restart after a gap in the bars, so they need their warm-up of complete bars
    before the last session. Too little history, a NaN among the bars or IVs a measure uses, an
    undefined IV rank (flat IV) or a non-finite surface point raises DataUnavailable.
    """
    if history.listing_id != listing_id or points.listing_id != listing_id:
        raise ValueError(
            f"classify({listing_id!r}) given history of {history.listing_id!r} "
            f"and surface points of {points.listing_id!r}"
        )
    lid = listing_id
    n = len(history)
    reqs = cfg.requirements()
    short = [name for name, need in reqs.items() if n < need]
    if short:
        need = max(reqs[name] for name in short)
        raise DataUnavailable(
            f"no regime for {lid}: {n} sessions of history, {need} needed ({', '.join(short)})"
        )
    dates = history.dates
    high = np.asarray(history.high, dtype=np.float64)
    low = np.asarray(history.low, dtype=np.float64)
    close = np.asarray(history.close, dtype=np.float64)
    iv = np.asarray(history.iv, dtype=np.float64)

    slow = cfg.sma_slow
    _require_finite(lid, "close", close[-slow:], dates[-slow:], f"the last {slow} sessions")
    look = cfg.breakout_lookback
    span = f"the {look} sessions before the last"
    _require_finite(lid, "high", high[-look - 1 : -1], dates[-look - 1 : -1], span)
    _require_finite(lid, "low", low[-look - 1 : -1], dates[-look - 1 : -1], span)
    window = cfg.iv_rank_window
    _require_finite(lid, "IV", iv[-window:], dates[-window:], f"the last {window} sessions")

    # Trailing run of complete bars: ADX and ATR need their warm-up inside it.
    complete = np.isfinite(high) & np.isfinite(low) & np.isfinite(close)
    gaps = np.flatnonzero(~complete)
    start = int(gaps[-1]) + 1 if gaps.size else 0
    run = n - start
    for name, need in (
        (f"ADX {cfg.adx_period}", 2 * cfg.adx_period),
        (f"ATR {cfg.atr_period}", cfg.atr_period + 1),
    ):
        if run < need:
            raise DataUnavailable(
                f"no regime for {lid}: {name} needs {need} complete sessions, {run} since the "
                f"bar missing on {dates[start - 1]}"
            )
    h, lo, c = high[start:], low[start:], close[start:]
    # adx() of one complete run (what ``adx(h, lo, c, period)[-1]`` returns, without its checks)
    adx_value = float(np.clip(_adx_run(h, lo, c, cfg.adx_period)[-1:], 0.0, 100.0)[0])
    atr_value = _atr(h, lo, c, cfg.atr_period)

    last = float(close[-1])
    sma_fast = float(close[-cfg.sma_fast :].mean())
    sma_slow = float(close[-slow:].mean())
    channel_high = float(high[-look - 1 : -1].max())
    channel_low = float(low[-look - 1 : -1].min())

    tail = iv[-window:]  # finite (checked above)
    # iv_rank(tail, window)[-1] and iv_percentile(tail, window - 1)[-1], computed directly
    lo_iv, hi_iv, today_iv = float(tail.min()), float(tail.max()), float(tail[-1])
    span_iv = hi_iv - lo_iv
    rank = 100.0 * ((today_iv - lo_iv) / span_iv) if span_iv > 0.0 else math.nan
    if math.isnan(rank):
        raise DataUnavailable(
            f"no regime for {lid}: IV flat at {tail[-1]:.4f} over the last {window} sessions, "
            "IV rank undefined"
        )
    pct = 100.0 * int(np.count_nonzero(tail[:-1] < today_iv)) / (window - 1)

    surface = {
        "front_iv": points.front_iv,
        "next_iv": points.next_iv,
        "put25_iv": points.put25_iv,
        "call25_iv": points.call25_iv,
    }
    for name, value in surface.items():
        if not _good_iv(value):
            raise DataUnavailable(f"no regime for {lid}: surface point {name} is {value}")
    slope = points.next_iv - points.front_iv
    skew = points.put25_iv - points.call25_iv

    return Regime(
        listing_id=lid,
        day=dates[-1],
        close=last,
        sma_fast=sma_fast,
        sma_slow=sma_slow,
        adx=adx_value,
        atr=atr_value,
        atr_pct=100.0 * atr_value / last,
        iv=float(iv[-1]),
        iv_rank=rank,
        iv_percentile=pct,
        channel_high=channel_high,
        channel_low=channel_low,
        front_expiry=points.front_expiry,
        next_expiry=points.next_expiry,
        front_iv=points.front_iv,
        next_iv=points.next_iv,
        term_slope=slope,
        put25_iv=points.put25_iv,
        call25_iv=points.call25_iv,
        skew=skew,
        trend=trend_label(last, sma_fast, sma_slow, adx_value, cfg),
        ivr=ivr_label(rank, cfg),
        structure=structure_label(last, channel_high, channel_low, adx_value, cfg),
        term=term_label(slope, cfg),
        skew_label=skew_label(skew, cfg),
    )
