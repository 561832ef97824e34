"""Diagonal / calendar risk: the worst loss at the short expiry, and the management rules.

Worst loss (``worst_loss``): at the nearest (short) expiry the short legs are worth their intrinsic
value and every later leg is repriced with Black-Scholes-Merton at its own quoted IV, the time it
has left after that expiry (16:00 New York to 16:00 New York, 365-day years) and the listing's rate
and dividend yield. Listed equity options are American, so a repriced leg is worth at least its
intrinsic value (``max(BS, intrinsic)``): without that floor a deep in-the-money European call on a
dividend payer would be worth less than the short it hedges, which no holder would accept. Index
options (SPX) are European (``european=True``): the later leg is worth its Black-Scholes value
alone, which can be less than intrinsic — a put calendar deep in the money is then worth
−K (1 − e^(−rT)) at the short expiry, and a call calendar on a dividend payer loses without bound
as S → ∞ (its worst loss is then infinite and the setup refused). The structure's value is searched
over every underlying price: a dense geometric grid wide enough for the long leg's vol, every
strike, and the limits S → 0 and S → ∞. The worst loss is the net debit minus the lowest value
(never negative). For an American calendar this is the debit (its value tends to 0 on both sides);
for a diagonal whose long strike is further out of the money than the short, the strike difference
adds to it.

Management (``EXITS``), first rule that fires::

    loss_stop           open P&L at mid below −stop_loss_pct_of_risk % of the max loss (``stop``)
    long_exit           the long has long_exit_dte days or fewer left: close everything
    short_exit_dte      the short has short_exit_dte days or fewer left: buy it back
    short_take_profit   the short's mid at or below (1 − short_take_profit_pct %) of the price it
                        was sold at (read from the fills; unknown sale price: the rule is skipped)

A buy-back (the last two) is a roll when the strategy finds the next short (see ``strategy``),
otherwise it closes the whole diagonal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np

from seeker.core.calendar import expiry_close, years_between
from seeker.core.models import DataUnavailable, Leg, OptionContract, OptionQuote
from seeker.core.pricing import bs_price
from seeker.engine.signals import ExitSignal
from seeker.strategies.common.exits import ExitInputs, ExitRule
from seeker.strategies.diagonal.config import DiagonalConfig

SHORT_RULES = ("short_exit_dte", "short_take_profit")
"""Rules that buy the short back: the strategy rolls (or closes everything) on them."""
GRID_POINTS = 4001
"""Underlying prices of the geometric grid the worst loss is searched on."""
GRID_SIGMAS = 12.0
"""Half-width of that grid around the strikes, in standard deviations of the latest leg."""


def _intrinsic(right: str, strike: float, s: np.ndarray) -> np.ndarray:
    return np.maximum(s - strike, 0.0) if right == "C" else np.maximum(strike - s, 0.0)


def value_at_short_expiry(
    legs: Sequence[Leg],
    quotes: Mapping[OptionContract, OptionQuote],
    prices: np.ndarray,
    rate: float,
    dividend_yield: float,
    european: bool = False,
) -> np.ndarray:
    """Return the structure's value per unit ($ per share) at the nearest expiry for `prices`.

    Legs of the nearest expiry are worth their intrinsic value; later legs max(BS, intrinsic) at
    their quoted IV and remaining time (BS alone when `european`). DataUnavailable when a later
    leg has no usable IV.
    """
    s = np.asarray(prices, dtype=float)
    first = min(leg.contract.expiry for leg in legs)
    value = np.zeros_like(s)
    for leg in legs:
        c = leg.contract
        intrinsic = _intrinsic(c.right, c.strike, s)
        if c.expiry == first:
            worth = intrinsic
        else:
            iv = quotes[c].iv if c in quotes else math.nan
            if not (math.isfinite(iv) and iv > 0.0):
                raise DataUnavailable(f"{c.key}: no IV to reprice the long leg")
            years = years_between(expiry_close(first), expiry_close(c.expiry))
            bs = bs_price(s, c.strike, years, rate, iv, c.right == "C", dividend_yield)
            if not np.all(np.isfinite(bs)):
                raise DataUnavailable(f"{c.key}: Black-Scholes value not finite")
            worth = bs if european else np.maximum(bs, intrinsic)
        value += leg.sign * leg.ratio * worth
    return value


def _limits(
    legs: Sequence[Leg], rate: float, dividend_yield: float, european: bool = False
) -> tuple[float, float]:
    """Return the value at S → 0 and as S → ∞ (±inf when it grows or falls without bound).

    Deep in the money a later leg is worth max(BS, intrinsic): a put tends to max(K, K e^(−rT)) as
    S → 0; a call exceeds S − K by max(0, K (1 − e^(−rT))) when there is no dividend, by 0 with
    one (its BS value then falls below intrinsic). A European later leg is worth its BS value: a
    put tends to K e^(−rT); a call to S e^(−qT) − K e^(−rT), whose slope in S is e^(−qT).
    """
    if european:
        return _european_limits(legs, rate, dividend_yield)
    first = min(leg.contract.expiry for leg in legs)
    at_zero = 0.0
    at_infinity = 0.0
    slope = 0
    for leg in legs:
        c = leg.contract
        w = leg.sign * leg.ratio
        later = c.expiry != first
        years = years_between(expiry_close(first), expiry_close(c.expiry)) if later else 0.0
        if c.right == "P":
            at_zero += w * (
                max(c.strike, c.strike * math.exp(-rate * years)) if later else c.strike
            )
            continue
        slope += w
        excess = 0.0
        if later and dividend_yield <= 0.0:
            excess = max(0.0, c.strike * (1.0 - math.exp(-rate * years)))
        at_infinity += w * (excess - c.strike)
    if slope < 0:
        return at_zero, -math.inf
    if slope > 0:
        return at_zero, math.inf
    return at_zero, at_infinity


SLOPE_EPS = 1e-12
"""A slope in S smaller than this is flat (legs whose discount factors cancel)."""


def _european_limits(
    legs: Sequence[Leg], rate: float, dividend_yield: float
) -> tuple[float, float]:
    """Return the limits of :func:`_limits` when every later leg is European."""
    first = min(leg.contract.expiry for leg in legs)
    at_zero = 0.0
    at_infinity = 0.0
    slope = 0.0
    for leg in legs:
        c = leg.contract
        w = leg.sign * leg.ratio
        years = years_between(expiry_close(first), expiry_close(c.expiry))
        if c.right == "P":
            at_zero += w * c.strike * math.exp(-rate * years)
            continue
        slope += w * math.exp(-dividend_yield * years)
        at_infinity -= w * c.strike * math.exp(-rate * years)
    if slope < -SLOPE_EPS:
        return at_zero, -math.inf
    if slope > SLOPE_EPS:
        return at_zero, math.inf
    return at_zero, at_infinity


def price_grid(legs: Sequence[Leg], quotes: Mapping[OptionContract, OptionQuote]) -> np.ndarray:
    """Return the underlying prices the worst loss is searched on (grid plus every strike)."""
    first = min(leg.contract.expiry for leg in legs)
    strikes = sorted({leg.contract.strike for leg in legs})
    spread = 0.0
    for leg in legs:
        c = leg.contract
        if c.expiry != first and c in quotes and math.isfinite(quotes[c].iv):
            years = years_between(expiry_close(first), expiry_close(c.expiry))
            spread = max(spread, quotes[c].iv * math.sqrt(max(years, 0.0)))
    span = math.exp(GRID_SIGMAS * max(spread, 0.05))
    grid = np.geomspace(strikes[0] / span, strikes[-1] * span, GRID_POINTS)
    return np.union1d(grid, np.array(strikes))


def worst_loss(
    legs: Sequence[Leg],
    quotes: Mapping[OptionContract, OptionQuote],
    net_debit: float,
    rate: float,
    dividend_yield: float,
    european: bool = False,
) -> float:
    """Return the worst loss per unit at the short expiry ($ per share, ≥ 0; inf if unbounded).

    `european`: the later legs are European (index options) and priced without an intrinsic
    floor.
    """
    grid = price_grid(legs, quotes)
    values = value_at_short_expiry(legs, quotes, grid, rate, dividend_yield, european)
    at_zero, at_infinity = _limits(legs, rate, dividend_yield, european)
    lowest = min(float(values.min()), at_zero, at_infinity)
    return max(0.0, net_debit - lowest)


def short_leg(legs: Sequence[Leg]) -> Leg:
    """Return the sold leg (the nearest expiry)."""
    return next(leg for leg in legs if leg.action == "SELL")


def long_leg(legs: Sequence[Leg]) -> Leg:
    """Return the bought leg (the later expiry)."""
    return next(leg for leg in legs if leg.action == "BUY")


def days_left(expiry: date, today: date) -> int:
    """Return calendar days to an expiry."""
    return (expiry - today).days


def loss_stop(cfg: DiagonalConfig, inputs: ExitInputs) -> ExitSignal | None:
    """``stop``: the open P&L at mid below −``stop_loss_pct_of_risk`` % of the max loss."""
    view = inputs.view
    pos = view.position
    pnl = view.pnl_unit * pos.multiplier
    floor = -cfg.stop_loss_pct_of_risk / 100.0 * pos.max_loss_unit
    if pnl <= floor:
        return ExitSignal(
            "stop",
            pos.open_qty,
            f"P&L {pnl:+.2f} $ per unit ≤ −{cfg.stop_loss_pct_of_risk:g} % of its risk "
            f"{pos.max_loss_unit:.2f} $",
        )
    return None


def long_exit(cfg: DiagonalConfig, inputs: ExitInputs) -> ExitSignal | None:
    """``long_exit``: the long has ``long_exit_dte`` days or fewer left — close everything."""
    view = inputs.view
    long = long_leg(view.position.legs)
    long_dte = days_left(long.contract.expiry, view.now.date())
    if long_dte <= cfg.long_exit_dte:
        return ExitSignal(
            "long_exit",
            view.position.open_qty,
            f"long {long.contract.key} at {long_dte} DTE ≤ {cfg.long_exit_dte}",
        )
    return None


def short_exit_dte(cfg: DiagonalConfig, inputs: ExitInputs) -> ExitSignal | None:
    """``short_exit_dte``: the short has ``short_exit_dte`` days or fewer left — buy it back."""
    view = inputs.view
    short = short_leg(view.position.legs)
    short_dte = days_left(short.contract.expiry, view.now.date())
    if short_dte <= cfg.short_exit_dte:
        return ExitSignal(
            "short_exit_dte",
            view.position.open_qty,
            f"short {short.contract.key} at {short_dte} DTE ≤ {cfg.short_exit_dte}",
        )
    return None


def short_take_profit(cfg: DiagonalConfig, inputs: ExitInputs) -> ExitSignal | None:
    """``short_take_profit``: the short's mid at or below (1 − ``short_take_profit_pct`` %) of the
    price it was sold at (read from the fills; unknown sale price → the rule is skipped)."""
    view = inputs.view
    pos = view.position
    short = short_leg(pos.legs)
    sold = pos.leg_price(short)
    now_mid = view.quote(short.contract).mid
    target = sold * (1.0 - cfg.short_take_profit_pct / 100.0)
    if math.isfinite(sold) and sold > 0 and now_mid <= target:
        return ExitSignal(
            "short_take_profit",
            pos.open_qty,
            f"short {short.contract.key} mid {now_mid:.2f} ≤ {target:.2f} "
            f"({cfg.short_take_profit_pct:g} % of the {sold:.2f} it was sold at)",
        )
    return None


EXITS: tuple[ExitRule[DiagonalConfig], ...] = (
    loss_stop,
    long_exit,
    short_exit_dte,
    short_take_profit,
)
"""The diagonal's management, in order (see the module's docstring)."""
