"""`seeker summary` as tables: by strategy, regime, sector, cluster and currency; shadow apart."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from seeker.core.journal import SHADOW_SUFFIX
from seeker.reports.summary import Report, Section, Stats, StrategySummary
from seeker.ui.account_view import account_table
from seeker.ui.columns import Column, fit_tables
from seeker.ui.console import natural, view_width
from seeker.ui.lines import num
from seeker.ui.names import plural

BREAKDOWNS = (
    ("regime", "by regime at entry (trend or structure · IV rank)"),
    ("strategy_regime", "by strategy × regime at entry"),
    ("sector", "by sector"),
    ("cluster", "by cluster"),
)

HEADERS = {"strategy_regime": "strategy × regime"}
"""Key column headers that differ from the dimension's name."""


def _held(hours: float | None) -> str:
    if hours is None:
        return "?"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _money(x: float) -> Text:
    return Text(f"{x:.2f}", style="green" if x > 0 else ("red" if x < 0 else ""))


def _name(strategy: str) -> str:
    return strategy.removesuffix(SHADOW_SUFFIX) + (
        " (shadow)" if strategy.endswith(SHADOW_SUFFIX) else ""
    )


def _label(key: str) -> str:
    """Return a row label without the shadow folder suffix (shadow rows have their section)."""
    return key.replace(SHADOW_SUFFIX, "")


def win_rate(trades: int, rate: float) -> str:
    """Return the win rate in % (``–`` when nothing was closed yet)."""
    return "–" if trades == 0 else f"{100 * rate:.0f}"


def exits_text(stats: Stats) -> str:
    """Return exits by rule with their share: ``take_profit 67 % (2), stop 33 % (1)``."""
    shares = stats.exit_shares()
    return ", ".join(
        f"{rule} {100 * share:.0f} % ({stats.exits[rule]})"
        for rule, share in sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def one_currency(rows: Sequence[Stats]) -> str | None:
    """Return the currency of every row when they share one (the ``ccy`` column is dropped)."""
    found = {r.currency for r in rows}
    return found.pop() if len(found) == 1 else None


def _titled(title: str, rows: Sequence[Stats]) -> str:
    ccy = one_currency(rows)
    return f"{title}, in {ccy}" if ccy else title


def strategy_columns(rows: Sequence[StrategySummary]) -> list[Column]:
    """Return the per-strategy columns: trades, wins, P&L after commissions, drawdown, open.

    Group 0 (counts and net) and group 1 (the P&L detail) stay together when stacked; the
    ``ccy`` column is left out when every row has one currency (the title names it).
    """
    ccy = [] if one_currency(rows) else [Column("ccy", "number", [r.currency for r in rows])]
    return [
        Column("strategy", "key", [_label(r.strategy) for r in rows]),
        *ccy,
        Column("trades", "number", [str(r.trades) for r in rows]),
        Column("wins", "number", [str(r.wins) for r in rows]),
        Column("losses", "number", [str(r.losses) for r in rows]),
        Column("win %", "number", [win_rate(r.trades, r.win_rate) for r in rows]),
        Column("gross", "number", [f"{r.gross_pnl:.2f}" for r in rows], group=1),
        Column("comm.", "number", [f"{r.commissions:.2f}" for r in rows], group=1),
        Column("net", "number", [_money(r.net_pnl) for r in rows]),
        Column("avg", "number", [f"{r.average:.2f}" for r in rows], group=1),
        Column("max win", "number", [f"{r.max_win:.2f}" for r in rows], group=1),
        Column("max loss", "number", [f"{r.max_loss:.2f}" for r in rows], group=1),
        Column("max DD", "number", [f"{r.max_drawdown:.2f}" for r in rows], group=1),
        Column("open", "number", [str(r.open_positions) for r in rows]),
    ]


def strategy_table(
    rows: Sequence[StrategySummary], title: str, width: int | None = None
) -> list[Table]:
    """Return the per-strategy table, stacked into several when `width` is narrow."""
    return fit_tables(_titled(title, rows), strategy_columns(rows), width)


def quality_columns(rows: Sequence[Stats], dimension: str) -> list[Column]:
    """Return a breakdown's columns: trades, win rate, net P&L, slippage, MFE/MAE, held, exits."""
    header = HEADERS.get(dimension, dimension)
    cols = [Column(header, "key", [_label(s.key) for s in rows])]
    if dimension != "currency" and not one_currency(rows):
        cols.append(Column("ccy", "number", [s.currency for s in rows]))
    cols += [
        Column("trades", "number", [str(s.trades) for s in rows]),
        Column("win %", "number", [win_rate(s.trades, s.win_rate) for s in rows]),
        Column("net", "number", [_money(s.net_pnl) for s in rows]),
        Column("avg", "number", [f"{s.average:.2f}" for s in rows]),
        Column("avg slip.", "number", [num(s.avg_slippage) for s in rows], group=1),
        Column("avg MFE", "number", [num(s.avg_mfe) for s in rows], group=1),
        Column("avg MAE", "number", [num(s.avg_mae) for s in rows], group=1),
        Column("avg held", "number", [_held(s.avg_hours) for s in rows]),
        Column("exits by rule", "text", [exits_text(s) for s in rows], group=1),
    ]
    return cols


def quality_table(
    rows: Sequence[Stats], dimension: str, title: str, width: int | None = None
) -> list[Table]:
    """Return a breakdown as one table, or several stacked ones when `width` is narrow."""
    return fit_tables(_titled(title, rows), quality_columns(rows, dimension), width)


def _violations(console: Console, section: Section, caps: str) -> None:
    if not section.violations:
        console.print(f"[green]rule violations: 0[/] — every fill within the caps ({caps})")
        return
    console.print(f"[bold red]rule violations: {len(section.violations)}[/] (caps: {caps})")
    for v in section.violations:
        console.print(f"  [red]{v}[/]", highlight=False)


def _section(console: Console, report: Report, section: Section, shadow: bool) -> None:
    what = "shadow (hypothetical fills, never sent)" if shadow else "real trading"
    rows = [r for r in report.rows if r.shadow == shadow]
    if not rows:
        return
    width = view_width(console)
    console.print(Rule(f"[bold]{what}[/]"), width=natural(width))
    shown = rows + (report.totals if not shadow and len(rows) > 1 else [])
    tables = strategy_table(shown, f"{what}: by strategy, after commissions", width)
    for table in tables:
        console.print(table)
    if not shadow and report.account is not None:
        console.print(account_table(report.account))
    tables = quality_table(section.breakdown("strategy"), "strategy", "trade quality", width)
    for dim, title in BREAKDOWNS:
        tables += quality_table(section.breakdown(dim), dim, title, width)
    tables += quality_table(section.breakdown("currency"), "currency", "by currency", width)
    for table in tables:
        console.print(table)
    caps = ", ".join(f"{k} {v:.2f}" for k, v in report.caps.as_dict().items())
    _violations(console, section, caps)
    for r in rows:
        if r.refusals:
            parts = ", ".join(f"{k} {v}" for k, v in sorted(r.refusals.items()))
            console.print(
                f"{_name(r.strategy)}: {plural(r.decisions, 'decision')}, "
                f"{plural(r.orders, 'order')}, {plural(r.fills, 'fill')}; "
                f"refusals by agent: {parts}",
                highlight=False,
            )


def print_report(console: Console, report: Report) -> None:
    """Print the report: real trading first, then shadow results apart."""
    since = f", trades closed since {report.since:%Y-%m-%d %H:%M}" if report.since else ""
    console.print(
        f"[bold]summary of {report.root}/[/] (P&L after commissions, in each trade's currency"
        f"{since}; slippage vs the first limit, + = paid more)",
        highlight=False,
    )
    _section(console, report, report.real, shadow=False)
    _section(console, report, report.shadow, shadow=True)
