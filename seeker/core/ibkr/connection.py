"""The IB connection's lifecycle: connect, account choice, drops, reconnects, calls, close.

One gateway thread owns the ``IB`` object and its asyncio loop (:mod:`seeker.core.ibkr.gateway`);
:meth:`IbConnection.call` runs a coroutine there for a strategy thread, with a timeout, and maps
failures to Seeker's errors. :meth:`IbConnection.open` connects (paper unless both live opt-ins),
checks the account and synchronises positions, open and completed orders, the day's executions
with their commission reports, and the account's values. A dropped socket turns the state to
RECONNECTING; the gateway reconnects with exponential backoff and re-synchronises, then the state
is CONNECTED again and :attr:`IbConnection.epoch` grows by one (listeners are told, in a
short-lived thread: that is when Seeker journals the executions it missed and reconciles).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from ib_async import IB, StartupFetch, StartupFetchALL

from seeker.core.broker import ConnectionState
from seeker.core.ibkr.gateway import LoopThread
from seeker.core.ibkr.link import IbLink, NotConnected, log
from seeker.core.ibkr.market import MarketData
from seeker.core.ibkr.safety import IbkrSetupError, LiveTradingRefused, live_problem
from seeker.core.ibkr.settings import IbkrSettings
from seeker.core.ibkr.trading import OrderBook
from seeker.core.models import BrokerUnavailable, DataUnavailable

T = TypeVar("T")

STARTUP_FETCH = StartupFetchALL & ~StartupFetch.ACCOUNT_UPDATES & ~StartupFetch.SUB_ACCOUNT_UPDATES
"""What ib_async synchronises at connect; account updates follow once the account is checked."""
UPSTREAM_LOST = 1100
"""TWS error: its connection to IB's servers is lost (the API socket stays up)."""
UPSTREAM_RESTORED = frozenset({1101, 1102})
"""TWS errors: that connection is back (1101: market data lost, 1102: maintained)."""
_LIVE_STATES = frozenset({ConnectionState.CONNECTED, ConnectionState.RECONNECTING})
ReconnectListener = Callable[[int], None]


class IbConnection:
    """One client id's session with TWS, across drops and reconnects (thread-safe)."""

    def __init__(
        self,
        settings: IbkrSettings,
        link: IbLink,
        market: MarketData,
        orders: OrderBook,
        *,
        host: str,
        port: int,
        client_id: int,
        allow_live: bool,
        live: bool,
    ) -> None:
        self.settings = settings
        self.host = host
        self.port = port
        self.client_id = client_id
        self.allow_live = allow_live
        self.live = live
        self._gateway = LoopThread(f"ibkr-gateway-{client_id}")
        self._link = link
        self._market = market
        self._orders = orders
        self._lock = threading.Lock()
        self._state = ConnectionState.DISCONNECTED
        self._epoch = 0
        self._closing = False
        self._listeners: list[ReconnectListener] = []
        self._fatal: Exception | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._upstream_down = False
        self._account = ""

    def open(self) -> None:
        """Connect (paper unless both live opt-ins), check the account, synchronise everything.

        Raises LiveTradingRefused (live port: before connecting; live account: after) or
        IbkrSetupError (account not managed by this login), BrokerUnavailable when TWS cannot be
        reached.
        """
        with self._lock:
            if self._state == ConnectionState.CONNECTED:
                return
            if self._state != ConnectionState.DISCONNECTED:
                raise BrokerUnavailable(f"already {self._state.value}")
            problem = live_problem(self.port, "", self.allow_live, self.live)
            if problem:
                raise LiveTradingRefused(problem)
            self._state = ConnectionState.CONNECTING
            self._closing = False
            self._fatal = None
        try:
            self._gateway.start()
            budget = (
                4 * self.settings.connect_timeout_seconds + self.settings.request_timeout_seconds
            )
            self._gateway.run(self._first_connect, budget)
        except IbkrSetupError:
            self.shutdown()
            raise
        except (OSError, TimeoutError, DataUnavailable) as exc:
            self.shutdown()
            raise BrokerUnavailable(
                f"cannot connect to TWS at {self.host}:{self.port} "
                f"(client id {self.client_id}): {exc or type(exc).__name__}"
            ) from exc
        except BaseException:
            self.shutdown()
            raise
        log.info("connected to TWS %s:%d as client %d", self.host, self.port, self.client_id)

    def shutdown(self) -> None:
        """Disconnect, stop the gateway thread, end DISCONNECTED (a later connect starts over)."""
        self._closing = True
        if self._gateway.running:
            try:
                self._gateway.run(self._close_async, self.settings.request_timeout_seconds)
            except Exception as exc:  # closing must always finish
                log.warning("closing the IB session: %s", exc)
            self._gateway.stop()
        self._link.client = None
        self._set_state(ConnectionState.DISCONNECTED)

    @property
    def state(self) -> ConnectionState:
        """Return DISCONNECTED, CONNECTING, CONNECTED or RECONNECTING."""
        return self._state

    @property
    def epoch(self) -> int:
        """Return how many times a connection was established (1 after connect, +1 per reconnect).

        A strategy that saw epoch n and now sees a larger one should reconcile its orders and
        positions: fills may have happened while the connection was down.
        """
        return self._epoch

    def add_listener(self, listener: ReconnectListener) -> None:
        """Call `listener(epoch)` after each automatic reconnect (in a short-lived thread)."""
        with self._lock:
            self._listeners.append(listener)

    @property
    def account(self) -> str:
        """Return the account this session trades ("" before connect)."""
        return self._account

    def _set_state(self, state: ConnectionState) -> None:
        with self._lock:
            self._state = state

    # ---------------------------------------------------------------- gateway side
    async def _first_connect(self) -> None:
        """Connect, then turn CONNECTED on the loop (so a drop right after is never missed)."""
        await self._connect_async()
        if not self._link.ib().isConnected():
            raise NotConnected("the connection dropped while synchronising")
        with self._lock:
            self._state = ConnectionState.CONNECTED
            self._epoch += 1

    async def _connect_async(self) -> None:
        link = self._link
        if link.client is None:
            link.client = IB()
            # ib_async throttles to 45 requests/s on its own; make the configured message budget
            # (enforced by our gate, shared with history pacing) the one that governs
            link.client.client.MaxRequests = self.settings.max_messages_per_second
            link.client.disconnectedEvent += self._on_disconnected
            link.client.errorEvent += self._on_error
        ib = link.client
        timeout = self.settings.connect_timeout_seconds
        await ib.connectAsync(
            self.host,
            self.port,
            clientId=self.client_id,
            timeout=timeout,
            raiseSyncErrors=True,
            fetchFields=STARTUP_FETCH,
        )
        try:
            managed = ib.managedAccounts()
            account = self._choose_account(managed)
            for acct in [account, *managed]:  # a paper login never manages a live account
                problem = live_problem(self.port, acct, self.allow_live, self.live)
                if problem:
                    raise LiveTradingRefused(problem)
            self._account = account
            self._orders.account = account
            link.generation += 1
            self._market.forget_lines()
            await asyncio.wait_for(ib.reqAccountUpdatesAsync(account), timeout)
            ib.reqMarketDataType(self.settings.market_data_code)
            await link.sync_clock()
            await self._orders.adopt_all()
        except BaseException:
            ib.disconnect()
            raise

    def _choose_account(self, managed: Sequence[str]) -> str:
        wanted = self.settings.account
        if wanted:
            if wanted not in managed:
                raise IbkrSetupError(
                    f"ibkr.account {wanted} is not managed by this login "
                    f"(managed: {', '.join(managed) or 'none'})"
                )
            return wanted
        if len(managed) != 1:
            raise IbkrSetupError(
                f"this login manages {len(managed)} accounts ({', '.join(managed)}); "
                "set ibkr.account to the one to trade"
            )
        return managed[0]

    def _on_error(self, req_id: int, code: int, message: str, contract: object) -> None:
        self._orders.on_error(req_id, code, message)
        if code == UPSTREAM_LOST and self._state == ConnectionState.CONNECTED:
            log.warning("TWS lost its connection to IB (%s): waiting for it", message)
            self._upstream_down = True
            self._set_state(ConnectionState.RECONNECTING)
        elif code in UPSTREAM_RESTORED and self._upstream_down and not self._reconnecting():
            self._upstream_down = False
            self._reconnect_task = asyncio.get_running_loop().create_task(self._resync())

    def _reconnecting(self) -> bool:
        task = self._reconnect_task
        return task is not None and not task.done()

    def _on_disconnected(self) -> None:
        state = self._state
        if self._closing or self._reconnecting() or state not in _LIVE_STATES:
            return  # a failed attempt of our own, a refused session, or close()
        log.warning("TWS connection lost; reconnecting")
        self._upstream_down = False
        self._set_state(ConnectionState.RECONNECTING)
        self._market.forget_lines()
        self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        delay = self.settings.reconnect_initial_delay_seconds
        budget = 4 * self.settings.connect_timeout_seconds + self.settings.request_timeout_seconds
        while not self._closing:
            await asyncio.sleep(delay)
            if self._closing:
                return
            try:
                await asyncio.wait_for(self._connect_async(), budget)
            except IbkrSetupError as exc:
                log.error("reconnect refused: %s", exc)
                self._fatal = exc
                self._set_state(ConnectionState.DISCONNECTED)
                return
            except Exception as exc:  # any failure: try again later, never give up silently
                delay = min(2 * delay, self.settings.reconnect_max_delay_seconds)
                log.warning("reconnect failed (%r); next attempt in %.2f s", exc, delay)
                continue
            self._connected_again("reconnected to TWS")
            return

    async def _resync(self) -> None:
        """Re-read orders and executions after TWS got its link to IB back (1101/1102)."""
        ib = self._link.client
        try:
            assert ib is not None
            timeout = self.settings.connect_timeout_seconds
            await asyncio.wait_for(ib.reqOpenOrdersAsync(), timeout)
            await asyncio.wait_for(ib.reqExecutionsAsync(), timeout)
            await asyncio.wait_for(ib.reqPositionsAsync(), timeout)
        except Exception as exc:
            log.warning("re-synchronisation after TWS's link came back failed: %r", exc)
            if self._closing:
                return
            self._set_state(ConnectionState.RECONNECTING)
            self._market.forget_lines()
            if ib is not None and ib.isConnected():
                ib.disconnect()  # start over: a full reconnect re-synchronises everything
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect_loop())
            return
        self._connected_again("TWS's link to IB is back")

    def _connected_again(self, what: str) -> None:
        with self._lock:
            self._state = ConnectionState.CONNECTED
            self._epoch += 1
            epoch, listeners = self._epoch, list(self._listeners)
        log.info("%s (epoch %d)", what, epoch)
        if listeners:
            threading.Thread(
                target=_notify, args=(listeners, epoch), name="ibkr-reconnected", daemon=True
            ).start()

    async def _close_async(self) -> None:
        task = self._reconnect_task
        if task is not None and not task.done():
            task.cancel()
        self._market.cancel_all_lines()
        client = self._link.client
        if client is not None and client.isConnected():
            client.disconnect()

    # ---------------------------------------------------------------- calls
    def require_connected(self) -> None:
        state = self._state
        if state != ConnectionState.CONNECTED:
            why = f": {self._fatal}" if self._fatal is not None else ""
            raise BrokerUnavailable(f"IBKR broker is {state.value}{why}")

    def call(
        self, factory: Callable[[], Coroutine[Any, Any, T]], timeout: float | None = None
    ) -> T:
        """Run a gateway coroutine for a strategy thread, mapping failures to Seeker's errors."""
        self.require_connected()
        limit = timeout if timeout is not None else self.settings.request_timeout_seconds + 1.0
        try:
            return self._gateway.run(factory, limit)
        except (NotConnected, ConnectionError) as exc:
            raise BrokerUnavailable(f"TWS connection lost: {exc}") from exc
        except TimeoutError as exc:
            self.require_connected()
            raise DataUnavailable(f"TWS did not answer in time ({exc})") from exc
        except (RuntimeError, concurrent.futures.CancelledError) as exc:
            if not self._gateway.running or isinstance(exc, concurrent.futures.CancelledError):
                raise BrokerUnavailable("IBKR broker was closed during the call") from exc
            raise


def _notify(listeners: Sequence[ReconnectListener], epoch: int) -> None:
    for listener in listeners:
        try:
            listener(epoch)
        except Exception:
            log.exception("reconnect listener failed")
