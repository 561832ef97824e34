"""Constructed chains and positions with known answers, for strategy tests."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import TypeVar

from seeker.agents.regime import LABELS
from seeker.core.calendar import MARKET_TZ
from seeker.core.models import Chain, Leg, Listing, OptionContract, OptionQuote, UnderlyingQuote
from seeker.core.positions import Position
from seeker.engine.signals import ExitSignal, PositionView
from seeker.strategies.common.exits import ExitInputs, ExitRule, first_exit

C = TypeVar("C")

COMMON_STRATEGY_FIELDS: dict[str, object] = dict(
    mode="trade",
    underlyings=["XLF"],
    quantity=1,
    max_entries_per_day=1,
    max_open_positions=3,
    entry_window_start=time(10, 0),
    entry_window_end=time(15, 30),
    scan_interval_minutes=120.0,
    regime={dim: list(labels) for dim, labels in LABELS.items()},
)
"""The fields every strategy table shares, as the unit tests set them (one XLF unit at a time)."""

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=MARKET_TZ)
TODAY = NOW.date()
LISTING = Listing("XLF", "XLF", "ARCA", "USD", "financials", "etf", 0.015, 0.5, "XNYS")


def quote(
    expiry: date,
    strike: float,
    right: str,
    bid: float,
    ask: float,
    delta: float,
    oi: int = 5000,
    spot: float = 50.0,
    iv: float = 0.25,
) -> OptionQuote:
    """Return an option quote with the given figures (gamma/vega/theta plausible placeholders)."""
    return OptionQuote(
        contract=OptionContract("XLF", expiry, strike, right),  # type: ignore[arg-type]
        bid=bid,
        ask=ask,
        iv=iv,
        delta=delta,
        gamma=0.05,
        vega=0.05,
        theta=-0.01,
        open_interest=oi,
        volume=100,
        underlying_price=spot,
        ts=NOW,
    )


def chain(quotes: Iterable[OptionQuote], spot: float = 50.0, volume: int | None = 20_000) -> Chain:
    """Return a chain of the given quotes around `spot`."""
    return Chain(
        listing_id="XLF",
        underlying=UnderlyingQuote("XLF", spot - 0.005, spot + 0.005, spot, NOW),
        quotes=tuple(quotes),
        chain_volume=volume,
        ts=NOW,
    )


def ladder_side(
    expiry: date, right: str, strikes_deltas: list[tuple[float, float, float, float]]
) -> list[OptionQuote]:
    """Return quotes (strike, bid, ask, delta) of one side."""
    return [quote(expiry, k, right, b, a, d) for k, b, a, d in strikes_deltas]


def position(legs: list[Leg], entry_price: float, qty: int = 1) -> Position:
    """Return an open position filled at `entry_price` (net debit per unit)."""
    pos = Position(
        position_id="ic-20260302-001",
        strategy="iron_condor",
        listing_id="XLF",
        underlying="XLF",
        sector="financials",
        cluster="XLF/3",
        currency="USD",
        legs=tuple(legs),
        multiplier=100,
        max_loss_unit=45.2,
        risk_unit=45.2,
        opened_at=NOW,
        opened_qty=qty,
        open_qty=qty,
        entry_cash=entry_price * 100 * qty,
        status="open",
    )
    assert math.isclose(pos.entry_price, entry_price)
    return pos


def bs_quote(
    expiry: date,
    strike: float,
    right: str,
    spot: float = 50.0,
    iv: float = 0.25,
    half_spread: float = 0.01,
    rate: float = 0.043,
    dividend_yield: float = 0.015,
    oi: int = 5000,
    now: datetime = NOW,
) -> OptionQuote:
    """Return a quote priced by Black-Scholes (mid ± half_spread) with its greeks."""
    from seeker.core.calendar import expiry_close, years_between
    from seeker.core.pricing import bs_price_greeks

    years = years_between(now, expiry_close(expiry))
    g = bs_price_greeks(spot, strike, years, rate, iv, right == "C", dividend_yield)
    mid = float(g["price"])
    return OptionQuote(
        contract=OptionContract("XLF", expiry, strike, right),  # type: ignore[arg-type]
        bid=round(max(mid - half_spread, 0.0), 4),
        ask=round(mid + half_spread, 4),
        iv=iv,
        delta=float(g["delta"]),
        gamma=float(g["gamma"]),
        vega=float(g["vega"]),
        theta=float(g["theta"]),
        open_interest=oi,
        volume=100,
        underlying_price=spot,
        ts=now,
    )


def bs_chain(
    expiries: Iterable[date],
    strikes: Iterable[float],
    spot: float = 50.0,
    iv: float = 0.25,
    rights: str = "CP",
) -> Chain:
    """Return a chain of Black-Scholes quotes over expiries × strikes × rights."""
    strike_list = list(strikes)
    quotes = [
        bs_quote(e, k, r, spot=spot, iv=iv) for e in expiries for k in strike_list for r in rights
    ]
    return chain(quotes, spot=spot)


def open_position(
    legs: list[Leg],
    entry_price: float,
    qty: int = 1,
    max_loss_unit: float = 45.2,
    position_id: str = "xx-20260302-001",
    strategy: str = "test",
    leg_prices: dict[Leg, float] | None = None,
    meta: dict[str, object] | None = None,
) -> Position:
    """Return an open position filled at `entry_price`, with the given leg fill prices."""
    pos = Position(
        position_id=position_id,
        strategy=strategy,
        listing_id="XLF",
        underlying="XLF",
        sector="financials",
        cluster="XLF/3",
        currency="USD",
        legs=tuple(legs),
        multiplier=100,
        max_loss_unit=max_loss_unit,
        risk_unit=max_loss_unit,
        opened_at=NOW,
        opened_qty=qty,
        open_qty=qty,
        entry_cash=entry_price * 100 * qty,
        status="open",
        meta=dict(meta or {}),
    )
    for leg, price in (leg_prices or {}).items():
        pos.leg_prices[(leg.contract, leg.action)] = (qty * leg.ratio, price)
    return pos


def first_signal(
    rules: Iterable[ExitRule[C]],
    cfg: C,
    view: PositionView,
    atr: float = math.nan,
    fall_atr: float | None = None,
) -> ExitSignal | None:
    """Return the first of `rules` that fires for `view` (with the measures a strategy adds)."""
    return first_exit(list(rules), cfg, ExitInputs(view, atr=atr, fall_atr=fall_atr))
