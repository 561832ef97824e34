"""``seeker calibrate``: the simulator's statistics beside those of recorded chains, with plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from seeker.cli.common import DEFAULT_CONFIG, console, fail, load_checked_config
from seeker.cli.replay import REPLAY_CONFIG

VERDICT_STYLE = {"close": "green", "sim higher": "yellow", "sim lower": "yellow"}


def calibrate(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Chain store (default: replay.data_dir of --config)."),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the PNG plots.", show_default=True)
    ] = Path("calibration"),
    config: Annotated[
        Path,
        typer.Option("--config", "-c", help="Replay config: its index history files."),
    ] = REPLAY_CONFIG,
    sim_config: Annotated[
        Path, typer.Option("--sim-config", help="Config of the simulated market ([sim]).")
    ] = DEFAULT_CONFIG,
    listing: Annotated[
        str, typer.Option("--listing", help="Simulated listing to compare (an index-like ETF).")
    ] = "IWM",
    sessions: Annotated[
        int, typer.Option("--sessions", min=20, help="Simulated sessions to measure.")
    ] = 250,
    underlying: Annotated[
        str | None, typer.Option("--underlying", help="Underlying of the chain store (if several).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
) -> None:
    """Measure the recorded chains and the simulator with the same statistics, side by side.

    ATM IV against realised vol, 25Δ risk reversal and butterfly, term slope, bid/ask against
    price and delta, open interest and volume against delta and DTE, IV moves against returns;
    a verdict per statistic, and PNG plots in --out.
    """
    from seeker.reports.calibration_plots import save_plots
    from seeker.research.calibration.run import calibrate as run_calibration

    replay_cfg = load_checked_config(config)
    sim_cfg = load_checked_config(sim_config)
    store = (
        data if data is not None else (replay_cfg.replay.data_dir if replay_cfg.replay else None)
    )
    if store is None:
        fail(["no chain store: pass --data DIR or set replay.data_dir"])
    try:
        result = run_calibration(replay_cfg, store, sim_cfg, listing, sessions, underlying)
    except (ValueError, FileNotFoundError) as exc:
        fail([str(exc)])
    files = save_plots([result.real, result.sim], out)
    if as_json:
        rows = [r.as_dict() for r in result.rows]
        from seeker.core.journal import to_jsonable

        print(json.dumps(to_jsonable({"rows": rows, "plots": [str(f) for f in files]}), indent=1))
        return
    table = Table(title=f"{result.real.name} against the {result.sim.name}", title_justify="left")
    table.add_column("statistic")
    table.add_column("real", justify="right")
    table.add_column("simulator", justify="right")
    table.add_column("verdict")
    table.add_column("note", overflow="fold")
    for r in result.rows:
        style = VERDICT_STYLE.get(r.verdict, "dim")
        table.add_row(
            r.stat.label,
            r.stat.show(r.real),
            r.stat.show(r.sim),
            f"[{style}]{r.verdict}[/]",
            r.note,
        )
    console.print(table)
    close = sum(r.verdict == "close" for r in result.rows)
    judged = sum(r.verdict not in ("not judged", "n/a") for r in result.rows)
    console.print(f"{close} of {judged} judged statistics close; plots in {out}/:", highlight=False)
    for f in files:
        console.print(f"  {f}", highlight=False)
