"""Put broken-wing butterfly legs: the body by delta, a narrow upper wing, a wider lower wing.

Legs per unit: BUY 1 put K1 = K2 + narrow, SELL 2 puts K2 (the body: |Δ| in the band), BUY 1 put
K3 = K2 − broken (broken > narrow). Put skew makes the body's puts rich against K1's, which with
the wider lower wing turns the fly into a net credit; the loss below K3 is capped at
(broken − narrow) − credit. Variants: every expiry of the chain inside the DTE window, bodies
nearest the middle and the top of the band, every narrow × broken pair; a setup needs at least
``min_credit`` at mid and a worst loss ≤ ``max_risk`` even at the worst accepted price
(−min_credit). The three with the best credit per $ of worst loss are kept.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from seeker.core.execution import combo_mid
from seeker.core.models import Chain, Leg, Listing, OptionQuote
from seeker.core.payoff import loss_at_debit, lowest_value_at_expiry
from seeker.core.structures import Setup
from seeker.strategies.broken_wing_butterfly.config import BrokenWingButterflyConfig
from seeker.strategies.common.scan import pick_by_deltas

MAX_SETUPS = 3


class _Fly(NamedTuple):
    """One fly that passed the entry rules; its Setup is built only if it ranks in the top three."""

    body: OptionQuote
    upper: OptionQuote
    lower: OptionQuote
    narrow: float
    broken: float
    legs: tuple[Leg, ...]
    label: str
    credit: float
    worst_mid: float


def _bwb(
    cfg: BrokenWingButterflyConfig,
    listing: Listing,
    chain: Chain,
    body: OptionQuote,
    narrow: float,
    broken: float,
) -> tuple[_Fly, float] | str:
    """Return the fly and its rank (mid / worst loss at mid, lowest best), or why none."""
    expiry, k2 = body.contract.expiry, body.contract.strike
    upper = chain.quote(expiry, round(k2 + narrow, 4), "P")
    lower = chain.quote(expiry, round(k2 - broken, 4), "P")
    if upper is None or lower is None:
        return f"{expiry} body {k2:g}P: no {narrow:g}/{broken:g} $ wings listed"
    k1, k3 = upper.contract.strike, lower.contract.strike
    legs = (
        Leg(upper.contract, "BUY"),
        Leg(body.contract, "SELL", 2),
        Leg(lower.contract, "BUY"),
    )
    label = f"BWB {listing.listing_id} {expiry.isoformat()} {k1:g}/{k2:g}x2/{k3:g}P"
    mid = combo_mid(legs, (upper, body, lower))  # what Setup.mid gives
    credit = -mid
    if credit < cfg.min_credit:
        return f"{label}: mid credit {credit:.2f} < {cfg.min_credit:.2f}"
    lowest = lowest_value_at_expiry(legs)  # Setup.worst_loss(d) is loss_at_debit(lowest, d)
    worst = loss_at_debit(lowest, -cfg.min_credit)
    if worst > cfg.max_risk + 1e-9:
        return (
            f"{label}: worst loss {worst:.2f} at credit {cfg.min_credit:.2f} > {cfg.max_risk:.2f}"
        )
    worst_mid = loss_at_debit(lowest, mid)
    fly = _Fly(body, upper, lower, narrow, broken, legs, label, credit, worst_mid)
    return fly, mid / max(worst_mid, 1e-9)


def _setup(fly: _Fly, strategy: str, listing: Listing, chain: Chain, today: date) -> Setup:
    """Return the Setup of a kept fly, with the features its DECISION line carries."""
    body, upper, lower = fly.body, fly.upper, fly.lower
    expiry = body.contract.expiry
    features = {
        "expiry": expiry.isoformat(),
        "spot": round(chain.underlying.mid, 4),
        "upper": upper.contract.strike,
        "body": body.contract.strike,
        "lower": lower.contract.strike,
        "narrow": fly.narrow,
        "broken": fly.broken,
        "width": fly.broken,
        "body_delta": round(body.delta, 4),
        "upper_iv": round(upper.iv, 4),
        "body_iv": round(body.iv, 4),
        "lower_iv": round(lower.iv, 4),
        "body_skew": round(body.iv - upper.iv, 4),
        "credit_mid": round(fly.credit, 4),
        "worst_loss_mid": round(fly.worst_mid, 4),
    }
    return Setup(
        strategy=strategy,
        listing_id=listing.listing_id,
        kind="broken_wing_butterfly",
        legs=fly.legs,
        quotes=(upper, body, lower),
        spot=chain.underlying.mid,
        dte=(expiry - today).days,
        label=fly.label,
        features=features,
    )


def find_setups(
    cfg: BrokenWingButterflyConfig, strategy: str, listing: Listing, chain: Chain, today: date
) -> tuple[list[Setup], str]:
    """Return up to three put broken-wing butterflies, best credit/risk first, or why none."""
    spot = chain.underlying.mid
    expiries = [e for e in chain.expiries if cfg.dte_min <= (e - today).days <= cfg.dte_max]
    if not expiries:
        return [], f"no expiry within {cfg.dte_min}–{cfg.dte_max} DTE"
    targets = sorted({(cfg.body_delta_min + cfg.body_delta_max) / 2.0, cfg.body_delta_max})
    pairs = [(n, b) for n in cfg.narrow_wing_widths for b in cfg.broken_wing_widths if b > n]
    found: dict[tuple[Leg, ...], tuple[_Fly, float]] = {}
    notes: list[str] = []
    for expiry in expiries:
        puts = [q for q in chain.side(expiry, "P") if q.contract.strike < spot]
        bodies = pick_by_deltas(puts, cfg.body_delta_min, cfg.body_delta_max, targets)
        for i, body in enumerate(bodies):
            if body is None:
                band = f"{cfg.body_delta_min:.2f}–{cfg.body_delta_max:.2f}"
                notes.append(f"no put with |Δ| in {band} on {expiry}")
                continue
            if body in bodies[:i]:  # the same flies again: their setups and notes are kept already
                continue
            for narrow, broken in pairs:
                made = _bwb(cfg, listing, chain, body, narrow, broken)
                if isinstance(made, str):
                    notes.append(made)
                else:
                    found.setdefault(made[0].legs, made)
    ranked = sorted(found.values(), key=lambda made: (made[1], made[0].label))
    kept = [_setup(fly, strategy, listing, chain, today) for fly, _ in ranked[:MAX_SETUPS]]
    return kept, "; ".join(dict.fromkeys(notes)) or "no setup"
