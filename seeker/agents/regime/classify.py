"""The Regime Classifier: an underlying's daily history and surface points → five labels.

Spec, "Regime Classifier: IV Rank/Percentile, tendance (SMA 20/50, ADX), structure de terme,
range/breakout": trend, IV rank, structure (range / breakout), term structure and skew. A missing or
undefined input raises ``DataUnavailable`` with the reason; no value is ever substituted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import numpy as np

from seeker.agents.regime.indicators import FloatArray, adx_atr_last
from seeker.agents.regime.labels import (
    Regime,
    RegimeConfig,
    ivr_label,
    skew_label,
    structure_label,
    term_label,
    trend_label,
)
from seeker.agents.regime.surface import SurfacePoints, usable_iv
from seeker.core.models import DailyHistory, DataUnavailable


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
    adx_value, atr_value = adx_atr_last(h, lo, c, cfg.adx_period, cfg.atr_period)

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
        if not usable_iv(value):
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
