"""Credit spread leg selection: one short strike by delta on the trend's side, its wing by width.

The side comes from the selection verdict (``fit.details["side"]``): a bull put spread (short put
below the price, long put further down) in an uptrend, a bear call spread (short call above the
price, long call further up) in a downtrend. Variants (the Strategy Generator's 1–3 setups): every
expiry of the chain inside the DTE window (the strategy asks for the one nearest the target and
the nearest monthly), shorts nearest the middle and nearest the top of the delta band, and each
configured wing width; the three with the best credit per $ of worst loss are kept.
"""

from __future__ import annotations

from datetime import date
from typing import cast

from seeker.core.execution import combo_mid
from seeker.core.models import Chain, Leg, Listing, OptionQuote, Right
from seeker.core.structures import Setup
from seeker.strategies.common.scan import pick_by_deltas, wing
from seeker.strategies.credit_spread.config import CreditSpreadConfig, CreditSpreadSide

MAX_SETUPS = 3
SIDES: dict[CreditSpreadSide, tuple[Right, str, str]] = {
    "bull_put": ("P", "bull_put_spread", "BPS"),
    "bear_call": ("C", "bear_call_spread", "BCS"),
}
"""Side → (option right, setup kind, label prefix)."""


def _spread(
    cfg: CreditSpreadConfig,
    strategy: str,
    listing: Listing,
    chain: Chain,
    today: date,
    side: CreditSpreadSide,
    short: OptionQuote,
    width: float,
) -> Setup | str:
    """Return the spread sold at `short` with a `width` $ wing, or why it does not qualify."""
    right, kind, prefix = SIDES[side]
    expiry = short.contract.expiry
    long = wing(chain, short, width)
    if long is None:
        return f"{expiry}: no {width:g} $ wing listed beyond {short.contract.strike:g}{right}"
    ks, kl = short.contract.strike, long.contract.strike
    legs = (Leg(short.contract, "SELL"), Leg(long.contract, "BUY"))
    quotes = (short, long)
    credit = -combo_mid(legs, quotes)  # what Setup.mid gives: no Setup is built for a refusal
    if credit < cfg.min_credit:
        return f"{expiry} {width:g} $ wing: mid credit {credit:.2f} < {cfg.min_credit:.2f}"
    features = {
        "side": side,
        "expiry": expiry.isoformat(),
        "width": width,
        "short_strike": ks,
        "long_strike": kl,
        "short_delta": round(short.delta, 4),
        "short_iv": round(short.iv, 4),
        "credit_mid": round(credit, 4),
        "credit_to_width": round(credit / width, 4),
    }
    return Setup(
        strategy=strategy,
        listing_id=listing.listing_id,
        kind=kind,
        legs=legs,
        quotes=quotes,
        spot=chain.underlying.mid,
        dte=(expiry - today).days,
        label=f"{prefix} {listing.listing_id} {expiry.isoformat()} {ks:g}/{kl:g}{right}",
        features=features,
    )


def find_setups(
    cfg: CreditSpreadConfig,
    strategy: str,
    listing: Listing,
    chain: Chain,
    today: date,
    side: str | None,
) -> tuple[list[Setup], str]:
    """Return up to three spreads on `side`, best credit/risk first, or why there are none.

    `side` is "bull_put" or "bear_call" (the selection verdict's); anything else yields no setup.
    """
    if side not in SIDES:
        return [], f"no trend side to sell (selection side {side!r}; bull_put or bear_call needed)"
    chosen = cast(CreditSpreadSide, side)
    right = SIDES[chosen][0]
    spot = chain.underlying.mid
    expiries = [e for e in chain.expiries if cfg.dte_min <= (e - today).days <= cfg.dte_max]
    if not expiries:
        return [], f"no expiry within {cfg.dte_min}–{cfg.dte_max} DTE"
    targets = sorted({(cfg.short_delta_min + cfg.short_delta_max) / 2.0, cfg.short_delta_max})
    band = f"{cfg.short_delta_min:.2f}–{cfg.short_delta_max:.2f}"
    name = "put" if right == "P" else "call"
    found: dict[tuple[Leg, ...], Setup] = {}
    notes: list[str] = []
    for expiry in expiries:
        otm = [
            q
            for q in chain.side(expiry, right)
            if (q.contract.strike < spot if right == "P" else q.contract.strike > spot)
        ]
        shorts = pick_by_deltas(otm, cfg.short_delta_min, cfg.short_delta_max, targets)
        for i, short in enumerate(shorts):
            if short is None:
                notes.append(f"no out-of-the-money {name} with |Δ| in {band} on {expiry}")
                continue
            if short in shorts[:i]:  # the same spreads again: their setups and notes are kept
                continue
            for width in cfg.wing_widths:
                made = _spread(cfg, strategy, listing, chain, today, chosen, short, width)
                if isinstance(made, str):
                    notes.append(made)
                else:
                    found.setdefault(made.legs, made)
    # best credit per $ of worst loss first (mid is negative for a credit)
    ranked = sorted(found.values(), key=lambda s: (s.mid / max(s.worst_loss(s.mid), 1e-9), s.label))
    unique_notes = list(dict.fromkeys(notes))
    return ranked[:MAX_SETUPS], "; ".join(unique_notes) or "no setup"
