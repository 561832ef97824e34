"""The simulated broker's paper account: cash, positions, settlements and executions, durable.

A base of :class:`~seeker.core.sim.broker.SimBroker` (which supplies the market, the lock and the
orders): every execution is appended to the execution log before it is booked or reported, the
account is snapshot after it, and the simulated time and order-id ceiling at every clock step
(:mod:`seeker.core.sim.ledger`). :meth:`SimAccount.load_state` restores all of it after any end
of an earlier run, a SIGKILL included. A write that fails stops the broker (it reports the fault
once, through ``on_fault``): an execution that could not be written did not happen.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_left
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from seeker.core.broker import ConnectionState
from seeker.core.fill_model import book
from seeker.core.journal import JournalWriteError
from seeker.core.models import DataUnavailable, Fill, Listing, OptionContract
from seeker.core.sim.ledger import (
    ID_BLOCK,
    READABLE_VERSIONS,
    SimLedger,
    execution_record,
    fill_of,
    id_number,
    leg_bookings,
    positions_of,
    snapshot,
)
from seeker.core.sim.market import SimMarket

log = logging.getLogger(__name__)


class SimAccount:
    """Cash, positions, settlements and the execution record of the simulated paper account."""

    market: SimMarket
    listings: dict[str, Listing]
    seed: int
    state_path: Path | None
    _lock: threading.RLock
    _state: ConnectionState
    _next_id: int
    _id_ceiling: int
    _cash: dict[str, float]
    _positions: dict[OptionContract, tuple[int, float]]
    _settled: set[date]
    settlements: list[dict[str, Any]]
    _executions: list[Fill]
    _exec_seq: int
    _ledger: SimLedger | None
    _fault: str | None
    on_fault: Callable[[str], None] | None

    def _init_account(self, initial_cash: dict[str, float], state_path: Path | None) -> None:
        """Start an empty account (``load_state`` then restores an earlier run's)."""
        self._next_id = 1
        self._id_ceiling = 1
        self._cash = dict(initial_cash)
        self._positions = {}
        self._settled = set()
        self.settlements = []
        self._executions = []
        self._exec_seq = 0
        self._ledger = SimLedger(state_path) if state_path is not None else None
        self._fault = None
        self.on_fault = None

    def load_state(self) -> datetime | None:
        """Restore the account of an earlier run, even a killed one; return its simulated time.

        The snapshot is read, then the executions logged after it are replayed; the time is the
        latest of the snapshot, the clock file and the last execution; order ids continue above
        every id an earlier run could have handed out.
        """
        if self._ledger is None:
            return None
        ledger = self._ledger
        raw = _readable(ledger.read_state, "account snapshot")
        clock = _readable(ledger.read_clock, "clock snapshot")
        rows = ledger.read_executions()
        if raw is None and clock is None and not rows:
            return None
        times: list[datetime] = []
        with self._lock:
            applied = 0
            if raw is not None:
                self._restore_snapshot(raw)
                applied = int(raw.get("exec_seq", 0))
                times.append(datetime.fromisoformat(raw["now"]))
            for row in rows:
                fill = fill_of(row)
                self._executions.append(fill)
                self._exec_seq = max(self._exec_seq, int(row["seq"]))
                self._next_id = max(self._next_id, id_number(fill.order_id) + 1)
                times.append(fill.ts)
                if int(row["seq"]) > applied:
                    self._apply_execution(row)
            if clock is not None:
                times.append(datetime.fromisoformat(clock["now"]))
                self._next_id = max(self._next_id, int(clock["id_ceiling"]))
            self._id_ceiling = self._next_id
        return max(times) if times else None

    def _restore_snapshot(self, raw: dict[str, Any]) -> None:
        if raw.get("version") not in READABLE_VERSIONS:
            raise ValueError(f"{self.state_path}: unsupported sim state version")
        if raw["seed"] != self.seed:
            raise ValueError(
                f"{self.state_path} belongs to a simulation with seed {raw['seed']}, "
                f"the config says {self.seed}; use another log folder or `seeker reset`"
            )
        self._cash = {k: float(v) for k, v in raw["cash"].items()}
        self._next_id = int(raw["next_id"])
        self._positions = positions_of(raw)
        self._settled = {date.fromisoformat(d) for d in raw.get("settled", [])}
        self.settlements = [dict(row) for row in raw.get("settlements", [])]

    def _apply_execution(self, row: dict[str, Any]) -> None:
        """Book one logged execution (replayed at load when the snapshot predates it)."""
        for contract, qty, price in leg_bookings(row):
            book(self._positions, contract, qty, price)
        self._add_cash({ccy: [float(x) for x in terms] for ccy, terms in row["cash"].items()})

    def _add_cash(self, terms: dict[str, list[float]]) -> None:
        """Add each currency's amounts to its cash, in order (the same float steps at replay)."""
        for ccy, amounts in terms.items():
            value = self._cash.get(ccy, 0.0)
            for amount in amounts:
                value += amount
            self._cash[ccy] = value

    def save_state(self) -> None:
        """Write cash, positions and the simulated time atomically (stop the broker if it fails)."""
        if self._ledger is None:
            return
        with self._lock:
            raw = snapshot(
                self.seed,
                self.market.now,
                self._cash,
                self._next_id,
                self._exec_seq,
                self._positions,
                self._settled,
                self.settlements,
            )
            try:
                self._ledger.write_state(raw)
            except OSError as exc:
                self._stop_on_fault(f"cannot write {self.state_path}: {exc}")

    def _save_clock(self) -> None:
        """Snapshot the simulated time and the order-id ceiling (every clock step)."""
        if self._ledger is None or self._fault is not None:
            return
        try:
            self._ledger.write_clock(self.market.now, self._id_ceiling)
        except OSError as exc:
            self._stop_on_fault(f"cannot write {self._ledger.clock_path}: {exc}")

    def _take_id(self) -> str:
        """Return the next order id, reserving a new block on disk before handing it out."""
        oid = f"S{self._next_id}"
        self._next_id += 1
        if self._next_id > self._id_ceiling:
            self._id_ceiling = self._next_id + ID_BLOCK
            self._save_clock()
        return oid

    def _stop_on_fault(self, why: str) -> None:
        """Stop trading: the broker's record can no longer be written."""
        first = self._fault is None
        self._fault = why
        self._state = ConnectionState.DISCONNECTED
        if first and self.on_fault is not None:
            self.on_fault(f"simulated broker stopped: {why}")

    def executions(self, since: datetime | None = None) -> list[Fill]:
        """Return every execution (combo fills and conversions) at or after `since`, oldest first.

        Kept for the life of the log folder (read back from the execution log after a restart).
        """
        with self._lock:
            if since is None:
                return list(self._executions)
            return self._executions[bisect_left(self._executions, since, key=_fill_ts) :]

    def expiry_settlement(self, contract: OptionContract) -> float | None:
        """Return the price per share an expired contract was settled at (its intrinsic value at
        the expiry close), None while it is not settled."""
        with self._lock:
            for row in reversed(self.settlements):
                if row["contract"] == contract.key:
                    return float(row["intrinsic"])
            return None

    def _log_execution(
        self,
        fill: Fill,
        listing_id: str,
        kind: str,
        cash: dict[str, list[float]],
        signed: Sequence[int],
    ) -> bool:
        """Append an execution to the log before it is booked; False when it cannot be."""
        if self._fault is not None:
            return False
        if self._ledger is not None:
            record = execution_record(self._exec_seq + 1, fill, listing_id, kind, cash, signed)
            try:
                self._ledger.append_execution(record)
            except JournalWriteError as exc:
                self._stop_on_fault(f"cannot write its execution log: {exc}")
                return False
        self._exec_seq += 1
        self._executions.append(fill)
        return True

    def _settle_expiries(self) -> None:
        """Settle positions whose expiry session has closed, at intrinsic value of the close."""
        now = self.market.now
        due = sorted({c.expiry for c in self._positions if c.expiry < now.date()})
        for day in due:
            if day in self._settled:
                continue
            for c in [c for c in self._positions if c.expiry == day]:
                qty, _ = self._positions.pop(c)
                listing = self.listings[c.listing_id]
                try:
                    close = self.market.close_price(c.listing_id, day)
                except DataUnavailable:
                    close = self.market.spot(c.listing_id)
                intrinsic = (
                    max(close - c.strike, 0.0) if c.right == "C" else max(c.strike - close, 0.0)
                )
                amount = qty * intrinsic * listing.multiplier
                self._cash[listing.currency] = self._cash.get(listing.currency, 0.0) + amount
                self.settlements.append(
                    {
                        "contract": c.key,
                        "qty": qty,
                        "close": close,
                        "intrinsic": intrinsic,
                        "cash": amount,
                        "day": day.isoformat(),
                    }
                )
            self._settled.add(day)
        if due:
            self.save_state()


def _fill_ts(fill: Fill) -> datetime:
    return fill.ts


def _readable(read: Callable[[], dict[str, Any] | None], what: str) -> dict[str, Any] | None:
    """Return a snapshot, or None (with a warning) when a power cut left it unreadable: the
    execution log rebuilds the account, the journals bound the time."""
    try:
        return read()
    except ValueError as exc:
        log.warning("%s ignored: %s; rebuilt from the execution log", what, exc)
        return None
