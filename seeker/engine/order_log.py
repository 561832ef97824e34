"""The plain log's order lines, written from the journal: one place says what became of every order.

Every journal line passes through ``Services._remember``; :meth:`OrderLog.describe` turns the
lines about orders into the progress messages ``seeker run`` prints (and the dashboard shows):

* ORDER — ``opening`` / ``closing`` / ``rolling`` a position, with the first limit;
* ORDER_STATUS — its outcome: ``opened``/``filled`` (quantity, average price), ``partially
  filled``, ``cancelled`` (why, and how much had filled), ``rejected`` (why), ``adopted``,
  ``unconfirmed`` (maybe sent, never acknowledged: it counts as working until resolved);
* FILL of a settlement at expiry; POST_TRADE — ``closed``, with the P&L after commissions;
* RISK lines about orders: an order the checklist refused to send, or lost sight of, and the
  currency conversion an entry needed (filled, or refused and why).

A shadow strategy's lines (journal ``<strategy>.shadow``) say ``[shadow]`` and that nothing was
sent. Submitted and repriced orders, per-leg fills and everything else stay in the journal only.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any

from seeker.core.journal import SHADOW_SUFFIX

ORDER_RISK_RULES = {
    "checklist": "",
    "execution": "",
    "unresolved_order": "",
    "fx_conversion": "currency conversion for it: ",
}
"""RISK rules about orders (not sent, not followed, an IDEALPRO conversion) and their lead."""


def _price(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "?"
    return f"{value:+.2f}"


_ORDER_EVENTS = frozenset(("ORDER", "ORDER_STATUS", "FILL", "POST_TRADE", "RISK"))
"""The events a message may be made of (every other line has none)."""


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class OrderLog:
    """Describe the journal lines about orders as plain-log messages (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._assumed: dict[str, str] = {}
        """How each shadow order's hypothetical fill was priced, until its status is seen."""
        self._opened: set[str] = set()
        self.closed = 0
        """Trades closed (a POST_TRADE line) since the start."""

    def describe(self, journal: str, line: Mapping[str, Any]) -> str | None:
        """Return the message for one journal line of `journal`, None when it has none."""
        event = line.get("event")
        if event not in _ORDER_EVENTS:
            return None
        shadow = journal.endswith(SHADOW_SUFFIX)
        if event == "ORDER":
            text = self._order(line)
        elif event == "ORDER_STATUS":
            text = self._status(line, shadow)
        elif event == "FILL":
            text = self._fill(line, shadow)
        elif event == "POST_TRADE":
            text = self._post_trade(line, shadow)
        elif event == "RISK" and line.get("rule") in ORDER_RISK_RULES:
            who = line.get("position_id")
            lead = ORDER_RISK_RULES[str(line.get("rule"))]
            text = (f"{who}: " if who else "") + lead + str(line.get("detail"))
        else:
            text = None
        if text is None:
            return None
        name = journal.removesuffix(SHADOW_SUFFIX)
        return (f"{name} [shadow]: " if shadow else f"{name}: ") + text

    @staticmethod
    def _order(line: Mapping[str, Any]) -> str | None:
        pid, qty, intent = line.get("position_id"), line.get("qty"), line.get("intent")
        limit = f"limit {_price(line.get('limit_price'))}"
        if intent == "open":
            label = (line.get("meta") or {}).get("label") or line.get("reason") or ""
            return f"opening {pid} {label} x{qty}, {limit}".replace("  ", " ")
        why = f"{line.get('exit_rule')}: {line.get('reason')}"
        if intent == "close":
            return f"closing {pid} x{qty} ({why}), {limit}"
        if intent == "roll":
            return f"rolling {pid} x{qty} ({why}), {limit}"
        return None

    def _status(self, line: Mapping[str, Any], shadow: bool) -> str | None:
        status = line.get("status")
        oid, pid, intent = line.get("order_id"), line.get("position_id"), line.get("intent")
        filled, remaining = _count(line.get("filled")), _count(line.get("remaining"))
        total = (filled or 0) + (remaining or 0)
        at = _price(line.get("avg_fill_price"))
        reason = line.get("reason") or "no reason given"
        if status in ("filled", "partially_filled") and intent == "open":
            with self._lock:
                self._opened.add(str(oid))
        if status == "filled":
            with self._lock:
                assumed = self._assumed.pop(str(oid), None)
            what = {"open": f"opened {pid}", "close": f"close of {pid} filled"}.get(
                str(intent), f"{intent} of {pid} filled"
            )
            text = f"{what} x{filled} at {at} ({oid})"
            if shadow:
                text += f"; hypothetical fill at the {assumed or 'natural'}, nothing was sent"
            return text
        if status == "partially_filled":
            return f"{oid} ({intent} {pid}) partially filled: {filled} of {total} at {at}"
        if status == "cancelled":
            return f"{oid} ({intent} {pid}) cancelled, {filled or 0} of {total} filled: {reason}"
        if status == "rejected":
            return f"{oid} ({intent} {pid}) rejected: {reason}"
        if status == "adopted":
            return f"{oid} ({intent} {pid}) adopted: still working from an earlier run"
        if status == "unconfirmed":
            return f"{oid} ({intent} {pid}) unconfirmed, may be working at the broker: {reason}"
        return None

    def _fill(self, line: Mapping[str, Any], shadow: bool) -> str | None:
        if line.get("kind", "combo") != "combo":
            return None
        oid = str(line.get("order_id"))
        if shadow and line.get("assumed_fill"):
            with self._lock:
                self._assumed[oid] = str(line["assumed_fill"])
        if line.get("exit_rule") == "expiry" and oid.endswith(".expiry"):
            return (
                f"{line.get('position_id')} expired: settled at {_price(line.get('fill_price'))}"
                " (intrinsic value of the expiry close)"
            )
        return None

    @property
    def opened(self) -> int:
        """Return how many positions were opened (an opening order filled, wholly or in part)."""
        with self._lock:
            return len(self._opened)

    def _post_trade(self, line: Mapping[str, Any], shadow: bool) -> str:
        with self._lock:
            self.closed += 1
        pnl = _price(line.get("pnl"))
        text = (
            f"closed {line.get('position_id')}, P&L {pnl} {line.get('currency', '')} after "
            f"commissions ({line.get('exit_rule')})"
        )
        return text + (" — hypothetical" if shadow else "")
