"""The Broker protocol: what strategies and agents may ask of a broker, sim or IBKR.

Every method is synchronous and thread-safe; strategy threads call it directly. A method that
cannot supply what was asked raises :class:`~seeker.core.models.DataUnavailable` (or
:class:`~seeker.core.models.BrokerUnavailable` when disconnected) with a human reason; it never
returns a guessed value. Prices follow the conventions of :mod:`seeker.core.models`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable

from pydantic import Field

from seeker.core.config_base import StrictModel
from seeker.core.models import (
    AccountSnapshot,
    Action,
    BrokerPosition,
    Chain,
    ComboOrder,
    DailyHistory,
    Fill,
    FxQuote,
    OptionContract,
    OptionQuote,
    OrderState,
    UnderlyingQuote,
)


class BrokerConfig(StrictModel):
    """Which broker to use and how to reach it (the ``[broker]`` table)."""

    kind: Literal["sim", "ibkr", "replay"]
    """sim: the embedded market; ibkr: TWS / IB Gateway; replay: historical option chains
    (``seeker replay``, the ``[replay]`` table)."""
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    client_id: int = Field(ge=0)
    allow_live: bool


class ConnectionState(StrEnum):
    """Connection state of a broker, as `seeker status` shows it."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"


@runtime_checkable
class Broker(Protocol):
    """The operations Seeker needs from a broker."""

    kind: str

    def connect(self) -> None:
        """Connect and synchronise positions, orders, executions and account values."""
        ...

    def close(self) -> None:
        """Disconnect; working orders stay at the broker."""
        ...

    def connection_state(self) -> ConnectionState:
        """Return the current connection state."""
        ...

    def market_data_type(self) -> str:
        """Return the kind of market data served: live, frozen, delayed or simulated."""
        ...

    def account(self) -> AccountSnapshot:
        """Return cash per currency and net liquidation."""
        ...

    def underlying_quote(self, listing_id: str) -> UnderlyingQuote:
        """Return the underlying's current quote."""
        ...

    def expiries(self, listing_id: str) -> list[date]:
        """Return the option expiries listed for an underlying, sorted."""
        ...

    def strikes(self, listing_id: str, expiry: date) -> list[float]:
        """Return the strikes listed for one expiry, sorted."""
        ...

    def option_chain(
        self,
        listing_id: str,
        expiries: Sequence[date],
        strike_range: tuple[float, float] | None = None,
    ) -> Chain:
        """Return quotes with greeks for the given expiries, strikes within the range if given."""
        ...

    def option_quotes(
        self, contracts: Sequence[OptionContract]
    ) -> dict[OptionContract, OptionQuote]:
        """Return quotes of specific contracts (missing ones are absent from the mapping)."""
        ...

    def history(self, listing_id: str, sessions: int) -> DailyHistory:
        """Return the last `sessions` daily bars with 30-day ATM implied volatility."""
        ...

    def fx_quote(self, pair: str) -> FxQuote:
        """Return a currency pair quote such as USD.CAD."""
        ...

    def place_order(self, order: ComboOrder) -> OrderState:
        """Send a combo limit order; returns its first state (it may already be filled)."""
        ...

    def modify_order(self, order_id: str, limit_price: float) -> OrderState:
        """Change the limit of a working order."""
        ...

    def cancel_order(self, order_id: str) -> OrderState:
        """Ask to cancel a working order; fills that happened before stay."""
        ...

    def order_state(self, order_id: str) -> OrderState:
        """Return the current state of one order, with every fill so far."""
        ...

    def open_orders(self) -> list[OrderState]:
        """Return every working order, ours recognisable by their order refs."""
        ...

    def positions(self) -> list[BrokerPosition]:
        """Return the option positions held at the broker, per contract."""
        ...

    def executions(self, since: datetime | None = None) -> list[Fill]:
        """Return the executions the broker keeps, at or after `since` (all when None), oldest
        first: combo fills with their legs (each leg with its exec id and commission) and
        currency conversions.

        Each carries the broker's exec id (``fill_id``, stable across sessions), the broker's
        order id and the order's ``orderRef``: the truth Seeker's journals are reconciled with.
        An execution whose commission is not known yet is not returned until it is (or until the
        broker gives up waiting for it; its commission is then NaN).
        """
        ...

    def expiry_settlement(self, contract: OptionContract) -> float | None:
        """Return the price per share an expired contract was settled at, None when unknown.

        None is the honest answer whenever the broker does not report a cash settlement (an
        in-the-money equity option may have been exercised or assigned into shares instead).
        """
        ...

    def place_fx_order(
        self, pair: str, action: Action, qty: int, limit_price: float, order_ref: str
    ) -> OrderState:
        """Send a currency conversion (IDEALPRO for IBKR); qty in units of the pair's base currency.

        The order is a limit order; it fills at once when marketable, else it is rejected or
        cancelled (a conversion never stays working).
        """
        ...


@runtime_checkable
class SettlementNotes(Protocol):
    """A broker that can say on which value an expired contract was settled (the replay: the
    index open for AM-settled options, the close for PM)."""

    def settlement_note(self, contract: OptionContract) -> str | None:
        """Return how an expired contract settles, in words, None when unknown."""
        ...


@dataclass(frozen=True)
class RefLookup:
    """What the broker holds under one orderRef, from a complete answer (see :func:`lookup_ref`)."""

    order_ref: str
    working: tuple[OrderState, ...]
    """Orders carrying that orderRef the broker still works."""
    fills: tuple[Fill, ...]
    """Executions of orders carrying that orderRef (reportable ones, with their commissions)."""
    pending: int = 0
    """Executions with that orderRef the broker reported but cannot report as fills yet (their
    commission reports are still awaited): the order exists, its fills come later."""

    @property
    def absent(self) -> bool:
        """Return True when the broker neither works nor executed any order with that orderRef."""
        return not (self.working or self.fills or self.pending)


@runtime_checkable
class RefSearch(Protocol):
    """A broker whose ``open_orders`` / ``executions`` answer from a cache kept by the connection
    (IBKR) and that can ask afresh for the orders and executions of one orderRef."""

    def lookup_ref(self, order_ref: str) -> RefLookup:
        """Ask the broker now (not a cache) for its open orders and executions of `order_ref`.

        Raises DataUnavailable (BrokerUnavailable when disconnected) unless both answers came
        complete: an empty answer then proves the broker holds no such order.
        """
        ...


def lookup_ref(broker: Broker, order_ref: str) -> RefLookup:
    """Return what `broker` holds under `order_ref`, from a complete answer (or raise).

    A broker that can ask afresh (:class:`RefSearch`) is asked so; the in-process brokers (sim,
    replay) answer ``open_orders`` and ``executions`` from their own books, which are complete.
    Only orders and executions whose orderRef is exactly `order_ref` are returned.
    """
    if isinstance(broker, RefSearch):
        return broker.lookup_ref(order_ref)
    working = tuple(o for o in broker.open_orders() if o.order_ref == order_ref)
    fills = tuple(f for f in broker.executions() if f.order_ref == order_ref)
    return RefLookup(order_ref, working, fills)
