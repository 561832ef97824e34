"""``seeker replay``: the strategies, agents, vetoes and journals of ``run``, on recorded chains."""

from __future__ import annotations

import gc
import threading
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from seeker.cli.common import (
    CandidateOption,
    LogDirOption,
    fail,
    load_checked_config,
    log_root,
)
from seeker.strategies import load

if TYPE_CHECKING:
    pass

REPLAY_CONFIG = Path("config/replay-spx.toml")


def parse_day(text: str | None, option: str) -> date | None:
    """Return a YYYY-MM-DD option as a date (None when not given); fail naming the option."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail([f"{option} {text!r}: expected a date YYYY-MM-DD"])


def replay(
    names: Annotated[
        list[str] | None, typer.Argument(help="Strategies to run (default: strategies.enabled).")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="Chain store written by `seeker data import` (default: replay.data_dir)."
        ),
    ] = None,
    first: Annotated[
        str | None,
        typer.Option("--from", help="First quote date, YYYY-MM-DD (default: the store's first)."),
    ] = None,
    last: Annotated[
        str | None,
        typer.Option("--to", help="Last quote date, YYYY-MM-DD (default: the store's last)."),
    ] = None,
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Config file (TOML).", show_default=True)
    ] = REPLAY_CONFIG,
    log_dir: LogDirOption = None,
    shadow: Annotated[
        bool,
        typer.Option(
            "--shadow", help="Run the pipeline but send nothing; hypothetical fills at the natural."
        ),
    ] = False,
    no_dashboard: Annotated[
        bool,
        typer.Option("--no-dashboard", help="Plain log lines instead of the live dashboard."),
    ] = False,
    candidate: CandidateOption = None,
) -> None:
    """Replay recorded option chains, one decision time per quote date, through the strategies.

    Same strategies, agents, vetoes and journals as `run`; the same data and config give
    byte-identical journals. `summary`, `show` and `journal` read them (same --config/--log-dir).
    """
    from seeker.cli.guard import chosen_strategies, claim_log_folder, run_exit_code
    from seeker.core.replay.store import ChainStore
    from seeker.engine.runner import run_strategies
    from seeker.engine.wiring import build_replay_services

    if candidate is None:
        cfg = load_checked_config(config)
    else:
        from seeker.cli.candidates import load_candidate_config

        cfg, cand = load_candidate_config(config, candidate)
    if cfg.broker.kind != "replay" or cfg.replay is None:
        fail([f'{config}: a replay needs broker.kind = "replay" and a [replay] table'])
    chosen, problems = chosen_strategies(cfg, names, config, load())
    if candidate is not None:
        from seeker.cli.candidates import check_candidate_run

        problems += check_candidate_run(cand, chosen, cfg.broker.kind, shadow)
    if problems:
        fail(problems)
    store_dir = data if data is not None else cfg.replay.data_dir
    if store_dir is None:
        fail(["no chain store: pass --data DIR or set replay.data_dir"])
    try:
        held = ChainStore(store_dir).quote_dates()
    except FileNotFoundError as exc:
        fail([f"{exc} (import vendor files first: seeker data import --format … SRC… {store_dir})"])
    if not held:
        fail([f"{store_dir}: the chain store holds no quote date"])
    day_from = parse_day(first, "--from") or held[0]
    day_to = parse_day(last, "--to") or held[-1]
    root = log_root(cfg, log_dir)
    folder = claim_log_folder(root)
    lock = threading.Lock()

    def emit(message: str) -> None:
        with lock:
            stamp = services.clock.now().strftime("%Y-%m-%d %H:%M")
            print(f"{stamp}  {message}", flush=True)

    try:
        services = build_replay_services(
            cfg, root, store_dir, day_from, day_to, emit=emit, shadow=shadow
        )
    except ValueError as exc:
        folder.release()
        fail([str(exc)])
    from seeker.ui.names import plural

    n_days = sum(day_from <= d <= day_to for d in held)
    print(
        f"seeker: replaying {', '.join(chosen)} on {plural(n_days, 'quote date')} of {store_dir} "
        f"({day_from} → {day_to}); journals in {root}/",
        flush=True,
    )
    if candidate is not None:
        from seeker.cli.candidates import describe

        print(f"seeker: {describe(cand)}", flush=True)
    from seeker.ui.dashboard import Dashboard, dashboard_enabled

    dash = Dashboard(services, chosen) if dashboard_enabled(no_dashboard) else None
    if dash is not None:
        services.emit = dash.emit
        dash.start()
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    try:
        result = run_strategies(
            services, chosen, on_tick=dash.update if dash else None, strategies=load()
        )
    finally:
        if dash is not None:
            dash.stop()
        services.broker.close()
        services.close_journals()
        folder.release()
    print(f"seeker: stopped ({result.reason}) at {result.sim_time:%Y-%m-%d %H:%M}", flush=True)
    raise typer.Exit(run_exit_code(result, services.faults))
