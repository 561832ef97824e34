"""Diagonal / calendar leg selection: a short 21–30 DTE slightly OTM by delta, a long 60–90 DTE.

For each side asked (calls, puts), the short is the out-of-the-money strike of the short expiry
whose |Δ| lies in the band, nearest the middle and nearest each edge (up to three variants); the
long is on the long expiry at the same strike (calendar) or at the next listed strike further out
of the money (diagonal). A setup must cost a net debit no larger than ``max_debit``; its worst loss
is fixed at the short expiry with the long repriced (``risk.worst_loss``). The three with the most
net theta per $ of worst loss are kept (the critic then ranks them); a quote without theta (end-of-
day files often lack it) gets Black-Scholes theta at its own IV, and the setup says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from seeker.core.calendar import expiry_close, years_between
from seeker.core.execution import combo_mid
from seeker.core.models import Chain, DataUnavailable, Leg, Listing, OptionQuote, Right
from seeker.core.pricing import bs_greeks
from seeker.core.structures import Setup
from seeker.strategies.common.scan import (
    in_dte_window,
    is_monthly,
    pick_by_delta,
    pick_by_deltas,
    pick_expiry,
)
from seeker.strategies.diagonal import risk
from seeker.strategies.diagonal.config import DiagonalConfig

MAX_SETUPS = 3


def pick_window_expiry(expiries: Sequence[date], today: date, lo: int, hi: int) -> date | None:
    """Return the expiry in [lo, hi] DTE: the monthly nearest the middle, else any nearest it."""
    target = (lo + hi) // 2
    window = in_dte_window(expiries, today, lo, hi)
    monthly = pick_expiry([e for e in window if is_monthly(e)], today, lo, hi, target)
    return monthly if monthly is not None else pick_expiry(window, today, lo, hi, target)


def otm_side(chain: Chain, expiry: date, right: Right, spot: float) -> list[OptionQuote]:
    """Return one expiry's out-of-the-money quotes of a side (calls above spot, puts below)."""
    side = chain.side(expiry, right)
    return [
        q for q in side if (q.contract.strike > spot if right == "C" else q.contract.strike < spot)
    ]


def pick_short(
    cfg: DiagonalConfig, quotes: Sequence[OptionQuote], target: float
) -> OptionQuote | None:
    """Return the OTM quote whose |Δ| is in the short band and nearest `target`."""
    return pick_by_delta(quotes, cfg.short_delta_min, cfg.short_delta_max, target)


def long_for(
    cfg: DiagonalConfig, chain: Chain, short: OptionQuote, long_expiry: date
) -> OptionQuote | None:
    """Return the long leg for a short: same strike (calendar) or the next strike further OTM."""
    c = short.contract
    side = chain.side(long_expiry, c.right)
    if cfg.shape == "calendar":
        return next((q for q in side if abs(q.contract.strike - c.strike) < 1e-9), None)
    further = [
        q
        for q in side
        if (
            q.contract.strike > c.strike + 1e-9
            if c.right == "C"
            else q.contract.strike < c.strike - 1e-9
        )
    ]
    if not further:
        return None
    return min(further, key=lambda q: abs(q.contract.strike - c.strike))


def _setup(
    cfg: DiagonalConfig,
    strategy: str,
    listing: Listing,
    chain: Chain,
    today: date,
    short: OptionQuote,
    long: OptionQuote,
    rate: float,
) -> Setup | str:
    sc, lc = short.contract, long.contract
    legs = (Leg(lc, "BUY"), Leg(sc, "SELL"))
    quotes = (long, short)
    kind = "calendar" if abs(sc.strike - lc.strike) < 1e-9 else "diagonal"
    strikes = (
        f"{sc.strike:g}{sc.right}"
        if kind == "calendar"
        else f"{sc.strike:g}/{lc.strike:g}{sc.right}"
    )
    tag = "CAL" if kind == "calendar" else "DIAG"
    dates = f"{sc.expiry.isoformat()}/{lc.expiry.isoformat()}"
    label = f"{tag} {listing.listing_id} {dates} {strikes}"
    debit = combo_mid(legs, quotes)  # what Setup.mid gives: no Setup is built for a refusal
    if not (long.ask > 0 and short.bid > 0):
        return f"{label}: a leg has no bid/ask"
    if debit <= 0:
        return f"{label}: mid {debit:+.2f} is not a net debit"
    if debit > cfg.max_debit + 1e-9:
        return f"{label}: mid debit {debit:.2f} > {cfg.max_debit:.2f}"
    try:
        worst = risk.worst_loss(
            legs, {lc: long, sc: short}, debit, rate, listing.dividend_yield, listing.european
        )
    except DataUnavailable as exc:
        return f"{label}: {exc}"
    if not math.isfinite(worst):
        return f"{label}: worst loss unbounded"
    long_theta, short_theta = (leg_theta(q, rate, listing.dividend_yield) for q in (long, short))
    net_theta = long_theta - short_theta
    features = {
        "right": sc.right,
        "shape": kind,
        "short_expiry": sc.expiry.isoformat(),
        "long_expiry": lc.expiry.isoformat(),
        "short_strike": sc.strike,
        "long_strike": lc.strike,
        "short_dte": (sc.expiry - today).days,
        "long_dte": (lc.expiry - today).days,
        "short_delta": round(short.delta, 4),
        "short_iv": round(short.iv, 4),
        "long_iv": round(long.iv, 4),
        "debit_mid": round(debit, 4),
        "worst_loss": round(worst, 4),
        "net_theta": round(net_theta, 4),
        "width": round(abs(lc.strike - sc.strike), 4),
    }
    if not (math.isfinite(long.theta) and math.isfinite(short.theta)):
        features["theta_from"] = "Black-Scholes at the legs' IVs (the quotes give no theta)"
    return Setup(
        strategy=strategy,
        listing_id=listing.listing_id,
        kind=kind,
        legs=legs,
        quotes=quotes,
        spot=chain.underlying.mid,
        dte=(sc.expiry - today).days,
        label=label,
        features=features,
        fixed_worst_loss=worst,
    )


def leg_theta(q: OptionQuote, rate: float, dividend_yield: float) -> float:
    """Return a quote's theta ($ per share per year): the source's, else Black-Scholes at the
    quote's own IV, spot and time to expiry (NaN when its IV is unknown too)."""
    if math.isfinite(q.theta):
        return q.theta
    c = q.contract
    years = years_between(q.ts, expiry_close(c.expiry))
    if not (math.isfinite(q.iv) and q.iv > 0 and years > 0 and q.underlying_price > 0):
        return math.nan
    greeks = bs_greeks(
        q.underlying_price, c.strike, years, rate, q.iv, c.right == "C", dividend_yield
    )
    return float(greeks["theta"])


def find_setups(
    cfg: DiagonalConfig,
    strategy: str,
    listing: Listing,
    chain: Chain,
    today: date,
    rights: Sequence[Right],
    rate: float,
) -> tuple[list[Setup], str]:
    """Return up to three diagonals (or calendars), most theta per $ of risk first, or why none."""
    spot = chain.underlying.mid
    short_exp = pick_window_expiry(chain.expiries, today, cfg.short_dte_min, cfg.short_dte_max)
    long_exp = pick_window_expiry(chain.expiries, today, cfg.long_dte_min, cfg.long_dte_max)
    if short_exp is None:
        return [], f"no short expiry within {cfg.short_dte_min}–{cfg.short_dte_max} DTE"
    if long_exp is None:
        return [], f"no long expiry within {cfg.long_dte_min}–{cfg.long_dte_max} DTE"
    mid_band = (cfg.short_delta_min + cfg.short_delta_max) / 2.0
    targets = sorted({mid_band, cfg.short_delta_min, cfg.short_delta_max})
    found: dict[tuple[Leg, ...], Setup] = {}
    notes: list[str] = []
    for right in rights:
        otm = otm_side(chain, short_exp, right, spot)
        shorts = pick_by_deltas(otm, cfg.short_delta_min, cfg.short_delta_max, targets)
        for i, short in enumerate(shorts):  # pick_short's pick for each target
            if short is None:
                band = f"{cfg.short_delta_min:.2f}–{cfg.short_delta_max:.2f}"
                notes.append(f"no OTM {right} with |Δ| in {band} on {short_exp}")
                continue
            if short in shorts[:i]:  # the same setup again: it and its notes are kept already
                continue
            long = long_for(cfg, chain, short, long_exp)
            if long is None:
                notes.append(f"no long {right} for short {short.contract.key} on {long_exp}")
                continue
            made = _setup(cfg, strategy, listing, chain, today, short, long, rate)
            if isinstance(made, str):
                notes.append(made)
            else:
                found.setdefault(made.legs, made)
    ranked = sorted(
        found.values(),
        key=lambda s: (-float(s.features["net_theta"]) / max(s.worst_loss(s.mid), 1e-9), s.label),
    )
    return ranked[:MAX_SETUPS], "; ".join(dict.fromkeys(notes)) or "no setup"
