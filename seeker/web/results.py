"""Results: the figures of ``seeker summary`` and the equity curve of the closed trades.

The report is ``seeker.reports.summary.build_report`` itself, cached until a journal changes.
The equity curve is the cumulative net P&L (after commissions) of real trades in closing order,
one curve per currency (money is never converted), and one per strategy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from seeker.reports.summary import Report, Trade, build_report
from seeker.web.journals import Signature, signature
from seeker.web.settings import WebSettings
from seeker.web.svg import Plot, plot


@dataclass(frozen=True)
class EquityPoint:
    """The cumulative net P&L after one closed trade."""

    ts: str
    position_id: str
    strategy: str
    net_pnl: float
    equity: float


def equity_curves(trades: list[Trade], key: str = "currency") -> dict[str, list[EquityPoint]]:
    """Return cumulative net P&L per currency (`key` "currency") or per strategy ("strategy")."""
    out: dict[str, list[EquityPoint]] = {}
    totals: dict[str, float] = {}
    for t in sorted(trades, key=lambda t: (t.closed_at, t.strategy, t.position_id)):
        k = t.currency if key == "currency" else f"{t.strategy} ({t.currency})"
        totals[k] = totals.get(k, 0.0) + t.net_pnl
        out.setdefault(k, []).append(
            EquityPoint(t.closed_at.isoformat(), t.position_id, t.strategy, t.net_pnl, totals[k])
        )
    return out


def equity_plot(curves: dict[str, list[EquityPoint]]) -> Plot | None:
    """Return the equity chart (x: days since the first close) or None without any trade."""
    if not curves:
        return None
    first = min(datetime.fromisoformat(c[0].ts) for c in curves.values())

    def day(p: EquityPoint) -> float:
        return (datetime.fromisoformat(p.ts) - first).total_seconds() / 86400.0

    last = max(day(c[-1]) for c in curves.values())
    chart = plot(
        (0.0, max(1.0, last)),
        [[p.equity for p in c] for c in curves.values()],
        x_fmt="day {:.0f}",
        y_fmt="{:+.0f}",
    )
    for i, (name, points) in enumerate(sorted(curves.items())):
        xs = [0.0, *(day(p) for p in points)]
        ys = [0.0, *(p.equity for p in points)]
        chart.add_line(name, f"series{i % 6}", xs, ys)
    return chart


class ReportCache:
    """``build_report`` of the log root, rebuilt only when a journal file changed."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._cached: tuple[Signature, Report] | None = None

    def report(self) -> Report:
        """Return the full report of the journals (the same as ``seeker summary``)."""
        s = self.settings
        sig = signature(s.log_root)
        with self._lock:
            if self._cached is None or self._cached[0] != sig:
                cfg = s.config
                report = build_report(
                    s.log_root, cfg.caps(), None, None, cfg.account.capital_currency
                )
                self._cached = (sig, report)
            return self._cached[1]


def results(report: Report) -> dict[str, Any]:
    """Return the report and the equity curves as JSON-ready data."""
    return {
        "report": report.as_dict(),
        "equity": {
            k: [p.__dict__ for p in v] for k, v in equity_curves(report.real.trades).items()
        },
        "equity_by_strategy": {
            k: [p.__dict__ for p in v]
            for k, v in equity_curves(report.real.trades, "strategy").items()
        },
    }
