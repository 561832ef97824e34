"""Daily index history for replay: OHLC of the index and an implied-volatility index.

The index file (``date,open,high,low,close``, e.g. SPX) gives the bars the regime classifier
reads and the opening / closing values that settle index options; the volatility index file
(same columns, in points, e.g. VIX) gives the 30-day implied volatility, per 1.00 (points / 100).
A session of the index file the volatility file lacks keeps a NaN volatility: never filled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from seeker.core.models import DailyHistory

COLUMNS = ("date", "open", "high", "low", "close")
POINTS_PER_UNIT = 100.0
"""A volatility index in points (VIX 20.55) is 0.2055 per 1.00."""


@dataclass(frozen=True)
class DailyBars:
    """One daily CSV file as columns: sorted unique dates and OHLC, $ (or points)."""

    dates: tuple[date, ...]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray


def read_daily_csv(path: Path, ohlc_checked: bool = True) -> DailyBars:
    """Read ``date,open,high,low,close`` bars; raise naming the file and date of a bad row.

    Every close must be a positive number; with `ohlc_checked` every bar must also be
    consistent (low ≤ open, close ≤ high). Volatility index files fail that check on some days
    (their open is computed apart), and only their close is used.
    """
    try:
        t = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={"date": pa.date32(), **dict.fromkeys(COLUMNS[1:], pa.float64())},
                include_columns=list(COLUMNS),
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValueError(f"{path}: not a date,open,high,low,close file ({exc})") from None
    if pc.any(pc.is_null(t["date"])).as_py():
        raise ValueError(f"{path}: a row has no date")
    dates = tuple(t["date"].to_pylist())
    bars = DailyBars(
        dates,
        *(np.asarray(pc.fill_null(t[c], np.nan).to_numpy(), np.float64) for c in COLUMNS[1:]),
    )
    for i in range(1, len(dates)):
        if dates[i] <= dates[i - 1]:
            raise ValueError(f"{path}: dates not strictly increasing at {dates[i]}")
    bad = ~np.isfinite(bars.close) | (bars.close <= 0)
    if ohlc_checked:
        ohlc = np.vstack([bars.open, bars.high, bars.low, bars.close])
        bad |= ~np.isfinite(ohlc).all(axis=0) | (ohlc <= 0).any(axis=0)
        bad |= (bars.high < np.maximum(bars.open, bars.close)) | (
            bars.low > np.minimum(bars.open, bars.close)
        )
    if bad.any():
        raise ValueError(
            f"{path}: missing, non-positive or inconsistent OHLC on {dates[int(np.argmax(bad))]}"
        )
    return bars


def load_index_history(
    listing_id: str,
    index_csv: Path,
    iv_csv: Path,
    first_day: date,
    last_day: date,
    warmup_sessions: int,
) -> DailyHistory:
    """Return the index's bars with IV from `warmup_sessions` sessions before `first_day` to
    `last_day`; raise when the file holds fewer sessions before `first_day`."""
    if warmup_sessions < 0 or last_day < first_day:
        raise ValueError("need warmup_sessions ≥ 0 and first_day ≤ last_day")
    idx = read_daily_csv(index_csv)
    vol = read_daily_csv(iv_csv, ohlc_checked=False)
    days = np.array(idx.dates, dtype="datetime64[D]")
    start = int(np.searchsorted(days, np.datetime64(first_day, "D")))
    end = int(np.searchsorted(days, np.datetime64(last_day, "D"), side="right"))
    if start < warmup_sessions:
        raise ValueError(
            f"{index_csv}: {start} sessions before {first_day}, {warmup_sessions} needed for "
            "the warm-up"
        )
    lo = start - warmup_sessions
    vol_at = {d: v for d, v in zip(vol.dates, vol.close.tolist(), strict=True)}
    dates = idx.dates[lo:end]
    iv = np.array([vol_at.get(d, np.nan) for d in dates], np.float64) / POINTS_PER_UNIT
    return DailyHistory(
        listing_id,
        dates,
        idx.open[lo:end].copy(),
        idx.high[lo:end].copy(),
        idx.low[lo:end].copy(),
        idx.close[lo:end].copy(),
        iv,
    )
