"""When Seeker catches up with the broker: at start, after every reconnect, on a regular cycle.

* **At start**, before any strategy thread runs: every strategy folder of the log root (running
  today or not) journals the executions it lacks (:mod:`seeker.engine.executions`); executions and
  working orders that no journal of this folder owns are reported once each (RISK lines in
  ``_seeker``) and left alone. Then positions are reconciled.
* **While running**, each strategy catches up in its own thread at the start of a poll, at most
  once per ``runtime.reconcile_interval_minutes`` of clock time (at once after a reconnect), then
  the first strategy to find the process's cycle due reconciles positions for everyone (folders no
  thread owns catch up there too). Nothing is written when nothing is missing.
* **After a reconnect** (IBKR), the listener thread catches every running strategy up under its
  desk lock (so never while it works an order) and reconciles.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from seeker.core.journal import SYSTEM_FOLDER, read_events, strategy_folders
from seeker.core.models import DataUnavailable, Fill, OrderState, parse_order_ref
from seeker.core.positions import Position, PositionBook
from seeker.engine.context import StrategyContext
from seeker.engine.executions import describe, foreign_lines, journaled, ours, recover_fills

if TYPE_CHECKING:
    from seeker.engine.services import Services

SINCE_MARGIN = timedelta(hours=1)
"""How far before the last look executions are asked for again (clock skew, late reports)."""
FOREIGN = "its orderRef names no strategy and position of this log folder's journals"


def reported_before(services: Services) -> set[str]:
    """Return the exec ids (and ``order:<id>``) already reported as foreign in this folder."""
    lines = read_events(services.log_root / SYSTEM_FOLDER, ["RISK"])
    return {str(line["exec_id"]) for line in lines if line.get("exec_id")}


def recover_at_start(services: Services) -> int:
    """Journal the executions every strategy folder lacks; report foreign ones; return how many
    fills were recovered. Runs before any strategy thread (nothing else writes the journals).
    """
    broker = services.broker
    now = services.clock.now()
    system = services.journal(SYSTEM_FOLDER)
    try:
        executions = broker.executions()
        working = broker.open_orders()
    except DataUnavailable as exc:
        detail = f"cannot read the broker's executions at start: {exc}; positions may lag"
        system.write("RISK", strategy=None, position_id=None, rule="reconciliation", detail=detail)
        services.emit(f"RISK {detail}")
        return 0
    names = strategy_folders(services.log_root, shadow=False)
    books: dict[str, PositionBook] = {}
    foreign: list[Fill] = []
    recovered = 0
    for name in names:
        seen = services.ledger.view(name).fill_ids
        missing = [f for f in executions if _names(f, name) and not journaled(f, seen)]
        if not missing:
            continue
        journal = services.journal(name)
        books[name] = book = rebuilt_book(journal.folder)
        rec = recover_fills(journal, book, name, missing, now, seen)
        foreign += rec.unknown
        recovered += len(rec.fills)
        for fill in rec.fills:
            services.emit(f"{name}: recovered {describe(fill)}")
    for fill in executions:
        parsed = parse_order_ref(fill.order_ref)
        if parsed is not None and parsed[2] == "fx":
            continue
        if ours(fill) is None or (parsed is not None and parsed[0] not in names):
            foreign.append(fill)
    reported = reported_before(services)
    lines = foreign_lines(system, foreign, reported, FOREIGN)
    for order in working:
        parsed = parse_order_ref(order.order_ref)
        if parsed is not None and parsed[0] in names and parsed[0] not in books:
            books[parsed[0]] = rebuilt_book(services.log_root / parsed[0])
        if not _owned(order, books) and f"order:{order.order_id}" not in reported:
            reported.add(f"order:{order.order_id}")
            detail = (
                f"working order {order.order_id} (orderRef {order.order_ref or '(none)'!r}, "
                f"{order.qty} x {order.limit_price:+.2f}) is not one this folder's journals left "
                "working: left alone (never adopted, never cancelled)"
            )
            lines.append(
                system.record(
                    "RISK",
                    strategy=None,
                    position_id=None,
                    rule="foreign_order",
                    detail=detail,
                    exec_id=f"order:{order.order_id}",
                )
            )
    system.write_many(lines)
    for line in lines:
        services.emit(f"RISK {line['rule']}: {line['detail']}")
    return recovered


def _names(fill: Fill, strategy: str) -> bool:
    parsed = ours(fill)
    return parsed is not None and parsed[0] == strategy


def rebuilt_book(folder: Path) -> PositionBook:
    """Return a strategy's positions as its journal tells them, marks (MFE/MAE) included."""
    lines = read_events(folder, ["ORDER", "FILL", "ORDER_STATUS", "CONFIDENCE"])
    lines.sort(key=lambda line: str(line.get("ts")))
    book = PositionBook()
    book.apply_all(lines)
    return book


def _owned(order: OrderState, books: dict[str, PositionBook]) -> bool:
    """Return True if a journal left this order working (its adoption is that strategy's job)."""
    parsed = parse_order_ref(order.order_ref)
    if parsed is None:
        return False
    if parsed[2] == "fx":
        return True
    book = books.get(parsed[0])
    pos = book.positions.get(parsed[1]) if book is not None else None
    if book is None or pos is None:
        return False
    working = set(book.working_orders())
    return any(oid in working and it == parsed[2] for oid, it in pos.orders.items())


class CatchUp:
    """One strategy's regular look at the broker's executions (in its own thread)."""

    def __init__(
        self, ctx: StrategyContext, settle: Callable[[Position], None], interval: timedelta
    ) -> None:
        self.ctx = ctx
        self.settle = settle
        self.interval = interval
        self._last: datetime | None = None
        self._reported: set[str] = set()

    def due(self, now: datetime) -> bool:
        """Return True when the interval has passed since the last look."""
        return self._last is None or now - self._last >= self.interval

    def run(self, now: datetime) -> int:
        """Journal this strategy's missing executions; hold their risk; return how many."""
        ctx = self.ctx
        if ctx.shadow:
            return 0
        since = self._last - SINCE_MARGIN if self._last is not None else None
        try:
            executions = ctx.services.broker.executions(since)
        except DataUnavailable:
            return 0  # the next look, or the reconnect, catches up
        self._last = now
        prefix = f"seeker:{ctx.name}:"
        executions = [f for f in executions if f.order_ref.startswith(prefix)]
        if not executions:
            return 0
        seen = ctx.services.ledger.view(ctx.name).fill_ids
        rec = recover_fills(ctx.journal, ctx.book, ctx.name, executions, now, seen)
        ctx.executor.remember_fills(rec.journaled_ids())
        for pos in rec.touched:
            self.settle(pos)
        for fill in rec.fills:
            ctx.emit(f"{ctx.name}: recovered {describe(fill)}")
        lines = foreign_lines(ctx.journal, rec.unknown, self._reported, FOREIGN)
        ctx.journal.write_many(lines)
        return len(rec.fills)


class ReconcileCycle:
    """The process's regular reconciliation: folders no thread owns catch up, then positions."""

    def __init__(self, interval: timedelta) -> None:
        self.interval = interval
        self.owners: dict[str, Callable[[], int]] = {}
        """Catch-up of each running strategy's real journal, by strategy name."""
        self._last: datetime | None = None
        self._looked: datetime | None = None
        self._lock = threading.Lock()

    def register(self, name: str, catch_up: Callable[[], int]) -> None:
        """Say that a running strategy owns (and catches up) its journal."""
        with self._lock:
            self.owners[name] = catch_up

    def unregister(self, name: str) -> None:
        """Say that a strategy stopped owning its journal."""
        with self._lock:
            self.owners.pop(name, None)

    def maybe(self, services: Services, now: datetime) -> None:
        """Run the cycle when it is due (the caller is a strategy thread at the start of a poll)."""
        with self._lock:
            if self._last is not None and now - self._last < self.interval:
                return
            self._last = now
        try:
            self.unowned(services, now)
            services.reconcile("cycle", since=now - 2 * self.interval - SINCE_MARGIN)
        except DataUnavailable:
            with self._lock:
                self._last = None  # the broker is away: try again at the next poll

    def unowned(self, services: Services, now: datetime) -> None:
        """Journal the missing executions of strategy folders no running thread owns."""
        with self._lock:
            owned = set(self.owners)
            since = self._looked - self.interval - SINCE_MARGIN if self._looked else None
        names = [n for n in services.ledger.strategy_names() if n not in owned]
        if not names:
            return
        try:
            executions = services.broker.executions(since)
        except DataUnavailable:
            return
        with self._lock:
            self._looked = now
        for name in names:
            seen = services.ledger.view(name).fill_ids
            missing = [f for f in executions if _names(f, name) and not journaled(f, seen)]
            if not missing:
                continue
            journal = services.journal(name)
            rec = recover_fills(journal, rebuilt_book(journal.folder), name, missing, now, seen)
            for fill in rec.fills:
                services.emit(f"{name}: recovered {describe(fill)}")

    def after_reconnect(self, services: Services, epoch: int) -> None:
        """Catch every strategy up and reconcile (the reconnect listener's thread)."""
        with self._lock:
            owners = list(self.owners.values())
        for catch_up in owners:
            with contextlib.suppress(DataUnavailable):
                catch_up()
        self.unowned(services, services.clock.now())
        services.reconcile(f"reconnect #{epoch}")
