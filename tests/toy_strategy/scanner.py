"""The toy's scanner: per expiry in the DTE window, the put nearest the delta and each wing."""

from __future__ import annotations

from datetime import date

from seeker.core.models import Chain, Leg, Listing
from seeker.core.structures import Setup
from seeker.strategies.common.scan import wing
from tests.toy_strategy.config import ToyPutSpreadConfig


def find_setups(
    cfg: ToyPutSpreadConfig, strategy: str, listing: Listing, chain: Chain, today: date
) -> tuple[list[Setup], str]:
    """Return put spreads for one underlying, best credit per $ of risk first, or why none."""
    spot = chain.underlying.mid
    found: list[Setup] = []
    notes: list[str] = []
    for expiry in chain.expiries:
        if not cfg.dte_min <= (expiry - today).days <= cfg.dte_max:
            continue
        puts = [q for q in chain.side(expiry, "P") if q.contract.strike < spot and q.bid > 0]
        if not puts:
            notes.append(f"no sellable put below {spot:.2f} on {expiry}")
            continue
        short = min(puts, key=lambda q: (abs(abs(q.delta) - cfg.short_delta), q.contract.strike))
        for width in cfg.wing_widths:
            long = wing(chain, short, width)
            if long is None:
                notes.append(f"{expiry}: no {width:g} $ wing")
                continue
            setup = Setup(
                strategy=strategy,
                listing_id=listing.listing_id,
                kind="toy_put_spread",
                legs=(Leg(short.contract, "SELL"), Leg(long.contract, "BUY")),
                quotes=(short, long),
                spot=spot,
                dte=(expiry - today).days,
                label=f"TOY {listing.listing_id} {expiry:%Y-%m-%d} "
                f"{short.contract.strike:g}/{long.contract.strike:g}P",
            )
            if -setup.mid < cfg.min_credit:
                notes.append(f"{setup.label}: credit {-setup.mid:.2f} < {cfg.min_credit:.2f}")
                continue
            found.append(setup)
    found.sort(key=lambda s: (s.mid / max(s.worst_loss(s.mid), 1e-9), s.label))
    if not found and not notes:
        notes.append(f"no expiry within {cfg.dte_min}–{cfg.dte_max} DTE")
    return found[:3], "; ".join(notes)
