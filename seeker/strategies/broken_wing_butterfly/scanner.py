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

from seeker.core.execution import combo_mid
from seeker.core.models import Chain, Leg, Listing, OptionQuote
from seeker.core.payoff import loss_at_debit, lowest_value_at_expiry
from seeker.core.structures import Setup
from seeker.strategies.broken_wing_butterfly.config import BrokenWingButterflyConfig
from seeker.strategies.common.scan import pick_by_deltas

MAX_SETUPS = 3


def _bwb(
    cfg: BrokenWingButterflyConfig,
    strategy: str,
    listing: Listing,
    chain: Chain,
    today: date,
    body: OptionQuote,
    narrow: float,
    broken: float,
) -> tuple[Setup, float] | str:
    """Return the setup and its rank (mid / worst loss at mid, lowest best), or why none."""
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
    quotes = (upper, body, lower)
    label = f"BWB {listing.listing_id} {expiry.isoformat()} {k1:g}/{k2:g}x2/{k3:g}P"
    mid = combo_mid(legs, quotes)  # what Setup.mid gives: no Setup is built for a refusal
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
    features = {
        "expiry": expiry.isoformat(),
        "spot": round(chain.underlying.mid, 4),
        "upper": k1,
        "body": k2,
        "lower": k3,
        "narrow": narrow,
        "broken": broken,
        "width": broken,
        "body_delta": round(body.delta, 4),
        "upper_iv": round(upper.iv, 4),
        "body_iv": round(body.iv, 4),
        "lower_iv": round(lower.iv, 4),
        "body_skew": round(body.iv - upper.iv, 4),
        "credit_mid": round(credit, 4),
        "worst_loss_mid": round(worst_mid, 4),
    }
    setup = Setup(
        strategy=strategy,
        listing_id=listing.listing_id,
        kind="broken_wing_butterfly",
        legs=legs,
        quotes=quotes,
        spot=chain.underlying.mid,
        dte=(expiry - today).days,
        label=label,
        features=features,
    )
    return setup, mid / max(worst_mid, 1e-9)


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
    found: dict[tuple[Leg, ...], tuple[Setup, float]] = {}
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
                made = _bwb(cfg, strategy, listing, chain, today, body, narrow, broken)
                if isinstance(made, str):
                    notes.append(made)
                else:
                    found.setdefault(made[0].legs, made)
    ranked = sorted(found.values(), key=lambda made: (made[1], made[0].label))
    return [setup for setup, _ in ranked[:MAX_SETUPS]], "; ".join(
        dict.fromkeys(notes)
    ) or "no setup"
