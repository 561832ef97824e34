"""IB executions and order statuses as Seeker fills and order states (pure functions).

A combo execution reaches the API as one execDetails per leg plus one for the BAG, all with the
order's orderId and permId; the legs share the BAG's execId prefix (``<prefix>.<nn>.<mm>``) and
time. A :class:`~seeker.core.models.Fill` is one such group: ``fill_id`` = the BAG's execId
(stable across sessions, so a journal can dedupe), price = the BAG price per unit in Seeker's
net-debit sign (a BAG sold at +p is a debit of −p), commission = the sum of the commission
reports of every execution of the group (TWS books them on the legs). A group is reported once
every leg and every commission report arrived, or after ``commission_wait`` seconds (then the
commission is NaN, never 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ib_async import Contract
from ib_async import Fill as IbFill

from seeker.core.models import Fill, LegFill, OptionContract, OrderStatus

ENDED = frozenset({"Cancelled", "ApiCancelled", "Inactive"})
"""IB statuses of an order that ended without filling completely."""
ACKNOWLEDGED = frozenset({"PreSubmitted", "Submitted", "ApiPending", "Filled"})
"""Statuses that prove IB accepted the order."""
IGNORED = frozenset({161, 399, 404, 10167})
"""Error codes that say nothing about an order's fate (notices and warnings)."""
CANCEL_NOTICE = 202
REJECTED_CODE = 201


@dataclass(frozen=True)
class ExecView:
    """One execution with its commission report (None until the report arrived)."""

    exec_id: str
    side: str
    shares: float
    price: float
    time: datetime
    contract: Contract
    order_id: int
    client_id: int
    perm_id: int
    order_ref: str
    commission: float | None
    currency: str

    @classmethod
    def of(cls, fill: IbFill) -> ExecView:
        """Copy an ib_async fill (execution + commission report)."""
        ex, report = fill.execution, fill.commissionReport
        reported = bool(report.execId) and report.execId == ex.execId
        return cls(
            exec_id=ex.execId,
            side=ex.side,
            shares=float(ex.shares),
            price=float(ex.price),
            time=ex.time,
            contract=fill.contract,
            order_id=ex.orderId,
            client_id=ex.clientId,
            perm_id=ex.permId,
            order_ref=ex.orderRef,
            commission=float(report.commission) if reported else None,
            currency=report.currency if reported else "",
        )

    @property
    def is_bag(self) -> bool:
        """Return True for the combo-level execution of a BAG order."""
        return self.contract.secType == "BAG"

    @property
    def sign(self) -> int:
        """Return +1 for a buy (BOT), −1 for a sale (SLD)."""
        return 1 if self.side.upper().startswith("B") else -1


@dataclass(frozen=True)
class Pending:
    """What is known of executions not yet reported as fills."""

    qty: float
    exec_ids: tuple[str, ...]


def group_key(exec_id: str) -> str:
    """Return the part of an execId shared by a combo's BAG and leg executions."""
    parts = exec_id.split(".")
    return ".".join(parts[:-2]) if len(parts) >= 4 else exec_id


def _groups(execs: Iterable[ExecView]) -> list[tuple[ExecView, list[ExecView]]]:
    """Return (BAG execution, leg executions) per combo execution, oldest first."""
    by_key: dict[str, list[ExecView]] = {}
    for e in execs:
        by_key.setdefault(group_key(e.exec_id), []).append(e)
    out: list[tuple[ExecView, list[ExecView]]] = []
    orphans: list[ExecView] = []
    for rows in by_key.values():
        bags = [e for e in rows if e.is_bag]
        legs = [e for e in rows if not e.is_bag]
        if len(bags) == 1:
            out.append((bags[0], legs))
        else:
            for bag in bags:  # several BAGs under one prefix: match their legs by time
                out.append((bag, [e for e in legs if e.time == bag.time]))
            if not bags:
                orphans.extend(legs)
    for leg in orphans:  # legs whose ids do not share the BAG's prefix: match by time
        same_time = [g for g in out if g[0].time == leg.time]
        if len(same_time) == 1:
            same_time[0][1].append(leg)
    out.sort(key=lambda g: (g[0].time, g[0].exec_id))
    return out


def combo_fills(
    execs: Sequence[ExecView],
    order_id: str,
    order_ref: str,
    n_legs: int,
    option_of: Callable[[Contract], OptionContract | None],
    age: Callable[[str], float],
    commission_wait: float,
) -> tuple[list[Fill], Pending]:
    """Return the reportable fills of one combo order and what is still pending.

    `age(exec_id)` returns the seconds since the execution was first seen.
    """
    fills: list[Fill] = []
    pending_qty, pending_ids = 0.0, []
    for bag, legs in _groups(execs):
        complete = len(legs) >= n_legs and all(e.commission is not None for e in (bag, *legs))
        if not complete and age(bag.exec_id) < commission_wait:
            pending_qty += bag.shares
            pending_ids.append(bag.exec_id)
            continue
        group = (bag, *legs)
        reported = [e for e in group if e.commission is not None]
        commission = (
            sum(e.commission for e in reported if e.commission is not None)
            if len(reported) == len(group)
            else math.nan
        )
        currency = next((e.currency for e in reported if e.currency), "")
        leg_fills = []
        for e in legs:
            oc = option_of(e.contract)
            if oc is None:
                continue
            leg_fills.append(
                LegFill(
                    contract=oc,
                    action="BUY" if e.sign > 0 else "SELL",
                    qty=round(e.shares),
                    price=e.price,
                    commission=e.commission if e.commission is not None else math.nan,
                    exec_id=e.exec_id,
                )
            )
        fills.append(
            Fill(
                fill_id=bag.exec_id,
                order_id=order_id,
                order_ref=order_ref or bag.order_ref,
                ts=bag.time,
                qty=round(bag.shares),
                price=bag.sign * bag.price,
                commission=commission,
                commission_currency=currency,
                legs=tuple(leg_fills),
            )
        )
    return fills, Pending(pending_qty, tuple(pending_ids))


def single_fills(
    execs: Sequence[ExecView],
    order_id: str,
    order_ref: str,
    age: Callable[[str], float],
    commission_wait: float,
) -> tuple[list[Fill], Pending]:
    """Return the reportable fills of a single-contract order (an FX conversion)."""
    fills: list[Fill] = []
    pending_qty, pending_ids = 0.0, []
    for e in sorted(execs, key=lambda x: (x.time, x.exec_id)):
        if e.commission is None and age(e.exec_id) < commission_wait:
            pending_qty += e.shares
            pending_ids.append(e.exec_id)
            continue
        fills.append(
            Fill(
                fill_id=e.exec_id,
                order_id=order_id,
                order_ref=order_ref or e.order_ref,
                ts=e.time,
                qty=round(e.shares),
                price=e.price,
                commission=e.commission if e.commission is not None else math.nan,
                commission_currency=e.currency,
            )
        )
    return fills, Pending(pending_qty, tuple(pending_ids))


def informational(code: int) -> bool:
    """Return True for an error code that says nothing about an order's fate."""
    return code in IGNORED or 2100 <= code < 2200


def is_refusal(code: int, acknowledged: bool) -> bool:
    """Return True if error `code` says IB refused the order.

    Error 201 ("Order rejected") always does; before IB acknowledged the order, any error but a
    cancel notice or an informational warning does (e.g. 110, a price off the tick grid).
    """
    if code == REJECTED_CODE:
        return True
    return not (acknowledged or informational(code) or code == CANCEL_NOTICE)


def seeker_status(
    ib_status: str,
    qty: int,
    ib_filled: float,
    reported: int,
    cancel_requested: bool,
    acknowledged: bool,
    errors: Sequence[tuple[int, str]],
) -> tuple[OrderStatus, str]:
    """Return Seeker's status and reason for an IB order.

    A status is only final once every fill behind it can be reported: an order IB calls Filled
    whose last fill still waits for its commission reports is PARTIALLY_FILLED (or SUBMITTED)
    until then. An order that ended unfilled is REJECTED when IB refused it (see
    :func:`is_refusal`, or status Inactive) and we had not asked to cancel; else CANCELLED.
    """
    partial = OrderStatus.PARTIALLY_FILLED if reported > 0 else OrderStatus.SUBMITTED
    if ib_status == "Filled" or ib_filled >= qty > 0:
        return (OrderStatus.FILLED, "") if reported >= qty else (partial, "")
    if ib_status not in ENDED or ib_filled > reported:
        return partial, ""
    refusals = [m for c, m in errors if is_refusal(c, acknowledged)]
    notices = [m for c, m in errors if c == CANCEL_NOTICE]
    others = [m for c, m in errors if not informational(c) and c != CANCEL_NOTICE]
    if reported == 0 and not cancel_requested and (refusals or ib_status == "Inactive"):
        reason = refusals[-1] if refusals else (others or [f"order {ib_status} at IB"])[-1]
        return OrderStatus.REJECTED, reason
    if cancel_requested:
        return OrderStatus.CANCELLED, notices[-1] if notices else "cancelled on request"
    reason = (others or notices or [f"order {ib_status} at IB"])[-1]
    return OrderStatus.CANCELLED, reason
