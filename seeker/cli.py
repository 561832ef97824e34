"""The `seeker` command line: list, run, status, summary, check-config."""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from seeker.core.config import ConfigError, flatten, load_config
from seeker.core.manager import load_strategies, strategy_config_models

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Seeker: risk-defined option strategies side by side, under one Risk Guard.",
)
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

DEFAULT_CONFIG = Path("config/seeker.toml")

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file (TOML).", show_default=True)
]
LogDirOption = Annotated[
    Path | None, typer.Option("--log-dir", help="Journal folder (default: runtime.log_dir).")
]


def _fail(lines: list[str], code: int = 2) -> None:
    for line in lines:
        err.print(f"[bold red]error[/]: {line}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _load(path: Path) -> Any:
    try:
        return load_config(path, strategy_config_models())
    except ConfigError as exc:
        _fail([f"config {path}: {p}" if not p.startswith(str(path)) else p for p in exc.problems])


def _log_root(cfg: Any, log_dir: Path | None) -> Path:
    return log_dir if log_dir is not None else cfg.log_root()


@app.command("list")
def list_strategies() -> None:
    """List the strategies Seeker can run."""
    reg = load_strategies()
    table = Table(title="strategies", show_lines=False)
    table.add_column("name", style="bold")
    table.add_column("what it does")
    for name, cls in sorted(reg.items()):
        table.add_row(name, cls.description)
    console.print(table)


@app.command("check-config")
def check_config(
    path: Annotated[Path, typer.Argument(help="Config file to check.")] = DEFAULT_CONFIG,
) -> None:
    """Validate a config and print the effective values; exit 2 naming every problem."""
    cfg = _load(path)
    table = Table(title=f"effective config: {path}", show_lines=False)
    table.add_column("key", style="cyan", no_wrap=True)
    table.add_column("value")
    for key, value in flatten(cfg):
        table.add_row(key, value)
    console.print(table)
    console.print(f"[green]ok[/]: {path} is valid")


@app.command()
def run(
    names: Annotated[
        list[str] | None, typer.Argument(help="Strategies to run (default: strategies.enabled).")
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    days: Annotated[
        int | None,
        typer.Option(
            "--days", min=1, help="Simulated market: run N sessions as fast as possible, then stop."
        ),
    ] = None,
    log_dir: LogDirOption = None,
    shadow: Annotated[
        bool,
        typer.Option(
            "--shadow",
            help="Run the pipeline but send nothing; hypothetical fills at the natural.",
        ),
    ] = False,
    speed: Annotated[
        float | None,
        typer.Option(
            "--speed",
            min=0.001,
            help="Simulated market: override sim.speed (sim seconds per real second).",
        ),
    ] = None,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Allow a live IBKR port or account (also needs broker.allow_live = true).",
        ),
    ] = False,
    no_dashboard: Annotated[
        bool,
        typer.Option("--no-dashboard", help="Plain log lines instead of the live dashboard."),
    ] = False,
) -> None:
    """Run strategies, each in its own thread, until Ctrl+C (or N simulated sessions)."""
    from seeker.core.runner import run_strategies
    from seeker.core.services import build_ibkr_services, build_sim_services

    reg = load_strategies()
    cfg = _load(config)
    chosen = list(dict.fromkeys(names or cfg.strategies.enabled))
    problems = []
    for name in chosen:
        if name not in reg:
            problems.append(f"unknown strategy {name!r} (known: {', '.join(sorted(reg))})")
        elif name not in cfg.strategies.enabled:
            problems.append(f"strategy {name!r} is not in strategies.enabled of {config}")
        elif getattr(cfg.strategies, name) is None:
            problems.append(f"strategies.{name}: required key is missing in {config}")
    if not chosen:
        problems.append("no strategy to run (strategies.enabled is empty)")
    for name in chosen:
        rule = getattr(reg.get(name), "regime_rule", None) or name
        try:
            cfg.selection.rule(rule)
        except (ValueError, AttributeError):
            problems.append(f"selection.{rule}: required key is missing (strategy {name!r})")
    if problems:
        _fail(problems)
    if days is not None and cfg.broker.kind != "sim":
        _fail(['--days only applies to the simulated market (broker.kind = "sim")'])
    if speed is not None and cfg.broker.kind != "sim":
        _fail(['--speed only applies to the simulated market (broker.kind = "sim")'])
    root = _log_root(cfg, log_dir)
    lock = threading.Lock()

    def emit(message: str) -> None:
        with lock:
            stamp = services.clock.now().strftime("%Y-%m-%d %H:%M")
            print(f"{stamp}  {message}", flush=True)

    if cfg.broker.kind == "ibkr":
        from seeker.core.ibkr_safety import IbkrSetupError
        from seeker.core.models import BrokerUnavailable

        b = cfg.broker
        try:
            services = build_ibkr_services(cfg, root, live, emit=emit, shadow=shadow)
        except IbkrSetupError as exc:  # live refused, or an account problem: a usage error
            _fail([f"IBKR {b.host}:{b.port}: {exc}"])
        except BrokerUnavailable as exc:
            _fail([f"cannot reach TWS / IB Gateway at {b.host}:{b.port}: {exc}"], code=1)
        where = (
            f"IBKR {b.host}:{b.port} account {services.broker.account_id} "  # type: ignore[attr-defined]
            f"({services.broker.market_data_type()} data)"
        )
    else:
        try:
            services = build_sim_services(cfg, root, days, emit=emit, speed=speed, shadow=shadow)
        except ValueError as exc:
            _fail([str(exc)])
        what = (
            f"{days} simulated sessions"
            if days
            else f"speed ×{speed or cfg.sim.speed:g} until Ctrl+C"
        )
        where = f"the simulated market ({what})"
    print(
        f"seeker: running {', '.join(chosen)} on {where}; journals in {root}/",
        flush=True,
    )
    from seeker.ui.dashboard import Dashboard, dashboard_enabled

    dash = Dashboard(services, chosen) if dashboard_enabled(no_dashboard) else None
    if dash is not None:
        services.emit = dash.emit
        dash.start()
    # the process is the run: long-lived objects (config, calendars, history) are frozen out of
    # the collector, and young-generation collections happen less often
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    try:
        result = run_strategies(services, chosen, on_tick=dash.update if dash else None)
    finally:
        if dash is not None:
            dash.stop()
        services.broker.close()
        services.close_journals()
    kind = "simulated " if services.clock.simulated else ""
    stamp = f"{kind}{result.sim_time:%Y-%m-%d %H:%M}"
    print(f"seeker: stopped ({result.reason}) at {stamp}", flush=True)
    errors = [n for n, s in result.states.items() if s == "error"]
    if errors:
        print(f"seeker: strategies that failed: {', '.join(errors)} (see their risk_events.jsonl)")
    raise typer.Exit(0 if result.stopped_cleanly else 1)


@app.command()
def status(
    config: ConfigOption = DEFAULT_CONFIG,
    log_dir: LogDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show whether Seeker runs, its broker connection, strategies and committed risk."""
    from seeker.core.runner import STATUS_FILE

    cfg = _load(config)
    path = _log_root(cfg, log_dir) / STATUS_FILE
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


from seeker import cli_views  # noqa: E402  (views register their commands on the app)

cli_views.register(app)


def main() -> None:
    """Entry point for `python -m seeker`."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
