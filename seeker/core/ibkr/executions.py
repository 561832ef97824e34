"""The account's executions as Seeker fills, for reconciliation (gateway loop only).

TWS sends the day's executions (``reqExecutions``, more days when its trade log keeps them) at
every connection and each new one as it happens, each with its commission report. They are
grouped per order (permId, else this client's orderId) and then per combo execution exactly as
an order's own fills are (:func:`~seeker.core.ibkr.orders.combo_fills`), so a fill has the same
``fill_id`` (the BAG's execId) whether Seeker saw it while working the order or recovers it later.
"""

from __future__ import annotations

from datetime import datetime

from seeker.core.ibkr.orders import ExecView, combo_fills, single_fills
from seeker.core.ibkr.trading import OrderBook, order_text_id
from seeker.core.models import Fill


def account_executions(book: OrderBook, since: datetime | None) -> list[Fill]:
    """Return every reportable execution at or after `since`, oldest first."""
    groups: dict[tuple[int, int, int], list[ExecView]] = {}
    for f in book.link.ib().fills():
        view = ExecView.of(f)
        if since is not None and view.time < since:
            continue
        key = (view.perm_id, 0, 0) if view.perm_id else (0, view.client_id, view.order_id)
        groups.setdefault(key, []).append(view)
    wait = book.link.settings.commission_wait_seconds
    out: list[Fill] = []
    for execs in groups.values():
        first = execs[0]
        info = book.known(first.perm_id, first.client_id, first.order_id)
        own = first.order_id if first.client_id == book.client_id else 0
        text = info.text_id if info is not None else order_text_id(own, first.perm_id)
        ref = (info.order_ref if info is not None else "") or first.order_ref
        if any(e.is_bag for e in execs):
            n_legs = (
                len(info.legs)
                if info is not None and info.legs
                else len({e.contract.conId for e in execs if not e.is_bag})
            )
            fills, _ = combo_fills(execs, text, ref, n_legs, book.market.option_of, book.age, wait)
        else:
            fills, _ = single_fills(execs, text, ref, book.age, wait)
        out.extend(fills)
    return sorted(out, key=lambda fill: (fill.ts, fill.fill_id))
