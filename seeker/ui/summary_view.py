"""`seeker summary` as tables: by strategy, regime, sector, cluster and currency; shadow apart."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from seeker.core.journal import SHADOW_SUFFIX
from seeker.reports.summary import Report, Section, Stats, StrategySummary
from seeker.ui.lines import num

BREAKDOWNS = (
    ("regime", "by regime at entry (trend or structure · IV rank)"),
    ("strategy_regime", "by strategy × regime at entry"),
    ("sector", "by sector"),
    ("cluster", "by cluster"),
)


def _held(hours: float | None) -> str:
    if hours is None:
        return "?"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _money(x: float) -> Text:
    return Text(f"{x:.2f}", style="green" if x > 0 else ("red" if x < 0 else ""))


def _name(strategy: str) -> str:
    return strategy.removesuffix(SHADOW_SUFFIX) + (
        " (shadow)" if strategy.endswith(".shadow") else ""
    )


def exits_text(stats: Stats) -> str:
    """Return exits by rule with their share: ``take_profit 67 % (2), stop 33 % (1)``."""
    shares = stats.exit_shares()
    return ", ".join(
        f"{rule} {100 * share:.0f} % ({stats.exits[rule]})"
        for rule, share in sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def strategy_table(rows: Sequence[StrategySummary], title: str) -> Table:
    """Return the per-strategy table: trades, wins, P&L after commissions, drawdown, open."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for col in (
        "strategy",
        "ccy",
        "trades",
        "wins",
        "losses",
        "win %",
        "gross",
        "comm.",
        "net",
        "avg",
        "max win",
        "max loss",
        "max DD",
        "open",
    ):
        table.add_column(col, justify="left" if col in ("strategy", "ccy") else "right")
    for r in rows:
        table.add_row(
            _name(r.strategy),
            r.currency,
            str(r.trades),
            str(r.wins),
            str(r.losses),
            f"{100 * r.win_rate:.0f}",
            f"{r.gross_pnl:.2f}",
            f"{r.commissions:.2f}",
            _money(r.net_pnl),
            f"{r.average:.2f}",
            f"{r.max_win:.2f}",
            f"{r.max_loss:.2f}",
            f"{r.max_drawdown:.2f}",
            str(r.open_positions),
        )
    return table


def quality_table(rows: Sequence[Stats], dimension: str, title: str) -> Table:
    """Return a breakdown: trades, win rate, net P&L, slippage, MFE/MAE, time held, exits."""
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column(dimension, overflow="fold")
    with_ccy = dimension != "currency"
    if with_ccy:
        table.add_column("ccy")
    for col in ("trades", "win %", "net", "avg", "avg slip.", "avg MFE", "avg MAE", "avg held"):
        table.add_column(col, justify="right")
    table.add_column("exits by rule", overflow="fold")
    for s in rows:
        head = [_name(s.key) if dimension == "strategy" else s.key]
        if with_ccy:
            head.append(s.currency)
        table.add_row(
            *head,
            str(s.trades),
            f"{100 * s.win_rate:.0f}",
            _money(s.net_pnl),
            f"{s.average:.2f}",
            num(s.avg_slippage),
            num(s.avg_mfe),
            num(s.avg_mae),
            _held(s.avg_hours),
            exits_text(s),
        )
    return table


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
    console.rule(f"[bold]{what}[/]")
    console.print(strategy_table(rows, f"{what}: by strategy, after commissions"))
    console.print(quality_table(section.breakdown("strategy"), "strategy", "trade quality"))
    for dim, title in BREAKDOWNS:
        console.print(quality_table(section.breakdown(dim), dim, title))
    console.print(quality_table(section.breakdown("currency"), "currency", "by currency"))
    caps = ", ".join(f"{k} {v:.2f}" for k, v in report.caps.as_dict().items())
    _violations(console, section, caps)
    for r in rows:
        if r.refusals:
            parts = ", ".join(f"{k} {v}" for k, v in sorted(r.refusals.items()))
            console.print(
                f"{_name(r.strategy)}: {r.decisions} decisions, {r.orders} orders, "
                f"{r.fills} fills; refusals by agent: {parts}",
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
