"""The equity curve and drawdown of closed trades, one currency at a time (for ``seeker plot``).

Equity is the running sum of the trades' net P&L (after commissions) in the order they closed,
starting at 0 before the first; drawdown is how far it stands below its running peak (≥ 0).
Money is never converted: a currency has its own curve.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from seeker.reports.summary import Trade


@dataclass(frozen=True)
class EquityCurve:
    """Equity and drawdown after each closing, in one currency ($ of that currency)."""

    currency: str
    times: list[datetime]
    equity: list[float]
    drawdown: list[float]

    @property
    def max_drawdown(self) -> float:
        """Return the largest drawdown (0 when equity never fell below a peak)."""
        return max(self.drawdown, default=0.0)


def equity_curves(trades: Iterable[Trade]) -> list[EquityCurve]:
    """Return one curve per currency, sorted by currency; each starts at 0 before its first trade.

    Trades are taken in closing order (ties by strategy and position id, as the reports do).
    """
    by_ccy: dict[str, list[Trade]] = {}
    for t in sorted(trades, key=lambda t: (t.closed_at, t.strategy, t.position_id)):
        by_ccy.setdefault(t.currency, []).append(t)
    out = []
    for ccy in sorted(by_ccy):
        rows = by_ccy[ccy]
        first = rows[0].opened_at or rows[0].closed_at
        times, equity, drawdown = [first], [0.0], [0.0]
        level = peak = 0.0
        for t in rows:
            level += t.net_pnl
            peak = max(peak, level)
            times.append(t.closed_at)
            equity.append(level)
            drawdown.append(peak - level)
        out.append(EquityCurve(ccy, times, equity, drawdown))
    return out
