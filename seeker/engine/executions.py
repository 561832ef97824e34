"""Executions are the truth: journal the broker's executions that a strategy's journal lacks.

A fill can miss its FILL line: the process was killed between the broker's booking and the line,
the disk filled up, or the fill happened while Seeker was disconnected or not running. So at start
(for every strategy folder, before any strategy runs), after every reconnect and on a regular
cycle while running, Seeker asks the broker for its executions (:meth:`Broker.executions`) and
journals those of its own orders that no FILL line holds yet.

* Idempotent by exec id (``fill_id``, the same id the executor journals), so a fill is never
  written twice, however often this runs.
* Recovered FILL lines are those the executor would have written, plus ``recovered: true`` and the
  execution's own time ``exec_ts`` (``ts`` is the time of writing: journals never go back).
* An order whose recovered fills complete it gets its ``filled`` ORDER_STATUS; a position they
  close gets its POST_TRADE line (``recovered: true``; MFE/MAE from the CONFIDENCE lines
  journaled before).
* An execution whose ``orderRef`` names no strategy, or no position the strategy's journal
  knows, is not ours to journal: it is reported once (RISK ``foreign_execution``) and left alone.
  Currency conversions (intent ``fx``) are journaled by the FX router, not here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from seeker.core.execution import fill_lines
from seeker.core.journal import Journal
from seeker.core.models import Fill, parse_order_ref
from seeker.core.positions import Position, PositionBook
from seeker.engine.post_trade import write_post_trade

RECOVERED_REASON = "recovered from the broker's executions"


@dataclass
class Recovery:
    """What one pass of recovery did for one strategy."""

    fills: list[Fill] = field(default_factory=list)
    """Executions journaled now (each a combo FILL with its leg FILLs)."""
    touched: list[Position] = field(default_factory=list)
    """Positions those fills changed (their risk must follow)."""
    closed: list[Position] = field(default_factory=list)
    """Positions those fills closed (POST_TRADE written)."""
    unknown: list[Fill] = field(default_factory=list)
    """Executions naming this strategy but no order of a position its journal knows."""

    def journaled_ids(self) -> set[str]:
        """Return the fill ids written (combo and legs)."""
        out = set()
        for fill in self.fills:
            out.add(fill.fill_id)
            out.update(lf.exec_id for lf in fill.legs if lf.exec_id)
        return out


class _Seen:
    """The fill ids a journal holds: those on disk when recovery began, and those it wrote."""

    def __init__(self, journaled: AbstractSet[str]) -> None:
        self.journaled = journaled
        self.written: set[str] = set()

    def __contains__(self, fill_id: object) -> bool:
        return fill_id in self.journaled or fill_id in self.written


def ours(fill: Fill) -> tuple[str, str, str] | None:
    """Return (strategy, position_id, intent) of an execution of one of our combo orders."""
    parsed = parse_order_ref(fill.order_ref)
    if parsed is None or parsed[2] not in ("open", "close", "roll"):
        return None
    return parsed


def journaled(fill: Fill, seen: AbstractSet[str]) -> bool:
    """Return True when a journal holds an execution's combo line and every leg line."""
    return fill.fill_id in seen and all(lf.exec_id in seen for lf in fill.legs if lf.exec_id)


def same_broker_order(a: str | None, b: str) -> bool:
    """Return True if two broker order ids name the same order (IB: ``orderId/permId``)."""
    if not a:
        return False
    return a == b or a.partition("/")[0] == b.partition("/")[0]


def match_order(book: PositionBook, pos: Position, intent: str, broker_order_id: str) -> str | None:
    """Return our order id behind an execution of `pos` with `intent` (None when none fits).

    The order the broker names by id wins; else the latest of that intent the journal never saw
    acknowledged (killed before its ``submitted`` line), else the latest still working.
    """
    candidates = [oid for oid, it in pos.orders.items() if it == intent]
    for oid in candidates:
        if same_broker_order(book.broker_order_id(oid), broker_order_id):
            return oid
    working = set(book.working_orders())
    unacked = [oid for oid in candidates if book.broker_order_id(oid) is None]
    if unacked:
        return unacked[-1]
    live = [oid for oid in candidates if oid in working]
    return live[-1] if live else None


def recover_fills(
    journal: Journal,
    book: PositionBook,
    strategy: str,
    executions: Iterable[Fill],
    now: datetime,
    journaled: AbstractSet[str],
    shadow: bool = False,
) -> Recovery:
    """Journal the executions of `strategy`'s orders that its journal lacks; apply them to `book`.

    `journaled` holds the fill ids (combo and legs) the journal file holds (the book is built
    from combo lines only).
    """
    out = Recovery()
    seen = _Seen(journaled)
    for fill in executions:
        parsed = ours(fill)
        if parsed is None or parsed[0] != strategy:
            continue
        if fill.fill_id in seen or book.seen_fill(fill.fill_id):
            if any(lf.exec_id and lf.exec_id not in seen for lf in fill.legs):
                seen.written |= _recover_legs(journal, book, fill, parsed, seen)  # batch cut short
            continue
        _, pid, intent = parsed
        pos = book.positions.get(pid)
        oid = match_order(book, pos, intent, fill.order_id) if pos is not None else None
        order = book.order_line(oid) if oid is not None else None
        if pos is None or oid is None or order is None:
            out.unknown.append(fill)
            continue
        was_open = pos.open_qty > 0
        lines = fill_lines(
            journal,
            fill,
            order_id=oid,
            broker_order_id=fill.order_id,
            position_id=pid,
            intent=intent,
            exit_rule=order.get("exit_rule"),
            recovered=True,
            exec_ts=fill.ts,
        )
        if oid in book.working_orders() and book.order_filled(oid) + fill.qty >= int(order["qty"]):
            lines.append(
                journal.record(
                    "ORDER_STATUS",
                    order_id=oid,
                    position_id=pid,
                    intent=intent,
                    status="filled",
                    broker_order_id=fill.order_id,
                    filled=int(order["qty"]),
                    remaining=0,
                    reason=RECOVERED_REASON,
                    recovered=True,
                )
            )
        journal.write_many(lines)
        for line in lines:
            book.apply(line)
            seen.written.add(str(line.get("fill_id")))
        out.fills.append(fill)
        if pos not in out.touched:
            out.touched.append(pos)
        if was_open and pos.open_qty == 0:
            dte = (pos.expiry - now.date()).days
            write_post_trade(journal, strategy, shadow, pos, float("nan"), dte, recovered=True)
            out.closed.append(pos)
    return out


def _recover_legs(
    journal: Journal,
    book: PositionBook,
    fill: Fill,
    parsed: tuple[str, str, str],
    seen: _Seen,
) -> set[str]:
    """Journal the leg FILL lines of an execution whose combo line is journaled without them;
    return their ids."""
    _, pid, intent = parsed
    lines = [
        line
        for line in fill_lines(
            journal,
            fill,
            order_id=book.order_of_fill(fill.fill_id) or "",
            broker_order_id=fill.order_id,
            position_id=pid,
            intent=intent,
            exit_rule=None,
            recovered=True,
            exec_ts=fill.ts,
        )
        if line["kind"] == "leg" and str(line["fill_id"]) not in seen
    ]
    journal.write_many(lines)
    for line in lines:
        book.apply(line)
    return {str(line["fill_id"]) for line in lines}


def describe(fill: Fill) -> str:
    """Return one execution in words (for RISK lines and the log)."""
    legs = ", ".join(f"{lf.action} {lf.qty} {lf.contract.key}" for lf in fill.legs)
    what = f"{fill.qty} x {fill.price:+.4f}" + (f" ({legs})" if legs else "")
    return (
        f"execution {fill.fill_id} of order {fill.order_id} "
        f"(orderRef {fill.order_ref or '(none)'!r}) at {fill.ts.isoformat()}: {what}"
    )


def foreign_lines(
    journal: Journal, fills: Sequence[Fill], reported: set[str], why: str
) -> list[dict[str, Any]]:
    """Return one RISK line per execution not reported yet (and remember it)."""
    lines = []
    for fill in fills:
        if fill.fill_id in reported:
            continue
        reported.add(fill.fill_id)
        lines.append(
            journal.record(
                "RISK",
                strategy=None,
                position_id=None,
                rule="foreign_execution",
                detail=f"{describe(fill)}: {why}; left alone",
                exec_id=fill.fill_id,
            )
        )
    return lines
