"""Iron condor leg selection: short strikes by delta on both sides, wings by width."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from seeker.core.models import Chain, Leg, Listing
from seeker.core.structures import Setup, pick_by_delta, pick_expiry, wing
from seeker.strategies.iron_condor.config import IronCondorConfig


def find_setups(
    cfg: IronCondorConfig, strategy: str, listing: Listing, chain: Chain, today: date
) -> tuple[list[Setup], str]:
    """Return iron condors for one underlying, best credit/risk first, or why there are none."""
    expiry = pick_expiry(chain.expiries, today, cfg.dte_min, cfg.dte_max, cfg.dte_target)
    if expiry is None:
        return [], f"no expiry within {cfg.dte_min}–{cfg.dte_max} DTE"
    spot = chain.underlying.mid
    target = (cfg.short_delta_min + cfg.short_delta_max) / 2.0
    puts = [q for q in chain.side(expiry, "P") if q.contract.strike < spot]
    calls = [q for q in chain.side(expiry, "C") if q.contract.strike > spot]
    short_put = pick_by_delta(puts, cfg.short_delta_min, cfg.short_delta_max, target)
    short_call = pick_by_delta(calls, cfg.short_delta_min, cfg.short_delta_max, target)
    if short_put is None or short_call is None:
        side = "put" if short_put is None else "call"
        return [], (
            f"no {side} with |Δ| in {cfg.short_delta_min:.2f}–{cfg.short_delta_max:.2f} on {expiry}"
        )
    dte = (expiry - today).days
    setups: list[Setup] = []
    notes: list[str] = []
    for width in cfg.wing_widths:
        long_put = wing(chain, short_put, width)
        long_call = wing(chain, short_call, width)
        if long_put is None or long_call is None:
            notes.append(f"no {width:g} $ wing listed")
            continue
        legs = (
            Leg(short_put.contract, "SELL"),
            Leg(long_put.contract, "BUY"),
            Leg(short_call.contract, "SELL"),
            Leg(long_call.contract, "BUY"),
        )
        quotes = (short_put, long_put, short_call, long_call)
        sp, lp = short_put.contract.strike, long_put.contract.strike
        sc, lc = short_call.contract.strike, long_call.contract.strike
        setup = Setup(
            strategy=strategy,
            listing_id=listing.listing_id,
            kind="iron_condor",
            legs=legs,
            quotes=quotes,
            spot=spot,
            dte=dte,
            label=f"IC {listing.listing_id} {expiry:%Y-%m-%d} {lp:g}/{sp:g}P {sc:g}/{lc:g}C",
            features={
                "expiry": expiry.isoformat(),
                "width": width,
                "short_put": sp,
                "short_call": sc,
                "short_put_delta": round(short_put.delta, 4),
                "short_call_delta": round(short_call.delta, 4),
                "short_put_iv": round(short_put.iv, 4),
                "short_call_iv": round(short_call.iv, 4),
                "credit_mid": 0.0,
            },
        )
        credit = -setup.mid
        if credit < cfg.min_credit:
            notes.append(f"{width:g} $ wings: mid credit {credit:.2f} < {cfg.min_credit:.2f}")
            continue
        features = dict(setup.features)
        features["credit_mid"] = round(credit, 4)
        features["credit_to_width"] = round(credit / width, 4)
        setups.append(replace(setup, features=features))
    # best credit per $ of worst loss first (mid is negative for a credit)
    setups.sort(key=lambda s: s.mid / max(s.worst_loss(s.mid), 1e-9))
    return setups, "; ".join(notes) or "no setup"
