"""The account line of ``seeker summary``: where the account stands, from its equity curve.

The curve is the EQUITY lines of ``_seeker/account.jsonl`` (one per poll time, equity at mid in
the capital currency). From it: start and end equity, return, the largest drawdown from a peak ($
and %), and the daily Sharpe and Sortino ratios — each session's return is its last mark over the
previous session's last mark (the first over the curve's first mark), annualised with √252, no
risk-free rate; the Sortino's downside deviation is √(mean of min(r, 0)²). Profit factor (gross
wins / gross losses) and expectancy (mean net P&L per trade) come from the closed trades, after
commissions; total commissions from every FILL of real trading (open positions' too). The LIMIT
lines say when the account's limits tripped and were reset; ``cash_min`` is the lowest cash seen.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from seeker.agents.risk_guard import Caps, RiskConfig
from seeker.core.journal import SYSTEM_FOLDER, read_events, strategy_folders

SESSIONS_PER_YEAR = 252


@dataclass(frozen=True)
class EquityMark:
    """One point of the equity curve."""

    ts: datetime
    equity: float
    cash: float
    basis: float | None


@dataclass
class AccountSummary:
    """The account's figures over the journals (money in `currency`)."""

    currency: str
    start: datetime
    end: datetime
    sessions: int
    start_equity: float
    end_equity: float
    end_equity_natural: float | None
    max_drawdown: float
    max_drawdown_pct: float
    sharpe: float | None
    sortino: float | None
    cash_min: float
    trades: int
    profit_factor: float | None
    expectancy: float | None
    commissions: dict[str, float]
    limits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pnl(self) -> float:
        """Return end equity − start equity ($)."""
        return self.end_equity - self.start_equity

    @property
    def return_pct(self) -> float:
        """Return the change of equity over the start equity, in %."""
        return 100.0 * self.pnl / self.start_equity if self.start_equity else math.nan

    def as_dict(self) -> dict[str, Any]:
        """Return the summary as a JSON-ready mapping."""
        return {
            "currency": self.currency,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "sessions": self.sessions,
            "start_equity": round(self.start_equity, 2),
            "end_equity": round(self.end_equity, 2),
            "end_equity_natural": _r2(self.end_equity_natural),
            "pnl": round(self.pnl, 2),
            "return_pct": round(self.return_pct, 2),
            "max_drawdown": round(self.max_drawdown, 2),
            "max_drawdown_pct": round(self.max_drawdown_pct, 2),
            "sharpe": _r2(self.sharpe),
            "sortino": _r2(self.sortino),
            "cash_min": round(self.cash_min, 2),
            "trades": self.trades,
            "profit_factor": _r2(self.profit_factor),
            "expectancy": _r2(self.expectancy),
            "commissions": {k: round(v, 2) for k, v in sorted(self.commissions.items())},
            "limits": self.limits,
        }


def _r2(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, 2)


@dataclass(frozen=True)
class AccountJournal:
    """``_seeker/account.jsonl`` read in one pass: what the account line and the cap audit use."""

    marks: list[EquityMark]
    """Every EQUITY mark with a known equity, oldest first."""
    last_known: dict[str, Any] | None
    """The last EQUITY line (in file order) with a known equity."""
    limits: list[dict[str, Any]]
    """The LIMIT lines, in file order."""

    def curve(self, since: datetime | None = None) -> list[EquityMark]:
        """Return the marks at or after `since` (all without it), oldest first."""
        if since is None:
            return list(self.marks)
        return [m for m in self.marks if m.ts >= since]


def read_account(root: Path) -> AccountJournal:
    """Return the EQUITY marks and LIMIT lines journaled under `root`, read once."""
    marks: list[EquityMark] = []
    last_known: dict[str, Any] | None = None
    limits: list[dict[str, Any]] = []
    for line in read_events(root / SYSTEM_FOLDER, ["EQUITY", "LIMIT"]):
        if line.get("event") == "LIMIT":
            limits.append(line)
            continue
        if line.get("equity") is None:
            continue
        last_known = line
        basis = line.get("basis")
        marks.append(
            EquityMark(
                datetime.fromisoformat(str(line["ts"])),
                float(line["equity"]),
                float(line.get("cash", math.nan)),
                None if basis is None else float(basis),
            )
        )
    marks.sort(key=lambda m: m.ts)
    return AccountJournal(marks, last_known, limits)


def equity_curve(root: Path, since: datetime | None = None) -> list[EquityMark]:
    """Return the EQUITY marks journaled under `root` (known equity only), oldest first."""
    return read_account(root).curve(since)


def daily_returns(curve: Sequence[EquityMark]) -> list[float]:
    """Return each session's return: its last mark over the previous session's last mark."""
    closes: dict[str, float] = {}
    for mark in curve:
        closes[mark.ts.date().isoformat()] = mark.equity
    previous = curve[0].equity if curve else math.nan
    out: list[float] = []
    for _day, close in sorted(closes.items()):
        if previous > 0:
            out.append(close / previous - 1.0)
        previous = close
    return out


def sharpe_sortino(returns: Sequence[float]) -> tuple[float | None, float | None]:
    """Return the annualised Sharpe and Sortino ratios of daily returns (None when undefined)."""
    if len(returns) < 2:
        return None, None
    mean = statistics.fmean(returns)
    sd = statistics.stdev(returns)
    down = math.sqrt(statistics.fmean([min(r, 0.0) ** 2 for r in returns]))
    root = math.sqrt(SESSIONS_PER_YEAR)
    sharpe = mean / sd * root if sd > 0 else None
    sortino = mean / down * root if down > 0 else None
    return sharpe, sortino


def max_drawdown(curve: Iterable[EquityMark]) -> tuple[float, float]:
    """Return the largest fall of equity from a running peak ($, and % of that peak)."""
    peak = -math.inf
    worst, worst_pct = 0.0, 0.0
    for mark in curve:
        peak = max(peak, mark.equity)
        drop = peak - mark.equity
        worst = max(worst, drop)
        if peak > 0:
            worst_pct = max(worst_pct, 100.0 * drop / peak)
    return worst, worst_pct


def commissions_paid(root: Path, since: datetime | None = None) -> dict[str, float]:
    """Return the commissions of every real combo FILL, by currency."""
    out: dict[str, float] = {}
    for name in strategy_folders(root, shadow=False):
        for line in read_events(root / name, ["FILL"]):
            if line.get("kind", "combo") != "combo":
                continue
            if since is not None and datetime.fromisoformat(str(line["ts"])) < since:
                continue
            ccy, paid = fill_commission(line)
            out[ccy] = out.get(ccy, 0.0) + paid
    return out


def fill_commission(line: Mapping[str, Any]) -> tuple[str, float]:
    """Return (currency, commission $) of a combo FILL line ("?" when it names no currency)."""
    return str(line.get("currency") or "?"), float(line.get("commission") or 0.0)


def account_summary(
    root: Path,
    currency: str,
    trade_pnls: Sequence[float],
    since: datetime | None = None,
    journal: AccountJournal | None = None,
    commissions: dict[str, float] | None = None,
) -> AccountSummary | None:
    """Return the account's summary, None when no EQUITY line was journaled.

    `trade_pnls`: the net P&L of each closed real trade in the capital currency. `journal`
    (the account's journal already read) and `commissions` (:func:`commissions_paid`, already
    summed) spare reading the files again.
    """
    journal = read_account(root) if journal is None else journal
    curve = journal.curve(since)
    if not curve:
        return None
    worst, worst_pct = max_drawdown(curve)
    sharpe, sortino = sharpe_sortino(daily_returns(curve))
    wins = sum(p for p in trade_pnls if p > 0)
    losses = -sum(p for p in trade_pnls if p <= 0)
    last = journal.last_known
    natural = None if last is None else float(last["equity_natural"])
    limits = [
        {k: line.get(k) for k in ("ts", "change", "limit", "action", "by", "reason", "equity")}
        for line in journal.limits
        if since is None or datetime.fromisoformat(str(line["ts"])) >= since
    ]
    cash = [m.cash for m in curve if math.isfinite(m.cash)]
    return AccountSummary(
        currency=currency,
        start=curve[0].ts,
        end=curve[-1].ts,
        sessions=len({m.ts.date() for m in curve}),
        start_equity=curve[0].equity,
        end_equity=curve[-1].equity,
        end_equity_natural=natural,
        max_drawdown=worst,
        max_drawdown_pct=worst_pct,
        sharpe=sharpe,
        sortino=sortino,
        cash_min=min(cash) if cash else math.nan,
        trades=len(trade_pnls),
        profit_factor=wins / losses if losses > 0 else None,
        expectancy=statistics.fmean(trade_pnls) if trade_pnls else None,
        commissions=commissions_paid(root, since) if commissions is None else commissions,
        limits=limits,
    )


def caps_in_force(
    root: Path, risk: RiskConfig, fallback: Caps, journal: AccountJournal | None = None
) -> Callable[[str], Caps]:
    """Return a function of a line's ``ts`` giving the caps in force then: the ``[risk]``
    percentages of the basis the latest EQUITY line carried, else `fallback` (the config's).

    `journal`: the account's journal already read (else it is read from `root`)."""
    journal = read_account(root) if journal is None else journal
    marks = [(m.ts, m.basis) for m in journal.marks if m.basis is not None]
    times = [t for t, _ in marks]

    def at(ts: str) -> Caps:
        i = bisect.bisect_right(times, datetime.fromisoformat(ts))
        return fallback if i == 0 else Caps.from_config(risk, marks[i - 1][1] or 0.0)

    return at
