"""``seeker status``: whether Seeker runs here, its broker, strategies and committed risk."""

from __future__ import annotations

import json
import os
from typing import Annotated

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
    from seeker.engine.status import STATUS_FILE

    cfg = load_checked_config(config)
    path = log_root(cfg, log_dir) / STATUS_FILE
    if not path.exists():
        console.print(f"no status yet ({path} does not exist): Seeker has not run here")
        raise typer.Exit(0)
    data = json.loads(path.read_text())
    alive = data.get("running") and _pid_alive(int(data.get("pid", 0)))
    data["alive"] = bool(alive)
    if as_json:
        print(json.dumps(data, indent=1))
        return
    state = "[green]running[/]" if alive else f"[yellow]not running[/] ({data.get('note')})"
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


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
