"""The account in ``seeker summary``: equity from start to end, drawdown, ratios, limits.

A two-column grid (a name, its figures), so it fits 80 columns whatever the numbers.
"""

from __future__ import annotations

from datetime import datetime

from rich.table import Table
from rich.text import Text

from seeker.core.calendar import MARKET_TZ
from seeker.reports.account import AccountSummary
from seeker.ui.names import plural


def _money(x: float, signed: bool = False) -> str:
    return f"{x:+,.2f}" if signed else f"{x:,.2f}"


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:+.2f}"


def _when(ts: datetime) -> str:
    return f"{ts.astimezone(MARKET_TZ):%Y-%m-%d %H:%M}"


def _style(x: float) -> str:
    return "green" if x > 0 else ("red" if x < 0 else "")


def account_rows(a: AccountSummary) -> list[tuple[str, Text]]:
    """Return the account's figures as (name, text) rows."""
    ccy = a.currency
    end = Text(f"{_money(a.end_equity)} {ccy}")
    if a.end_equity_natural is not None:
        end.append(f" (at the natural {_money(a.end_equity_natural)})", style="grey62")
    ret = Text(f"{_money(a.pnl, True)} ({a.return_pct:+.2f} %)", style=_style(a.pnl))
    rows = [
        ("period", Text(f"{_when(a.start)} → {_when(a.end)}, {plural(a.sessions, 'session')}")),
        ("start equity", Text(f"{_money(a.start_equity)} {ccy}")),
        ("end equity", end),
        ("return", ret),
        ("max drawdown", Text(f"{_money(a.max_drawdown)} ({a.max_drawdown_pct:.2f} %)")),
        (
            "Sharpe / Sortino",
            Text(f"{_ratio(a.sharpe)} / {_ratio(a.sortino)} (daily, annualised)"),
        ),
        ("profit factor", Text("–" if a.profit_factor is None else f"{a.profit_factor:.2f}")),
        (
            "expectancy",
            Text(
                ("–" if a.expectancy is None else f"{_money(a.expectancy, True)} {ccy} a trade")
                + f" ({plural(a.trades, 'trade')})"
            ),
        ),
        (
            "commissions",
            Text(" · ".join(f"{_money(v)} {c}" for c, v in sorted(a.commissions.items())) or "0"),
        ),
        ("lowest cash", Text(f"{_money(a.cash_min)} {ccy}", style=_style(min(a.cash_min, 0)))),
    ]
    for line in a.limits:
        ts = datetime.fromisoformat(str(line["ts"]))
        verb = "tripped" if line.get("change") == "trip" else f"reset by {line.get('by')}"
        action = f" ({line.get('action')})" if line.get("change") == "trip" else ""
        equity = line.get("equity")
        at = f", equity {_money(float(equity))}" if isinstance(equity, (int, float)) else ""
        style = "bold red" if line.get("change") == "trip" else "yellow"
        rows.append(("limit", Text(f"{_when(ts)} {line.get('limit')} {verb}{action}{at}", style)))
    return rows


def account_table(a: AccountSummary) -> Table:
    """Return the account's figures as a titled two-column grid."""
    table = Table.grid(padding=(0, 2))
    table.title = f"account, in {a.currency} (equity at mid: cash + open positions)"
    table.title_justify = "left"
    table.title_style = "bold"
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for name, text in account_rows(a):
        table.add_row(name, text)
    return table
