"""``seeker plot``: pictures (PNG or SVG) of the equity curve, P&L breakdowns and a payoff."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seeker.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    LogDirOption,
    complete_strategy,
    console,
    fail,
    load_checked_config,
    log_root,
)
from seeker.cli.views import SinceOption, parse_since, strategy_problems

WHAT = ("equity", "pnl", "payoff")
"""What ``seeker plot`` draws."""


def plot(
    what: Annotated[
        str,
        typer.Argument(
            metavar="WHAT",
            autocompletion=lambda incomplete: [w for w in WHAT if w.startswith(incomplete)],
            help="equity (curve and drawdown), pnl (by strategy and by regime) or payoff "
            "(of one position).",
            show_default=False,
        ),
    ],
    position_id: Annotated[
        str | None,
        typer.Argument(metavar="POSITION_ID", help="The position, for payoff.", show_default=False),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="PATH",
            help="Picture to write, .png or .svg (default: <what>.png, payoff-<id>.png).",
        ),
    ] = None,
    strategy: Annotated[
        list[str] | None,
        typer.Option(
            "--strategy",
            "-s",
            metavar="NAME",
            help="equity, pnl: only these strategies.",
            autocompletion=complete_strategy,
        ),
    ] = None,
    since: SinceOption = None,
    shadow: Annotated[
        bool, typer.Option("--shadow", help="equity, pnl: the shadow results instead.")
    ] = False,
    tx: Annotated[
        float | None,
        typer.Option(
            "--tx", min=0.0, metavar="DAYS", help="payoff: days after T+0 for the T+X curve."
        ),
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    log_dir: LogDirOption = None,
) -> None:
    """Draw the equity curve and drawdown, P&L by strategy and regime, or a position's payoff."""
    from seeker.ui.choices import bad_choice
    from seeker.ui.plot_style import picture_format

    problems = [] if what in WHAT else [bad_choice("plot", what, WHAT)]
    if what == "payoff" and position_id is None:
        problems.append("plot payoff: name the position (seeker plot payoff POSITION_ID)")
    if what != "payoff" and position_id is not None:
        problems.append(f"plot {what}: takes no position id (got {position_id!r})")
    target = out or Path(f"payoff-{position_id}.png" if what == "payoff" else f"{what}.png")
    if picture_format(target) is None:
        problems.append(f"--out {target}: the picture must end in .png or .svg")
    if problems:
        fail(problems)
    if what == "payoff":
        assert position_id is not None
        _payoff(position_id, target, tx, config, log_dir)
    else:
        _report(what, target, list(strategy or []), since, shadow, config, log_dir)
    console.print(f"wrote {target}", highlight=False)


def _report(
    what: str,
    target: Path,
    names: list[str],
    since: str | None,
    shadow: bool,
    config: Path,
    log_dir: Path | None,
) -> None:
    from seeker.cli.settings import read_settings

    settings = read_settings(config)
    root = settings.log_root(log_dir)
    problems = strategy_problems(names, root)
    if problems:
        fail(problems)
    start = parse_since(since)
    from seeker.reports.summary import build_report
    from seeker.ui.plot_report import equity_figure, pnl_figure
    from seeker.ui.plot_style import plot_context, save

    report = build_report(root, settings.caps(), names or None, start, settings.capital_currency())
    section = report.shadow if shadow else report.real
    kind = "shadow" if shadow else "real"
    scope = ", ".join(names) if names else "all strategies"
    period = f" since {since}" if since else ""
    with plot_context():
        if what == "equity":
            fig = equity_figure(section, f"Equity and drawdown — {kind} trades, {scope}{period}")
        else:
            fig = pnl_figure(section, f"Net P&L — {kind} trades, {scope}{period}")
        save(fig, target)


def _payoff(
    position_id: str, target: Path, tx: float | None, config: Path, log_dir: Path | None
) -> None:
    from seeker.ui.position import close_matches, load_position, position_ids

    cfg = load_checked_config(config)
    root = log_root(cfg, log_dir)
    record = load_position(root, position_id)
    if record is None:
        near = close_matches(position_id, sorted(position_ids(root)))
        hint = f"; close matches: {', '.join(near)}" if near else ""
        fail([f"unknown position {position_id!r}{hint}"])
    if record.position.opened_qty == 0:
        fail([f"{position_id} never filled: it has no payoff to draw"])
    from seeker.ui.plot_payoff import payoff_figure
    from seeker.ui.plot_style import plot_context, save

    with plot_context():
        save(payoff_figure(record, cfg, tx), target)
