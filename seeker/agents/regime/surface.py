"""The option-surface points the classifier reads: front and next ATM IV, 25-delta put and call."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from seeker.agents.regime.labels import RegimeConfig
from seeker.core.models import Chain, DataUnavailable, OptionQuote

PUT_25_DELTA = -0.25
CALL_25_DELTA = 0.25


@dataclass(frozen=True, slots=True)
class SurfacePoints:
    """The option-surface measures of one underlying at one moment (IVs per 1.00)."""

    listing_id: str
    spot: float
    """Underlying mid the ATM IVs are interpolated at, $ per share."""
    front_expiry: date
    next_expiry: date
    front_dte: int
    next_dte: int
    front_iv: float
    """ATM IV of the front expiry."""
    next_iv: float
    """ATM IV of the next expiry."""
    put25_iv: float
    """IV of the front expiry's 25-delta put."""
    call25_iv: float
    """IV of the front expiry's 25-delta call."""


def term_expiries(expiries: Iterable[date], today: date, cfg: RegimeConfig) -> tuple[date, date]:
    """Return the (front, next) expiries of the term structure.

    Front: the first expiry ``front_min_dte`` or more calendar days after ``today``; next: the first
    after it ``next_min_dte`` or more days out. Use it to ask the broker for the right chain.
    """
    days = sorted(set(expiries))
    front = next((e for e in days if (e - today).days >= cfg.front_min_dte), None)
    if front is None:
        last = f"; the last is {days[-1]} ({(days[-1] - today).days} d)" if days else ""
        raise DataUnavailable(f"no front expiry: none {cfg.front_min_dte} or more days out{last}")
    nxt = next((e for e in days if e > front and (e - today).days >= cfg.next_min_dte), None)
    if nxt is None:
        raise DataUnavailable(
            f"no next expiry: none {cfg.next_min_dte} or more days out after the front {front}"
        )
    return front, nxt


def usable_iv(iv: float) -> bool:
    return math.isfinite(iv) and iv > 0.0


def _strike_iv(calls: dict[float, OptionQuote], puts: dict[float, OptionQuote], k: float) -> float:
    """Return the IV at one strike: call and put IVs averaged where both are known, else the one."""
    ivs = [q.iv for q in (calls.get(k), puts.get(k)) if q is not None and usable_iv(q.iv)]
    return sum(ivs) / len(ivs) if ivs else math.nan


def _sides(chain: Chain, expiries: Iterable[date]) -> dict[tuple[date, str], list[OptionQuote]]:
    """Return the quotes of ``expiries`` by (expiry, right), each sorted by strike."""
    return {(e, r): chain.side(e, r) for e in expiries for r in ("C", "P")}


def _atm_iv(
    lid: str, expiry: date, calls_side: list[OptionQuote], puts_side: list[OptionQuote], spot: float
) -> float:
    """Return the IV at ``spot`` interpolated linearly in strike between the bracketing strikes."""
    calls = {q.contract.strike: q for q in calls_side}
    puts = {q.contract.strike: q for q in puts_side}
    strikes = sorted(calls.keys() | puts.keys())
    if not strikes:
        raise DataUnavailable(f"{lid} {expiry}: no quotes in the chain")
    if not strikes[0] <= spot <= strikes[-1]:
        raise DataUnavailable(
            f"{lid} {expiry}: spot {spot:g} outside the chain's strikes "
            f"{strikes[0]:g}..{strikes[-1]:g}, ATM IV not bracketed"
        )
    hi = bisect.bisect_left(strikes, spot)
    k_hi = float(strikes[hi])
    k_lo = k_hi if k_hi == spot else float(strikes[hi - 1])
    iv_lo = _strike_iv(calls, puts, k_lo)
    iv_hi = _strike_iv(calls, puts, k_hi)
    for k, iv in ((k_lo, iv_lo), (k_hi, iv_hi)):
        if math.isnan(iv):
            raise DataUnavailable(
                f"{lid} {expiry}: no IV at strike {k:g} next to spot {spot:g} "
                "(neither call nor put IV is known)"
            )
    if k_hi == k_lo:
        return iv_lo
    w = (spot - k_lo) / (k_hi - k_lo)
    return iv_lo + w * (iv_hi - iv_lo)


def _delta_iv(quotes: Sequence[OptionQuote], target: float, what: str) -> float:
    """Return the IV at delta ``target`` interpolated linearly in delta between adjacent strikes.

    ``quotes`` are one expiry and right, sorted by strike. The bracketing pair must be adjacent in
    the chain with known deltas on both sides; their IVs must be known. (Plain float arithmetic:
    the same operations, one value at a time, as the array form would do.)
    """
    if not quotes:
        raise DataUnavailable(f"{what}: no quotes")
    d = [float(q.delta) for q in quotes]
    iv = [float(q.iv) for q in quotes]
    if target in d:  # an exact delta (NaN never equals it)
        i = j = d.index(target)
    else:
        i = _first_bracket(d, target)
        if i < 0:
            known = [x for x in d if math.isfinite(x)]
            if not known:
                raise DataUnavailable(f"{what}: no delta known")
            nan = len(d) - len(known)
            missing = f", {nan} delta(s) NaN" if nan else ""
            raise DataUnavailable(
                f"{what}: delta {target:+.2f} not bracketed by adjacent strikes "
                f"(deltas {min(known):+.3f}..{max(known):+.3f}{missing})"
            )
        j = i + 1
    for k in {i, j}:
        if not usable_iv(iv[k]):
            raise DataUnavailable(
                f"{what}: IV unknown at strike {quotes[k].contract.strike:g} (delta {d[k]:+.3f})"
            )
    if i == j:
        return iv[i]
    w = (target - d[i]) / (d[j] - d[i])
    return iv[i] + w * (iv[j] - iv[i])


def _first_bracket(d: list[float], target: float) -> int:
    """Return the first i where finite d[i] and d[i + 1] lie on either side of ``target``, or -1."""
    isfinite = math.isfinite
    a = d[0] - target
    for i in range(len(d) - 1):
        b = d[i + 1] - target
        if isfinite(a) and isfinite(b) and a * b <= 0.0:
            return i
        a = b
    return -1


def surface_points(chain: Chain, today: date, cfg: RegimeConfig) -> SurfacePoints:
    """Return the front and next ATM IVs and the front 25-delta put and call IVs of ``chain``.

    The front expiry is the chain's first ≥ ``front_min_dte`` days out, the next the first
    ≥ ``next_min_dte`` after it (calendar days from ``today``). ATM IV: the strikes bracketing the
    underlying mid, each strike's IV the mean of its call and put IVs where both are known,
    interpolated linearly in strike at the mid (the spot, not the forward: no rate or dividend is
    assumed). 25-delta IVs: interpolated linearly in delta between the adjacent strikes whose
    deltas bracket −0.25 (puts) and +0.25 (calls). Any missing input raises DataUnavailable.
    """
    lid = chain.listing_id
    expiries = chain.expiries
    if len(expiries) < 2:
        raise DataUnavailable(
            f"{lid}: chain holds {len(expiries)} expiry(ies), two needed for the term structure"
        )
    u = chain.underlying
    spot = u.mid
    if not (math.isfinite(spot) and spot > 0.0):
        raise DataUnavailable(f"{lid}: underlying bid/ask unusable ({u.bid}/{u.ask}), no spot")
    try:
        front, nxt = term_expiries(expiries, today, cfg)
    except DataUnavailable as exc:
        raise DataUnavailable(f"{lid}: {exc}") from None
    sides = _sides(chain, (front, nxt))
    front_iv = _atm_iv(lid, front, sides[(front, "C")], sides[(front, "P")], spot)
    next_iv = _atm_iv(lid, nxt, sides[(nxt, "C")], sides[(nxt, "P")], spot)
    put25 = _delta_iv(sides[(front, "P")], PUT_25_DELTA, f"{lid} {front} 25-delta put")
    call25 = _delta_iv(sides[(front, "C")], CALL_25_DELTA, f"{lid} {front} 25-delta call")
    return SurfacePoints(
        listing_id=lid,
        spot=spot,
        front_expiry=front,
        next_expiry=nxt,
        front_dte=(front - today).days,
        next_dte=(nxt - today).days,
        front_iv=front_iv,
        next_iv=next_iv,
        put25_iv=put25,
        call25_iv=call25,
    )


# -- classify ----------------------------------------------------------------------------------
