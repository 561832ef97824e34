"""A fake TWS: an asyncio server that speaks the TWS API text protocol (server version 178).

The unmodified ``ib_async`` client connects to it, synchronises, qualifies contracts, reads option
chains, streams quotes with greeks, loads daily history and places BAG combo and IDEALPRO orders. It
is backed by any :class:`seeker.core.broker.Broker` (normally the real ``SimBroker``), so chains,
quotes, history and fills agree with the simulated market. Fault controls let tests drop the
connection, reject or partially fill orders, withhold fills and corrupt quotes.

Conventions on the wire (see ``ib_async``: ``client.py`` encodes requests, ``decoder.py`` decodes
what this server sends):

* a frame is a 4-byte big-endian length, then ASCII fields each terminated by NUL;
* greeks follow IB units: vega per vol point (Seeker's per-1.00 vega / 100) and theta per day
  (Seeker's per-year theta / 365);
* an IB BAG ``BUY`` at ``lmtPrice`` p is Seeker's ``ComboOrder(legs, limit_price=p)``; a ``SELL`` is
  the reversed legs at ``-p``;
* position ``avgCost`` is per contract (Seeker's per-share average × multiplier);
* a stock line asked with generic tick 105 gets avOptionVolume (tick 87) = the backend chain's
  ``chain_volume`` (the simulated market has one option-volume figure per listing);
* a daily-history duration longer than the backend's history returns the bars it has, as IB does.

Standalone: ``python tests/fake_tws.py --port 7600 [--config config/seeker.toml] [--speed 60]``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import hashlib
import logging
import math
import signal
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar
from zoneinfo import ZoneInfo

_ROOT = Path(__file__).resolve().parents[1]
if __name__ == "__main__" and str(_ROOT) not in sys.path:  # standalone: find the seeker package
    sys.path.insert(0, str(_ROOT))

from seeker.core.broker import Broker  # noqa: E402
from seeker.core.models import (  # noqa: E402
    ComboOrder,
    DailyHistory,
    DataUnavailable,
    Fill,
    Leg,
    Listing,
    OptionContract,
    OptionQuote,
    OrderState,
    OrderStatus,
)

log = logging.getLogger("fake_tws")

T = TypeVar("T")

SERVER_VERSION = 178
"""The protocol version this server answers (never above 200: from 201 the wire is protobuf)."""
UNSET_DOUBLE = sys.float_info.max
UNSET_DOUBLE_TEXT = "1.7976931348623157E308"
UNSET_INTEGER = 2**31 - 1
NO_SECURITY_DEFINITION = "No security definition has been found for the request"
BAG_CON_ID = 28812380
"""The conId IB gives every BAG contract."""
IB_REAL_PORTS = frozenset({7496, 7497, 4001, 4002})
DEFAULT_PORT = 7600
NY = ZoneInfo("America/New_York")
EXEC_TZ_NAME = "US/Eastern"
MAX_FRAME = 16 * 1024 * 1024

# incoming message ids (client → server)
REQ_MKT_DATA = 1
CANCEL_MKT_DATA = 2
PLACE_ORDER = 3
CANCEL_ORDER = 4
REQ_OPEN_ORDERS = 5
REQ_ACCT_DATA = 6
REQ_EXECUTIONS = 7
REQ_IDS = 8
REQ_CONTRACT_DATA = 9
REQ_AUTO_OPEN_ORDERS = 15
REQ_ALL_OPEN_ORDERS = 16
REQ_MANAGED_ACCTS = 17
REQ_HISTORICAL_DATA = 20
CANCEL_HISTORICAL_DATA = 25
REQ_CURRENT_TIME = 49
REQ_GLOBAL_CANCEL = 58
REQ_MARKET_DATA_TYPE = 59
REQ_POSITIONS = 61
REQ_ACCOUNT_SUMMARY = 62
CANCEL_ACCOUNT_SUMMARY = 63
CANCEL_POSITIONS = 64
START_API = 71
REQ_ACCOUNT_UPDATES_MULTI = 76
CANCEL_ACCOUNT_UPDATES_MULTI = 77
REQ_SEC_DEF_OPT_PARAMS = 78
REQ_COMPLETED_ORDERS = 99

# outgoing message ids (server → client)
TICK_PRICE = 1
TICK_SIZE = 2
ORDER_STATUS = 3
ERR_MSG = 4
OPEN_ORDER = 5
ACCT_VALUE = 6
PORTFOLIO_VALUE = 7
ACCT_UPDATE_TIME = 8
NEXT_VALID_ID = 9
CONTRACT_DATA = 10
EXECUTION_DATA = 11
MANAGED_ACCTS = 15
HISTORICAL_DATA = 17
TICK_OPTION_COMPUTATION = 21
TICK_GENERIC = 45
TICK_STRING = 46
CURRENT_TIME = 49
CONTRACT_DATA_END = 52
OPEN_ORDER_END = 53
ACCT_DOWNLOAD_END = 54
EXECUTION_DATA_END = 55
TICK_SNAPSHOT_END = 57
MARKET_DATA_TYPE = 58
COMMISSION_REPORT = 59
POSITION_DATA = 61
POSITION_END = 62
ACCOUNT_SUMMARY = 63
ACCOUNT_SUMMARY_END = 64
ACCOUNT_UPDATE_MULTI = 73
ACCOUNT_UPDATE_MULTI_END = 74
SECURITY_DEFINITION_OPTION_PARAMETER = 75
SECURITY_DEFINITION_OPTION_PARAMETER_END = 76
TICK_REQ_PARAMS = 81
COMPLETED_ORDER = 101
COMPLETED_ORDERS_END = 102

# tick types: (live, delayed)
_TICK_BID = (1, 66)
_TICK_ASK = (2, 67)
_TICK_LAST = (4, 68)
_TICK_VOLUME = (8, 74)
_TICK_BID_OPTION = (10, 80)
_TICK_ASK_OPTION = (11, 81)
_TICK_MODEL_OPTION = (13, 83)
_TICK_LAST_TIMESTAMP = (45, 88)
_TICK_CALL_OI = 27
_TICK_PUT_OI = 28
_TICK_OPTION_IV = 24
_TICK_AV_OPTION_VOLUME = 87

# market data types
MDT_LIVE, MDT_FROZEN, MDT_DELAYED, MDT_DELAYED_FROZEN = 1, 2, 3, 4

Wire = str | int | float | bool | None


class ProtocolError(Exception):
    """Raise when a client request cannot be read."""


# --------------------------------------------------------------------------------------------
# wire encoding
# --------------------------------------------------------------------------------------------


def fmt(value: Wire) -> str:
    """Return one field as IB text: bools as 1/0, unset doubles as IB's max double."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            raise ValueError("NaN cannot travel on the TWS wire")
        if value == UNSET_DOUBLE:
            return UNSET_DOUBLE_TEXT
        if math.isinf(value):
            return "Infinite" if value > 0 else "-Infinite"
        return repr(value)
    return str(value)


def frame(fields: Iterable[Wire]) -> bytes:
    """Return one length-prefixed frame of NUL-terminated fields."""
    payload = "".join(fmt(f) + "\0" for f in fields).encode()
    return struct.pack(">I", len(payload)) + payload


class Reader:
    """Read the fields of one request in order; a missing field is a ProtocolError."""

    def __init__(self, fields: Sequence[str], pos: int = 1) -> None:
        self.fields = fields
        self.pos = pos

    def str(self) -> str:
        """Return the next field as text."""
        if self.pos >= len(self.fields):
            raise ProtocolError(f"request {self.fields[0]} ends after {self.pos} fields")
        value = self.fields[self.pos]
        self.pos += 1
        return value

    def int(self, default: int = 0) -> int:
        """Return the next field as an int (empty → default)."""
        text = self.str()
        return int(text) if text else default

    def float(self, default: float = UNSET_DOUBLE) -> float:
        """Return the next field as a float (empty → default)."""
        text = self.str()
        if not text:
            return default
        if text == "Infinite":
            return math.inf
        return float(text)

    def bool(self) -> bool:
        """Return the next field as a bool ("1"/"0"; empty → False)."""
        text = self.str()
        return bool(int(text)) if text else False

    def contract(self) -> ContractQuery:
        """Return the 12-field contract that ib_async sends in most requests."""
        return ContractQuery(
            con_id=self.int(),
            symbol=self.str(),
            sec_type=self.str(),
            last_trade_date=self.str(),
            strike=self.float(0.0),
            right=self.str(),
            multiplier=self.str(),
            exchange=self.str(),
            primary_exchange=self.str(),
            currency=self.str(),
            local_symbol=self.str(),
            trading_class=self.str(),
        )

    def has_more(self) -> bool:
        """Return True if fields remain."""
        return self.pos < len(self.fields)


# --------------------------------------------------------------------------------------------
# contracts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContractQuery:
    """A contract as a client sent it (possibly partial)."""

    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    last_trade_date: str = ""
    strike: float = 0.0
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    trading_class: str = ""


@dataclass(frozen=True, slots=True)
class IbContract:
    """A fully defined IB contract and the Seeker object it stands for."""

    con_id: int
    symbol: str
    sec_type: str
    currency: str
    exchange: str
    primary_exchange: str = ""
    last_trade_date: str = ""
    strike: float = 0.0
    right: str = ""
    multiplier: str = ""
    local_symbol: str = ""
    trading_class: str = ""
    listing_id: str = ""
    option: OptionContract | None = None
    pair: str = ""

    def core11(self) -> list[Wire]:
        """Return conId … tradingClass, no primaryExchange (openOrder, execDetails, position)."""
        return [
            self.con_id,
            self.symbol,
            self.sec_type,
            self.last_trade_date,
            self.strike,
            self.right,
            self.multiplier,
            self.exchange,
            self.currency,
            self.local_symbol,
            self.trading_class,
        ]


def stable_con_id(key: str) -> int:
    """Return a deterministic conId for a contract key (same across restarts)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return 10_000_000 + int.from_bytes(digest, "big") % 2_000_000_000


def occ_symbol(symbol: str, expiry: date, right: str, strike: float) -> str:
    """Return the OCC-style local symbol of an option, e.g. ``IWM   260116C00045500``."""
    return f"{symbol:<6}{expiry:%y%m%d}{right}{round(strike * 1000):08d}"


def _norm_right(right: str) -> str:
    return {"C": "C", "CALL": "C", "P": "P", "PUT": "P"}.get(right.upper(), "?")


class ContractBook:
    """Map IB contracts to Seeker listings, options and FX pairs, with stable conIds."""

    def __init__(
        self, backend: Broker, listings: Mapping[str, Listing], fx_pairs: Sequence[str]
    ) -> None:
        self.backend = backend
        self.listings = dict(listings)
        self.fx_pairs = tuple(fx_pairs)
        self._by_id: dict[int, IbContract] = {}
        self._indexed: set[str] = set()

    # ---- canonical contracts
    def _register(self, c: IbContract) -> IbContract:
        known = self._by_id.get(c.con_id)
        if known is None:
            self._by_id[c.con_id] = c
        elif (known.listing_id, known.option, known.pair) != (c.listing_id, c.option, c.pair):
            raise RuntimeError(f"conId collision between {known} and {c}")
        return c

    @staticmethod
    def option_exchange(listing: Listing) -> str:
        """Return the native option exchange of a listing (CDE in Canada, CBOE in the US)."""
        return "CDE" if listing.currency == "CAD" else "CBOE"

    def stock(self, listing_id: str) -> IbContract:
        """Return the STK contract of a listing."""
        li = self.listings[listing_id]
        return self._register(
            IbContract(
                con_id=stable_con_id(f"STK:{listing_id}"),
                symbol=li.symbol,
                sec_type="STK",
                currency=li.currency,
                exchange="SMART",
                primary_exchange=li.exchange,
                local_symbol=li.symbol,
                trading_class=li.symbol,
                listing_id=listing_id,
            )
        )

    def option(self, oc: OptionContract) -> IbContract:
        """Return the OPT contract of a Seeker option."""
        li = self.listings[oc.listing_id]
        ltd = f"{oc.expiry:%Y%m%d}"
        return self._register(
            IbContract(
                con_id=stable_con_id(f"OPT:{oc.listing_id}:{ltd}:{oc.strike:g}:{oc.right}"),
                symbol=li.symbol,
                sec_type="OPT",
                currency=li.currency,
                exchange="SMART" if li.currency != "CAD" else "CDE",
                last_trade_date=ltd,
                strike=float(oc.strike),
                right=oc.right,
                multiplier=str(li.multiplier),
                local_symbol=occ_symbol(li.symbol, oc.expiry, oc.right, oc.strike),
                trading_class=li.symbol,
                listing_id=oc.listing_id,
                option=oc,
            )
        )

    def fx(self, pair: str) -> IbContract:
        """Return the CASH contract of a pair such as USD.CAD (IDEALPRO)."""
        base, quote = pair.split(".")
        return self._register(
            IbContract(
                con_id=stable_con_id(f"CASH:{pair}"),
                symbol=base,
                sec_type="CASH",
                currency=quote,
                exchange="IDEALPRO",
                local_symbol=pair,
                trading_class=pair,
                pair=pair,
            )
        )

    def target(self, target: OptionContract | str) -> IbContract:
        """Return the contract of an option, a listing id or an FX pair."""
        if isinstance(target, OptionContract):
            return self.option(target)
        if target in self.listings:
            return self.stock(target)
        if target in self.fx_pairs:
            return self.fx(target)
        raise KeyError(f"unknown target {target!r}")

    # ---- lookups
    def by_con_id(self, con_id: int) -> IbContract | None:
        """Return the contract of a conId, indexing the backend's chains when needed."""
        hit = self._by_id.get(con_id)
        if hit is not None:
            return hit
        for lid in self.listings:
            if lid in self._indexed:
                continue
            self._indexed.add(lid)
            self.stock(lid)
            for oc in self._options(lid):
                self.option(oc)
            if con_id in self._by_id:
                return self._by_id[con_id]
        for pair in self.fx_pairs:
            self.fx(pair)
        return self._by_id.get(con_id)

    def _options(
        self,
        listing_id: str,
        months: str = "",
        day: str = "",
        strike: float = 0.0,
        right: str = "",
    ) -> Iterable[OptionContract]:
        try:
            expiries = self.backend.expiries(listing_id)
        except DataUnavailable:
            return
        for expiry in expiries:
            if day and f"{expiry:%Y%m%d}" != day:
                continue
            if months and f"{expiry:%Y%m}" != months:
                continue
            try:
                strikes = self.backend.strikes(listing_id, expiry)
            except DataUnavailable:
                continue
            if strike:
                listed = any(round(k, 4) == round(strike, 4) for k in strikes)
                if not listed and not self._quoted(listing_id, expiry, strike):
                    continue
                strikes = [strike]
            for k in strikes:
                for r in ("C", "P"):
                    if right and r != right:
                        continue
                    yield OptionContract(listing_id, expiry, float(k), r)  # type: ignore[arg-type]

    def _quoted(self, listing_id: str, expiry: date, strike: float) -> bool:
        """Return True if the backend quotes a strike (strikes once listed stay listed)."""
        probe = OptionContract(listing_id, expiry, float(strike), "C")
        try:
            return probe in self.backend.option_quotes([probe])
        except DataUnavailable:
            return False

    def _listings_for(self, q: ContractQuery) -> list[Listing]:
        out = []
        for li in self.listings.values():
            if q.symbol and li.symbol != q.symbol.upper():
                continue
            if q.currency and li.currency != q.currency.upper():
                continue
            if q.primary_exchange and li.exchange != q.primary_exchange.upper():
                continue
            out.append(li)
        return out

    def resolve(self, q: ContractQuery) -> list[IbContract]:
        """Return every contract matching a (possibly partial) query, as IB's details would."""
        if q.con_id:
            hit = self.by_con_id(q.con_id)
            if hit is None or (q.sec_type and q.sec_type.upper() != hit.sec_type):
                return []
            return [self._with_exchange(hit, q.exchange)]
        sec = q.sec_type.upper()
        if sec == "STK":
            return self._resolve_stock(q)
        if sec == "OPT":
            return self._resolve_option(q)
        if sec == "CASH":
            pair = f"{q.symbol.upper()}.{q.currency.upper()}"
            if q.local_symbol and q.local_symbol.upper() != pair:
                return []
            if pair in self.fx_pairs and q.exchange.upper() in ("", "IDEALPRO"):
                return [self.fx(pair)]
            return []
        return []

    def _resolve_stock(self, q: ContractQuery) -> list[IbContract]:
        out = []
        for li in self._listings_for(q):
            if q.exchange.upper() not in ("", "SMART", li.exchange):
                continue
            c = self.stock(li.listing_id)
            if q.local_symbol and q.local_symbol != c.local_symbol:
                continue
            out.append(self._with_exchange(c, q.exchange))
        return out

    def _resolve_option(self, q: ContractQuery) -> list[IbContract]:
        right = _norm_right(q.right) if q.right else ""
        if right == "?":
            return []
        ltd = q.last_trade_date
        day, months = (ltd, "") if len(ltd) == 8 else ("", ltd if len(ltd) == 6 else "")
        if ltd and not (day or months):
            return []
        out = []
        for li in self._listings_for(q):
            if q.exchange.upper() not in ("", "SMART", self.option_exchange(li)):
                continue
            if q.trading_class and q.trading_class != li.symbol:
                continue
            if q.multiplier and q.multiplier not in (str(li.multiplier), f"{li.multiplier}.0"):
                continue
            for oc in self._options(li.listing_id, months, day, q.strike, right):
                c = self.option(oc)
                if q.local_symbol and q.local_symbol != c.local_symbol:
                    continue
                out.append(self._with_exchange(c, q.exchange))
        return out

    @staticmethod
    def _with_exchange(c: IbContract, exchange: str) -> IbContract:
        if exchange and exchange.upper() != c.exchange and c.sec_type != "CASH":
            return replace(c, exchange=exchange.upper())
        return c


# --------------------------------------------------------------------------------------------
# quotes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuoteView:
    """What one market-data line shows: prices, sizes, greeks (IB units) and the quote's time."""

    bid: float
    ask: float
    ts: datetime
    bid_size: float | None = None
    ask_size: float | None = None
    last: float = math.nan
    volume: int | None = None
    open_interest: int | None = None
    right: str = ""
    iv: float = math.nan
    delta: float = math.nan
    gamma: float = math.nan
    vega: float = math.nan
    theta: float = math.nan
    und_price: float = math.nan
    is_option: bool = False
    av_option_volume: int | None = None


@dataclass(slots=True)
class QuoteFault:
    """A fault applied to the quotes of one contract."""

    kind: Literal["crossed", "frozen", "override"]
    bid: float = math.nan
    ask: float = math.nan
    frozen: QuoteView | None = None
    age_seconds: float = 0.0


@dataclass(slots=True)
class MarketDataLine:
    """One streaming market-data subscription."""

    req_id: int
    contract: IbContract
    legs: tuple[tuple[IbContract, int, str], ...]
    generic: frozenset[str]
    sent: dict[tuple[int, int], tuple[Any, ...]] = field(default_factory=dict)
    data_type: int = MDT_LIVE


# --------------------------------------------------------------------------------------------
# orders and executions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IbLeg:
    """One combo leg as the client sent it, with its resolved contract."""

    con_id: int
    ratio: int
    action: str
    exchange: str
    open_close: int
    short_sale_slot: int
    designated_location: str
    exempt_code: int
    contract: IbContract | None = None


@dataclass(slots=True)
class IbOrderRequest:
    """The fields of a placeOrder request this server reads (the rest keep IB defaults)."""

    order_id: int
    contract: ContractQuery
    action: str
    total_quantity: float
    order_type: str
    lmt_price: float
    aux_price: float
    tif: str
    oca_group: str
    account: str
    open_close: str
    origin: int
    order_ref: str
    transmit: bool
    parent_id: int
    outside_rth: bool
    hidden: bool
    legs: list[IbLeg]
    leg_prices: list[float]
    smart_params: list[tuple[str, str]]
    what_if: bool = False


@dataclass(frozen=True)
class WhatIfMargin:
    """The margin figures a what-if order is answered with (account currency)."""

    equity_with_loan: float
    init_before: float
    init_after: float
    maint_before: float
    maint_after: float
    commission: float


@dataclass(slots=True)
class FakeOrder:
    """An order the fake holds for a client, spread over backend orders ("segments")."""

    client_id: int
    order_id: int
    perm_id: int
    request: IbOrderRequest
    contract: IbContract
    legs: tuple[IbLeg, ...]
    kind: Literal["BAG", "CASH"]
    combo: ComboOrder | None
    invert: bool
    lmt_price: float
    status: str = "Submitted"
    held: float = 0.0
    release_at: float | None = None
    segments: list[str] = field(default_factory=list)
    done_segments: set[str] = field(default_factory=set)
    seen_fills: set[str] = field(default_factory=set)
    filled: float = 0.0
    cost: float = 0.0
    last_fill_price: float = 0.0
    leg_cum: dict[int, tuple[float, float]] = field(default_factory=dict)
    completed_time: str = ""
    why: str = ""
    silent: bool = False
    """Accepted but never acknowledged: nothing is pushed about it (see
    ``FakeTWS.leave_next_order_unacknowledged``); requests (open orders, executions) still list
    it, as TWS would."""

    @property
    def qty(self) -> float:
        """Return the order's total quantity."""
        return self.request.total_quantity

    @property
    def remaining(self) -> float:
        """Return the quantity still working."""
        return 0.0 if self.is_done else self.qty - self.filled

    @property
    def avg_price(self) -> float:
        """Return the average fill price in IB's sign convention (0 when nothing filled)."""
        return self.cost / self.filled if self.filled else 0.0

    @property
    def is_done(self) -> bool:
        """Return True once the order can no longer fill."""
        return self.status in ("Filled", "Cancelled", "Inactive", "ApiCancelled")


@dataclass(frozen=True, slots=True)
class Execution:
    """One execution as IB reports it, kept for reqExecutions replays."""

    exec_id: str
    client_id: int
    order_id: int
    perm_id: int
    contract: IbContract
    time_text: str
    side: str
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    order_ref: str
    commission: float
    commission_currency: str


# --------------------------------------------------------------------------------------------
# connections
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Connection:
    """One client connection and its subscriptions."""

    writer: asyncio.StreamWriter
    peer: str
    client_id: int = -1
    api_started: bool = False
    market_data_type: int = MDT_LIVE
    lines: dict[int, MarketDataLine] = field(default_factory=dict)
    positions_subscribed: bool = False
    account_updates: bool = False
    multi_req_ids: set[int] = field(default_factory=set)
    closed: bool = False

    def send(self, *fields: Wire) -> None:
        """Write one message (dropped silently once the connection is closed)."""
        if self.closed or self.writer.is_closing():
            return
        self.writer.write(frame(fields))


class ClockLike(Protocol):
    """Anything with ``now()`` returning an aware datetime (Seeker's Clock protocol fits)."""

    def now(self) -> datetime:
        """Return the current time."""
        ...


class _WallClock:
    def now(self) -> datetime:
        return datetime.now(NY)


class _CallableClock:
    def __init__(self, fn: Callable[[], datetime]) -> None:
        self._fn = fn

    def now(self) -> datetime:
        return self._fn()


# --------------------------------------------------------------------------------------------
# the server
# --------------------------------------------------------------------------------------------


class FakeTWS:
    """A TWS API server (text protocol, version 178) in front of a Seeker Broker.

    ``backend`` is any :class:`~seeker.core.broker.Broker`; it is called synchronously from the
    server's loop (the protocol requires thread safety, so tests may call it too). ``listings``
    maps listing ids to IB contracts (symbol, currency, primary exchange). ``clock`` (an object
    with ``now()``, e.g. a Seeker Clock, or a plain callable) stamps the handshake, currentTime,
    completed orders and account times; the backend's own timestamps stamp quotes and fills.
    Market time is the backend's business: advance it (``SimBroker.on_time`` or a SimClock) and
    the fake pushes the consequences, polling working orders every ``poll_interval`` seconds
    and streaming lines every ``quote_interval`` seconds (``pump()`` does one poll now).

    Run it on the current loop (``await start()`` / ``await stop()``, or ``async with``) or in
    its own thread and loop (``start_background()`` / ``close()``, or ``with``). Every public
    control method is thread-safe.

    Faults: :meth:`drop_connections` (optionally refusing connects for a while),
    :meth:`reject_next_order`, :meth:`partial_fill_next_order`, :meth:`withhold_fills`,
    :meth:`delay_fills`, :meth:`release_held`, :meth:`leave_next_order_unacknowledged` (with
    :meth:`acknowledge_orders`), :meth:`ignore_next_cancel`, :meth:`crossed_quote`,
    :meth:`override_quote`, :meth:`freeze_quote`, :meth:`clear_quote_faults` and :meth:`send_raw`
    (arbitrary frames).
    """

    def __init__(
        self,
        backend: Broker,
        listings: Mapping[str, Listing] | Iterable[Listing],
        *,
        account: str = "DU1234567",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: ClockLike | Callable[[], datetime] | None = None,
        fx_pairs: Sequence[str] = ("USD.CAD",),
        poll_interval: float = 0.02,
        quote_interval: float = 0.25,
        unknown_size: float = 1.0,
        farm_messages: bool = True,
        allow_ib_port: bool = False,
    ) -> None:
        if port in IB_REAL_PORTS and not allow_ib_port:
            raise ValueError(f"port {port} is a real IB port; pass allow_ib_port=True to use it")
        if not isinstance(listings, Mapping):
            listings = {li.listing_id: li for li in listings}
        self.backend = backend
        self.book = ContractBook(backend, listings, fx_pairs)
        self.account = account
        self.host = host
        self.port = port
        if clock is None:
            clock = _WallClock()
        elif not hasattr(clock, "now"):
            clock = _CallableClock(clock)  # type: ignore[arg-type]
        self.clock: ClockLike = clock  # type: ignore[assignment]
        self.poll_interval = poll_interval
        self.quote_interval = quote_interval
        self.unknown_size = unknown_size
        self.farm_messages = farm_messages

        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._reopen_handle: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None
        self._conns: list[Connection] = []
        self._client_tasks: set[asyncio.Task[Any]] = set()
        self._orders: dict[tuple[int, int], FakeOrder] = {}
        self._executions: list[Execution] = []
        self._next_perm_id = 1_000_000_001
        self._exec_seq = 0
        self._max_order_id: dict[int, int] = {}
        self._last_positions: dict[int, tuple[IbContract, float, float]] = {}
        self._last_quote_poll = 0.0
        # faults
        self._reject_next: tuple[str, str] | None = None
        self.what_if_margin: Callable[[ComboOrder], WhatIfMargin] | None = None
        """Answer what-if combo orders with these figures (None: refuse them, as by default)."""
        self._partial_next: int | None = None
        self._unack_next: tuple[bool, float] | None = None
        self._ignore_cancel: tuple[bool, float] | None = None
        self._withhold = False
        self._delay = 0.0
        self._quote_faults: dict[int, QuoteFault] = {}
        self._poll_problems: dict[str, str] = {}
        self._handler_table = self._handlers()

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> int:
        """Start listening on the running loop; return the bound port."""
        self._loop = asyncio.get_running_loop()
        await self._listen()
        self._poll_task = asyncio.create_task(self._poll_loop(), name="fake-tws-poll")
        log.info("fake TWS listening on %s:%d", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        """Stop listening, drop every connection and stop polling."""
        if self._reopen_handle is not None:
            self._reopen_handle.cancel()
            self._reopen_handle = None
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in list(self._conns):
            self._abort(conn)
        tasks = [t for t in (self._poll_task, *self._client_tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._poll_task = None

    async def __aenter__(self) -> FakeTWS:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start_background(self, timeout: float = 10.0) -> int:
        """Start the server in its own thread and event loop; return the bound port."""
        if self._thread is not None:
            raise RuntimeError("already started")
        ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                ready.set_result(loop.run_until_complete(self.start()))
            except BaseException as exc:
                ready.set_exception(exc)
                loop.close()
                return
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-tws", daemon=True)
        self._thread.start()
        return ready.result(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Stop a server started with :meth:`start_background` and join its thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> FakeTWS:
        self.start_background()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._on_client, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def _call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run `fn` on the server's loop and return its result (directly when already there)."""
        loop = self._loop
        if loop is None or loop.is_closed() or not loop.is_running():
            return fn()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            return fn()
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return fut.result(timeout)

    # ---------------------------------------------------------------- fault controls
    def drop_connections(self, refuse_for: float = 0.0) -> None:
        """Close every client socket abruptly; with `refuse_for` > 0, refuse connects that long."""

        self._call(lambda: self._drop_all(refuse_for))

    def _drop_all(self, refuse_for: float) -> None:
        for conn in list(self._conns):
            self._abort(conn)
        if refuse_for > 0 and self._server is not None:
            self._server.close()
            self._server = None
            loop = asyncio.get_running_loop()
            self._reopen_handle = loop.call_later(
                refuse_for, lambda: asyncio.ensure_future(self._reopen())
            )

    async def _reopen(self) -> None:
        self._reopen_handle = None
        if self._server is None:
            await self._listen()
            log.info("fake TWS accepting connections again on port %d", self.port)

    def reject_next_order(
        self,
        reason: str = "simulated rejection",
        status: Literal["Cancelled", "Inactive"] = "Cancelled",
    ) -> None:
        """Reject the next order with error 201 and the given final status."""
        self._call(lambda: setattr(self, "_reject_next", (reason, status)))

    def partial_fill_next_order(self, units: int = 1) -> None:
        """Send only `units` of the next order to the backend; the rest works until released."""
        if units < 1:
            raise ValueError("units must be >= 1")
        self._call(lambda: setattr(self, "_partial_next", units))

    def leave_next_order_unacknowledged(self, drop: bool = False, refuse_for: float = 0.0) -> None:
        """Accept the next new order and keep it live, but never acknowledge it.

        One order only. The order is registered, handed to the backend as usual (so
        :meth:`withhold_fills` / :meth:`delay_fills` apply) and can fill, but nothing is pushed
        about it — no openOrder, orderStatus, error, execution or commission report — until
        :meth:`acknowledge_orders`, or until its client's connection closes (a new session learns
        it from the open orders and executions it asks for at connect). Requests are answered
        truthfully meanwhile: reqOpenOrders lists it, reqExecutions returns its executions. With
        `drop`, every client connection is closed right after the order is received (connects
        refused for `refuse_for` seconds), as when a connection dies with a placeOrder in flight.
        """
        self._call(lambda: setattr(self, "_unack_next", (drop, max(0.0, refuse_for))))

    def ignore_next_cancel(self, drop: bool = False, refuse_for: float = 0.0) -> None:
        """Receive the next cancelOrder and do nothing with it: the order stays live.

        One cancel only. Nothing is pushed about it (no orderStatus, no error); the order keeps
        working (fills held by :meth:`withhold_fills` stay held) and a later cancel is honoured as
        usual. With `drop`, every client connection is closed right after the cancel is received
        (connects refused for `refuse_for` seconds), as when a connection dies with a cancel in
        flight.
        """
        self._call(lambda: setattr(self, "_ignore_cancel", (drop, max(0.0, refuse_for))))

    def acknowledge_orders(self) -> int:
        """Acknowledge the orders left unacknowledged (openOrder, orderStatus); return how many."""

        def go() -> int:
            count = 0
            for order in self._orders.values():
                if not order.silent:
                    continue
                order.silent = False
                count += 1
                conn = self._push_conn(order)
                if conn is not None:
                    self._send_open_order(conn, order)
                    self._send_status(order)
            return count

        return self._call(go)

    def withhold_fills(self, on: bool = True) -> None:
        """Accept new orders but keep them from the backend (so they cannot fill) until released."""
        self._call(lambda: setattr(self, "_withhold", on))

    def delay_fills(self, seconds: float) -> None:
        """Send new orders to the backend only after `seconds` (0 disables)."""
        self._call(lambda: setattr(self, "_delay", max(0.0, seconds)))

    def release_held(self, client_id: int | None = None, order_id: int | None = None) -> int:
        """Send held quantities to the backend (all orders, or one); return how many released."""

        def go() -> int:
            count = 0
            for order in list(self._orders.values()):
                if order.is_done or order.held <= 0:
                    continue
                if order_id is not None and order.order_id != order_id:
                    continue
                if client_id is not None and order.client_id != client_id:
                    continue
                self._release(order)
                count += 1
            return count

        return self._call(go)

    def crossed_quote(self, target: OptionContract | str) -> None:
        """Serve a crossed market (bid above ask) for an option, listing id or FX pair."""
        self._set_quote_fault(target, QuoteFault("crossed"))

    def override_quote(self, target: OptionContract | str, bid: float, ask: float) -> None:
        """Serve fixed bid/ask for a contract."""
        self._set_quote_fault(target, QuoteFault("override", bid=bid, ask=ask))

    def freeze_quote(self, target: OptionContract | str, age_seconds: float = 0.0) -> None:
        """Freeze a contract's quote (market data type 2), its timestamp `age_seconds` old."""
        self._set_quote_fault(target, QuoteFault("frozen", age_seconds=age_seconds))

    def clear_quote_faults(self, target: OptionContract | str | None = None) -> None:
        """Remove quote faults (of one contract, or all)."""

        def go() -> None:
            if target is None:
                self._quote_faults.clear()
            else:
                self._quote_faults.pop(self.book.target(target).con_id, None)
            self._refresh_lines(force=True)

        self._call(go)

    def _set_quote_fault(self, target: OptionContract | str, fault: QuoteFault) -> None:
        def go() -> None:
            c = self.book.target(target)
            if fault.kind == "frozen":
                view = self._raw_view(c)
                if view is None:
                    raise DataUnavailable(f"no quote to freeze for {target}")
                ts = view.ts - timedelta(seconds=fault.age_seconds)
                fault.frozen = replace(view, ts=ts)
            self._quote_faults[c.con_id] = fault
            self._refresh_lines(force=True)

        self._call(go)

    def send_raw(self, client_id: int, *fields: Wire) -> None:
        """Send one arbitrary message to a client (for testing how a client copes with junk)."""

        def go() -> None:
            conn = self._conn_for(client_id)
            if conn is None:
                raise KeyError(f"no client {client_id} connected")
            conn.send(*fields)

        self._call(go)

    def pump(self) -> None:
        """Poll the backend once now (order states, then quotes) and push what changed."""
        self._call(lambda: self._poll_once(force_quotes=True))

    # ---------------------------------------------------------------- introspection
    def contract_for(self, target: OptionContract | str) -> IbContract:
        """Return the IB contract the fake uses for an option, listing id or FX pair."""
        return self._call(lambda: self.book.target(target))

    def backend_order_ids(self, client_id: int, order_id: int) -> list[str]:
        """Return the backend order ids behind one IB order."""
        return self._call(lambda: list(self._orders[(client_id, order_id)].segments))

    def connected_client_ids(self) -> list[int]:
        """Return the client ids with a started API session."""
        return self._call(lambda: [c.client_id for c in self._conns if c.api_started])

    # ---------------------------------------------------------------- connection handling
    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername"))
        conn = Connection(writer=writer, peer=peer)
        self._conns.append(conn)
        task = asyncio.current_task()
        if task is not None:
            self._client_tasks.add(task)
            task.add_done_callback(self._client_tasks.discard)
        try:
            head = await reader.readexactly(4)
            if head != b"API\0":
                log.warning("client %s did not start with API\\0 (%r)", peer, head)
                return
            hello = (await self._read_frame(reader)).decode(errors="replace")
            if not self._handshake(conn, hello):
                return
            while not conn.closed:
                payload = await self._read_frame(reader)
                fields = payload.decode(errors="backslashreplace").split("\0")
                if fields and fields[-1] == "":
                    fields.pop()
                if not fields:
                    continue
                self._dispatch(conn, fields)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except ProtocolError as exc:
            log.error("protocol error from %s: %s", peer, exc)
        finally:
            self._forget(conn)
            if not writer.is_closing():
                writer.close()

    @staticmethod
    async def _read_frame(reader: asyncio.StreamReader) -> bytes:
        size = struct.unpack(">I", await reader.readexactly(4))[0]
        if size > MAX_FRAME:
            raise ProtocolError(f"frame of {size} bytes")
        return await reader.readexactly(size)

    def _handshake(self, conn: Connection, hello: str) -> bool:
        text = hello.split(" ", 1)[0]
        if not text.startswith("v"):
            log.warning("client %s sent a bad version string %r", conn.peer, hello)
            return False
        lo_text, _, hi_text = text[1:].partition("..")
        lo, hi = int(lo_text), int(hi_text or lo_text)
        if not lo <= SERVER_VERSION <= hi:
            log.warning(
                "client %s wants versions %d..%d; the fake speaks %d",
                conn.peer,
                lo,
                hi,
                SERVER_VERSION,
            )
            return False
        now = self.clock.now().astimezone(NY)
        conn.writer.write(frame([SERVER_VERSION, now.strftime("%Y%m%d %H:%M:%S %Z")]))
        return True

    def _abort(self, conn: Connection) -> None:
        conn.closed = True
        transport = conn.writer.transport
        if transport is not None and not transport.is_closing():
            transport.abort()
        self._forget(conn)

    def _forget(self, conn: Connection) -> None:
        conn.closed = True
        conn.lines.clear()
        if conn in self._conns:
            self._conns.remove(conn)
        if conn.api_started:  # a new session learns its orders from what it asks at connect
            for order in self._orders.values():
                if order.client_id == conn.client_id:
                    order.silent = False

    def _dispatch(self, conn: Connection, fields: list[str]) -> None:
        try:
            msg_id = int(fields[0])
        except ValueError:
            raise ProtocolError(f"bad message id {fields[0]!r}") from None
        if not conn.api_started and msg_id != START_API:
            log.warning("message %d before startApi from %s", msg_id, conn.peer)
            return
        handler = self._handler_table.get(msg_id)
        if handler is None:
            log.warning("unsupported request %d: %s", msg_id, fields)
            self._error(
                conn,
                -1,
                321,
                f"Error validating request: message {msg_id} is not supported by the fake TWS",
            )
            return
        try:
            handler(conn, Reader(fields))
        except ProtocolError as exc:
            log.error("cannot read message %s: %s", fields, exc)
            conn.send(ERR_MSG, 2, -1, 320, f"Error reading request: {exc}", "")

    def _handlers(self) -> dict[int, Callable[[Connection, Reader], None]]:
        return {
            START_API: self._start_api,
            REQ_MKT_DATA: self._req_mkt_data,
            CANCEL_MKT_DATA: self._cancel_mkt_data,
            PLACE_ORDER: self._place_order,
            CANCEL_ORDER: self._cancel_order,
            REQ_OPEN_ORDERS: self._req_open_orders,
            REQ_ALL_OPEN_ORDERS: self._req_open_orders,
            REQ_ACCT_DATA: self._req_account_updates,
            REQ_EXECUTIONS: self._req_executions,
            REQ_IDS: self._req_ids,
            REQ_CONTRACT_DATA: self._req_contract_details,
            REQ_AUTO_OPEN_ORDERS: lambda conn, r: None,
            REQ_MANAGED_ACCTS: lambda conn, r: conn.send(MANAGED_ACCTS, 1, self.account),
            REQ_HISTORICAL_DATA: self._req_historical_data,
            CANCEL_HISTORICAL_DATA: lambda conn, r: None,
            REQ_CURRENT_TIME: self._req_current_time,
            REQ_GLOBAL_CANCEL: self._req_global_cancel,
            REQ_MARKET_DATA_TYPE: self._req_market_data_type,
            REQ_POSITIONS: self._req_positions,
            CANCEL_POSITIONS: self._cancel_positions,
            REQ_ACCOUNT_SUMMARY: self._req_account_summary,
            CANCEL_ACCOUNT_SUMMARY: lambda conn, r: None,
            REQ_ACCOUNT_UPDATES_MULTI: self._req_account_updates_multi,
            CANCEL_ACCOUNT_UPDATES_MULTI: self._cancel_account_updates_multi,
            REQ_SEC_DEF_OPT_PARAMS: self._req_sec_def_opt_params,
            REQ_COMPLETED_ORDERS: self._req_completed_orders,
        }

    @staticmethod
    def _error(conn: Connection, req_id: int, code: int, message: str) -> None:
        conn.send(ERR_MSG, 2, req_id, code, message, "")

    # ---------------------------------------------------------------- session
    def _start_api(self, conn: Connection, r: Reader) -> None:
        r.int()  # version
        client_id = r.int()
        if any(c.api_started and c.client_id == client_id for c in self._conns if c is not conn):
            self._error(
                conn,
                -1,
                326,
                "Unable to connect as the client id is already in use. "
                "Retry with a unique client id.",
            )
            conn.closed = True
            conn.writer.close()
            return
        conn.client_id = client_id
        conn.api_started = True
        conn.send(MANAGED_ACCTS, 1, self.account)
        conn.send(NEXT_VALID_ID, 1, self._next_order_id(client_id))
        if self.farm_messages:
            for code, text in (
                (2104, "Market data farm connection is OK:usfarm"),
                (2106, "HMDS data farm connection is OK:ushmds"),
                (2158, "Sec-def data farm connection is OK:secdefnj"),
            ):
                self._error(conn, -1, code, text)

    def _next_order_id(self, client_id: int) -> int:
        return self._max_order_id.get(client_id, 0) + 1

    def _req_ids(self, conn: Connection, r: Reader) -> None:
        conn.send(NEXT_VALID_ID, 1, self._next_order_id(conn.client_id))

    def _req_current_time(self, conn: Connection, r: Reader) -> None:
        conn.send(CURRENT_TIME, 1, int(self.clock.now().timestamp()))

    def _req_market_data_type(self, conn: Connection, r: Reader) -> None:
        r.int()
        kind = r.int()
        if kind not in (MDT_LIVE, MDT_FROZEN, MDT_DELAYED, MDT_DELAYED_FROZEN):
            self._error(conn, -1, 10000, f"Invalid market data type {kind}")
            return
        conn.market_data_type = kind

    # ---------------------------------------------------------------- contracts
    def _req_contract_details(self, conn: Connection, r: Reader) -> None:
        r.int()  # version
        req_id = r.int()
        q = r.contract()
        if q.sec_type.upper() == "BAG":
            self._error(
                conn,
                req_id,
                321,
                "Error validating request.-'bW' : cause - Invalid security type - BAG",
            )
            return
        found = self.book.resolve(q)
        if not found:
            self._error(conn, req_id, 200, NO_SECURITY_DEFINITION)
            return
        for c in found:
            conn.send(*self._contract_details_fields(req_id, c))
        conn.send(CONTRACT_DATA_END, 1, req_id)

    def _contract_details_fields(self, req_id: int, c: IbContract) -> list[Wire]:
        listing = self.book.listings.get(c.listing_id)
        under_con_id = self.book.stock(c.listing_id).con_id if c.sec_type == "OPT" else 0
        if c.sec_type == "CASH":
            long_name, tz, min_tick = f"{c.symbol}.{c.currency}", "US/Eastern", 0.00005
            valid, stock_type, contract_month = "IDEALPRO", "", ""
        else:
            assert listing is not None
            tz = "America/Toronto" if listing.currency == "CAD" else "US/Eastern"
            long_name = listing.symbol
            min_tick = 0.01
            native = listing.exchange if c.sec_type == "STK" else self.book.option_exchange(listing)
            valid = f"SMART,{native}"
            stock_type = (
                ("ETF" if listing.kind == "etf" else "COMMON") if c.sec_type == "STK" else ""
            )
            contract_month = c.last_trade_date[:6]
        # Decoder.contractDetails, server version >= 164 (no version field, no mdSizeMultiplier)
        return [
            CONTRACT_DATA,
            req_id,
            c.symbol,
            c.sec_type,
            c.last_trade_date,
            c.strike,
            c.right,
            c.exchange,
            c.currency,
            c.local_symbol,
            c.trading_class,  # marketName
            c.trading_class,
            c.con_id,
            min_tick,
            c.multiplier,
            "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,COMBO,DAY,GTC,LMT,MKT,NONALGO",  # orderTypes
            valid,
            1,  # priceMagnifier
            under_con_id,
            long_name,
            c.primary_exchange,
            contract_month,
            "",  # industry
            "",  # category
            "",  # subcategory
            tz,
            "",  # tradingHours
            "",  # liquidHours
            "",  # evRule
            "",  # evMultiplier
            0,  # secIdList count
            1,  # aggGroup
            listing.symbol if c.sec_type == "OPT" and listing else "",  # underSymbol
            "STK" if c.sec_type == "OPT" else "",  # underSecType
            "",  # marketRuleIds
            c.last_trade_date,  # realExpirationDate
            stock_type,
            1,  # minSize
            1,  # sizeIncrement
            1,  # suggestedSizeIncrement
        ]

    def _req_sec_def_opt_params(self, conn: Connection, r: Reader) -> None:
        req_id = r.int()
        symbol = r.str()
        fut_fop_exchange = r.str()
        r.str()  # underlying secType
        con_id = r.int()
        for li in self.book.listings.values():
            if li.symbol != symbol.upper():
                continue
            stock = self.book.stock(li.listing_id)
            if con_id and con_id != stock.con_id:
                continue
            try:
                expiries = self.backend.expiries(li.listing_id)
                strikes = sorted(
                    {float(k) for e in expiries for k in self.backend.strikes(li.listing_id, e)}
                )
            except DataUnavailable as exc:
                log.info("no option parameters for %s: %s", li.listing_id, exc)
                continue
            for exchange in ("SMART", self.book.option_exchange(li)):
                if fut_fop_exchange and fut_fop_exchange != exchange:
                    continue
                conn.send(
                    SECURITY_DEFINITION_OPTION_PARAMETER,
                    req_id,
                    exchange,
                    stock.con_id,
                    li.symbol,
                    str(li.multiplier),
                    len(expiries),
                    *[f"{e:%Y%m%d}" for e in expiries],
                    len(strikes),
                    *strikes,
                )
        conn.send(SECURITY_DEFINITION_OPTION_PARAMETER_END, req_id)

    # ---------------------------------------------------------------- market data
    def _req_mkt_data(self, conn: Connection, r: Reader) -> None:
        r.int()  # version
        req_id = r.int()
        q = r.contract()
        raw_legs: list[tuple[int, int, str]] = []
        if q.sec_type.upper() == "BAG":
            for _ in range(r.int()):
                leg_con_id, ratio, action, _exchange = r.int(), r.int(), r.str(), r.str()
                raw_legs.append((leg_con_id, ratio, action))
        if r.bool():  # delta-neutral contract
            r.int(), r.float(), r.float()
        generic = frozenset(t.strip() for t in r.str().split(",") if t.strip())
        snapshot = r.bool()
        regulatory = r.bool()
        r.str()  # options
        if q.sec_type.upper() == "BAG":
            legs = []
            for leg_con_id, ratio, action in raw_legs:
                leg = self.book.by_con_id(leg_con_id)
                if leg is None or leg.sec_type != "OPT" or action not in ("BUY", "SELL"):
                    self._error(conn, req_id, 200, NO_SECURITY_DEFINITION)
                    return
                legs.append((leg, ratio, action))
            contract = IbContract(
                con_id=BAG_CON_ID,
                symbol=q.symbol,
                sec_type="BAG",
                currency=q.currency,
                exchange=q.exchange or "SMART",
            )
            line = MarketDataLine(req_id, contract, tuple(legs), generic)
        else:
            found = self.book.resolve(q)
            if len(found) != 1:
                self._error(conn, req_id, 200, NO_SECURITY_DEFINITION)
                return
            line = MarketDataLine(req_id, found[0], (), generic)
        line.data_type = conn.market_data_type
        fault = self._quote_faults.get(line.contract.con_id)
        if fault is not None and fault.kind == "frozen":
            line.data_type = MDT_DELAYED_FROZEN if line.data_type >= MDT_DELAYED else MDT_FROZEN
        conn.send(MARKET_DATA_TYPE, 1, req_id, line.data_type)
        conn.send(
            TICK_REQ_PARAMS,
            req_id,
            0.01,
            "SMART" if line.contract.sec_type != "CASH" else "IDEALPRO",
            3,
        )
        self._send_ticks(conn, line)
        if snapshot or regulatory:
            conn.send(TICK_SNAPSHOT_END, 1, req_id)
        else:
            conn.lines[req_id] = line

    def _cancel_mkt_data(self, conn: Connection, r: Reader) -> None:
        r.int()
        conn.lines.pop(r.int(), None)

    def _raw_views(self, contracts: Iterable[IbContract]) -> dict[int, QuoteView | None]:
        """Return the backend's quotes in IB units by conId (None when it has none).

        Options are fetched in one ``option_quotes`` call, so refreshing many lines stays cheap.
        """
        out: dict[int, QuoteView | None] = {}
        options: dict[OptionContract, IbContract] = {}
        for c in contracts:
            if c.con_id in out:
                continue
            out[c.con_id] = None
            if c.sec_type == "OPT" and c.option is not None:
                options[c.option] = c
                continue
            try:
                if c.sec_type == "STK":
                    u = self.backend.underlying_quote(c.listing_id)
                    out[c.con_id] = QuoteView(
                        bid=u.bid,
                        ask=u.ask,
                        ts=u.ts,
                        last=u.last,
                        av_option_volume=self._option_volume(c.listing_id),
                    )
                elif c.sec_type == "CASH":
                    fx = self.backend.fx_quote(c.pair)
                    out[c.con_id] = QuoteView(bid=fx.bid, ask=fx.ask, ts=fx.ts)
            except DataUnavailable as exc:
                log.debug("no quote for %s: %s", c.local_symbol, exc)
        if options:
            try:
                quotes = self.backend.option_quotes(list(options))
            except DataUnavailable as exc:
                log.debug("no option quotes: %s", exc)
                quotes = {}
            for oc, q in quotes.items():
                c = options.get(oc)
                if c is None:
                    continue
                out[c.con_id] = QuoteView(
                    bid=q.bid,
                    ask=q.ask,
                    ts=q.ts,
                    bid_size=q.bid_size,
                    ask_size=q.ask_size,
                    volume=q.volume,
                    open_interest=q.open_interest,
                    right=c.right,
                    iv=q.iv,
                    delta=q.delta,
                    gamma=q.gamma,
                    vega=q.vega / 100.0,  # IB: per vol point; Seeker: per 1.00 of vol
                    theta=q.theta / 365.0,  # IB: per calendar day; Seeker: per year
                    und_price=q.underlying_price,
                    is_option=True,
                )
        return out

    def _option_volume(self, listing_id: str) -> int | None:
        """Return the backend's option volume of a listing (its chain's ``chain_volume``)."""
        try:
            expiries = self.backend.expiries(listing_id)
            if not expiries:
                return None
            return self.backend.option_chain(listing_id, expiries[:1], (0.0, 0.0)).chain_volume
        except DataUnavailable:
            return None

    def _raw_view(self, c: IbContract) -> QuoteView | None:
        """Return the backend's quote of one contract in IB units, or None."""
        return self._raw_views([c])[c.con_id]

    def _view(
        self, c: IbContract, raw: Mapping[int, QuoteView | None] | None = None
    ) -> QuoteView | None:
        """Return the quote of a contract as served, with any injected fault applied."""
        fault = self._quote_faults.get(c.con_id)
        if fault is not None and fault.kind == "frozen":
            return fault.frozen
        view = raw[c.con_id] if raw is not None and c.con_id in raw else self._raw_view(c)
        if view is None or fault is None:
            return view
        if fault.kind == "override":
            return replace(view, bid=fault.bid, ask=fault.ask)
        bid, ask = view.ask, view.bid  # crossed: the ask becomes the bid and vice versa
        if not bid > ask:
            bid = ask + 0.05
        return replace(view, bid=bid, ask=ask)

    def _bag_view(
        self, line: MarketDataLine, raw: Mapping[int, QuoteView | None] | None = None
    ) -> QuoteView | None:
        """Return a combo's quote from its legs' (BUY convention, per unit)."""
        bid = ask = 0.0
        ts: datetime | None = None
        for leg, ratio, action in line.legs:
            v = self._view(leg, raw)
            if v is None or not (math.isfinite(v.bid) and math.isfinite(v.ask)):
                return None
            if action == "BUY":
                bid, ask = bid + ratio * v.bid, ask + ratio * v.ask
            else:
                bid, ask = bid - ratio * v.ask, ask - ratio * v.bid
            ts = v.ts if ts is None else min(ts, v.ts)
        assert ts is not None
        return QuoteView(bid=round(bid, 4), ask=round(ask, 4), ts=ts)

    def _send_ticks(
        self,
        conn: Connection,
        line: MarketDataLine,
        force: bool = False,
        raw: Mapping[int, QuoteView | None] | None = None,
    ) -> None:
        """Send a line's ticks; only those that changed since last sent unless `force`."""
        view = self._bag_view(line, raw) if line.legs else self._view(line.contract, raw)
        if view is None:
            return
        delayed = 1 if line.data_type >= MDT_DELAYED else 0
        rid = line.req_id
        out: list[tuple[tuple[int, int], tuple[Any, ...], list[Wire]]] = []

        def price(tick: tuple[int, int], value: float, size: float | None) -> None:
            if math.isfinite(value):
                sz = size if size is not None and size > 0 else self.unknown_size
                out.append(
                    (
                        (1, tick[delayed]),
                        (value, sz),
                        [TICK_PRICE, 6, rid, tick[delayed], value, sz, 0],
                    )
                )
            else:  # IB's "no bid/ask": price -1 with size 0
                out.append(
                    ((1, tick[delayed]), (None,), [TICK_PRICE, 6, rid, tick[delayed], -1.0, 0, 0])
                )

        price(_TICK_BID, view.bid, view.bid_size)
        price(_TICK_ASK, view.ask, view.ask_size)
        if math.isfinite(view.last):
            price(_TICK_LAST, view.last, None)
        if view.volume is not None:
            t = _TICK_VOLUME[delayed]
            out.append(((2, t), (view.volume,), [TICK_SIZE, 6, rid, t, view.volume]))
        if "105" in line.generic and view.av_option_volume is not None:
            t, v = _TICK_AV_OPTION_VOLUME, view.av_option_volume
            out.append(((2, t), (v,), [TICK_SIZE, 6, rid, t, v]))
        if view.is_option:
            if "101" in line.generic and view.open_interest is not None:
                t = _TICK_CALL_OI if view.right == "C" else _TICK_PUT_OI
                out.append(
                    ((2, t), (view.open_interest,), [TICK_SIZE, 6, rid, t, view.open_interest])
                )
            if "106" in line.generic and math.isfinite(view.iv):
                out.append(
                    (
                        (45, _TICK_OPTION_IV),
                        (view.iv,),
                        [TICK_GENERIC, 6, rid, _TICK_OPTION_IV, view.iv],
                    )
                )
            mid = (view.bid + view.ask) / 2.0
            for tick, opt_price in (
                (_TICK_BID_OPTION, view.bid),
                (_TICK_ASK_OPTION, view.ask),
                (_TICK_MODEL_OPTION, mid),
            ):
                t = tick[delayed]
                comp = self._option_computation(view, opt_price)
                out.append(((21, t), tuple(comp), [TICK_OPTION_COMPUTATION, rid, t, 0, *comp]))
        stamp = int(view.ts.timestamp())
        t = _TICK_LAST_TIMESTAMP[delayed]
        out.append(((46, t), (stamp,), [TICK_STRING, 6, rid, t, str(stamp)]))
        for key, value, fields in out:
            if force or line.sent.get(key) != value:
                line.sent[key] = value
                conn.send(*fields)

    @staticmethod
    def _option_computation(view: QuoteView, opt_price: float) -> list[float]:
        def val(x: float, unset: float) -> float:
            return x if math.isfinite(x) else unset

        return [
            val(view.iv, -1.0),
            val(view.delta, -2.0),
            val(opt_price, -1.0),
            -1.0,  # pvDividend: not computed
            val(view.gamma, -2.0),
            val(view.vega, -2.0),
            val(view.theta, -2.0),
            val(view.und_price, -1.0),
        ]

    def _refresh_lines(self, force: bool = False) -> None:
        """Push what changed on every streaming line (quotes fetched in one batch)."""
        wanted: list[IbContract] = []
        for conn in self._conns:
            for line in conn.lines.values():
                if line.legs:
                    wanted.extend(leg for leg, _, _ in line.legs)
                else:
                    wanted.append(line.contract)
        frozen_ids = {k for k, f in self._quote_faults.items() if f.kind == "frozen"}
        raw = self._raw_views(c for c in wanted if c.con_id not in frozen_ids)
        for conn in list(self._conns):
            for line in list(conn.lines.values()):
                fault = self._quote_faults.get(line.contract.con_id)
                frozen = fault is not None and fault.kind == "frozen"
                want = conn.market_data_type
                if frozen:
                    want = MDT_DELAYED_FROZEN if want >= MDT_DELAYED else MDT_FROZEN
                if want != line.data_type:
                    line.data_type = want
                    line.sent.clear()
                    conn.send(MARKET_DATA_TYPE, 1, line.req_id, want)
                self._send_ticks(conn, line, force=force and not frozen, raw=raw)

    # ---------------------------------------------------------------- history
    def _req_historical_data(self, conn: Connection, r: Reader) -> None:
        req_id = r.int()
        q = r.contract()
        r.bool()  # includeExpired
        end_text = r.str()
        bar_size = r.str()
        duration = r.str()
        r.int()  # useRTH
        what = r.str().upper()
        r.int()  # formatDate
        if q.sec_type.upper() == "BAG":
            for _ in range(r.int()):
                r.int(), r.int(), r.str(), r.str()
        r.bool()  # keepUpToDate
        r.str()  # chartOptions

        def hmds(message: str) -> None:
            self._error(
                conn, req_id, 162, f"Historical Market Data Service error message:{message}"
            )

        found = self.book.resolve(q)
        if len(found) != 1:
            self._error(conn, req_id, 200, NO_SECURITY_DEFINITION)
            return
        c = found[0]
        if c.sec_type != "STK":
            hmds("HMDS query returned no data")
            return
        if bar_size.strip().lower() not in ("1 day", "1 days"):
            hmds(f"the fake serves daily bars only, not {bar_size!r}")
            return
        if what not in ("TRADES", "OPTION_IMPLIED_VOLATILITY"):
            hmds(f"the fake does not serve {what}")
            return
        try:
            sessions = self._duration_sessions(duration)
            end = self._parse_end(end_text)
        except ValueError as exc:
            self._error(conn, req_id, 321, f"Error validating request.-'bP' : cause - {exc}")
            return
        extra = 0 if end is None else max(0, (self.clock.now().date() - end).days)
        hist = self._history_upto(c.listing_id, sessions + extra)
        if hist is None:
            hmds("HMDS query returned no data")
            return
        rows = [i for i, d in enumerate(hist.dates) if end is None or d <= end][-sessions:]
        if not rows:
            hmds("HMDS query returned no data")
            return
        bars: list[Wire] = []
        for i in rows:
            if what == "TRADES":
                o, h, lo, cl = (
                    float(hist.open[i]),
                    float(hist.high[i]),
                    float(hist.low[i]),
                    float(hist.close[i]),
                )
            else:
                o = h = lo = cl = float(hist.iv[i])
            if not all(math.isfinite(x) for x in (o, h, lo, cl)):
                continue
            # date, open, high, low, close, volume, average (WAP), barCount; unknown → -1
            bars += [f"{hist.dates[i]:%Y%m%d}", o, h, lo, cl, -1, -1, -1]
        if not bars:
            hmds("HMDS query returned no data (no finite values)")
            return
        first = hist.dates[rows[0]]
        last = hist.dates[rows[-1]]
        conn.send(
            HISTORICAL_DATA,
            req_id,
            f"{first:%Y%m%d} 00:00:00",
            f"{last:%Y%m%d} 23:59:59",
            len(bars) // 8,
            *bars,
        )

    def _history_upto(self, listing_id: str, sessions: int) -> DailyHistory | None:
        """Return the backend's last `sessions` bars, or all it has when fewer exist (as IB does
        for a duration longer than the instrument's history); None when it has none."""
        try:
            return self.backend.history(listing_id, sessions)
        except DataUnavailable:
            pass
        lo, hi, best = 1, sessions - 1, None
        while lo <= hi:  # the backend refuses more sessions than it has: find how many it has
            mid = (lo + hi) // 2
            try:
                best = self.backend.history(listing_id, mid)
                lo = mid + 1
            except DataUnavailable:
                hi = mid - 1
        return best

    @staticmethod
    def _duration_sessions(duration: str) -> int:
        parts = duration.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise ValueError(f"bad duration {duration!r}")
        n, unit = int(parts[0]), parts[1].upper()
        per = {"D": 1, "W": 5, "M": 21, "Y": 252}.get(unit)
        if per is None or n <= 0:
            raise ValueError(f"bad duration {duration!r} (daily bars need D, W, M or Y)")
        return n * per

    @staticmethod
    def _parse_end(text: str) -> date | None:
        text = text.strip()
        if not text:
            return None
        head = text.replace("-", " ").split()[0]
        if len(head) != 8 or not head.isdigit():
            raise ValueError(f"bad end date {text!r}")
        return date(int(head[:4]), int(head[4:6]), int(head[6:8]))

    # ---------------------------------------------------------------- account and positions
    def _account_rows(self) -> list[tuple[str, str, str]]:
        """Return (tag, value, currency) rows of the backend's account."""
        snap = self.backend.account()
        base = snap.base_currency
        rows = [
            ("AccountCode", self.account, ""),
            ("AccountType", "INDIVIDUAL", ""),
            ("Currency", base, base),
            ("NetLiquidation", f"{snap.net_liquidation:.2f}", base),
            ("NetLiquidationByCurrency", f"{snap.net_liquidation:.2f}", "BASE"),
        ]
        rates: dict[str, float] = {base: 1.0}
        for ccy in snap.cash:
            if ccy == base:
                continue
            for pair, invert in ((f"{ccy}.{base}", False), (f"{base}.{ccy}", True)):
                if pair in self.book.fx_pairs:
                    try:
                        mid = self.backend.fx_quote(pair).mid
                    except DataUnavailable:
                        continue
                    if math.isfinite(mid) and mid > 0:
                        rates[ccy] = 1.0 / mid if invert else mid
                    break
        total_base = 0.0
        for ccy, amount in sorted(snap.cash.items()):
            rows.append(("CashBalance", f"{amount:.2f}", ccy))
            rows.append(("TotalCashBalance", f"{amount:.2f}", ccy))
            if ccy != base:
                rows.append(("Currency", ccy, ccy))
            if ccy in rates:
                rows.append(("ExchangeRate", f"{rates[ccy]:.6f}", ccy))
                total_base += amount * rates[ccy]
        rows.append(("ExchangeRate", "1.00", "BASE"))
        if all(ccy in rates for ccy in snap.cash):
            rows.append(("CashBalance", f"{total_base:.2f}", "BASE"))
            rows.append(("TotalCashValue", f"{total_base:.2f}", base))
        return rows

    def _positions(self) -> dict[int, tuple[IbContract, float, float]]:
        out: dict[int, tuple[IbContract, float, float]] = {}
        for p in self.backend.positions():
            c = self.book.option(p.contract)
            mult = float(self.book.listings[p.contract.listing_id].multiplier)
            out[c.con_id] = (c, float(p.qty), p.avg_cost * mult)
        return out

    def _req_positions(self, conn: Connection, r: Reader) -> None:
        conn.positions_subscribed = True
        try:
            positions = self._positions()
        except DataUnavailable as exc:
            log.warning("positions unavailable: %s", exc)
            positions = {}
        for c, qty, avg in positions.values():
            conn.send(POSITION_DATA, 3, self.account, *c.core11(), qty, avg)
        conn.send(POSITION_END, 1)

    def _cancel_positions(self, conn: Connection, r: Reader) -> None:
        conn.positions_subscribed = False

    def _portfolio_rows(self) -> list[list[Wire]]:
        rows: list[list[Wire]] = []
        positions = self._positions()
        quotes: dict[OptionContract, OptionQuote] = {}
        options = [c.option for c, _, _ in positions.values() if c.option is not None]
        if options:
            try:
                quotes = dict(self.backend.option_quotes(options))
            except DataUnavailable:
                quotes = {}
        for c, qty, avg in positions.values():
            q = quotes.get(c.option) if c.option is not None else None
            if q is None or not math.isfinite(q.mid):
                log.info("no mark for %s; portfolio row skipped", c.local_symbol)
                continue
            mult = float(c.multiplier or 1)
            value = qty * q.mid * mult
            rows.append(
                [
                    PORTFOLIO_VALUE,
                    8,
                    c.con_id,
                    c.symbol,
                    c.sec_type,
                    c.last_trade_date,
                    c.strike,
                    c.right,
                    c.multiplier,
                    c.primary_exchange,
                    c.currency,
                    c.local_symbol,
                    c.trading_class,
                    qty,
                    q.mid,
                    value,
                    avg,
                    value - qty * avg,
                    0.0,
                    self.account,
                ]
            )
        return rows

    def _req_account_updates(self, conn: Connection, r: Reader) -> None:
        r.int()
        subscribe = r.bool()
        account = r.str()
        conn.account_updates = subscribe
        if not subscribe:
            return
        if account and account != self.account:
            self._error(conn, -1, 321, f"Error validating request: unknown account {account}")
            return
        self._send_account_updates(conn)
        conn.send(ACCT_DOWNLOAD_END, 1, self.account)

    def _send_account_updates(self, conn: Connection) -> None:
        try:
            rows = self._account_rows()
            portfolio = self._portfolio_rows()
        except DataUnavailable as exc:
            log.warning("account unavailable: %s", exc)
            rows, portfolio = [], []
        for tag, value, ccy in rows:
            conn.send(ACCT_VALUE, 2, tag, value, ccy, self.account)
        for row in portfolio:
            conn.send(*row)
        conn.send(ACCT_UPDATE_TIME, 1, self.clock.now().astimezone(NY).strftime("%H:%M"))

    def _req_account_updates_multi(self, conn: Connection, r: Reader) -> None:
        r.int()
        req_id = r.int()
        account = r.str()
        model = r.str()
        if account and account not in (self.account, "All"):
            self._error(conn, req_id, 321, f"Error validating request: unknown account {account}")
            return
        conn.multi_req_ids.add(req_id)
        self._send_account_multi(conn, req_id, model)
        conn.send(ACCOUNT_UPDATE_MULTI_END, 1, req_id)

    def _send_account_multi(self, conn: Connection, req_id: int, model: str = "") -> None:
        try:
            rows = self._account_rows()
        except DataUnavailable as exc:
            log.warning("account unavailable: %s", exc)
            rows = []
        for tag, value, ccy in rows:
            conn.send(ACCOUNT_UPDATE_MULTI, 1, req_id, self.account, model, tag, value, ccy)

    def _cancel_account_updates_multi(self, conn: Connection, r: Reader) -> None:
        r.int()
        conn.multi_req_ids.discard(r.int())

    def _req_account_summary(self, conn: Connection, r: Reader) -> None:
        r.int()
        req_id = r.int()
        r.str()  # group
        tags = {t.strip() for t in r.str().split(",") if t.strip()}
        try:
            rows = self._account_rows()
        except DataUnavailable as exc:
            log.warning("account unavailable: %s", exc)
            rows = []
        ledger = {"CashBalance", "TotalCashBalance", "NetLiquidationByCurrency", "ExchangeRate"}
        want_ledger = bool(tags & {"$LEDGER", "$LEDGER:ALL"})
        for tag, value, ccy in rows:
            if tag in ledger:
                if not want_ledger or ("$LEDGER:ALL" not in tags and ccy != "BASE"):
                    continue
            elif tag not in tags:
                continue
            conn.send(ACCOUNT_SUMMARY, 1, req_id, self.account, tag, value, ccy)
        conn.send(ACCOUNT_SUMMARY_END, 1, req_id)

    def _push_account(self) -> None:
        """Push positions, account values and portfolio rows to subscribed connections."""
        try:
            positions = self._positions()
        except DataUnavailable as exc:
            log.warning("positions unavailable: %s", exc)
            return
        changed = [v for k, v in positions.items() if self._last_positions.get(k) != v]
        gone = [
            (c, 0.0, 0.0) for k, (c, _, _) in self._last_positions.items() if k not in positions
        ]
        self._last_positions = positions
        for conn in list(self._conns):
            if conn.positions_subscribed:
                for c, qty, avg in changed + gone:
                    conn.send(POSITION_DATA, 3, self.account, *c.core11(), qty, avg)
            if conn.account_updates:
                self._send_account_updates(conn)
                for c, _, _ in gone:
                    conn.send(
                        PORTFOLIO_VALUE,
                        8,
                        c.con_id,
                        c.symbol,
                        c.sec_type,
                        c.last_trade_date,
                        c.strike,
                        c.right,
                        c.multiplier,
                        c.primary_exchange,
                        c.currency,
                        c.local_symbol,
                        c.trading_class,
                        0.0,
                        0.0,
                        0.0,
                        0.0,
                        0.0,
                        0.0,
                        self.account,
                    )
            for req_id in sorted(conn.multi_req_ids):
                self._send_account_multi(conn, req_id)

    # ---------------------------------------------------------------- orders: requests
    def _read_order(self, r: Reader) -> IbOrderRequest:
        order_id = r.int()
        q = r.contract()
        r.str(), r.str()  # secIdType, secId
        req = IbOrderRequest(
            order_id=order_id,
            contract=q,
            action=r.str().upper(),
            total_quantity=r.float(0.0),
            order_type=r.str().upper(),
            lmt_price=r.float(),
            aux_price=r.float(),
            tif=r.str(),
            oca_group=r.str(),
            account=r.str(),
            open_close=r.str(),
            origin=r.int(),
            order_ref=r.str(),
            transmit=r.bool(),
            parent_id=r.int(),
            outside_rth=False,
            hidden=False,
            legs=[],
            leg_prices=[],
            smart_params=[],
        )
        r.bool(), r.bool(), r.int(), r.int()  # blockOrder, sweepToFill, displaySize, triggerMethod
        req.outside_rth = r.bool()
        req.hidden = r.bool()
        if q.sec_type.upper() == "BAG":
            for _ in range(r.int()):
                req.legs.append(
                    IbLeg(
                        con_id=r.int(),
                        ratio=r.int(),
                        action=r.str().upper(),
                        exchange=r.str(),
                        open_close=r.int(),
                        short_sale_slot=r.int(),
                        designated_location=r.str(),
                        exempt_code=r.int(-1),
                    )
                )
            req.leg_prices = [r.float() for _ in range(r.int())]
            req.smart_params = [(r.str(), r.str()) for _ in range(r.int())]
        req.what_if = self._read_order_tail(r)
        return req

    @staticmethod
    def _read_order_tail(r: Reader) -> bool:
        """Skip placeOrder's fields up to whatIf (Client.placeOrder at 178) and return it."""
        skip = Reader.str
        for _ in range(7):  # sharesAllocation, discretionaryAmt … faPercentage (no faProfile)
            skip(r)
        for _ in range(22):  # modelCode … volatilityType
            skip(r)
        delta_neutral_type = r.str()
        skip(r)  # deltaNeutralAuxPrice
        if delta_neutral_type:
            for _ in range(8):
                skip(r)
        for _ in range(6):  # continuousUpdate … scaleSubsLevelSize
            skip(r)
        increment = r.float()
        if 0 < increment < UNSET_DOUBLE:
            for _ in range(7):
                skip(r)
        for _ in range(3):  # scaleTable, activeStartTime, activeStopTime
            skip(r)
        if r.str():  # hedgeType
            skip(r)  # hedgeParam
        for _ in range(4):  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld
            skip(r)
        if r.bool():  # deltaNeutralContract
            for _ in range(3):
                skip(r)
        if r.str():  # algoStrategy
            for _ in range(2 * r.int()):
                skip(r)
        skip(r)  # algoId
        return r.bool()  # whatIf; the rest keeps IB defaults and is ignored

    def _place_order(self, conn: Connection, r: Reader) -> None:
        req = self._read_order(r)
        key = (conn.client_id, req.order_id)
        self._max_order_id[conn.client_id] = max(
            self._max_order_id.get(conn.client_id, 0), req.order_id
        )
        if req.what_if and self.what_if_margin is None:  # no order exists, no orderStatus
            self._error(
                conn,
                req.order_id,
                201,
                "Order rejected - reason:what-if orders are not supported by the fake TWS",
            )
            return
        existing = self._orders.get(key)
        if existing is not None:
            self._modify_order(conn, existing, req)
            return
        if self._reject_next is not None:
            reason, status = self._reject_next
            self._reject_next = None
            self._reject(conn, req, reason, status)
            return
        sec = req.contract.sec_type.upper()
        if sec == "BAG":
            self._place_bag(conn, req)
        elif sec == "CASH":
            self._place_fx(conn, req)
        else:
            self._reject(conn, req, f"the simulated backend does not trade {sec or 'this'} orders")

    def _reject(
        self,
        conn: Connection,
        req: IbOrderRequest,
        reason: str,
        status: str = "Cancelled",
        code: int = 201,
    ) -> None:
        """Refuse a new order: an error (201 "Order rejected", or `code`), then its status."""
        message = f"Order rejected - reason:{reason}" if code == 201 else reason
        self._error(conn, req.order_id, code, message)
        conn.send(
            ORDER_STATUS,
            req.order_id,
            status,
            0.0,
            req.total_quantity,
            0.0,
            0,
            0,
            0.0,
            conn.client_id,
            "",
            0.0,
        )

    def _validate_common(self, conn: Connection, req: IbOrderRequest) -> str | None:
        if not req.transmit:
            return "the fake only accepts transmitted orders (transmit=True)"
        if req.account and req.account != self.account:
            return f"unknown account {req.account}"
        if req.action not in ("BUY", "SELL"):
            return f"invalid action {req.action!r}"
        qty = req.total_quantity
        if not (qty > 0 and float(qty).is_integer()):
            return f"invalid quantity {qty}"
        return None

    def _place_bag(self, conn: Connection, req: IbOrderRequest) -> None:
        problem = self._validate_common(conn, req)
        if problem:
            self._reject(conn, req, problem)
            return
        if req.order_type != "LMT":
            self._reject(conn, req, f"combo orders must be LMT here, not {req.order_type}")
            return
        lmt = req.lmt_price
        if lmt == UNSET_DOUBLE or not math.isfinite(lmt):
            self._reject(conn, req, "a limit price is required")
            return
        if abs(round(lmt * 100) - lmt * 100) > 1e-6:
            self._error(
                conn,
                req.order_id,
                110,
                "The price does not conform to the minimum price variation for this contract.",
            )
            return
        if len(req.legs) < 2:
            self._reject(conn, req, "a combo needs at least two legs")
            return
        resolved: list[IbLeg] = []
        for leg in req.legs:
            c = self.book.by_con_id(leg.con_id)
            if c is None or c.sec_type != "OPT":
                self._reject(conn, req, NO_SECURITY_DEFINITION, code=200)
                return
            if leg.action not in ("BUY", "SELL") or leg.ratio < 1:
                self._reject(conn, req, f"invalid leg {leg.action} x{leg.ratio}")
                return
            resolved.append(replace(leg, contract=c))
        listing_ids = {leg.contract.listing_id for leg in resolved if leg.contract}
        if len(listing_ids) != 1:
            self._reject(conn, req, "all legs of a combo must share one underlying")
            return
        listing_id = listing_ids.pop()
        listing = self.book.listings[listing_id]
        if req.contract.symbol and req.contract.symbol.upper() != listing.symbol:
            self._reject(conn, req, f"combo symbol {req.contract.symbol} does not match its legs")
            return
        if req.contract.currency and req.contract.currency.upper() != listing.currency:
            self._reject(conn, req, f"combo currency {req.contract.currency} does not match legs")
            return
        priced = [p for p in req.leg_prices if p != UNSET_DOUBLE]
        if priced:
            if len(resolved) > 2:
                self._reject(
                    conn, req, "Leg prices are not supported for combos with more than two legs"
                )
                return
            if ("NonGuaranteed", "1") not in req.smart_params:
                self._reject(
                    conn,
                    req,
                    "Per-leg prices on a combo require the NonGuaranteed=1 "
                    "smart combo routing parameter",
                )
                return
        invert = req.action == "SELL"
        legs = tuple(
            Leg(
                leg.contract.option,  # type: ignore[union-attr, arg-type]
                ("SELL" if leg.action == "BUY" else "BUY") if invert else leg.action,  # type: ignore[arg-type]
                leg.ratio,
            )
            for leg in resolved
        )
        limit = -lmt if invert else lmt
        combo = ComboOrder(
            order_ref=req.order_ref or f"tws:{conn.client_id}:{req.order_id}",
            listing_id=listing_id,
            legs=legs,
            qty=int(req.total_quantity),
            limit_price=limit,
        )
        contract = IbContract(
            con_id=BAG_CON_ID,
            symbol=listing.symbol,
            sec_type="BAG",
            currency=listing.currency,
            exchange=req.contract.exchange or "SMART",
            local_symbol="",
            listing_id=listing_id,
        )
        order = FakeOrder(
            client_id=conn.client_id,
            order_id=req.order_id,
            perm_id=self._new_perm_id(),
            request=req,
            contract=contract,
            legs=tuple(resolved),
            kind="BAG",
            combo=combo,
            invert=invert,
            lmt_price=lmt,
        )
        if req.what_if and self.what_if_margin is not None:  # answered, never placed
            figures = self.what_if_margin(combo)
            conn.send(*self._open_order_fields(replace(order, status="PreSubmitted"), figures))
            return
        self._accept(conn, order)

    def _place_fx(self, conn: Connection, req: IbOrderRequest) -> None:
        problem = self._validate_common(conn, req)
        if problem:
            self._reject(conn, req, problem)
            return
        found = self.book.resolve(req.contract)
        if len(found) != 1:
            self._reject(conn, req, NO_SECURITY_DEFINITION, code=200)
            return
        if req.order_type not in ("LMT", "MKT"):
            self._reject(conn, req, f"FX orders must be LMT or MKT here, not {req.order_type}")
            return
        if req.order_type == "LMT" and (
            req.lmt_price == UNSET_DOUBLE or not math.isfinite(req.lmt_price)
        ):
            self._reject(conn, req, "a limit price is required")
            return
        order = FakeOrder(
            client_id=conn.client_id,
            order_id=req.order_id,
            perm_id=self._new_perm_id(),
            request=req,
            contract=found[0],
            legs=(),
            kind="CASH",
            combo=None,
            invert=False,
            lmt_price=req.lmt_price,
        )
        self._accept(conn, order)

    def _new_perm_id(self) -> int:
        perm_id = self._next_perm_id
        self._next_perm_id += 1
        return perm_id

    def _accept(self, conn: Connection, order: FakeOrder) -> None:
        """Register an accepted order, acknowledge it, then hand (some of) it to the backend."""
        self._orders[(order.client_id, order.order_id)] = order
        unacknowledged, self._unack_next = self._unack_next, None
        order.silent = unacknowledged is not None
        units = order.qty
        if self._partial_next is not None:
            units = min(units, float(self._partial_next))
            self._partial_next = None
        if self._withhold:
            units = 0.0
        elif self._delay > 0:
            order.release_at = time.monotonic() + self._delay
            units = 0.0
        order.held = order.qty - units
        for status in ("PreSubmitted", "Submitted"):  # TWS acknowledges in these two steps
            order.status = status
            if not order.silent:
                self._send_open_order(conn, order)
                self._send_status(order)
        if units > 0:
            self._send_segment(order, units)
        if unacknowledged is not None and unacknowledged[0]:
            self._drop_all(unacknowledged[1])

    def _send_segment(self, order: FakeOrder, units: float) -> None:
        """Place `units` of an order at the backend and report what came back."""
        try:
            if order.kind == "BAG":
                assert order.combo is not None
                state = self.backend.place_order(
                    replace(order.combo, qty=int(units), limit_price=self._seeker_limit(order))
                )
            else:
                state = self._place_fx_segment(order, units)
        except DataUnavailable as exc:
            self._backend_reject(order, str(exc))
            return
        if state.status == OrderStatus.REJECTED:
            order.segments.append(state.order_id)
            order.done_segments.add(state.order_id)
            self._backend_reject(order, state.reason or "rejected by the backend")
            return
        order.segments.append(state.order_id)
        self._apply_state(order, state)

    def _place_fx_segment(self, order: FakeOrder, units: float) -> OrderState:
        req = order.request
        limit = req.lmt_price
        if req.order_type == "MKT":
            fx = self.backend.fx_quote(order.contract.pair)
            limit = fx.ask if req.action == "BUY" else fx.bid
        return self.backend.place_fx_order(
            order.contract.pair,
            req.action,  # type: ignore[arg-type]
            units,
            limit,
            req.order_ref or f"tws:{order.client_id}:{order.order_id}",
        )

    def _seeker_limit(self, order: FakeOrder) -> float:
        return -order.lmt_price if order.invert else order.lmt_price

    def _backend_reject(self, order: FakeOrder, reason: str) -> None:
        order.held = 0.0
        order.release_at = None
        order.why = reason
        self._send_error(order, 201, f"Order rejected - reason:{reason}")
        self._finish(order, "Cancelled")

    def _release(self, order: FakeOrder) -> None:
        units = order.held
        order.held = 0.0
        order.release_at = None
        if units > 0:
            self._send_segment(order, units)

    def _modify_order(self, conn: Connection, order: FakeOrder, req: IbOrderRequest) -> None:
        if order.is_done:
            code, text = (
                (104, "Can't modify a filled order.")
                if order.status == "Filled"
                else (
                    10148,
                    f"OrderId {order.order_id} that needs to be modified cannot be modified, "
                    f"state: {order.status}.",
                )
            )
            self._error(conn, order.order_id, code, text)
            return
        old = order.request
        same_legs = [(leg.con_id, leg.ratio, leg.action) for leg in old.legs] == [
            (leg.con_id, leg.ratio, leg.action) for leg in req.legs
        ]
        if (
            req.action != old.action
            or req.total_quantity != old.total_quantity
            or req.order_type != old.order_type
            or not same_legs
            or req.contract.sec_type.upper() != old.contract.sec_type.upper()
        ):
            self._error(
                conn, order.order_id, 105, "Order being modified does not match the original order."
            )
            return
        lmt = req.lmt_price
        if order.kind == "BAG" and abs(round(lmt * 100) - lmt * 100) > 1e-6:
            self._error(
                conn,
                order.order_id,
                110,
                "The price does not conform to the minimum price variation for this contract.",
            )
            return
        order.request = replace(
            old, lmt_price=lmt, order_ref=req.order_ref or old.order_ref, tif=req.tif
        )
        order.lmt_price = lmt
        states: list[OrderState] = []
        for seg in order.segments:
            if seg in order.done_segments:
                continue
            try:
                states.append(self.backend.modify_order(seg, self._seeker_limit(order)))
            except DataUnavailable as exc:
                self._error(
                    conn,
                    order.order_id,
                    10147,
                    f"OrderId {order.order_id} cannot be modified: {exc}",
                )
                return
        if not order.silent:
            self._send_open_order(conn, order)
            self._send_status(order)
        for state in states:
            self._apply_state(order, state)

    def _cancel_order(self, conn: Connection, r: Reader) -> None:
        r.int()
        order_id = r.int()
        if r.has_more():
            r.str()  # manualOrderCancelTime
        order = self._orders.get((conn.client_id, order_id))
        if order is None:
            self._error(conn, order_id, 135, f"Can't find order with id = {order_id}")
            return
        if order.is_done:
            self._error(
                conn,
                order_id,
                161,
                "Cancel attempted when order is not in a cancellable state.  Order permId "
                f"={order.perm_id}",
            )
            return
        if self._ignore_cancel is not None:
            drop, refuse_for = self._ignore_cancel
            self._ignore_cancel = None
            log.info("ignoring the cancel of order %s (fault)", order_id)
            if drop:
                self._drop_all(refuse_for)
            return
        self._cancel(order)

    def _cancel(self, order: FakeOrder) -> None:
        order.held = 0.0
        order.release_at = None
        for seg in order.segments:
            if seg in order.done_segments:
                continue
            try:
                state = self.backend.cancel_order(seg)
            except DataUnavailable as exc:
                log.warning("backend could not cancel %s: %s", seg, exc)
                continue
            self._apply_state(order, state, report=False)
        if not order.is_done and all(seg in order.done_segments for seg in order.segments):
            self._finish(order, "Cancelled")
            self._send_error(order, 202, "Order Canceled - reason:")

    def _req_global_cancel(self, conn: Connection, r: Reader) -> None:
        for order in list(self._orders.values()):
            if not order.is_done:
                self._cancel(order)

    # ---------------------------------------------------------------- orders: backend states
    def _apply_state(self, order: FakeOrder, state: OrderState, report: bool = True) -> None:
        """Turn one backend order state into executions and status messages.

        With `report` False a segment that ended without filling is only recorded (the caller,
        a cancel, sends the final status itself).
        """
        new = [f for f in state.fills if f.fill_id not in order.seen_fills]
        for f in new:
            order.seen_fills.add(f.fill_id)
            self._record_fill(order, f)
        if state.status.is_done:
            order.done_segments.add(state.order_id)
        if not order.is_done:
            if order.filled >= order.qty - 1e-9:
                self._finish(order, "Filled")
            elif order.held <= 0 and all(s in order.done_segments for s in order.segments):
                if state.status == OrderStatus.REJECTED:
                    self._backend_reject(order, state.reason or "rejected by the backend")
                elif report:
                    self._finish(order, "Cancelled")
                    self._send_error(order, 202, f"Order Canceled - reason:{state.reason}")
            elif new:
                self._send_status(order)
        if new:
            self._push_account()

    def _send_error(self, order: FakeOrder, code: int, message: str) -> None:
        conn = self._push_conn(order)
        if conn is not None:
            self._error(conn, order.order_id, code, message)

    def _finish(self, order: FakeOrder, status: str) -> None:
        if order.status == status:
            return
        order.status = status
        order.completed_time = self._now_text()
        order.held = 0.0
        order.release_at = None
        conn = self._push_conn(order)
        self._send_status(order)
        if conn is not None:  # IB repeats the final status after the openOrder
            self._send_open_order(conn, order)
            self._send_status(order)

    def _record_fill(self, order: FakeOrder, f: Fill) -> None:
        """Build per-leg and BAG executions (or one CASH execution) from a backend fill."""
        sign = -1.0 if order.invert else 1.0
        price = sign * f.price
        order.filled += f.qty
        order.cost += price * f.qty
        order.last_fill_price = price
        when = f.ts.astimezone(NY).strftime(f"%Y%m%d %H:%M:%S {EXEC_TZ_NAME}")
        self._exec_seq += 1
        base = f"{order.perm_id:08x}.{self._exec_seq:08x}"
        ref = order.request.order_ref
        execs: list[Execution] = []
        if order.kind == "BAG" and f.legs:
            total = sum(abs(leg.qty) for leg in f.legs) or 1
            shares = [round(f.commission * abs(leg.qty) / total, 6) for leg in f.legs]
            shares[-1] = round(f.commission - sum(shares[:-1]), 6)
            for i, (leg, commission) in enumerate(zip(f.legs, shares, strict=True), start=1):
                c = self.book.option(leg.contract)
                cum, cost = order.leg_cum.get(c.con_id, (0.0, 0.0))
                cum, cost = cum + leg.qty, cost + leg.qty * leg.price
                order.leg_cum[c.con_id] = (cum, cost)
                execs.append(
                    Execution(
                        exec_id=f"{base}.{i + 1:02d}.01",
                        client_id=order.client_id,
                        order_id=order.order_id,
                        perm_id=order.perm_id,
                        contract=c,
                        time_text=when,
                        side="BOT" if leg.action == "BUY" else "SLD",
                        shares=float(leg.qty),
                        price=leg.price,
                        cum_qty=cum,
                        avg_price=cost / cum if cum else 0.0,
                        order_ref=ref,
                        commission=commission,
                        commission_currency=f.commission_currency,
                    )
                )
            bag_commission = 0.0
        else:
            bag_commission = f.commission
        execs.append(
            Execution(
                exec_id=f"{base}.01.01",
                client_id=order.client_id,
                order_id=order.order_id,
                perm_id=order.perm_id,
                contract=order.contract,
                time_text=when,
                side="BOT" if order.request.action == "BUY" else "SLD",
                shares=float(f.qty),
                price=price,
                cum_qty=order.filled,
                avg_price=order.avg_price,
                order_ref=ref,
                commission=bag_commission,
                commission_currency=f.commission_currency,
            )
        )
        self._executions.extend(execs)
        conn = self._push_conn(order)
        if conn is None:
            return
        for ex in execs:
            conn.send(*self._exec_fields(-1, ex))
        for ex in execs:
            conn.send(*self._commission_fields(ex))

    def _exec_fields(self, req_id: int, ex: Execution) -> list[Wire]:
        # Decoder.execDetails at server version 178 (no version field; pendingPriceRevision last)
        return [
            EXECUTION_DATA,
            req_id,
            ex.order_id,
            *ex.contract.core11(),
            ex.exec_id,
            ex.time_text,
            self.account,
            ex.contract.exchange,
            ex.side,
            ex.shares,
            ex.price,
            ex.perm_id,
            ex.client_id,
            0,  # liquidation
            ex.cum_qty,
            ex.avg_price,
            ex.order_ref,
            "",  # evRule
            "",  # evMultiplier
            "",  # modelCode
            0,  # lastLiquidity
            False,  # pendingPriceRevision
        ]

    @staticmethod
    def _commission_fields(ex: Execution) -> list[Wire]:
        return [
            COMMISSION_REPORT,
            1,
            ex.exec_id,
            ex.commission,
            ex.commission_currency,
            UNSET_DOUBLE,
            UNSET_DOUBLE,
            "",
        ]

    def _conn_for(self, client_id: int) -> Connection | None:
        for conn in self._conns:
            if conn.api_started and conn.client_id == client_id and not conn.closed:
                return conn
        return None

    def _push_conn(self, order: FakeOrder) -> Connection | None:
        """Return the connection to push news of `order` to (None while it is unacknowledged)."""
        return None if order.silent else self._conn_for(order.client_id)

    def _now_text(self) -> str:
        return self.clock.now().astimezone(NY).strftime(f"%Y%m%d %H:%M:%S {EXEC_TZ_NAME}")

    def _send_status(self, order: FakeOrder) -> None:
        conn = self._push_conn(order)
        if conn is None:
            return
        conn.send(
            ORDER_STATUS,
            order.order_id,
            order.status,
            order.filled,
            order.remaining,
            order.avg_price,
            order.perm_id,
            order.request.parent_id,
            order.last_fill_price,
            order.client_id,
            "",  # whyHeld
            0.0,  # mktCapPrice
        )

    def _send_open_order(self, conn: Connection, order: FakeOrder) -> None:
        conn.send(*self._open_order_fields(order))

    def _order_tail(self, order: FakeOrder) -> list[Wire]:
        """Return the combo legs, order-leg prices and smart-combo params (openOrder and
        completedOrder share this block)."""
        req = order.request
        out: list[Wire] = [len(order.legs)]
        for leg in order.legs:
            out += [
                leg.con_id,
                leg.ratio,
                leg.action,
                leg.exchange,
                leg.open_close,
                leg.short_sale_slot,
                leg.designated_location,
                leg.exempt_code,
            ]
        out += [len(req.leg_prices), *req.leg_prices, len(req.smart_params)]
        for tag, value in req.smart_params:
            out += [tag, value]
        return out

    def _open_order_fields(
        self, order: FakeOrder, what_if: WhatIfMargin | None = None
    ) -> list[Wire]:
        """Return openOrder (5) exactly as Decoder.openOrder reads it at server version 178
        (with `what_if`: the answer to a what-if order, its margin figures filled in)."""
        m = what_if
        req = order.request
        u = UNSET_DOUBLE
        ui = UNSET_INTEGER
        legs_descr = ",".join(f"{leg.con_id}|{leg.ratio}" for leg in order.legs)
        return [
            OPEN_ORDER,  # no version field from server version 145
            order.order_id,
            *order.contract.core11(),  # conId … tradingClass (no primaryExchange)
            req.action,
            req.total_quantity,
            req.order_type,
            order.lmt_price,
            req.aux_price,
            req.tif,
            req.oca_group,
            self.account,
            req.open_close or "O",  # openClose
            req.origin,
            req.order_ref,
            order.client_id,  # must be the placing client's id: ib_async keys trades on it
            order.perm_id,
            req.outside_rth,
            req.hidden,
            0.0,  # discretionaryAmt
            "",  # goodAfterTime
            "",  # sharesAllocation (deprecated, skipped by the decoder)
            "",  # faGroup
            "",  # faMethod
            "",  # faPercentage (faProfile is absent from server version 177)
            "",  # modelCode
            "",  # goodTillDate
            "",  # rule80A
            u,  # percentOffset
            "",  # settlingFirm
            0,  # shortSaleSlot
            "",  # designatedLocation
            -1,  # exemptCode
            0,  # auctionStrategy
            u,  # startingPrice
            u,  # stockRefPrice
            u,  # delta
            u,  # stockRangeLower
            u,  # stockRangeUpper
            0,  # displaySize
            False,  # blockOrder
            False,  # sweepToFill
            False,  # allOrNone
            ui,  # minQty
            3,  # ocaType
            False,  # eTradeOnly
            False,  # firmQuoteOnly
            u,  # nbboPriceCap
            req.parent_id,
            0,  # triggerMethod
            u,  # volatility
            ui,  # volatilityType
            "",  # deltaNeutralOrderType (empty: no 8-field delta-neutral block)
            u,  # deltaNeutralAuxPrice
            False,  # continuousUpdate
            ui,  # referencePriceType
            u,  # trailStopPrice
            u,  # trailingPercent
            u,  # basisPoints
            ui,  # basisPointsType
            legs_descr,  # comboLegsDescrip
            *self._order_tail(order),  # legs, order-leg prices, smart-combo params
            ui,  # scaleInitLevelSize
            ui,  # scaleSubsLevelSize
            u,  # scalePriceIncrement (unset: no 7-field scale block)
            "",  # hedgeType (empty: no hedgeParam)
            False,  # optOutSmartRouting
            "",  # clearingAccount
            "",  # clearingIntent
            False,  # notHeld
            False,  # deltaNeutralContract present (no conId/delta/price)
            "",  # algoStrategy (empty: no algo params)
            False,  # solicited
            m is not None,  # whatIf
            order.status,  # orderState.status
            "" if m is None else str(m.init_before),  # initMarginBefore
            "" if m is None else str(m.maint_before),  # maintMarginBefore
            "" if m is None else str(m.equity_with_loan),  # equityWithLoanBefore
            "" if m is None else str(m.init_after - m.init_before),  # initMarginChange
            "" if m is None else str(m.maint_after - m.maint_before),  # maintMarginChange
            "" if m is None else "0",  # equityWithLoanChange
            "" if m is None else str(m.init_after),  # initMarginAfter
            "" if m is None else str(m.maint_after),  # maintMarginAfter
            "" if m is None else str(m.equity_with_loan),  # equityWithLoanAfter
            u if m is None else m.commission,  # commission
            u,  # minCommission
            u,  # maxCommission
            "" if m is None else order.contract.currency,  # commissionCurrency
            "",  # warningText
            False,  # randomizeSize
            False,  # randomizePrice
            0,  # conditions count (PEG BENCH fields only for that order type)
            "",  # adjustedOrderType
            u,  # triggerPrice
            u,  # trailStopPrice
            u,  # lmtPriceOffset
            u,  # adjustedStopPrice
            u,  # adjustedStopLimitPrice
            u,  # adjustedTrailingAmount
            0,  # adjustableTrailingUnit
            "",  # softDollarTier.name
            "",  # softDollarTier.val
            "",  # softDollarTier.displayName
            u,  # cashQty
            False,  # dontUseAutoPriceForHedge
            False,  # isOmsContainer
            False,  # discretionaryUpToLimitPrice
            False,  # usePriceMgmtAlgo
            ui,  # duration (from 159)
            ui,  # postToAts (from 160)
            False,  # autoCancelParent (from 162)
            ui,  # minTradeQty (from 170)
            ui,  # minCompeteSize
            u,  # competeAgainstBestOffset
            u,  # midOffsetAtWhole
            u,  # midOffsetAtHalf
        ]

    def _completed_order_fields(self, order: FakeOrder) -> list[Wire]:
        """Return completedOrder (101) exactly as Decoder.completedOrder reads it (178)."""
        req = order.request
        u = UNSET_DOUBLE
        ui = UNSET_INTEGER
        legs_descr = ",".join(f"{leg.con_id}|{leg.ratio}" for leg in order.legs)
        return [
            COMPLETED_ORDER,  # no orderId, no clientId: ib_async keys completed trades on permId
            *order.contract.core11(),
            req.action,
            req.total_quantity,
            req.order_type,
            order.lmt_price,
            req.aux_price,
            req.tif,
            req.oca_group,
            self.account,
            req.open_close or "O",
            req.origin,
            req.order_ref,
            order.perm_id,
            req.outside_rth,
            req.hidden,
            0.0,  # discretionaryAmt
            "",  # goodAfterTime
            "",  # faGroup
            "",  # faMethod
            "",  # faPercentage (no faProfile from 177)
            "",  # modelCode
            "",  # goodTillDate
            "",  # rule80A
            u,  # percentOffset
            "",  # settlingFirm
            0,  # shortSaleSlot
            "",  # designatedLocation
            -1,  # exemptCode
            u,  # startingPrice
            u,  # stockRefPrice
            u,  # delta
            u,  # stockRangeLower
            u,  # stockRangeUpper
            0,  # displaySize
            False,  # sweepToFill
            False,  # allOrNone
            ui,  # minQty
            3,  # ocaType
            0,  # triggerMethod
            u,  # volatility
            ui,  # volatilityType
            "",  # deltaNeutralOrderType (empty: no 4-field block)
            u,  # deltaNeutralAuxPrice
            False,  # continuousUpdate
            ui,  # referencePriceType
            u,  # trailStopPrice
            u,  # trailingPercent
            legs_descr,  # comboLegsDescrip
            *self._order_tail(order),  # legs, order-leg prices, smart-combo params
            ui,  # scaleInitLevelSize
            ui,  # scaleSubsLevelSize
            u,  # scalePriceIncrement (unset: no scale block)
            "",  # hedgeType
            "",  # clearingAccount
            "",  # clearingIntent
            False,  # notHeld
            False,  # deltaNeutralContract present
            "",  # algoStrategy
            False,  # solicited
            order.status,  # orderState.status
            False,  # randomizeSize
            False,  # randomizePrice
            0,  # conditions count
            u,  # trailStopPrice
            u,  # lmtPriceOffset
            u,  # cashQty
            False,  # dontUseAutoPriceForHedge
            False,  # isOmsContainer
            "",  # autoCancelDate
            order.filled,  # filledQuantity
            0,  # refFuturesConId
            False,  # autoCancelParent
            "",  # shareholder
            False,  # imbalanceOnly
            False,  # routeMarketableToBbo
            0,  # parentPermId
            order.completed_time,  # completedTime
            order.status,  # completedStatus
            ui,  # minTradeQty (from 170)
            ui,  # minCompeteSize
            u,  # competeAgainstBestOffset
            u,  # midOffsetAtWhole
            u,  # midOffsetAtHalf
        ]

    # ---------------------------------------------------------------- order queries
    def _req_open_orders(self, conn: Connection, r: Reader) -> None:
        all_clients = int(r.fields[0]) == REQ_ALL_OPEN_ORDERS
        for order in self._orders.values():
            if order.is_done:
                continue
            if not all_clients and order.client_id != conn.client_id and conn.client_id != 0:
                continue
            conn.send(*self._open_order_fields(order))
            conn.send(
                ORDER_STATUS,
                order.order_id,
                order.status,
                order.filled,
                order.remaining,
                order.avg_price,
                order.perm_id,
                order.request.parent_id,
                order.last_fill_price,
                order.client_id,
                "",
                0.0,
            )
        conn.send(OPEN_ORDER_END, 1)

    def _req_completed_orders(self, conn: Connection, r: Reader) -> None:
        for order in self._orders.values():
            if order.is_done:
                conn.send(*self._completed_order_fields(order))
        conn.send(COMPLETED_ORDERS_END)

    def _req_executions(self, conn: Connection, r: Reader) -> None:
        r.int()
        req_id = r.int()
        client_id = r.int()
        acct = r.str()
        r.str()  # time
        symbol, sec_type, exchange, side = r.str(), r.str(), r.str(), r.str()
        chosen = [
            ex
            for ex in self._executions
            if (not client_id or ex.client_id == client_id)
            and (not acct or acct == self.account)
            and (not symbol or ex.contract.symbol == symbol.upper())
            and (not sec_type or ex.contract.sec_type == sec_type.upper())
            and (not exchange or ex.contract.exchange == exchange.upper())
            and (
                not side or ex.side == side.upper()[:3].replace("BUY", "BOT").replace("SEL", "SLD")
            )
        ]
        for ex in chosen:
            conn.send(*self._exec_fields(req_id, ex))
        conn.send(EXECUTION_DATA_END, 1, req_id)
        for ex in chosen:
            conn.send(*self._commission_fields(ex))

    # ---------------------------------------------------------------- polling
    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                self._poll_once()
            except Exception:
                log.exception("fake TWS poll failed")

    def _poll_once(self, force_quotes: bool = False) -> None:
        now = time.monotonic()
        for order in list(self._orders.values()):
            if order.is_done:
                continue
            if (
                order.held > 0
                and order.release_at is not None
                and now >= order.release_at
                and not self._withhold
            ):
                self._release(order)
            for seg in list(order.segments):
                if seg in order.done_segments or order.is_done:
                    continue
                try:
                    state = self.backend.order_state(seg)
                except DataUnavailable as exc:
                    if self._poll_problems.get(seg) != str(exc):
                        self._poll_problems[seg] = str(exc)
                        log.warning("cannot poll order %s: %s", seg, exc)
                    continue
                self._poll_problems.pop(seg, None)
                self._apply_state(order, state)
        if force_quotes or now - self._last_quote_poll >= self.quote_interval:
            self._last_quote_poll = now
            self._refresh_lines()


# --------------------------------------------------------------------------------------------
# standalone mode
# --------------------------------------------------------------------------------------------


def build_sim(
    config_path: Path, log_root: Path, speed: float | None = None
) -> tuple[Broker, dict[str, Listing], Any, Callable[[], None]]:
    """Return Seeker's SimBroker on a config, its listings, its clock and a clock driver.

    The broker comes from :func:`seeker.engine.wiring.build_sim_services` (so it is the market
    ``seeker run`` would trade), keeping its state under `log_root`. The driver runs the simulated
    clock (real time × speed in regular hours, closed hours skipped) until ``clock.stop()``.
    """
    from seeker.config.loading import load_config
    from seeker.engine.wiring import build_sim_services
    from tests.support import strategy_config_models

    cfg = load_config(config_path, strategy_config_models())
    services = build_sim_services(cfg, log_root, None, emit=log.info, speed=speed)
    clock = services.clock

    def drive() -> None:
        while clock.sleep_until(clock.now() + timedelta(minutes=1)):
            pass

    return services.broker, services.listings, clock, drive


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fake TWS backed by the simulated market until Ctrl+C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to bind")
    parser.add_argument("--config", type=Path, default=_ROOT / "config" / "seeker.toml")
    parser.add_argument(
        "--speed",
        type=float,
        default=None,
        help="simulated seconds per real second (default: sim.speed)",
    )
    parser.add_argument("--account", default="DU1234567", help="account id to present")
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=None,
        help="where the simulated account persists (default: a temp folder)",
    )
    parser.add_argument(
        "--allow-ib-port",
        action="store_true",
        help="allow binding one of IB's real ports (7496/7497/4001/4002)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.port in IB_REAL_PORTS and not args.allow_ib_port:
        parser.error(f"port {args.port} is a real IB port; pass --allow-ib-port to use it anyway")
    from seeker.config.loading import ConfigError

    log_root = args.log_dir or Path(tempfile.mkdtemp(prefix="fake-tws-"))
    try:
        backend, listings, clock, drive = build_sim(args.config, log_root, args.speed)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {args.config}: {problem}", file=sys.stderr)
        return 2
    server = FakeTWS(
        backend,
        listings,
        account=args.account,
        host=args.host,
        port=args.port,
        clock=clock,
        allow_ib_port=args.allow_ib_port,
    )
    driver = threading.Thread(target=drive, name="sim-clock", daemon=True)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await server.start()
        driver.start()
        print(
            f"fake TWS on {args.host}:{server.port} (account {args.account}), "
            f"simulated time {clock.now():%Y-%m-%d %H:%M %Z}",
            flush=True,
        )
        try:
            await stop.wait()
        finally:
            clock.stop()
            await server.stop()
            driver.join(5.0)
            backend.close()  # the SimBroker saves the simulated account under --log-dir
            print("fake TWS stopped", flush=True)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
