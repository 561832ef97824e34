"""The replayed market: the store's snapshots, one per quote date, served at their decision time.

A quote date's snapshot becomes the market at its decision time (the data's ``quote_time``, else
the snapshot time the caller names) and stays it until the end of that day. At any other time
there is no market data: every request raises DataUnavailable saying so. Daily history is served
up to the last completed session (a day counts once its close, 16:00 New York, has passed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from seeker.core.calendar import MARKET_TZ
from seeker.core.models import (
    Chain,
    DailyHistory,
    DataUnavailable,
    OptionContract,
    OptionQuote,
    UnderlyingQuote,
)
from seeker.core.replay.store import ChainStore, DayChain

SESSION_CLOSE = time(16, 0)
"""When a day's bar counts as completed (New York time)."""


@dataclass(frozen=True, slots=True)
class ReplayListing:
    """Which rows of the store one Seeker listing replays, and how its contracts trade.

    ``root`` selects one option root (SPX monthlies and SPXW weeklies share expiries and
    strikes, so a listing must name one); None takes every row of the underlying.
    """

    listing_id: str
    underlying: str
    root: str | None
    currency: str
    multiplier: int


SnapshotTime = time | Mapping[date, time] | None
"""The decision time of quote dates without ``quote_time``: one time for every day, one per day
(an early close moves it), or None (the data must carry ``quote_time``)."""


def latest_quote_time(store: ChainStore, day: date) -> time | None:
    """Return the latest ``quote_time`` of one quote date, None when the data has none."""
    latest = pc.max(store.load_day(day, columns=["quote_time"])["quote_time"]).as_py()
    if latest is None:
        return None
    hh, mm = latest.split(":")
    return time(int(hh), int(mm))


def decision_times(store: ChainStore, snapshot_time: SnapshotTime) -> dict[date, datetime]:
    """Return each quote date's decision time: its latest ``quote_time``, else `snapshot_time`.

    Raise ValueError naming the first day that has neither.
    """
    out: dict[date, datetime] = {}
    for day in store.quote_dates():
        latest = latest_quote_time(store, day)
        given = snapshot_time if isinstance(snapshot_time, time | None) else snapshot_time.get(day)
        if latest is not None:
            at = latest
        elif given is not None:
            at = given
        else:
            raise ValueError(
                f"{store.path}: {day} has no quote_time; pass the snapshot time explicitly"
            )
        out[day] = datetime.combine(day, at, MARKET_TZ)
    return out


class ReplayMarket:
    """Snapshots of the store over time, per listing; not thread-safe (the broker locks)."""

    def __init__(
        self,
        store: ChainStore,
        listings: Mapping[str, ReplayListing],
        histories: Mapping[str, DailyHistory],
        snapshot_time: SnapshotTime,
    ) -> None:
        missing = [lid for lid in listings if lid not in histories]
        if missing:
            raise ValueError(f"no daily history for {', '.join(missing)}")
        self.store = store
        self.listings = dict(listings)
        self.histories = dict(histories)
        self.times = decision_times(store, snapshot_time)
        if not self.times:
            raise ValueError(f"{store.path}: the store holds no quote date")
        self.now: datetime = min(self.times.values()).replace(hour=0, minute=0)
        self._day: date | None = None
        self._table: pa.Table | None = None
        self._chains: dict[str, DayChain] = {}

    # -- time --------------------------------------------------------------------------------
    def decision_times(self) -> list[datetime]:
        """Return every snapshot's decision time, in order."""
        return sorted(self.times.values())

    def advance_to(self, t: datetime) -> bool:
        """Move to `t` (aware; at or before now is a no-op); return True on a new snapshot."""
        if t.tzinfo is None:
            raise ValueError("advance_to needs an aware datetime")
        if t <= self.now:
            return False
        self.now = t
        day = t.astimezone(MARKET_TZ).date()
        at = self.times.get(day)
        current = day if at is not None and at <= t else None
        if current == self._day:
            return False
        self._day = current
        self._table = None
        self._chains = {}
        return current is not None

    def snapshot_day(self) -> date | None:
        """Return the quote date whose snapshot is the market now, None between snapshots."""
        return self._day

    def snapshot_ts(self) -> datetime:
        """Return the current snapshot's decision time (its quotes' time stamp)."""
        if self._day is None:
            raise DataUnavailable(self.no_snapshot_reason())
        return self.times[self._day]

    def no_snapshot_reason(self) -> str:
        """Return why there is no market data now."""
        day = self.now.astimezone(MARKET_TZ).date()
        at = self.times.get(day)
        if at is None:
            return f"no option chain recorded for {day} (replay)"
        return f"the {day} snapshot is taken at {at:%H:%M}; it is {self.now:%H:%M}"

    # -- chains ------------------------------------------------------------------------------
    def listing(self, listing_id: str) -> ReplayListing:
        """Return a listing, DataUnavailable when the replay does not know it."""
        try:
            return self.listings[listing_id]
        except KeyError:
            raise DataUnavailable(f"{listing_id} is not replayed") from None

    def day_chain(self, listing_id: str) -> DayChain:
        """Return the listing's rows of the current snapshot (loaded once per day)."""
        lst = self.listing(listing_id)
        if self._day is None:
            raise DataUnavailable(self.no_snapshot_reason())
        chain = self._chains.get(listing_id)
        if chain is None:
            if self._table is None:
                self._table = self.store.load_day(self._day)
            chain = self.store.day(self._day, lst.underlying, lst.root, self._table)
            if chain.rows == 0:
                raise DataUnavailable(f"{listing_id}: no rows in the {self._day} snapshot")
            mults = [m for m in chain.text_values("multiplier") if m is not None]
            if any(m != lst.multiplier for m in mults):
                raise DataUnavailable(
                    f"{listing_id}: the data's multiplier {mults} differs from the listing's "
                    f"{lst.multiplier}"
                )
            chain.check_unique()
            self._chains[listing_id] = chain
        return chain

    def underlying_quote(self, listing_id: str) -> UnderlyingQuote:
        """Return the index value of the snapshot as bid, ask and last (an index has no spread)."""
        chain = self.day_chain(listing_id)
        price = chain.underlying_price()
        return UnderlyingQuote(listing_id, price, price, price, self.snapshot_ts())

    def expiries(self, listing_id: str) -> list[date]:
        """Return the expiries quoted in the snapshot."""
        return self.day_chain(listing_id).expiries()

    def strikes(self, listing_id: str, expiry: date) -> list[float]:
        """Return the strikes quoted for one expiry in the snapshot."""
        return self.day_chain(listing_id).strikes(expiry)

    def chain(
        self,
        listing_id: str,
        expiries: Sequence[date],
        strike_range: tuple[float, float] | None,
    ) -> Chain:
        """Return the quotes of the given expiries and strike range, as recorded."""
        dc = self.day_chain(listing_id)
        ts = self.snapshot_ts()
        quotes = dc.quotes(dc.select(expiries, strike_range), listing_id, ts)
        return Chain(
            listing_id, self.underlying_quote(listing_id), tuple(quotes), dc.chain_volume(), ts
        )

    def option_quotes(
        self, contracts: Sequence[OptionContract]
    ) -> dict[OptionContract, OptionQuote]:
        """Return the quotes of the contracts the snapshot holds (others are absent)."""
        out: dict[OptionContract, OptionQuote] = {}
        if self._day is None:
            return out
        ts = self.snapshot_ts()
        for c in contracts:
            if c.listing_id not in self.listings:
                continue
            try:
                dc = self.day_chain(c.listing_id)
            except DataUnavailable:
                continue
            row = dc.row_of(c.expiry, c.strike, c.right)
            if row is not None:
                (q,) = dc.quotes(np.array([row]), c.listing_id, ts)
                out[c] = q._replace(contract=c)
        return out

    def settlement_style(self, contract: OptionContract) -> str | None:
        """Return the snapshot's settlement (AM/PM) for the contract's expiry, None if unknown."""
        try:
            dc = self.day_chain(contract.listing_id)
        except DataUnavailable:
            return None
        values = dc.text_values("settlement", dc.select([contract.expiry], None))
        return values[0] if len(values) == 1 and isinstance(values[0], str) else None

    # -- history -----------------------------------------------------------------------------
    def history(self, listing_id: str, sessions: int) -> DailyHistory:
        """Return the last `sessions` completed daily bars (no look-ahead)."""
        if sessions < 1:
            raise ValueError(f"sessions must be at least 1, got {sessions}")
        self.listing(listing_id)
        h = self.histories[listing_id]
        local = self.now.astimezone(MARKET_TZ)
        cutoff = local.date() if local.time() >= SESSION_CLOSE else None
        days = np.array(h.dates, dtype="datetime64[D]")
        day = np.datetime64(local.date(), "D")
        end = int(np.searchsorted(days, day, side="right" if cutoff is not None else "left"))
        if sessions > end:
            raise DataUnavailable(
                f"{listing_id}: {sessions} sessions of history asked, {end} available"
            )
        sl = slice(end - sessions, end)
        return DailyHistory(
            listing_id,
            h.dates[sl],
            h.open[sl].copy(),
            h.high[sl].copy(),
            h.low[sl].copy(),
            h.close[sl].copy(),
            h.iv[sl].copy(),
        )

    def mark(self, contract: OptionContract) -> float:
        """Return a contract's mid in the snapshot, NaN when it is not quoted."""
        q = self.option_quotes([contract]).get(contract)
        return q.mid if q is not None else math.nan
