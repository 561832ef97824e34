"""Iron condor leg selection: short strikes by delta on both sides, wings by width.

Variants (the Strategy Generator's 1–3 setups): every expiry of the chain inside the DTE window
(the strategy asks for the one nearest the target and the nearest monthly), shorts nearest the
middle and nearest the top of the delta band, and each configured wing width; the three with the
best credit per $ of worst loss are kept.
"""

from __future__ import annotations

from datetime import date

from seeker.core.execution import combo_mid
from seeker.core.models import Chain, Leg, Listing, OptionQuote
from seeker.core.structures import Setup
from seeker.strategies.common.scan import pick_by_deltas, wing
from seeker.strategies.iron_condor.config import IronCondorConfig

MAX_SETUPS = 3


def _condor(
    cfg: IronCondorConfig,
    strategy: str,
    listing: Listing,
    chain: Chain,
    today: date,
    shorts: tuple[OptionQuote, OptionQuote],
    width: float,
) -> Setup | str:
    short_put, short_call = shorts
    long_put = wing(chain, short_put, width)
    long_call = wing(chain, short_call, width)
    expiry = short_put.contract.expiry
    if long_put is None or long_call is None:
        return f"{expiry}: no {width:g} $ wing listed"
    legs = (
        Leg(short_put.contract, "SELL"),
        Leg(long_put.contract, "BUY"),
        Leg(short_call.contract, "SELL"),
        Leg(long_call.contract, "BUY"),
    )
    quotes = (short_put, long_put, short_call, long_call)
    sp, lp = short_put.contract.strike, long_put.contract.strike
    sc, lc = short_call.contract.strike, long_call.contract.strike
    label = f"IC {listing.listing_id} {expiry.isoformat()} {lp:g}/{sp:g}P {sc:g}/{lc:g}C"
    credit = -combo_mid(legs, quotes)  # what Setup.mid gives: no Setup is built for a refusal
    if credit < cfg.min_credit:
        return f"{expiry} {width:g} $ wings: mid credit {credit:.2f} < {cfg.min_credit:.2f}"
    features = {
        "expiry": expiry.isoformat(),
        "width": width,
        "short_put": sp,
        "short_call": sc,
        "short_put_delta": round(short_put.delta, 4),
        "short_call_delta": round(short_call.delta, 4),
        "short_put_iv": round(short_put.iv, 4),
        "short_call_iv": round(short_call.iv, 4),
        "credit_mid": round(credit, 4),
        "credit_to_width": round(credit / width, 4),
    }
    return Setup(
        strategy=strategy,
        listing_id=listing.listing_id,
        kind="iron_condor",
        legs=legs,
        quotes=quotes,
        spot=chain.underlying.mid,
        dte=(expiry - today).days,
        label=label,
        features=features,
    )


def find_setups(
    cfg: IronCondorConfig, strategy: str, listing: Listing, chain: Chain, today: date
) -> tuple[list[Setup], str]:
    """Return up to three iron condors, best credit/risk first, or why there are none."""
    spot = chain.underlying.mid
    expiries = [e for e in chain.expiries if cfg.dte_min <= (e - today).days <= cfg.dte_max]
    if not expiries:
        return [], f"no expiry within {cfg.dte_min}–{cfg.dte_max} DTE"
    targets = sorted({(cfg.short_delta_min + cfg.short_delta_max) / 2.0, cfg.short_delta_max})
    found: dict[tuple[Leg, ...], Setup] = {}
    notes: list[str] = []
    for expiry in expiries:
        puts = [q for q in chain.side(expiry, "P") if q.contract.strike < spot]
        calls = [q for q in chain.side(expiry, "C") if q.contract.strike > spot]
        lo, hi = cfg.short_delta_min, cfg.short_delta_max
        put_picks = pick_by_deltas(puts, lo, hi, targets)
        picks = list(zip(put_picks, pick_by_deltas(calls, lo, hi, targets), strict=True))
        for i, (short_put, short_call) in enumerate(picks):
            if short_put is None or short_call is None:
                side = "put" if short_put is None else "call"
                band = f"{cfg.short_delta_min:.2f}–{cfg.short_delta_max:.2f}"
                notes.append(f"no {side} with |Δ| in {band} on {expiry}")
                continue
            if (short_put, short_call) in picks[:i]:  # the same condors again: kept already
                continue
            for width in cfg.wing_widths:
                made = _condor(cfg, strategy, listing, chain, today, (short_put, short_call), width)
                if isinstance(made, str):
                    notes.append(made)
                else:
                    found.setdefault(made.legs, made)
    # best credit per $ of worst loss first (mid is negative for a credit)
    ranked = sorted(found.values(), key=lambda s: (s.mid / max(s.worst_loss(s.mid), 1e-9), s.label))
    unique_notes = list(dict.fromkeys(notes))
    return ranked[:MAX_SETUPS], "; ".join(unique_notes) or "no setup"
