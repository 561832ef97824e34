"""Performance summaries derived from the journals (nothing is stored twice).

A trade is a position whose closing fills brought it to zero; its P&L is the net cash of its fills
(entry and exit, × multiplier × quantity) minus every commission. Figures are in each position's
currency; totals convert nothing and are reported per currency.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seeker.core.journal import SHADOW_SUFFIX, read_events, strategy_folders
from seeker.core.positions import Position, PositionBook


@dataclass
class StrategySummary:
    """Trades and P&L of one strategy (closed positions), after commissions."""

    strategy: str
    currency: str
    trades: int = 0
    wins: int = 0
    losses: int = 0
    gross_pnl: float = 0.0
    commissions: float = 0.0
    net_pnl: float = 0.0
    max_win: float = 0.0
    max_loss: float = 0.0
    max_drawdown: float = 0.0
    open_positions: int = 0
    orders: int = 0
    fills: int = 0
    decisions: int = 0
    refusals: dict[str, int] = field(default_factory=dict)
    exits: dict[str, int] = field(default_factory=dict)

    @property
    def win_rate(self) -> float:
        """Return wins / trades (0 when there is no trade)."""
        return self.wins / self.trades if self.trades else 0.0

    @property
    def average(self) -> float:
        """Return the average net P&L per trade."""
        return self.net_pnl / self.trades if self.trades else 0.0

    @property
    def shadow(self) -> bool:
        """Return True for the hypothetical results of a strategy run in shadow mode."""
        return self.strategy.endswith(SHADOW_SUFFIX)

    def as_dict(self) -> dict[str, Any]:
        """Return the summary as a JSON-ready mapping."""
        return {
            "strategy": self.strategy,
            "shadow": self.shadow,
            "currency": self.currency,
            "trades": self.trades,
            "wins": self.wins,
            "losses": self.losses,
            "win_rate": round(self.win_rate, 4),
            "gross_pnl": round(self.gross_pnl, 2),
            "commissions": round(self.commissions, 2),
            "net_pnl": round(self.net_pnl, 2),
            "average": round(self.average, 2),
            "max_win": round(self.max_win, 2),
            "max_loss": round(self.max_loss, 2),
            "max_drawdown": round(self.max_drawdown, 2),
            "open_positions": self.open_positions,
            "orders": self.orders,
            "fills": self.fills,
            "decisions": self.decisions,
            "refusals": dict(sorted(self.refusals.items())),
            "exits": dict(sorted(self.exits.items())),
        }


def load_book(folder: Path) -> tuple[PositionBook, list[dict[str, Any]]]:
    """Return the position book and the trade lines of one strategy folder."""
    lines = read_events(folder, ["ORDER", "FILL", "ORDER_STATUS"])
    book = PositionBook()
    book.apply_all(lines)
    return book, lines


def closed_positions(book: PositionBook) -> list[Position]:
    """Return fully closed positions in the order they closed."""
    done = [p for p in book.positions.values() if p.status == "closed" and p.opened_qty > 0]
    return sorted(done, key=lambda p: (p.closed_at is None, p.closed_at, p.position_id))


def summarize(folder: Path, strategy: str) -> list[StrategySummary]:
    """Return one summary per currency traded by a strategy."""
    book, lines = load_book(folder)
    decisions = read_events(folder, ["DECISION"])
    by_ccy: dict[str, StrategySummary] = {}

    def get(ccy: str) -> StrategySummary:
        if ccy not in by_ccy:
            by_ccy[ccy] = StrategySummary(strategy=strategy, currency=ccy)
        return by_ccy[ccy]

    equity: dict[str, float] = {}
    peak: dict[str, float] = {}
    for pos in closed_positions(book):
        s = get(pos.currency)
        pnl = pos.realized_pnl()
        s.trades += 1
        s.wins += pnl > 0
        s.losses += pnl <= 0
        s.gross_pnl += pnl + pos.commissions
        s.commissions += pos.commissions
        s.net_pnl += pnl
        s.max_win = max(s.max_win, pnl)
        s.max_loss = min(s.max_loss, pnl)
        if pos.exit_rule:
            s.exits[pos.exit_rule] = s.exits.get(pos.exit_rule, 0) + 1
        eq = equity.get(pos.currency, 0.0) + pnl
        equity[pos.currency] = eq
        peak[pos.currency] = max(peak.get(pos.currency, 0.0), eq)
        s.max_drawdown = max(s.max_drawdown, peak[pos.currency] - eq)
    for pos in book.open_positions():
        get(pos.currency).open_positions += 1
    if not by_ccy:
        get("USD")
    first = next(iter(sorted(by_ccy)))
    counts = Counter(line["event"] for line in lines)
    head = by_ccy[first]
    head.orders = counts.get("ORDER", 0)
    head.fills = sum(
        1 for line in lines if line["event"] == "FILL" and line.get("kind", "combo") == "combo"
    )
    head.decisions = len(decisions)
    for d in decisions:
        if d.get("outcome") == "no_trade":
            key = str(d.get("blocked_by"))
            head.refusals[key] = head.refusals.get(key, 0) + 1
    return [by_ccy[c] for c in sorted(by_ccy)]


def summarize_all(root: Path, names: Iterable[str] | None = None) -> list[StrategySummary]:
    """Return summaries of the named strategies (all journal folders when None)."""
    wanted = list(names) if names else strategy_folders(root)
    out: list[StrategySummary] = []
    for name in wanted:
        out.extend(summarize(root / name, name))
    return out
