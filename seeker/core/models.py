"""Domain types shared by brokers, agents and strategies.

Conventions used everywhere in Seeker:

* Prices are per share (the option's quoted price); dollar amounts multiply by the listing's
  multiplier (100 for equity options).
* A combo's price is its **net debit per unit**: positive means we pay, negative means we receive a
  credit. This is IBKR's convention for a BAG order whose action is BUY, so the same number travels
  from the strategy to the journal to the broker unchanged.
* Implied volatility is per 1.00 (0.25 = 25 %); vega is per 1.00 of vol; theta is per year.
* Unknown numbers are ``math.nan`` (floats) or ``None`` (counts), never a made-up value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:  # in annotations only: the journal readers (summary, show) go without numpy
    import numpy as np

Right = Literal["C", "P"]
Action = Literal["BUY", "SELL"]
Intent = Literal["open", "close", "roll", "fx"]
AssetKind = Literal["etf", "stock", "index"]
ExerciseStyle = Literal["american", "european"]
"""American options may be exercised any day (listed equity options); European only at expiry
(index options such as SPX)."""
SettlementKind = Literal["physical", "cash"]
"""Physical: exercise delivers shares (equity options); cash: the intrinsic value is paid in cash
at the settlement value (index options)."""
Currency = Literal["USD", "CAD"]

PIP = 0.0001
"""One pip of USD.CAD, in CAD per USD."""


class DataUnavailable(Exception):
    """Raise when a datum needed for a decision is missing, stale or invalid; never guess it."""


class BrokerUnavailable(DataUnavailable):
    """Raise when the broker connection is down; nothing can be read or sent."""


class OrderUnconfirmed(BrokerUnavailable):
    """Raise when an order may have reached the broker but its acknowledgement never came.

    A :class:`BrokerUnavailable` or :class:`DataUnavailable` from ``place_order`` means the order
    surely was not sent (refused before anything left the process). This one means it maybe was:
    the request was written, then the connection dropped or the answer did not come in time. The
    order may be working at the broker: it must be treated as possibly working (never re-sent, its
    risk held) until the broker's open orders and executions, looked up by `order_ref`, say what
    became of it. `broker_order_id` is the broker's id when one was assigned ("" otherwise). The
    simulated brokers never raise it.
    """

    def __init__(self, message: str, order_ref: str, broker_order_id: str = "") -> None:
        super().__init__(message)
        self.order_ref = order_ref
        self.broker_order_id = broker_order_id


@dataclass(frozen=True, slots=True)
class Listing:
    """One tradable underlying: a symbol on one exchange, quoted in one currency."""

    listing_id: str
    symbol: str
    exchange: str
    currency: str
    sector: str
    kind: AssetKind
    dividend_yield: float
    strike_increment: float
    calendar: str
    multiplier: int = 100
    style: ExerciseStyle = "american"
    settlement: SettlementKind = "physical"

    @property
    def european(self) -> bool:
        """Return True when the listing's options can be exercised only at expiry."""
        return self.style == "european"


class OptionContract(NamedTuple):
    """One listed option, identified by its underlying listing, expiry, strike and right.

    A NamedTuple: it is a dictionary key everywhere, and tuples hash and compare in C.
    """

    listing_id: str
    expiry: date
    strike: float
    right: Right

    @property
    def key(self) -> str:
        """Return a compact human-readable identifier, e.g. ``XLF 2027-01-15 45.5P``."""
        return f"{self.listing_id} {self.expiry.isoformat()} {self.strike:g}{self.right}"


@dataclass(frozen=True, slots=True)
class UnderlyingQuote:
    """Best bid/ask and last trade of an underlying listing."""

    listing_id: str
    bid: float
    ask: float
    last: float
    ts: datetime

    @property
    def mid(self) -> float:
        """Return the mid price, NaN when either side is missing."""
        return (self.bid + self.ask) / 2.0


class OptionQuote(NamedTuple):
    """A quote of one option with its greeks (NaN when the source did not provide them).

    A NamedTuple, not a dataclass: chains build hundreds of them per request and a tuple is
    about eight times cheaper to create than a frozen dataclass. Use ``_replace`` to modify one.
    """

    contract: OptionContract
    bid: float
    ask: float
    iv: float
    delta: float
    gamma: float
    vega: float
    theta: float
    open_interest: int | None
    volume: int | None
    underlying_price: float
    ts: datetime
    bid_size: int | None = None
    ask_size: int | None = None

    @property
    def mid(self) -> float:
        """Return the mid price in $ per share."""
        return (self.bid + self.ask) / 2.0

    @property
    def spread(self) -> float:
        """Return ask − bid in $ per share."""
        return self.ask - self.bid

    def problem(self, now: datetime, max_age_seconds: float) -> str | None:
        """Return why this quote cannot be traded on (missing, NaN, crossed, stale), or None."""
        if not (math.isfinite(self.bid) and math.isfinite(self.ask)):
            return f"{self.contract.key}: bid/ask missing or NaN"
        if self.bid < 0.0 or self.ask <= 0.0:
            return f"{self.contract.key}: no ask or negative bid ({self.bid}/{self.ask})"
        if self.bid > self.ask:
            return f"{self.contract.key}: crossed quote {self.bid:.2f} > {self.ask:.2f}"
        age = (now - self.ts).total_seconds()
        if age > max_age_seconds:
            return f"{self.contract.key}: quote is {age:.0f} s old (max {max_age_seconds:.0f} s)"
        if not math.isfinite(self.delta):
            return f"{self.contract.key}: delta unknown"
        return None


@dataclass(frozen=True)
class Chain:
    """Quotes of an underlying's options over the requested expiries and strikes.

    ``chain_volume`` is a daily option volume of the whole chain: the last complete session's
    (simulated market) or IB's average option volume; None when unknown.
    """

    listing_id: str
    underlying: UnderlyingQuote
    quotes: tuple[OptionQuote, ...]
    chain_volume: int | None
    ts: datetime
    _sides: dict[tuple[date, str], list[OptionQuote]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _index: dict[tuple[date, str], dict[float, OptionQuote]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Quotes by strike of each (expiry, right) asked so far (built on first use, per side)."""

    @classmethod
    def presorted(
        cls,
        listing_id: str,
        underlying: UnderlyingQuote,
        quotes: tuple[OptionQuote, ...],
        chain_volume: int | None,
        ts: datetime,
        sides: dict[tuple[date, str], list[OptionQuote]],
    ) -> Chain:
        """Return a chain whose quotes by (expiry, right) are already known, sorted by strike.

        `sides` must be what grouping `quotes` would give (keys in order of first appearance,
        each list sorted by strike); a market that builds its quotes in that order passes them
        so the chain need not sort again.
        """
        chain = cls(listing_id, underlying, quotes, chain_volume, ts)
        object.__setattr__(chain, "_sides", sides)
        return chain

    def _grouped(self) -> dict[tuple[date, str], list[OptionQuote]]:
        """Return the quotes by (expiry, right), sorted by strike (built once, on first use)."""
        if self._sides is None:
            sides: dict[tuple[date, str], list[OptionQuote]] = {}
            for q in self.quotes:
                sides.setdefault((q.contract.expiry, q.contract.right), []).append(q)
            for rows in sides.values():
                rows.sort(key=lambda q: q.contract.strike)
            object.__setattr__(self, "_sides", sides)
            return sides
        return self._sides

    @property
    def expiries(self) -> list[date]:
        """Return the expiries present in this chain, sorted."""
        return sorted({expiry for expiry, _ in self._grouped()})

    def quote(self, expiry: date, strike: float, right: Right) -> OptionQuote | None:
        """Return the quote of one contract, or None when the chain does not hold it."""
        by_strike = self._index.get((expiry, right))
        if by_strike is None:
            side = self._grouped().get((expiry, right), ())
            by_strike = self._index[expiry, right] = {q.contract.strike: q for q in side}
        return by_strike.get(round(strike, 4))

    def side(self, expiry: date, right: Right) -> list[OptionQuote]:
        """Return the quotes of one expiry and right, sorted by strike (a new list)."""
        return list(self._grouped().get((expiry, right), ()))


@dataclass(frozen=True)
class DailyHistory:
    """Daily bars of an underlying and its 30-day at-the-money implied volatility (per 1.00)."""

    listing_id: str
    dates: tuple[date, ...]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    iv: np.ndarray

    def __len__(self) -> int:
        return len(self.dates)


@dataclass(frozen=True, slots=True)
class FxQuote:
    """A currency pair quote such as USD.CAD (CAD per USD)."""

    pair: str
    bid: float
    ask: float
    ts: datetime

    @property
    def mid(self) -> float:
        """Return the mid rate."""
        return (self.bid + self.ask) / 2.0

    @property
    def spread_pips(self) -> float:
        """Return ask − bid in pips (0.0001)."""
        return (self.ask - self.bid) / PIP


@dataclass(frozen=True)
class AccountSnapshot:
    """Cash per currency and net liquidation in the base currency."""

    account_id: str
    base_currency: str
    cash: Mapping[str, float]
    net_liquidation: float
    ts: datetime


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg of a combo: a contract, the side we take, and its ratio per combo unit."""

    contract: OptionContract
    action: Action
    ratio: int = 1

    @property
    def sign(self) -> int:
        """Return +1 for a bought leg, −1 for a sold one."""
        return 1 if self.action == "BUY" else -1

    def reversed(self) -> Leg:
        """Return the leg that closes this one."""
        return Leg(self.contract, "SELL" if self.action == "BUY" else "BUY", self.ratio)


@dataclass(frozen=True)
class ComboOrder:
    """A multi-leg limit order; ``limit_price`` is the net debit per unit (negative = credit)."""

    order_ref: str
    listing_id: str
    legs: tuple[Leg, ...]
    qty: int
    limit_price: float


class OrderStatus(StrEnum):
    """Lifecycle of an order at the broker."""

    SUBMITTED = "submitted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    UNCONFIRMED = "unconfirmed"
    """Maybe sent, never acknowledged (see :class:`OrderUnconfirmed`): possibly working until the
    broker's orders and executions say otherwise. Journaled by Execution; no broker reports it."""

    @property
    def is_done(self) -> bool:
        """Return True once the order can no longer fill."""
        return self in (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED)


@dataclass(frozen=True, slots=True)
class LegFill:
    """The price one leg of a combo execution traded at ($ per share), and its commission."""

    contract: OptionContract
    action: Action
    qty: int
    price: float
    commission: float = math.nan
    exec_id: str = ""


@dataclass(frozen=True)
class Fill:
    """One execution of a combo order (a partial fill is one Fill among several)."""

    fill_id: str
    order_id: str
    order_ref: str
    ts: datetime
    qty: int
    price: float
    commission: float
    commission_currency: str
    legs: tuple[LegFill, ...] = ()


@dataclass(frozen=True)
class OrderState:
    """What the broker knows of one order right now."""

    order_id: str
    order_ref: str
    listing_id: str
    status: OrderStatus
    qty: int
    filled: int
    limit_price: float
    fills: tuple[Fill, ...]
    ts: datetime
    reason: str = ""
    legs: tuple[Leg, ...] = ()

    @property
    def remaining(self) -> int:
        """Return the units still working."""
        return self.qty - self.filled

    @property
    def avg_fill_price(self) -> float:
        """Return the quantity-weighted fill price, NaN when nothing filled."""
        if not self.fills:
            return math.nan
        total = sum(f.qty for f in self.fills)
        return sum(f.price * f.qty for f in self.fills) / total


@dataclass(frozen=True, slots=True)
class BrokerPosition:
    """A position the broker holds in one option contract (qty > 0 long, < 0 short)."""

    contract: OptionContract
    qty: int
    avg_cost: float


def order_ref(strategy: str, position_id: str, intent: Intent) -> str:
    """Return the order reference that ties an order to its strategy and position."""
    return f"seeker:{strategy}:{position_id}:{intent}"


def parse_order_ref(ref: str) -> tuple[str, str, str] | None:
    """Return (strategy, position_id, intent) from one of our order refs, or None if not ours."""
    parts = ref.split(":")
    if len(parts) != 4 or parts[0] != "seeker":
        return None
    return parts[1], parts[2], parts[3]
