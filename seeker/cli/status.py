"""``seeker status``: whether Seeker runs here, its broker, strategies and committed risk."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from seeker.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    LogDirOption,
    console,
    load_checked_config,
    log_root,
)


def status(
    config: ConfigOption = DEFAULT_CONFIG,
    log_dir: LogDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show whether Seeker runs, its broker connection, strategies and committed risk."""
    from seeker.engine.folder_lock import lock_holder
    from seeker.engine.status import STATUS_FILE

    cfg = load_checked_config(config)
    root = log_root(cfg, log_dir)
    path = root / STATUS_FILE
    if not path.exists():
        console.print(f"no status yet ({path} does not exist): Seeker has not run here")
        raise typer.Exit(0)
    data = json.loads(path.read_text())
    holder = lock_holder(root)  # the folder's lock says it exactly, a PID may have been reused
    alive = holder is not None
    crashed = bool(data.get("running")) and not alive
    data["alive"] = alive
    data["ended_cleanly"] = None if alive else not crashed
    if as_json:
        print(json.dumps(data, indent=1))
        return
    if alive:
        state = "[green]running[/]"
    elif crashed:
        state = "[yellow]not running[/] (last run ended without a clean stop)"
    else:
        state = f"[yellow]not running[/] ({data.get('note')})"
    console.print(f"Seeker: {state}; pid {data.get('pid')}; updated {data.get('updated_wall')}")
    console.print(
        f"broker: {data.get('broker')} ({data.get('connection')}, {data.get('market_data')} data); "
        f"clock {data.get('clock')}"
    )
    risk = data.get("risk", {})
    caps = risk.get("caps", {})
    console.print(
        f"committed risk: {risk.get('committed', 0):.2f} $ of {caps.get('portfolio', 0):.2f} $"
    )
    for line in account_lines(data.get("account") or {}):
        console.print(line, highlight=False)
    table = Table()
    table.add_column("strategy")
    table.add_column("state")
    table.add_column("open positions", justify="right")
    for name, s in sorted(data.get("strategies", {}).items()):
        table.add_row(
            name,
            s["state"] + (f" ({s['error']})" if s.get("error") else ""),
            str(s["open_positions"]),
        )
    console.print(table)


def account_lines(account: dict[str, Any]) -> list[str]:
    """Return what status.json says of the account: equity, limits tripped, holds."""
    if not account:
        return []
    figures = account.get("figures") or {}
    ccy = figures.get("currency", "")
    out = []
    if figures.get("equity") is not None:
        out.append(
            f"equity: {figures['equity']:,.2f} {ccy} (natural {figures['equity_natural']:,.2f}), "
            f"cash {figures['cash']:,.2f}, today {figures.get('day_pnl', 0.0):+,.2f}, "
            f"drawdown {figures.get('drawdown_pct', 0.0):.1f} % from the peak "
            f"{figures.get('peak', 0.0):,.2f}; caps on {account.get('basis') or 0:,.2f}"
        )
    elif account.get("problem"):
        out.append(f"equity unknown: {account['problem']}")
    for name, trip in sorted((account.get("trips") or {}).items()):
        out.append(
            f"[bold red]{name} limit tripped[/] ({trip['action']}) at {trip['at']}: "
            f"{trip['reason']} — `seeker resume` resets it"
        )
    for what in ("paused", "flatten"):
        for name, hold in sorted((account.get(what) or {}).items()):
            who = "every strategy" if name == "*" else name
            out.append(f"[yellow]{what}[/]: {who} by {hold['by']} at {hold['at']}")
    return out
