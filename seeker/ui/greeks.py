"""Greeks, implied vols, touch odds and payoff values of a journaled position (`seeker show`).

Sources, in the order they are trusted, and always named in the output:

* journaled quotes — a line of the position carrying ``quotes``: a list of legs (``right``,
  ``strike``, ``expiry``) with ``iv``/``delta``/``gamma``/``vega``/``theta`` in Seeker units (vega
  per 1.00 of vol, theta per year). When the latest such line covers every leg, the structure's
  greeks are read from it as they were quoted.
* otherwise Black-Scholes (``pricing.bs_greeks``) at the latest journaled spot (DECISION
  ``features.spot``, close ORDER ``spot``, CONFIDENCE ``spot``), with each leg's last known IV:
  the latest of a journaled quote's ``iv``, the entry quote's IV in the ORDER's ``meta``
  (``short_put_iv``, ``short_call_iv``, ``short_iv``, ``long_iv`` …), and the IV implied by the
  leg's price in a FILL line at the spot journaled nearest before it.
* greeks, touch odds and the T+0 / T+X payoffs all use **one set of IVs**, :func:`chosen_ivs`:
  each leg's last known IV, named ``entry IVs`` when none is newer than the entry, else ``last
  IVs (<time of the newest>)``. Payoffs reprice every leg with ``bs_price``, the rate of the
  position's currency and the listing's dividend yield from the config; time runs to 16:00 New
  York on each expiry, 365-day years.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from seeker.core.calendar import MARKET_TZ, expiry_close, years_between
from seeker.core.models import Leg
from seeker.core.pricing import bs_greeks, bs_price, implied_vol, prob_touch
from seeker.ui.journal_view import parse_ts
from seeker.ui.position import PositionRecord

GREEKS = ("delta", "gamma", "vega", "theta")


@dataclass(frozen=True)
class SpotSeen:
    """One journaled underlying price."""

    ts: datetime
    spot: float
    source: str


@dataclass(frozen=True)
class LegIV:
    """A leg's implied vol, where it came from and when (NaN when unknown)."""

    iv: float
    source: str
    ts: datetime | None


@dataclass(frozen=True)
class IvSet:
    """The IVs `seeker show` prices a position with (greeks, touch odds, curves) and their name."""

    ivs: dict[int, LegIV]
    label: str

    @property
    def complete(self) -> bool:
        """Return True when every leg's IV is known."""
        return all(math.isfinite(iv.iv) for iv in self.ivs.values())


@dataclass(frozen=True)
class Greeks:
    """Per-leg and structure greeks (per share of one combo unit) with their source."""

    source: str
    ts: datetime | None
    spot: float
    per_leg: list[dict[str, float]]
    total: dict[str, float]


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _key(right: Any, strike: Any, expiry: Any) -> tuple[str, float, str]:
    return (str(right), round(float(strike), 6), str(expiry))


def leg_key(leg: Leg) -> tuple[str, float, str]:
    """Return the (right, strike, expiry) key of a leg."""
    c = leg.contract
    return _key(c.right, c.strike, c.expiry.isoformat())


def spots(record: PositionRecord) -> list[SpotSeen]:
    """Return the journaled underlying prices of a position, oldest first."""
    out: list[SpotSeen] = []
    for e in record.entries:
        line = e.line
        event = line.get("event")
        value = (
            (line.get("features") or {}).get("spot") if event == "DECISION" else line.get("spot")
        )
        if _finite(value) and value > 0:
            out.append(SpotSeen(e.ts, float(value), f"{str(event).lower()} line"))
    return out


def spot_at(seen: Sequence[SpotSeen], ts: datetime) -> SpotSeen | None:
    """Return the latest spot at or before `ts`, else the earliest after it."""
    before = [s for s in seen if s.ts <= ts]
    if before:
        return before[-1]
    return seen[0] if seen else None


def meta_ivs(legs: Sequence[Leg], order: Mapping[str, Any], ts: datetime) -> dict[int, LegIV]:
    """Return the entry IVs the opening ORDER's meta names (``short_put_iv`` → the sold put…).

    A role names one leg of the structure as it was opened; a leg a roll has replaced since
    gets nothing from it.
    """
    meta = order.get("meta") or {}
    opened = []
    for raw in order.get("legs") or []:
        try:
            opened.append((_key(raw["right"], raw["strike"], raw["expiry"]), str(raw["action"])))
        except (KeyError, TypeError, ValueError):
            continue
    now = {leg_key(leg): i for i, leg in enumerate(legs)}
    out: dict[int, LegIV] = {}
    for name, value in meta.items():
        if not (name.endswith("_iv") and _finite(value) and value > 0):
            continue
        words = name[: -len("_iv")].split("_")
        action = "SELL" if "short" in words else ("BUY" if "long" in words else None)
        right = "P" if "put" in words else ("C" if "call" in words else None)
        hits = [
            key
            for key, act in opened
            if (action is None or act == action) and (right is None or key[0] == right)
        ]
        if len(hits) == 1 and hits[0] in now:
            out[now[hits[0]]] = LegIV(float(value), f"entry quote ({name})", ts)
    return out


def quoted(record: PositionRecord) -> list[tuple[datetime, dict[tuple[str, float, str], dict]]]:
    """Return journaled leg quotes (lines with a ``quotes`` list), oldest first."""
    out = []
    for e in record.entries:
        quotes = e.line.get("quotes")
        if not isinstance(quotes, list):
            continue
        found = {
            _key(q["right"], q["strike"], q["expiry"]): q
            for q in quotes
            if isinstance(q, Mapping) and {"right", "strike", "expiry"} <= set(q)
        }
        if found:
            out.append((e.ts, found))
    return out


def implied_from_fills(
    record: PositionRecord, r: float, q: float
) -> list[tuple[datetime, dict[int, LegIV]]]:
    """Return, per FILL line, each leg's IV implied by its fill price at the nearest spot."""
    legs = record.position.legs
    index = {leg_key(leg): i for i, leg in enumerate(legs)}
    seen = spots(record)
    out = []
    for line in record.lines("FILL"):
        ts = parse_ts(line.get("ts"))
        spot = spot_at(seen, ts)
        if spot is None:
            continue
        ivs: dict[int, LegIV] = {}
        for raw in line.get("legs") or []:
            i = index.get(_key(raw.get("right"), raw.get("strike"), raw.get("expiry")))
            price = raw.get("price")
            if i is None or not _finite(price):
                continue
            c = legs[i].contract
            t = years_between(ts, expiry_close(c.expiry))
            iv = float(implied_vol(price, spot.spot, c.strike, t, r, c.right == "C", q))
            if math.isfinite(iv):
                src = f"implied from fill {ts:%m-%d %H:%M} at {price:.4g} (spot {spot.spot:g})"
                ivs[i] = LegIV(iv, src, ts)
        out.append((ts, ivs))
    return out


def entry_ivs(record: PositionRecord, r: float, q: float) -> dict[int, LegIV]:
    """Return each leg's IV at entry: the ORDER meta's, else implied from the opening fill."""
    order = record.open_order
    legs = record.position.legs
    out = meta_ivs(legs, order, parse_ts(order.get("ts")))
    for _, ivs in implied_from_fills(record, r, q)[:1]:
        for i, iv in ivs.items():
            out.setdefault(i, iv)
    for i in range(len(legs)):
        out.setdefault(i, LegIV(math.nan, "unknown (no entry quote, no fill price)", None))
    return out


def last_ivs(record: PositionRecord, r: float, q: float) -> dict[int, LegIV]:
    """Return each leg's last known IV (journaled quote, entry quote or fill, the latest wins)."""
    legs = record.position.legs
    order = record.open_order
    candidates: dict[int, list[LegIV]] = {i: [] for i in range(len(legs))}
    for i, iv in meta_ivs(legs, order, parse_ts(order.get("ts"))).items():
        candidates[i].append(iv)
    for _, ivs in implied_from_fills(record, r, q):
        for i, iv in ivs.items():
            candidates[i].append(iv)
    for ts, found in quoted(record):
        for i, leg in enumerate(legs):
            qv = found.get(leg_key(leg), {}).get("iv")
            if _finite(qv) and qv > 0:
                candidates[i].append(LegIV(float(qv), f"journaled quote {ts:%m-%d %H:%M}", ts))
    out: dict[int, LegIV] = {}
    for i, found_ivs in candidates.items():
        dated = [(c.ts, n, c) for n, c in enumerate(found_ivs) if c.ts is not None]
        out[i] = max(dated)[2] if dated else LegIV(math.nan, "unknown", None)
    return out


def chosen_ivs(record: PositionRecord, r: float, q: float) -> IvSet:
    """Return the IVs to price the position with, and their name.

    The legs' IVs at entry (``entry IVs``, the legs table's "IV at entry") while nothing newer
    than the opening fill is known; else their last known IVs (``last IVs (<newest time>)``,
    the legs table's "last IV").
    """
    entry = entry_ivs(record, r, q)
    last = last_ivs(record, r, q)
    fills = [parse_ts(x.get("ts")) for x in record.lines("FILL")]
    opened = fills[0] if fills else None
    dated = [iv.ts for iv in last.values() if iv.ts is not None]
    newest = max(dated) if dated else None
    at_entry = newest is None or (opened is not None and newest <= opened)
    if at_entry and all(math.isfinite(iv.iv) for iv in entry.values()):
        return IvSet(entry, "entry IVs")
    when = f" ({newest.astimezone(MARKET_TZ):%Y-%m-%d %H:%M})" if newest is not None else ""
    return IvSet(last, f"last IVs{when}")


def _newest(ivs: IvSet) -> datetime | None:
    dated = [iv.ts for iv in ivs.ivs.values() if iv.ts is not None]
    return max(dated) if dated else None


def structure_greeks(
    record: PositionRecord, r: float, q: float, ivs: IvSet | None = None
) -> Greeks | None:
    """Return the structure's greeks at the chosen IVs (`ivs`, by default :func:`chosen_ivs`).

    They are read from the journaled quotes when the latest line quoting every leg is where
    those IVs come from (no IV is newer); otherwise recomputed with Black-Scholes at the latest
    journaled spot.
    """
    legs = record.position.legs
    ivs = ivs if ivs is not None else chosen_ivs(record, r, q)
    newest = _newest(ivs)
    for ts, found in reversed(quoted(record)):
        if newest is not None and ts < newest:
            break
        rows = [found.get(leg_key(leg)) for leg in legs]
        if all(row and all(_finite(row.get(g)) for g in GREEKS) for row in rows):
            per_leg = [{g: float(row[g]) for g in GREEKS} for row in rows if row]
            spot = next(
                (
                    float(r_["underlying_price"])
                    for r_ in rows
                    if r_ and _finite(r_.get("underlying_price"))
                ),
                math.nan,
            )
            return Greeks(
                f"journaled quotes of {ts:%Y-%m-%d %H:%M}", ts, spot, per_leg, _total(legs, per_leg)
            )
    seen = spots(record)
    if not seen:
        return None
    ref = seen[-1]
    per_leg = []
    for i, leg in enumerate(legs):
        c = leg.contract
        t = years_between(ref.ts, expiry_close(c.expiry))
        g = bs_greeks(ref.spot, c.strike, t, r, ivs.ivs[i].iv, c.right == "C", q)
        per_leg.append({k: float(g[k]) for k in GREEKS})
    source = (
        f"recomputed with Black-Scholes at spot {ref.spot:g} ({ref.source} of "
        f"{ref.ts.astimezone(MARKET_TZ):%Y-%m-%d %H:%M}) at the {ivs.label}"
    )
    return Greeks(source, ref.ts, ref.spot, per_leg, _total(legs, per_leg))


def _total(legs: Sequence[Leg], per_leg: Sequence[Mapping[str, float]]) -> dict[str, float]:
    return {
        g: sum(leg.sign * leg.ratio * row[g] for leg, row in zip(legs, per_leg, strict=True))
        for g in GREEKS
    }


def touch_odds(
    record: PositionRecord, ivs: Mapping[int, LegIV], spot: SpotSeen, r: float, q: float
) -> list[tuple[Leg, float]]:
    """Return each short leg with its probability of touch before expiry (from `spot`)."""
    out = []
    for i, leg in enumerate(record.position.legs):
        if leg.action != "SELL":
            continue
        c = leg.contract
        t = years_between(spot.ts, expiry_close(c.expiry))
        out.append((leg, float(prob_touch(spot.spot, c.strike, t, r, ivs[i].iv, q))))
    return out


def value_at(
    legs: Sequence[Leg],
    ivs: Mapping[int, LegIV],
    prices: np.ndarray,
    when: datetime,
    r: float,
    q: float,
) -> np.ndarray:
    """Return the structure's value per share (Σ sign·ratio·price) at `when` for `prices`."""
    total = np.zeros_like(prices, dtype=float)
    for i, leg in enumerate(legs):
        c = leg.contract
        t = years_between(when, expiry_close(c.expiry))
        if t <= 0:
            k = c.strike
            price = np.maximum(prices - k, 0.0) if c.right == "C" else np.maximum(k - prices, 0.0)
        else:
            price = bs_price(prices, c.strike, t, r, ivs[i].iv, c.right == "C", q)
        total += leg.sign * leg.ratio * price
    return total


def first_expiry_close(legs: Sequence[Leg]) -> datetime:
    """Return the close of the nearest expiry (the payoff 'at expiry' is there)."""
    return expiry_close(min(leg.contract.expiry for leg in legs))


def horizon(start: datetime, legs: Sequence[Leg], days: float) -> datetime:
    """Return `start` + `days` (New York wall-clock time), not past the nearest expiry's close."""
    return min(start.astimezone(MARKET_TZ) + timedelta(days=days), first_expiry_close(legs))
