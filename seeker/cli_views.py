"""Read-only views of the journals: `seeker summary` (and later show, journal)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from seeker.cli import DEFAULT_CONFIG, ConfigOption, LogDirOption, _load, _log_root, console
from seeker.core.journal import to_jsonable
from seeker.core.report import summarize_all


def register(app: typer.Typer) -> None:
    """Add the view commands to the CLI."""
    app.command()(summary)


def summary(
    names: Annotated[
        list[str] | None, typer.Argument(help="Strategies (default: all with a journal).")
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    log_dir: LogDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Per strategy: trades, wins, P&L after commissions, drawdown — from ORDER/FILL lines."""
    cfg = _load(config)
    root = _log_root(cfg, log_dir)
    rows = summarize_all(root, names)
    if as_json:
        print(json.dumps(to_jsonable([r.as_dict() for r in rows]), indent=1))
        return
    if not rows:
        console.print(f"no journal under {root}/ yet")
        return
    table = Table(title=f"summary ({root}/, after commissions)")
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
            r.strategy.removesuffix(".shadow") + (" (shadow)" if r.shadow else ""),
            r.currency,
            str(r.trades),
            str(r.wins),
            str(r.losses),
            f"{100 * r.win_rate:.0f}",
            f"{r.gross_pnl:.2f}",
            f"{r.commissions:.2f}",
            f"{r.net_pnl:.2f}",
            f"{r.average:.2f}",
            f"{r.max_win:.2f}",
            f"{r.max_loss:.2f}",
            f"{r.max_drawdown:.2f}",
            str(r.open_positions),
        )
    console.print(table)
    for r in rows:
        if r.refusals:
            parts = ", ".join(f"{k} {v}" for k, v in sorted(r.refusals.items()))
            console.print(f"{r.strategy}: {r.decisions} decisions; refusals by agent: {parts}")
