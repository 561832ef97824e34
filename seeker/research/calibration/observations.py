"""Option chains as one columnar table, from the replay's chain store or from the simulator.

The calibration measures real and simulated markets with the same code; this module brings both
to the same shape: one row per option quote (day, days to expiry, strike, right, bid, ask, IV,
delta, open interest, volume) and one row per day (spot, trailing realised volatility). Unknown
values are NaN (floats) and −1 (counts); nothing is filled in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import pyarrow.compute as pc

from seeker.core.calendar import MARKET_TZ
from seeker.core.models import DailyHistory
from seeker.core.replay.history import DailyBars
from seeker.core.replay.store import ChainStore
from seeker.core.sim.market import SimMarket

RV_SESSIONS = 21
"""Sessions of daily log returns behind the trailing realised volatility."""
TRADING_DAYS = 252.0
"""Sessions per year, to annualise daily return volatility."""


@dataclass(frozen=True)
class Observations:
    """Quotes of one underlying over several days (row arrays) and the days themselves."""

    name: str
    """What was observed, e.g. ``SPX 2019 (CBOE)`` or ``simulator IWM``."""
    days: np.ndarray
    """Day ordinals (``date.toordinal``), sorted, one per observed day."""
    spot: np.ndarray
    """Underlying price at each day's observation."""
    rv: np.ndarray
    """Trailing realised volatility per 1.00 (``RV_SESSIONS`` closes before the day), NaN if
    the history is too short."""
    day: np.ndarray
    """Row → index into ``days``."""
    dte: np.ndarray
    strike: np.ndarray
    is_call: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    iv: np.ndarray
    delta: np.ndarray
    oi: np.ndarray
    """Open interest, −1 when unknown."""
    volume: np.ndarray
    """Contracts traded that day, −1 when unknown."""

    @property
    def rows(self) -> int:
        """Return the number of quote rows."""
        return len(self.day)


def trailing_rv(closes: np.ndarray, days: Sequence[date], at: Sequence[date]) -> np.ndarray:
    """Return, for each day in `at`, the annualised volatility of the ``RV_SESSIONS`` daily log
    returns of `closes` ending the session before it (NaN when fewer are known)."""
    ordinals = np.array([d.toordinal() for d in days])
    logret = np.diff(np.log(np.asarray(closes, dtype=float)))
    out = np.full(len(at), math.nan)
    for n, d in enumerate(at):
        end = int(np.searchsorted(ordinals, d.toordinal()))  # sessions strictly before d
        if end - 1 >= RV_SESSIONS:
            window = logret[end - 1 - RV_SESSIONS : end - 1]
            if np.all(np.isfinite(window)):
                out[n] = float(np.std(window, ddof=1) * math.sqrt(TRADING_DAYS))
    return out


def _assemble(
    name: str,
    days: list[date],
    spots: list[float],
    rv: np.ndarray,
    cols: list[dict[str, np.ndarray]],
) -> Observations:
    keys = ("day", "dte", "strike", "is_call", "bid", "ask", "iv", "delta", "oi", "volume")
    joined = {k: np.concatenate([c[k] for c in cols]) if cols else np.zeros(0) for k in keys}
    return Observations(
        name=name,
        days=np.array([d.toordinal() for d in days], dtype=np.int64),
        spot=np.array(spots, dtype=float),
        rv=rv,
        day=joined["day"].astype(np.int64),
        dte=joined["dte"].astype(float),
        strike=joined["strike"].astype(float),
        is_call=joined["is_call"].astype(bool),
        bid=joined["bid"].astype(float),
        ask=joined["ask"].astype(float),
        iv=joined["iv"].astype(float),
        delta=joined["delta"].astype(float),
        oi=joined["oi"].astype(np.int64),
        volume=joined["volume"].astype(np.int64),
    )


def _counts(col: object) -> np.ndarray:
    return np.asarray(pc.fill_null(col, -1).to_numpy(), dtype=np.int64)  # type: ignore[call-overload]


def _floats(col: object) -> np.ndarray:
    return np.asarray(pc.fill_null(col, math.nan).to_numpy(), dtype=float)  # type: ignore[call-overload]


def from_store(
    store: ChainStore,
    underlying: str,
    bars: DailyBars,
    first: date | None = None,
    last: date | None = None,
) -> Observations:
    """Return every quote of `underlying` in the store (all roots), quote dates first–last, with
    the realised volatility of the index `bars` (e.g. SPX closes)."""
    days = [d for d in store.quote_dates() if (first is None or d >= first)]
    days = [d for d in days if last is None or d <= last]
    cols: list[dict[str, np.ndarray]] = []
    spots: list[float] = []
    kept: list[date] = []
    for d in days:
        t = store.load_day(d)
        t = t.filter(pc.fill_null(pc.equal(t["underlying"], underlying), False))
        if t.num_rows == 0:
            continue
        price = _floats(t["underlying_price"])
        n = len(kept)
        kept.append(d)
        spots.append(float(np.median(price)))
        expiry = np.asarray(t["expiration"].cast("int32").to_numpy(), dtype=np.int64)
        cols.append(
            {
                "day": np.full(t.num_rows, n),
                "dte": expiry - (d - date(1970, 1, 1)).days,
                "strike": _floats(t["strike"]),
                "is_call": np.asarray(pc.equal(t["right"], "C").to_numpy(zero_copy_only=False)),
                "bid": _floats(t["bid"]),
                "ask": _floats(t["ask"]),
                "iv": _floats(t["implied_vol"]),
                "delta": _floats(t["delta"]),
                "oi": _counts(t["open_interest"]),
                "volume": _counts(t["volume"]),
            }
        )
    rv = trailing_rv(bars.close, bars.dates, kept)
    return _assemble(f"{underlying} (chain store)", kept, spots, rv, cols)


def from_sim(
    market: SimMarket, listing_id: str, sessions: Sequence[date], at: time
) -> Observations:
    """Advance the simulator through `sessions`, reading `listing_id`'s whole chain (every
    listed expiry and strike) at `at` New York time each day."""
    cols: list[dict[str, np.ndarray]] = []
    spots: list[float] = []
    for n, d in enumerate(sessions):
        market.advance_to(datetime.combine(d, at, MARKET_TZ))
        chain = market.chain(listing_id, market.expiries(listing_id))
        q = chain.quotes
        spots.append(chain.underlying.mid)
        cols.append(
            {
                "day": np.full(len(q), n),
                "dte": np.array([(x.contract.expiry - d).days for x in q]),
                "strike": np.array([x.contract.strike for x in q]),
                "is_call": np.array([x.contract.right == "C" for x in q]),
                "bid": np.array([x.bid for x in q]),
                "ask": np.array([x.ask for x in q]),
                "iv": np.array([x.iv for x in q]),
                "delta": np.array([x.delta for x in q]),
                "oi": np.array([-1 if x.open_interest is None else x.open_interest for x in q]),
                "volume": np.array([-1 if x.volume is None else x.volume for x in q]),
            }
        )
    history: DailyHistory = market.history(listing_id, RV_SESSIONS + len(sessions) + 5)
    rv = trailing_rv(history.close, history.dates, list(sessions))
    return _assemble(f"simulator {listing_id}", list(sessions), spots, rv, cols)
