"""Daily indicators: Wilder's ADX and ATR, IV rank and IV percentile.

Each takes numpy arrays (or anything ``np.asarray`` accepts) and returns float64 aligned bar for
bar with its input, NaN wherever the value is not defined (warm-up, missing data, degenerate
window). A missing value is NaN or ±inf; it never turns into a number silently.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

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


def adx_run(high: FloatArray, low: FloatArray, close: FloatArray, period: int) -> FloatArray:
    """ADX of one NaN-free run of bars; index 0 of the result is the run's first bar."""
    n = high.size
    out = np.full(n, np.nan)
    if n < 2 * period:
        return out
    # Directional movement and true range exist from the second bar on (k = t - 1).
    tr, plus_dm, minus_dm = _directional(high, low, close)
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


def _directional(
    high: FloatArray, low: FloatArray, close: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return (TR, +DM, -DM) of NaN-free bars, from the second bar on (index k is bar k + 1)."""
    up = high[1:] - high[:-1]
    down = low[:-1] - low[1:]
    plus_dm = np.where((up > down) & (up > 0.0), up, 0.0)
    minus_dm = np.where((down > up) & (down > 0.0), down, 0.0)
    prev_close = close[:-1]
    tr = np.maximum(
        high[1:] - low[1:],
        np.maximum(np.abs(high[1:] - prev_close), np.abs(low[1:] - prev_close)),
    )
    return tr, plus_dm, minus_dm


def _dx(tr_s: float, plus_s: float, minus_s: float) -> float:
    """Return DX (0..100) of smoothed TR, +DM and -DM (0 where TR or both DIs are 0)."""
    if tr_s > 0.0:
        plus_di = 100.0 * plus_s / tr_s
        minus_di = 100.0 * minus_s / tr_s
    else:
        plus_di = minus_di = 0.0
    di_sum = plus_di + minus_di
    return 100.0 * abs(plus_di - minus_di) / di_sum if di_sum > 0.0 else 0.0


def adx_atr_last(
    high: FloatArray, low: FloatArray, close: FloatArray, adx_period: int, atr_period: int
) -> tuple[float, float]:
    """Return (ADX clipped to 0..100, ATR) at the last bar of one NaN-free run of bars.

    Bit for bit ``clip(adx_run(...)[-1])`` and ``average_true_range(...)``, in one pass that
    keeps only the running values (the run holds at least ``2 * adx_period`` and
    ``atr_period + 1`` bars). The ATR reuses the ADX's smoothed TR when both periods match.
    """
    period = adx_period
    tr, plus_dm, minus_dm = _directional(high, low, close)
    # Wilder sums: seeded with the (numpy, pairwise) sum of the first `period` values.
    tr_s, plus_s, minus_s = (
        float(tr[:period].sum()),
        float(plus_dm[:period].sum()),
        float(minus_dm[:period].sum()),
    )
    decay = 1.0 - 1.0 / period
    rest = zip(
        tr[period:].tolist(), plus_dm[period:].tolist(), minus_dm[period:].tolist(), strict=True
    )
    first_dx = [_dx(tr_s, plus_s, minus_s)]
    for t, p, m in rest:
        tr_s = decay * tr_s + t
        plus_s = decay * plus_s + p
        minus_s = decay * minus_s + m
        first_dx.append(_dx(tr_s, plus_s, minus_s))
        if len(first_dx) == period:
            break
    value = float(np.array(first_dx).mean())
    adx_decay, gain = (period - 1.0) / period, 1.0 / period
    for t, p, m in rest:  # the bars after the first ADX
        tr_s = decay * tr_s + t
        plus_s = decay * plus_s + p
        minus_s = decay * minus_s + m
        value = adx_decay * value + gain * _dx(tr_s, plus_s, minus_s)
    # ADX and DX are >= +0.0 (sums and products of non-negative values): clip guards an overshoot.
    adx_value = min(max(value, 0.0), 100.0)
    if atr_period == period:
        atr_value = tr_s / atr_period
    else:
        atr_value = float(_wilder_sum(tr, atr_period)[-1] / atr_period)
    return adx_value, atr_value


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
            out[start:stop] = adx_run(h[start:stop], lo[start:stop], c[start:stop], period)
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


def average_true_range(high: FloatArray, low: FloatArray, close: FloatArray, period: int) -> float:
    """Return Wilder's ATR at the last bar of NaN-free bars (at least ``period + 1`` of them)."""
    prev = close[:-1]
    tr = np.maximum(high[1:] - low[1:], np.maximum(np.abs(high[1:] - prev), np.abs(low[1:] - prev)))
    return float(_wilder_sum(tr, period)[-1] / period)
