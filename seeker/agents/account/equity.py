"""The account's equity, measured from the broker: cash plus the option positions it holds.

Equity = cash (every currency, in the capital currency at the USD.CAD mid) + each held contract
marked at its mid; the same at the natural (longs at the bid, shorts at the ask) is what closing
everything at once would leave. ``cash_for_risk`` is the cash the account would hold if no
position were open (cash + the positions' cost basis): every open position's max loss must fit
inside it, so that cash can never go negative however the positions end.

A held contract without a usable quote, or a conversion without a USD.CAD quote, makes the
equity unknown (DataUnavailable): nothing is ever guessed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from seeker.core.broker import Broker
from seeker.core.models import (
    AccountSnapshot,
    BrokerPosition,
    DataUnavailable,
    Listing,
    OptionQuote,
)

ToCapital = Callable[[float, str], float]
"""Convert an amount of a currency into the capital currency (DataUnavailable if it cannot)."""


@dataclass(frozen=True)
class AccountFigures:
    """The account at one moment, every amount in the capital currency ($)."""

    ts: datetime
    currency: str
    cash_by_currency: Mapping[str, float]
    cash: float
    positions_mid: float
    positions_natural: float
    cost_basis: float
    contracts: int

    @property
    def equity(self) -> float:
        """Return cash + positions at mid ($)."""
        return self.cash + self.positions_mid

    @property
    def equity_natural(self) -> float:
        """Return cash + positions at the natural: what closing everything now would leave ($)."""
        return self.cash + self.positions_natural

    @property
    def cash_for_risk(self) -> float:
        """Return the cash the account would hold with no position open (cash + cost basis)."""
        return self.cash + self.cost_basis

    def as_dict(self) -> dict[str, Any]:
        """Return the figures as a journal-ready mapping (rounded to the cent)."""
        return {
            "currency": self.currency,
            "equity": round(self.equity, 2),
            "equity_natural": round(self.equity_natural, 2),
            "cash": round(self.cash, 2),
            "cash_by_currency": {k: round(v, 2) for k, v in sorted(self.cash_by_currency.items())},
            "positions_mid": round(self.positions_mid, 2),
            "positions_natural": round(self.positions_natural, 2),
            "cash_for_risk": round(self.cash_for_risk, 2),
            "contracts": self.contracts,
        }


def quote_problem(q: OptionQuote | None, now: datetime, max_age_seconds: float) -> str | None:
    """Return why a held contract's quote cannot mark it (missing, NaN, crossed, stale), or None."""
    if q is None:
        return "no quote"
    if not (math.isfinite(q.bid) and math.isfinite(q.ask)) or q.bid < 0.0 or q.bid > q.ask:
        return f"bid/ask unusable ({q.bid}/{q.ask})"
    age = (now - q.ts).total_seconds()
    if age > max_age_seconds:
        return f"quote is {age:.0f} s old (max {max_age_seconds:.0f} s)"
    return None


def measure(
    broker: Broker,
    listings: Mapping[str, Listing],
    to_capital: ToCapital,
    currency: str,
    now: datetime,
    max_quote_age_seconds: float,
    snapshot: AccountSnapshot | None = None,
    positions: Sequence[BrokerPosition] | None = None,
) -> AccountFigures:
    """Return the account's figures now; DataUnavailable naming what is missing.

    `snapshot` and `positions`: the broker's account and positions when the caller just read
    them (they are read from the broker otherwise).
    """
    if snapshot is None:
        snapshot = broker.account()
    if positions is None:
        positions = broker.positions()
    held = [p for p in positions if p.qty != 0]
    quotes = broker.option_quotes([p.contract for p in held]) if held else {}
    mid: dict[str, float] = {}
    natural: dict[str, float] = {}
    basis: dict[str, float] = {}
    for p in held:
        listing = listings.get(p.contract.listing_id)
        if listing is None:
            raise DataUnavailable(f"{p.contract.key}: held on a listing not in the universe")
        q = quotes.get(p.contract)
        problem = quote_problem(q, now, max_quote_age_seconds)
        if problem or q is None:
            raise DataUnavailable(f"cannot mark {p.contract.key}: {problem}")
        if not math.isfinite(p.avg_cost):
            raise DataUnavailable(f"{p.contract.key}: the broker gives no average cost")
        ccy, mult = listing.currency, listing.multiplier
        mid[ccy] = mid.get(ccy, 0.0) + p.qty * q.mid * mult
        natural[ccy] = natural.get(ccy, 0.0) + p.qty * (q.bid if p.qty > 0 else q.ask) * mult
        basis[ccy] = basis.get(ccy, 0.0) + p.qty * p.avg_cost * mult
    cash_by = {c: float(v) for c, v in snapshot.cash.items()}
    if not all(math.isfinite(v) for v in cash_by.values()):
        raise DataUnavailable(f"cash balance unknown ({cash_by})")

    def total(amounts: Mapping[str, float]) -> float:
        return sum(to_capital(v, c) for c, v in sorted(amounts.items()) if v != 0.0)

    return AccountFigures(
        ts=now,
        currency=currency,
        cash_by_currency=cash_by,
        cash=total(cash_by),
        positions_mid=total(mid),
        positions_natural=total(natural),
        cost_basis=total(basis),
        contracts=len(held),
    )
