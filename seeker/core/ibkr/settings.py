"""The ``[ibkr]`` config table: how IBKRBroker talks to TWS / IB Gateway.

Host, port, client id and ``allow_live`` live in ``[broker]`` and are passed to the broker's
constructor. Nothing here has a default: every key shapes what data Seeker trades on or how hard it
may push IB's limits, so each one is written out in the config (the ``[ibkr]`` table of
``config/seeker.toml``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from seeker.core.config_base import StrictModel

MarketDataKind = Literal["live", "frozen", "delayed", "delayed_frozen"]

MARKET_DATA_CODES: dict[str, int] = {"live": 1, "frozen": 2, "delayed": 3, "delayed_frozen": 4}
"""IB's reqMarketDataType codes."""


class IbkrSettings(StrictModel):
    """Limits and timeouts of the IBKR adapter (seconds unless the name says otherwise)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    account: str = Field(max_length=32, pattern=r"^[A-Za-z0-9]*$")
    """Account to trade; "" = the single account the login manages (several → refused)."""
    market_data_type: MarketDataKind
    """Market data asked of TWS: live, frozen, delayed or delayed_frozen."""
    max_market_data_lines: int = Field(ge=1, le=10_000)
    """Simultaneous market-data lines Seeker may hold (IB's default allowance is 100)."""
    max_messages_per_second: int = Field(ge=1, le=50)
    """Requests per second Seeker may send (IB disconnects above 50)."""
    request_timeout_seconds: float = Field(gt=0.0, le=300.0)
    """Longest wait for one answer (contract details, order acknowledgement, cancel...)."""
    connect_timeout_seconds: float = Field(gt=0.0, le=300.0)
    """Longest wait for the connection and each start-up synchronisation request."""
    reconnect_initial_delay_seconds: float = Field(gt=0.0, le=600.0)
    """First pause before reconnecting after a drop; doubles after each failed attempt."""
    reconnect_max_delay_seconds: float = Field(gt=0.0, le=3600.0)
    """Ceiling of the reconnect pause."""
    history_requests_per_10_minutes: int = Field(ge=1, le=60)
    """Historical-data requests per rolling 10 minutes (IB pacing: at most 60)."""
    commission_wait_seconds: float = Field(ge=0.0, le=300.0)
    """How long a fill waits for its commission reports; after it, commission is NaN."""
    quote_wait_seconds: float = Field(gt=0.0, le=60.0)
    """Longest wait for a batch of quotes to arrive; what is still missing is reported missing."""

    @model_validator(mode="after")
    def _delays_ordered(self) -> IbkrSettings:
        if self.reconnect_max_delay_seconds < self.reconnect_initial_delay_seconds:
            raise ValueError(
                "reconnect_max_delay_seconds must be >= reconnect_initial_delay_seconds"
            )
        return self

    @property
    def market_data_code(self) -> int:
        """Return IB's code of the configured market data type (1 live … 4 delayed frozen)."""
        return MARKET_DATA_CODES[self.market_data_type]
