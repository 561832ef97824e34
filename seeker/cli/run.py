"""``seeker run``: strategies in their own threads until Ctrl+C, or for N simulated sessions."""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from seeker.cli.common import (
    DEFAULT_CONFIG,
    CandidateOption,
    ConfigOption,
    LogDirOption,
    complete_strategy,
    fail,
    load_checked_config,
    log_root,
)
from seeker.strategies import load


def run(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Strategies to run (default: strategies.enabled).",
            autocompletion=complete_strategy,
        ),
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
    candidate: CandidateOption = None,
) -> None:
    """Run strategies, each in its own thread, until Ctrl+C (or N simulated sessions)."""
    from seeker.cli.guard import chosen_strategies, claim_log_folder, run_exit_code
    from seeker.cli.output import say
    from seeker.engine.runner import run_strategies
    from seeker.engine.wiring import build_ibkr_services, build_sim_services

    reg = load()
    if candidate is None:
        cfg = load_checked_config(config)
    else:
        from seeker.cli.candidates import load_candidate_config

        cfg, cand = load_candidate_config(config, candidate)
    chosen, problems = chosen_strategies(cfg, names, config, reg)
    if candidate is not None:
        from seeker.cli.candidates import check_candidate_run

        problems += check_candidate_run(cand, chosen, cfg.broker.kind, shadow)
    if problems:
        fail(problems)
    if cfg.broker.kind == "replay":
        fail([f'{config} replays recorded chains (broker.kind = "replay"): use `seeker replay`'])
    if days is not None and cfg.broker.kind != "sim":
        fail(['--days only applies to the simulated market (broker.kind = "sim")'])
    if speed is not None and cfg.broker.kind != "sim":
        fail(['--speed only applies to the simulated market (broker.kind = "sim")'])
    if cfg.broker.kind == "ibkr":  # a live port is refused before anything is written
        from seeker.core.ibkr.safety import live_problem

        refused = live_problem(cfg.broker.port, "", cfg.broker.allow_live, live)
        if refused:
            fail([f"IBKR {cfg.broker.host}:{cfg.broker.port}: {refused}"])
    root = log_root(cfg, log_dir)
    folder = claim_log_folder(root)

    def emit(message: str) -> None:
        stamp = services.clock.now().strftime("%Y-%m-%d %H:%M")
        say(f"{stamp}  {message}")

    if cfg.broker.kind == "ibkr":
        from seeker.core.ibkr.safety import IbkrSetupError
        from seeker.core.models import BrokerUnavailable

        b = cfg.broker
        try:
            services = build_ibkr_services(cfg, root, live, emit=emit, shadow=shadow)
        except IbkrSetupError as exc:  # live refused, or an account problem: a usage error
            fail([f"IBKR {b.host}:{b.port}: {exc}"])
        except BrokerUnavailable as exc:
            fail([f"cannot reach TWS / IB Gateway at {b.host}:{b.port}: {exc}"], code=1)
        where = (
            f"IBKR {b.host}:{b.port} account {services.broker.account_id} "  # type: ignore[attr-defined]
            f"({services.broker.market_data_type()} data)"
        )
    else:
        try:
            services = build_sim_services(cfg, root, days, emit=emit, speed=speed, shadow=shadow)
        except ValueError as exc:
            fail([str(exc)])
        from seeker.ui.names import plural

        what = (
            plural(days, "simulated session")
            if days
            else f"speed ×{speed or cfg.sim.speed:g} until Ctrl+C"
        )
        where = f"the simulated market ({what})"
    say(f"seeker: running {', '.join(chosen)} on {where}; journals in {root}/")
    if candidate is not None:
        from seeker.cli.candidates import describe

        say(f"seeker: {describe(cand)}")
    from seeker.ui.progress import run_display  # dashboard, progress bar, or plain lines

    display = run_display(services, chosen, days, no_dashboard)
    display.start()
    # the process is the run: long-lived objects (config, calendars, history) are frozen out of
    # the collector, and young-generation collections happen less often
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    try:
        result = run_strategies(services, chosen, on_tick=display.on_tick, strategies=reg)
    finally:
        display.stop()
        services.broker.close()
        services.close_journals()
        folder.release()
    kind = "simulated " if services.clock.simulated else ""
    stamp = f"{kind}{result.sim_time:%Y-%m-%d %H:%M}"
    say(f"seeker: stopped ({result.reason}) at {stamp}")
    raise typer.Exit(run_exit_code(result, services.faults))
