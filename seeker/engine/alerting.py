"""Alerts from the journal: each line worth a person's attention becomes one alert.

:class:`AlertRouter` observes every journal line (``Services.observers``) and hands the notifier
(``seeker.core.alerts.Notifier``, which never blocks) the ones of each kind:

* ``fill`` — a combo FILL of real trading (opening, closing, rolling, settling);
* ``stop`` — a close ORDER sent by a stop or red-line rule (stop, delta, touch, breakeven…);
* ``kill_switch`` — a LIMIT line that trips an account limit;
* ``strategy_error`` — a RISK ``strategy_error`` line (the strategy stopped);
* ``reconciliation`` — a RISK ``reconciliation`` line (journal and broker disagree);
* ``daily_summary`` — at a session's first EQUITY line, the day before: equity, day's P&L,
  drawdown, the limits tripped.

Shadow journals alert nothing. A failed delivery is logged and shown as a progress line; it is
never journaled, so a dead alert service changes nothing in the trading journals.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from seeker.core.alerts import Notifier
from seeker.core.alerts_config import AlertKind
from seeker.core.journal import SHADOW_SUFFIX

if TYPE_CHECKING:
    from seeker.engine.services import Services

log = logging.getLogger(__name__)

STOP_RULES = frozenset(
    {
        "stop",
        "delta_stop",
        "red_line_delta",
        "red_line_proximity",
        "touch",
        "breakeven",
        "fast_move",
        "gamma",
        "event_close",
        "flatten",
    }
)
"""Exit rules whose close ORDER is a ``stop`` alert (stops, red lines, flattening)."""


class AlertRouter:
    """Turn journal lines into alerts (an observer of every journal)."""

    def __init__(self, notifier: Notifier, currency: str) -> None:
        self.notifier = notifier
        self.currency = currency
        self._last_equity: Mapping[str, Any] | None = None

    def on_line(self, journal: str, line: Mapping[str, Any]) -> None:
        """Send the alert a journal line calls for, if any (never blocks, never raises)."""
        if journal.endswith(SHADOW_SUFFIX) or line.get("shadow"):
            return
        try:
            found = self.alert_for(journal, line)
        except Exception:  # an odd line must never break the writer
            log.exception("no alert for a %s line", line.get("event"))
            return
        if found is not None:
            self.notifier.notify(*found)

    def alert_for(self, journal: str, line: Mapping[str, Any]) -> tuple[AlertKind, str, str] | None:
        """Return (kind, title, body) for a line, None when it calls for no alert."""
        event = line.get("event")
        ts = str(line.get("ts", ""))[:16].replace("T", " ")
        if event == "FILL" and line.get("kind") == "combo":
            what = line.get("exit_rule") or line.get("intent")
            title = f"Seeker fill: {line.get('position_id')} {line.get('intent')}"
            body = (
                f"{ts} {journal}: {line.get('position_id')} {what} filled "
                f"{line.get('qty')} at {_num(line.get('fill_price'))} "
                f"(commission {_num(line.get('commission'))} {line.get('currency')})"
            )
            return "fill", title, body
        if event == "ORDER" and line.get("intent") == "close":
            rule = line.get("exit_rule")
            if rule not in STOP_RULES:
                return None
            title = f"Seeker {rule}: closing {line.get('position_id')}"
            body = f"{ts} {journal}: {line.get('position_id')} {rule}: {line.get('reason')}"
            return "stop", title, body
        if event == "LIMIT" and line.get("change") == "trip":
            title = f"Seeker kill switch: {line.get('limit')} limit ({line.get('action')})"
            body = (
                f"{ts} {line.get('reason')}; equity {_num(line.get('equity'))} {self.currency} "
                f"(natural {_num(line.get('equity_natural'))}), peak {_num(line.get('peak'))}; "
                + (
                    "no new entry until `seeker resume`"
                    if line.get("limit") != "daily_loss"
                    else "no new entry until the next session or `seeker resume`"
                )
            )
            return "kill_switch", title, body
        if event == "RISK" and line.get("rule") == "strategy_error":
            lines = str(line.get("detail") or "").strip().splitlines()
            title = f"Seeker strategy error: {journal}"
            return "strategy_error", title, f"{ts} {journal} stopped: {lines[-1] if lines else '?'}"
        if event == "RISK" and line.get("rule") == "reconciliation":
            title = "Seeker reconciliation mismatch"
            return "reconciliation", title, f"{ts} {line.get('detail')}; no new entry there"
        if event == "EQUITY" and line.get("equity") is not None:
            return self._daily(line)
        return None

    def _daily(self, line: Mapping[str, Any]) -> tuple[AlertKind, str, str] | None:
        last, self._last_equity = self._last_equity, line
        if last is None or str(last.get("ts", ""))[:10] == str(line.get("ts", ""))[:10]:
            return None
        day = str(last.get("ts", ""))[:10]
        tripped = ", ".join(last.get("tripped") or []) or "none"
        body = (
            f"{day}: equity {_num(last.get('equity'))} {self.currency} "
            f"(natural {_num(last.get('equity_natural'))}), "
            f"day {_num(last.get('day_pnl'), signed=True)}, "
            f"drawdown {_num(last.get('drawdown'))} ({_num(last.get('drawdown_pct'))} %) "
            f"from the peak {_num(last.get('peak'))}; cash {_num(last.get('cash'))}; "
            f"{last.get('contracts')} contract(s) held; limits tripped: {tripped}"
        )
        return "daily_summary", f"Seeker daily summary {day}", body


def _num(value: Any, signed: bool = False) -> str:
    """Return a money figure with two decimals ("?" when the line has none)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "?"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def start_alerts(services: Services) -> Notifier | None:
    """Start the notifier of the ``[alerts]`` table and route journal lines to it (None: off)."""
    cfg = services.config.alerts
    if cfg is None or not cfg.enabled:
        return None

    def failed(kind: AlertKind, reason: str) -> None:
        services.emit(f"alerts: {reason}")

    notifier = Notifier.from_config(cfg, on_failure=failed)
    router = AlertRouter(notifier, services.config.account.capital_currency)
    services.observers.append(router.on_line)
    return notifier
