"""ib_async tickers as Seeker quotes: units, missing values, and when a quote is complete.

IB conventions turned into Seeker's (see :mod:`seeker.core.models`):

* vega is per vol point in IB, per 1.00 of vol in Seeker: × 100; theta is per calendar day in IB,
  per year in Seeker: × 365;
* "not computed" is −1 (iv, prices) or −2 (greeks); ib_async maps −2 to None for delta and gamma
  but keeps −2 for vega and theta: both are missing data here, NaN;
* a price of −1 or a side with size 0 (which ib_async turns into NaN) is no quote: NaN;
* greeks come from the model computation (tick 13), field by field, else the mean of the bid
  (10) and ask (11) computations when both have the field, else NaN — never guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from ib_async import Ticker
from ib_async.objects import OptionComputation

from seeker.core.models import OptionContract, OptionQuote, UnderlyingQuote

BID_TICKS = frozenset({1, 66})
ASK_TICKS = frozenset({2, 67})
LAST_TICKS = frozenset({4, 68})
VOLUME_TICKS = frozenset({8, 74})
CALL_OI_TICK = 27
PUT_OI_TICK = 28
CALL_VOLUME_TICK = 29
PUT_VOLUME_TICK = 30
AV_OPTION_VOLUME_TICK = 87

OPTION_GENERIC_TICKS = "101,106"
"""Open interest (27/28) and the option's implied volatility (24)."""
UNDERLYING_GENERIC_TICKS = "100,105"
"""Today's option volume (29/30) and average option volume (87) of an underlying."""

VEGA_IB_TO_SEEKER = 100.0
THETA_IB_TO_SEEKER = 365.0


@dataclass(frozen=True)
class TickView:
    """The fields of one ticker at one moment, plus the tick types it has received."""

    bid: float
    ask: float
    last: float
    bid_size: float
    ask_size: float
    volume: float
    call_oi: float
    put_oi: float
    call_volume: float
    put_volume: float
    av_option_volume: float
    implied_vol: float
    model: OptionComputation | None
    bid_greeks: OptionComputation | None
    ask_greeks: OptionComputation | None
    received: datetime | None
    seen: frozenset[int]

    @classmethod
    def of(cls, ticker: Ticker, seen: frozenset[int]) -> TickView:
        """Copy the fields Seeker uses out of an ib_async ticker."""
        return cls(
            bid=ticker.bid,
            ask=ticker.ask,
            last=ticker.last,
            bid_size=ticker.bidSize,
            ask_size=ticker.askSize,
            volume=ticker.volume,
            call_oi=ticker.callOpenInterest,
            put_oi=ticker.putOpenInterest,
            call_volume=ticker.callVolume,
            put_volume=ticker.putVolume,
            av_option_volume=ticker.avOptionVolume,
            implied_vol=ticker.impliedVolatility,
            model=ticker.modelGreeks,
            bid_greeks=ticker.bidGreeks,
            ask_greeks=ticker.askGreeks,
            received=ticker.time,
            seen=seen,
        )


def _finite(x: float | None) -> float:
    if x is None:
        return math.nan
    x = float(x)
    return x if math.isfinite(x) else math.nan


def price(x: float | None) -> float:
    """Return a quoted price, NaN when missing, NaN-marked or IB's −1 "no price"."""
    x = _finite(x)
    return x if x >= 0.0 else math.nan


def count(x: float | None) -> int | None:
    """Return a size, volume or open interest as an int, None when missing."""
    x = _finite(x)
    return int(x) if x >= 0.0 else None


def _iv(c: OptionComputation | None) -> float:
    x = _finite(c.impliedVol) if c is not None else math.nan
    return x if x > 0.0 else math.nan


def _delta(c: OptionComputation | None) -> float:
    x = _finite(c.delta) if c is not None else math.nan
    return x if -1.0 <= x <= 1.0 else math.nan


def _gamma(c: OptionComputation | None) -> float:
    x = _finite(c.gamma) if c is not None else math.nan
    return x if x != -2.0 else math.nan


def _vega(c: OptionComputation | None) -> float:
    x = _finite(c.vega) if c is not None else math.nan
    return x * VEGA_IB_TO_SEEKER if x != -2.0 else math.nan


def _theta(c: OptionComputation | None) -> float:
    x = _finite(c.theta) if c is not None else math.nan
    return x * THETA_IB_TO_SEEKER if x != -2.0 else math.nan


def _und(c: OptionComputation | None) -> float:
    x = _finite(c.undPrice) if c is not None else math.nan
    return x if x > 0.0 else math.nan


def _pick(view: TickView, field: str) -> float:
    """Return one greek: the model's, else the mean of bid and ask computations, else NaN."""
    fn = _FIELDS[field]
    model = fn(view.model)
    if math.isfinite(model):
        return model
    bid, ask = fn(view.bid_greeks), fn(view.ask_greeks)
    if math.isfinite(bid) and math.isfinite(ask):
        return (bid + ask) / 2.0
    return math.nan


_FIELDS = {
    "iv": _iv,
    "delta": _delta,
    "gamma": _gamma,
    "vega": _vega,
    "theta": _theta,
    "und": _und,
}


def greeks(view: TickView) -> dict[str, float]:
    """Return iv, delta, gamma, vega (per 1.00 vol), theta (per year) and und in Seeker units."""
    out = {name: _pick(view, name) for name in _FIELDS}
    if not math.isfinite(out["iv"]):
        tick_iv = _finite(view.implied_vol)
        out["iv"] = tick_iv if tick_iv > 0.0 else math.nan
    return out


def option_quote(
    contract: OptionContract, view: TickView, ts: datetime, underlying_price: float = math.nan
) -> OptionQuote:
    """Return the OptionQuote of one option ticker; `underlying_price` backs a missing undPrice."""
    g = greeks(view)
    und = g["und"] if math.isfinite(g["und"]) else underlying_price
    oi = view.call_oi if contract.right == "C" else view.put_oi
    return OptionQuote(
        contract=contract,
        bid=price(view.bid),
        ask=price(view.ask),
        iv=g["iv"],
        delta=g["delta"],
        gamma=g["gamma"],
        vega=g["vega"],
        theta=g["theta"],
        open_interest=count(oi),
        volume=count(view.volume),
        underlying_price=und,
        ts=ts,
        bid_size=count(view.bid_size),
        ask_size=count(view.ask_size),
    )


def underlying_quote(listing_id: str, view: TickView, ts: datetime) -> UnderlyingQuote:
    """Return the UnderlyingQuote of a stock ticker."""
    return UnderlyingQuote(
        listing_id=listing_id,
        bid=price(view.bid),
        ask=price(view.ask),
        last=price(view.last),
        ts=ts,
    )


def chain_volume(view: TickView) -> int | None:
    """Return the underlying's option volume: average (tick 87), else today's calls + puts."""
    av = count(view.av_option_volume)
    if av is not None:
        return av
    calls, puts = count(view.call_volume), count(view.put_volume)
    if calls is not None and puts is not None:
        return calls + puts
    return None


def has_bid_ask(seen: frozenset[int]) -> bool:
    """Return True once both a bid and an ask tick arrived (even "no quote" ones)."""
    return bool(seen & BID_TICKS) and bool(seen & ASK_TICKS)


def option_complete(view: TickView, want_extras: bool) -> tuple[bool, bool]:
    """Return (essentials arrived, everything arrived) for an option ticker.

    Essentials: bid, ask and a greeks computation; everything adds open interest and volume.
    """
    greeks_in = view.model is not None or (
        view.bid_greeks is not None and view.ask_greeks is not None
    )
    essential = has_bid_ask(view.seen) and greeks_in
    if not want_extras:
        return essential, essential
    extras = bool(view.seen & {CALL_OI_TICK, PUT_OI_TICK}) and bool(view.seen & VOLUME_TICKS)
    return essential, essential and extras


def underlying_complete(view: TickView, want_volume: bool) -> tuple[bool, bool]:
    """Return (essentials arrived, everything arrived) for a stock ticker."""
    essential = has_bid_ask(view.seen)
    extras = bool(view.seen & LAST_TICKS)
    if want_volume:
        extras = extras and (
            AV_OPTION_VOLUME_TICK in view.seen or {CALL_VOLUME_TICK, PUT_VOLUME_TICK} <= view.seen
        )
    return essential, essential and extras


def fx_complete(view: TickView) -> tuple[bool, bool]:
    """Return (essentials arrived, everything arrived) for an FX ticker."""
    done = has_bid_ask(view.seen)
    return done, done
