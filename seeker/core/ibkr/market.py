"""Gateway-side market data: contracts, option parameters, quote batches and daily history.

Runs on the gateway loop only. Contracts are qualified once and cached by conId (conIds never
change); option parameters (reqSecDefOptParams: expiries and the union of strikes) and each
expiry's listed contracts (one reqContractDetails per expiry, which also yields every conId of the
chain) are cached per session day. Quotes are streamed, never snapshotted (IB refuses generic ticks
on snapshots): a batch subscribes, waits until every ticker has its essentials (and briefly for open
interest and volume), copies the values, and always cancels its lines, within the shared gate.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

import numpy as np
from ib_async import Contract, Ticker
from ib_async.objects import OptionChain

from seeker.core.ibkr.contracts import (
    ListingIndex,
    expiry_query,
    fx_contract,
    norm_right,
    option_contract,
    option_exchange,
    parse_expiry,
    stock_contract,
)
from seeker.core.ibkr.gate import HistoryPacer
from seeker.core.ibkr.link import NY, IbLink, NotConnected, log
from seeker.core.ibkr.quotes import OPTION_GENERIC_TICKS, UNDERLYING_GENERIC_TICKS, TickView
from seeker.core.models import DailyHistory, DataUnavailable, Listing, OptionContract

GRACE_SECONDS = 0.2
"""Once every ticker of a batch has its essentials, how long to wait for the optional fields."""
SESSION_CLOSE = time(16, 0)
"""A daily bar dated today is incomplete before this New York time."""
SESSIONS_PER_YEAR = 250
GENERIC_TICKS = {"OPT": OPTION_GENERIC_TICKS, "STK": UNDERLYING_GENERIC_TICKS}

Complete = Callable[[TickView], tuple[bool, bool]]


@dataclass
class _Sub:
    """One market-data line, shared by the batches that want the same conId."""

    contract: Contract
    ticker: Ticker
    generation: int
    refs: int = 1
    seen: set[int] = field(default_factory=set)

    def on_update(self, ticker: Ticker) -> None:
        """Record the tick types of one update (ib_async clears ``ticks`` at the next one)."""
        self.seen.update(t.tickType for t in ticker.ticks)


@dataclass(frozen=True)
class _Bars:
    """Daily TRADES bars and OPTION_IMPLIED_VOLATILITY closes of one listing, as fetched."""

    dates: tuple[date, ...]
    ohlc: np.ndarray
    iv: np.ndarray


class MarketData:
    """Contracts, quotes and history over one IB connection (gateway loop only)."""

    def __init__(self, link: IbLink, listings: Mapping[str, Listing], pacer: HistoryPacer) -> None:
        self.link = link
        self.listings = dict(listings)
        self.index = ListingIndex(listings)
        self.pacer = pacer
        self._stocks: dict[str, Contract] = {}
        self._fx: dict[str, Contract] = {}
        self._options: dict[OptionContract, Contract] = {}
        self.by_con_id: dict[int, OptionContract] = {}
        self._params: dict[str, tuple[date, OptionChain]] = {}
        self._expiries: dict[tuple[str, date], tuple[date, dict[tuple[float, str], Contract]]] = {}
        self._bars: dict[tuple[str, int], tuple[date, _Bars]] = {}
        self._subs: dict[int, _Sub] = {}

    # ---------------------------------------------------------------- listings and contracts
    def listing(self, listing_id: str) -> Listing:
        """Return a listing; DataUnavailable if Seeker does not know it."""
        try:
            return self.listings[listing_id]
        except KeyError:
            raise DataUnavailable(f"unknown listing {listing_id}") from None

    async def details(self, contract: Contract, what: str) -> list[Any]:
        """Return IB's contract details of a (partial) contract; [] when IB knows none."""
        await self.link.send(1)
        return list(await self.link.ask(self.link.ib().reqContractDetailsAsync(contract), what))

    async def stock(self, listing_id: str) -> Contract:
        """Return the qualified stock contract of a listing (cached)."""
        hit = self._stocks.get(listing_id)
        if hit is not None:
            return hit
        listing = self.listing(listing_id)
        found = await self.details(stock_contract(listing), f"{listing_id} stock")
        if len(found) != 1:
            raise DataUnavailable(
                f"{listing_id}: IB knows {len(found)} stocks {listing.symbol} "
                f"{listing.currency} on {listing.exchange}, not exactly one"
            )
        self._stocks[listing_id] = found[0].contract
        return found[0].contract

    async def fx(self, pair: str) -> Contract:
        """Return the qualified IDEALPRO contract of an FX pair (cached)."""
        hit = self._fx.get(pair)
        if hit is not None:
            return hit
        try:
            query = fx_contract(pair)
        except ValueError as exc:
            raise DataUnavailable(str(exc)) from None
        found = await self.details(query, f"{pair} on IDEALPRO")
        if len(found) != 1:
            raise DataUnavailable(f"{pair}: IB knows {len(found)} IDEALPRO contracts")
        self._fx[pair] = found[0].contract
        return found[0].contract

    def remember_option(self, oc: OptionContract, contract: Contract) -> None:
        """Cache the qualified contract of a Seeker option (both ways)."""
        self._options[oc] = contract
        self.by_con_id[contract.conId] = oc

    async def option_params(self, listing_id: str) -> OptionChain:
        """Return IB's option parameters of a listing for its option exchange (per session day)."""
        day = self.link.session_day()
        hit = self._params.get(listing_id)
        if hit is not None and hit[0] == day:
            return hit[1]
        listing = self.listing(listing_id)
        stock = await self.stock(listing_id)
        await self.link.send(1)
        chains = await self.link.ask(
            self.link.ib().reqSecDefOptParamsAsync(listing.symbol, "", "STK", stock.conId),
            f"{listing_id} option parameters",
        )
        want = option_exchange(listing)
        mult = str(listing.multiplier)
        rows = [c for c in chains if c.exchange == want and c.multiplier in ("", mult)]
        rows = [c for c in rows if c.tradingClass == listing.symbol] or rows
        if not rows:
            raise DataUnavailable(f"{listing_id}: IB lists no options on {want}")
        best = max(rows, key=lambda c: len(c.expirations))
        self._params[listing_id] = (day, best)
        return best

    async def expiries(self, listing_id: str) -> list[date]:
        """Return the listed expiries of a listing, sorted."""
        params = await self.option_params(listing_id)
        return sorted({parse_expiry(e) for e in params.expirations})

    async def expiry_contracts(
        self, listing_id: str, expiry: date
    ) -> dict[tuple[float, str], Contract]:
        """Return every listed option of one expiry by (strike, right), per session day.

        IB's option parameters give the union of strikes over all expiries; one contract-details
        request on the expiry gives its exact strikes and every conId at once.
        """
        day = self.link.session_day()
        hit = self._expiries.get((listing_id, expiry))
        if hit is not None and hit[0] == day:
            return hit[1]
        listing = self.listing(listing_id)
        params = await self.option_params(listing_id)
        if expiry not in {parse_expiry(e) for e in params.expirations}:
            raise DataUnavailable(f"{listing_id}: expiry {expiry} is not listed")
        query = expiry_query(listing, expiry, params.tradingClass)
        found = await self.details(query, f"{listing_id} {expiry} options")
        out: dict[tuple[float, str], Contract] = {}
        for d in found:
            c = d.contract
            right = norm_right(c.right)
            if not right or parse_expiry(c.lastTradeDateOrContractMonth) != expiry:
                continue
            strike = round(float(c.strike), 4)
            out[(strike, right)] = c
            self.remember_option(OptionContract(listing_id, expiry, strike, right), c)  # type: ignore[arg-type]
        if not out:
            raise DataUnavailable(f"{listing_id}: IB lists no options expiring {expiry}")
        self._expiries[(listing_id, expiry)] = (day, out)
        return out

    async def strikes(self, listing_id: str, expiry: date) -> list[float]:
        """Return the listed strikes of one expiry, sorted."""
        return sorted({k for k, _ in await self.expiry_contracts(listing_id, expiry)})

    async def resolve_options(
        self, contracts: Sequence[OptionContract]
    ) -> dict[OptionContract, Contract]:
        """Return the IB contracts of Seeker options; those IB does not list are absent.

        Options of a cached expiry come from its listing; others are qualified one by one in
        one batch (ib_async 2.x returns None for a failed qualification: dropped).
        """
        out: dict[OptionContract, Contract] = {}
        todo: list[OptionContract] = []
        for oc in dict.fromkeys(contracts):
            hit = self._options.get(oc)
            if hit is not None:
                out[oc] = hit
            elif oc.listing_id in self.listings:
                todo.append(oc)
        for key in sorted({(oc.listing_id, oc.expiry) for oc in todo}):
            try:
                listed = await self.expiry_contracts(*key)
            except DataUnavailable as exc:
                log.info("no listing of %s %s: %s", key[0], key[1], exc)
                continue
            for oc in todo:
                c = listed.get((round(oc.strike, 4), oc.right))
                if (oc.listing_id, oc.expiry) == key and c is not None:
                    out[oc] = c
        rest = [oc for oc in todo if oc not in out]
        if rest:
            await self.link.send(len(rest))
            ib = self.link.ib()
            queries = [self._option_query(oc) for oc in rest]
            found = await self.link.ask(
                asyncio.gather(*(ib.reqContractDetailsAsync(q) for q in queries)),
                f"qualifying {len(rest)} options",
            )
            for oc, details in zip(rest, found, strict=True):
                if len(details) == 1:
                    self.remember_option(oc, details[0].contract)
                    out[oc] = details[0].contract
        return out

    def _option_query(self, oc: OptionContract) -> Contract:
        listing = self.listings[oc.listing_id]
        hit = self._params.get(oc.listing_id)
        return option_contract(listing, oc, hit[1].tradingClass if hit else "")

    async def resolve_con_ids(self, con_ids: Iterable[int]) -> None:
        """Learn the Seeker options behind conIds (combo legs of orders sent earlier)."""
        unknown = sorted({c for c in con_ids if c and c not in self.by_con_id})
        if not unknown:
            return
        await self.link.send(len(unknown))
        ib = self.link.ib()
        found = await self.link.ask(
            asyncio.gather(*(ib.reqContractDetailsAsync(Contract(conId=c)) for c in unknown)),
            f"contracts of {len(unknown)} conIds",
        )
        for details in found:
            if len(details) != 1:
                continue
            c = details[0].contract
            oc = self.index.option_of(c)
            if oc is not None:
                self.remember_option(oc, c)

    def option_of(self, contract: Contract) -> OptionContract | None:
        """Return the Seeker option of an IB contract (by conId, else by its fields)."""
        hit = self.by_con_id.get(contract.conId)
        return hit if hit is not None else self.index.option_of(contract)

    # ---------------------------------------------------------------- quotes
    def _subscribe(self, contract: Contract) -> _Sub:
        ib = self.link.ib()
        sub = self._subs.get(contract.conId)
        if sub is not None and sub.generation == self.link.generation:
            sub.refs += 1
            return sub
        ib.wrapper.tickers.pop(hash(contract), None)  # never read a stale ticker of an old line
        ticker = ib.reqMktData(contract, GENERIC_TICKS.get(contract.secType, ""), False, False)
        sub = _Sub(contract, ticker, self.link.generation)
        ticker.updateEvent += sub.on_update
        self._subs[contract.conId] = sub
        return sub

    def _unsubscribe(self, sub: _Sub) -> None:
        sub.refs -= 1
        if sub.refs > 0:
            return
        if self._subs.get(sub.contract.conId) is sub:
            del self._subs[sub.contract.conId]
        sub.ticker.updateEvent -= sub.on_update
        client = self.link.client
        if sub.generation != self.link.generation or client is None:
            return
        if client.isConnected():
            client.cancelMktData(sub.contract)
        client.wrapper.tickers.pop(hash(sub.contract), None)

    def forget_lines(self) -> None:
        """Drop every line after a disconnect (TWS dropped them with the socket)."""
        self._subs.clear()

    def cancel_all_lines(self) -> None:
        """Cancel every open line (at shutdown)."""
        for sub in list(self._subs.values()):
            sub.refs = 1
            self._unsubscribe(sub)

    async def quote_batch(
        self, contracts: Sequence[Contract], complete: Complete
    ) -> list[TickView]:
        """Stream a batch of contracts until complete (bounded), copy the values, cancel."""
        n = len(contracts)
        if n == 0:
            return []
        await self.link.sync_clock()  # quotes are stamped on TWS's clock
        await self.link.hold_lines(n)
        subs: list[_Sub] = []
        try:
            await self.link.send(2 * n)  # one reqMktData and one cancelMktData per line
            for c in contracts:
                subs.append(self._subscribe(c))
            return await self._collect(subs, complete)
        finally:
            for sub in subs:
                self._unsubscribe(sub)
            self.link.gate.release_lines(n)

    async def _collect(self, subs: Sequence[_Sub], complete: Complete) -> list[TickView]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        settled: float | None = None
        while True:
            views = [TickView.of(s.ticker, frozenset(s.seen)) for s in subs]
            flags = [complete(v) for v in views]
            now = loop.time()
            if all(full for _, full in flags):
                return views
            if all(essential for essential, _ in flags):
                settled = now if settled is None else settled
                if now - settled >= GRACE_SECONDS:
                    return views
            if now - start >= self.link.settings.quote_wait_seconds:
                return views
            self.link.ib()
            if any(s.generation != self.link.generation for s in subs):
                raise NotConnected("the connection was reset while quotes were streaming")
            await asyncio.sleep(0.01)

    # ---------------------------------------------------------------- history
    async def history(self, listing_id: str, sessions: int) -> DailyHistory:
        """Return the last `sessions` completed daily bars with IV closes (NaN where missing)."""
        if sessions < 1:
            raise DataUnavailable(f"{listing_id}: history of {sessions} sessions asked")
        years = max(1, math.ceil((sessions + 10) / SESSIONS_PER_YEAR))
        await self.link.sync_clock()  # "today" is TWS's day, not this machine's
        day = self.link.session_day()
        hit = self._bars.get((listing_id, years))
        if hit is None or hit[0] != day:
            bars = await self._fetch_bars(listing_id, years)
            self._bars[(listing_id, years)] = (day, bars)
        else:
            bars = hit[1]
        if len(bars.dates) < sessions:
            raise DataUnavailable(
                f"{listing_id}: IB has {len(bars.dates)} completed daily bars, {sessions} asked"
            )
        ohlc = bars.ohlc[-sessions:]
        return DailyHistory(
            listing_id=listing_id,
            dates=bars.dates[-sessions:],
            open=ohlc[:, 0].copy(),
            high=ohlc[:, 1].copy(),
            low=ohlc[:, 2].copy(),
            close=ohlc[:, 3].copy(),
            iv=bars.iv[-sessions:].copy(),
        )

    async def _fetch_bars(self, listing_id: str, years: int) -> _Bars:
        stock = await self.stock(listing_id)
        duration = f"{years} Y"
        trades = await self._request_bars(stock, duration, "TRADES")
        if len(trades) == 0:
            raise DataUnavailable(f"{listing_id}: IB returned no daily TRADES bars")
        ivs = await self._request_bars(stock, duration, "OPTION_IMPLIED_VOLATILITY")
        now_ny = self.link.now().astimezone(NY)
        rows = [
            b
            for b in trades
            if isinstance(b.date, date)
            and (_day(b.date) < now_ny.date() or now_ny.time() >= SESSION_CLOSE)
        ]
        iv_by_day = {
            _day(b.date): float(b.close)
            for b in ivs
            if math.isfinite(float(b.close)) and float(b.close) > 0.0
        }
        dates = tuple(_day(b.date) for b in rows)
        ohlc = np.array([[b.open, b.high, b.low, b.close] for b in rows], dtype=float)
        ohlc = ohlc.reshape(len(rows), 4)
        iv = np.array([iv_by_day.get(d, math.nan) for d in dates], dtype=float)
        return _Bars(dates, ohlc, iv)

    async def _request_bars(self, stock: Contract, duration: str, what: str) -> list[Any]:
        key = (stock.conId, duration, what, "1 day", "")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.link.settings.request_timeout_seconds
        while (wait := self.pacer.try_reserve(key)) > 0.0:
            if loop.time() + wait > deadline:
                raise DataUnavailable(
                    f"history pacing: the next {what} request is allowed in {wait:.0f} s"
                )
            await asyncio.sleep(min(wait, 0.1))
        await self.link.send(1)
        timeout = self.link.settings.request_timeout_seconds
        bars = await self.link.ib().reqHistoricalDataAsync(
            stock, "", duration, "1 day", what, True, 1, timeout=timeout
        )
        self.link.ib()  # an empty answer after a drop is a connection problem
        return list(bars)


def _day(value: Any) -> date:
    """Return the date of a bar's date (a date, or a datetime for intraday formats)."""
    return value.date() if hasattr(value, "date") and callable(value.date) else value
