"""Iron fly leg selection: short call and put at one central strike, long wings by width.

Centres (the Strategy Generator's variants): the strike nearest the price, and the next listed
strike toward the trend (above in an uptrend, below in a downtrend; without a trend, the nearest
strike on the other side of the price). A centre qualifies only when its call and its put can both
be sold (positive bid). Every expiry of the chain inside the DTE window is used (the strategy asks
for the one nearest the target and the nearest monthly), with each configured wing width. The three
kept are the nearest centres first (an iron fly sells the at-the-money straddle), then the best
credit per $ of worst loss.
"""

from __future__ import annotations

from datetime import date

from seeker.agents.event_risk import Event
from seeker.core.execution import combo_mid
from seeker.core.models import Chain, Leg, Listing, OptionQuote
from seeker.core.structures import Setup
from seeker.strategies.common.scan import wing
from seeker.strategies.iron_fly.config import IronFlyConfig

MAX_SETUPS = 3


def _sellable(q: OptionQuote | None) -> bool:
    """Return True when a quote can be sold (a positive bid)."""
    return q is not None and q.bid > 0


def centres(chain: Chain, expiry: date, trend: str) -> list[float]:
    """Return the candidate centre strikes of one expiry: nearest the price, then toward `trend`.

    `trend` is the regime's label ("up", "down" or "none"). Only strikes whose call and put are
    both quoted with a positive bid count.
    """
    spot = chain.underlying.mid
    strikes = sorted(
        q.contract.strike
        for q in chain.side(expiry, "C")
        if _sellable(q) and _sellable(chain.quote(expiry, q.contract.strike, "P"))
    )
    if not strikes:
        return []
    nearest = min(strikes, key=lambda k: (abs(k - spot), k))
    above = [k for k in strikes if k > nearest]
    below = [k for k in strikes if k < nearest]
    upward = trend == "up" if trend in ("up", "down") else nearest < spot
    side = above[:1] if upward else below[-1:]
    return [nearest, *side]


def _fly(
    cfg: IronFlyConfig,
    strategy: str,
    listing: Listing,
    chain: Chain,
    today: date,
    expiry: date,
    centre: float,
    width: float,
) -> Setup | str:
    """Return the iron fly centred on `centre` with `width` $ wings, or why it does not qualify."""
    short_put = chain.quote(expiry, centre, "P")
    short_call = chain.quote(expiry, centre, "C")
    assert short_put is not None and short_call is not None  # centres() checked both
    long_put = wing(chain, short_put, width)
    long_call = wing(chain, short_call, width)
    if long_put is None or long_call is None:
        return f"{expiry}: no {width:g} $ wing listed around {centre:g}"
    spot = chain.underlying.mid
    legs = (
        Leg(short_put.contract, "SELL"),
        Leg(long_put.contract, "BUY"),
        Leg(short_call.contract, "SELL"),
        Leg(long_call.contract, "BUY"),
    )
    lp, lc = long_put.contract.strike, long_call.contract.strike
    quotes = (short_put, long_put, short_call, long_call)
    credit = -combo_mid(legs, quotes)  # what Setup.mid gives: no Setup is built for a refusal
    if credit < cfg.min_credit:
        return f"{expiry} {centre:g} ±{width:g} $: mid credit {credit:.2f} < {cfg.min_credit:.2f}"
    features = {
        "expiry": expiry.isoformat(),
        "width": width,
        "centre": centre,
        "centre_offset_pct": round(100.0 * (centre - spot) / spot, 3),
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
        kind="iron_fly",
        legs=legs,
        quotes=quotes,
        spot=spot,
        dte=(expiry - today).days,
        label=f"IF {listing.listing_id} {expiry.isoformat()} {lp:g}/{centre:g}/{lc:g}",
        features=features,
    )


def find_setups(
    cfg: IronFlyConfig,
    strategy: str,
    listing: Listing,
    chain: Chain,
    today: date,
    trend: str,
) -> tuple[list[Setup], str]:
    """Return up to three iron flies, nearest centre then best credit/risk first, or why none.

    `trend` is the regime's trend label ("up", "down" or "none").
    """
    lo, hi = cfg.dte_min, cfg.dte_max
    spot = chain.underlying.mid
    expiries = [e for e in chain.expiries if lo <= (e - today).days <= hi]
    if not expiries:
        return [], f"no expiry within {lo}–{hi} DTE"
    found: dict[tuple[Leg, ...], Setup] = {}
    notes: list[str] = []
    for expiry in expiries:
        ks = centres(chain, expiry, trend)
        if not ks:
            notes.append(f"no strike on {expiry} whose call and put both have a bid")
            continue
        for centre in ks:
            for width in cfg.wing_widths:
                made = _fly(cfg, strategy, listing, chain, today, expiry, centre, width)
                if isinstance(made, str):
                    notes.append(made)
                else:
                    found.setdefault(made.legs, made)

    def order(s: Setup) -> tuple[float, float, str]:
        centre = float(s.features["centre"])
        return (abs(centre - spot), s.mid / max(s.worst_loss(s.mid), 1e-9), s.label)

    ranked = sorted(found.values(), key=order)
    unique_notes = list(dict.fromkeys(notes))
    return ranked[:MAX_SETUPS], "; ".join(unique_notes) or "no setup"


def event_refusal(cfg: IronFlyConfig, nearest: tuple[Event, int] | None) -> str | None:
    """Return why an iron fly may not open this close to the next watched event, or None.

    `nearest` is the Event Risk agent's next event and its distance in sessions (J-N), None when
    none is listed. The iron fly's own buffer adds to the shared one: no opening at J-N for
    N ≤ event_buffer_days.
    """
    if nearest is None:
        return None
    event, away = nearest
    if away <= cfg.event_buffer_days:
        return (
            f"{event.label} {event.day:%Y-%m-%d} is J-{away}: an iron fly opens no nearer than "
            f"J-{cfg.event_buffer_days + 1} (strategies.iron_fly.event_buffer_days = "
            f"{cfg.event_buffer_days})"
        )
    return None
