"""What the gateway-side parts of IBKRBroker share: the IB object, TWS's clock, budgets, waits.

Everything here runs on the gateway loop (see :mod:`seeker.core.ibkr.gateway`); nothing blocks it:
the budgets of :class:`~seeker.core.ibkr_gate.MarketDataGate` are polled, never waited on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from ib_async import IB

from seeker.core.ibkr.gate import MarketDataGate
from seeker.core.ibkr.settings import IbkrSettings
from seeker.core.models import DataUnavailable

T = TypeVar("T")

log = logging.getLogger("seeker.ibkr")

NY = ZoneInfo("America/New_York")
POLL_SECONDS = 0.01
"""How often gateway-side waits look at ib_async's state."""


class NotConnected(ConnectionError):
    """Raise on the gateway loop when TWS is not connected (the facade says BrokerUnavailable)."""


class IbLink:
    """The connection and the shared helpers of the gateway-side components."""

    def __init__(self, settings: IbkrSettings, gate: MarketDataGate) -> None:
        self.settings = settings
        self.gate = gate
        self.client: IB | None = None
        self.offset = timedelta(0)
        """TWS time minus local time, measured with reqCurrentTime at each connection."""
        self.generation = 0
        """Incremented at each (re)connection; subscriptions of older ones are dead."""

    # ---- connection and time
    def ib(self) -> IB:
        """Return the connected IB object; raise NotConnected otherwise."""
        client = self.client
        if client is None or not client.isConnected():
            raise NotConnected("not connected to TWS")
        return client

    def now(self) -> datetime:
        """Return TWS's current time (local clock + the measured offset), aware UTC."""
        return datetime.now(UTC) + self.offset

    def stamp(self, local: datetime | None) -> datetime:
        """Return a local receipt time (ib_async's, UTC) on TWS's clock; now when unknown."""
        if local is None or local.year < 2000:
            return self.now()
        return local.astimezone(UTC) + self.offset

    def session_day(self) -> date:
        """Return today's date in New York (caches of chains and history are per session day)."""
        return self.now().astimezone(NY).date()

    async def sync_clock(self) -> datetime:
        """Ask TWS for its time, update the offset and return that time."""
        server = await self.ask(self.ib().reqCurrentTimeAsync(), "current time")
        self.offset = server - datetime.now(UTC)
        return server

    # ---- budgets
    async def send(self, n: int = 1) -> None:
        """Spend `n` messages of the shared budget, waiting (bounded) without blocking the loop."""
        deadline = asyncio.get_running_loop().time() + self.settings.request_timeout_seconds
        cap = max(1, int(self.gate.capacity))
        left = n
        while left > 0:
            chunk = min(left, cap)
            while (wait := self.gate.try_take_messages(chunk)) > 0.0:
                if asyncio.get_running_loop().time() + wait > deadline:
                    raise DataUnavailable(
                        f"message budget exhausted ({self.gate.rate:g}/s) for "
                        f"{self.settings.request_timeout_seconds:g} s"
                    )
                await asyncio.sleep(min(wait, 0.05))
            left -= chunk

    async def hold_lines(self, n: int) -> None:
        """Take `n` market-data lines, waiting (bounded) without blocking the loop."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.request_timeout_seconds
        while not self.gate.try_acquire_lines(n):
            if loop.time() >= deadline:
                raise DataUnavailable(
                    f"market-data lines busy: {self.gate.lines_in_use} of "
                    f"{self.gate.max_lines} in use for {self.settings.request_timeout_seconds:g} s"
                )
            await asyncio.sleep(0.02)

    # ---- waits
    async def ask(self, awaitable: Awaitable[T], what: str) -> T:
        """Await one ib_async request, bounded by the request timeout."""
        timeout = self.settings.request_timeout_seconds
        try:
            return await asyncio.wait_for(awaitable, timeout)
        except TimeoutError:
            self.ib()  # a drop while waiting is a connection problem, not a missing datum
            raise DataUnavailable(f"{what}: no answer from TWS within {timeout:g} s") from None

    async def wait_until(self, cond: Callable[[], bool], timeout: float) -> bool:
        """Poll `cond` until it holds (True) or `timeout` passes (False); raise on a drop."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if cond():
                return True
            self.ib()
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(POLL_SECONDS)
