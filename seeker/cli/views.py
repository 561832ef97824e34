"""Read-only views of the journals: ``seeker summary``, ``seeker show``, ``seeker journal``.

``summary`` and ``journal`` read only the config keys they use (``seeker.cli.settings``) and
stream the journals; every name and filter is checked against what exists first (exit 2 with
the valid values and the nearest one).
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
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

SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="DATE",
        help="Only from this date or time on (YYYY-MM-DD or ISO 8601; New York time if no zone).",
    ),
]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print CSV (a header row, then rows).")]


def parse_since(text: str | None) -> datetime | None:
    """Return --since as an aware datetime (a date means its midnight, New York time)."""
    if text is None:
        return None
    from seeker.core.tz import MARKET_TZ

    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=MARKET_TZ)
        ts = datetime.fromisoformat(text)
    except ValueError:
        fail([f"--since {text!r}: expected YYYY-MM-DD or an ISO 8601 date-time"])
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=MARKET_TZ)


def strategy_problems(names: list[str], root: Path) -> list[str]:
    """Return one line per name that is no strategy Seeker knows nor one with journals."""
    if not names:
        return []
    from seeker.core.journal import SHADOW_SUFFIX
    from seeker.strategies.catalog import strategy_names
    from seeker.ui.choices import unknown_name
    from seeker.ui.journal_view import known_strategies

    known = known_strategies(root, strategy_names())
    return [
        unknown_name("strategy", n, known)
        for n in dict.fromkeys(names)
        if n.removesuffix(SHADOW_SUFFIX) not in known
    ]


def summary(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="NAME",
            help="Strategies (default: all with a journal).",
            autocompletion=complete_strategy,
        ),
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    log_dir: LogDirOption = None,
    since: SinceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print all of it as JSON.")] = False,
    as_csv: CsvOption = False,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            metavar="VIEW",
            help="With --csv: strategy rows, a breakdown (regime, strategy_regime, sector, "
            "cluster, currency) or every trade (trade).",
        ),
    ] = "strategy",
) -> None:
    """Reports by strategy, regime, sector, cluster and currency, shadow apart — from journals."""
    from seeker.cli.settings import read_settings

    settings = read_settings(config)
    root = settings.log_root(log_dir)
    from seeker.ui.csv_out import summary_views

    problems = strategy_problems(list(names or []), root)
    if by not in summary_views():
        from seeker.ui.choices import bad_choice

        problems.append(bad_choice("--by", by, summary_views()))
    if as_json and as_csv:
        problems.append("--json and --csv: choose one")
    if problems:
        fail(problems)
    start = parse_since(since)
    caps, currency = settings.caps(), settings.capital_currency()
    from seeker.reports.summary import build_report

    report = build_report(root, caps, names, start, currency, settings.risk())
    if as_json:
        from seeker.core.journal import to_jsonable

        print(json.dumps(to_jsonable(report.as_dict()), indent=1))
        return
    if as_csv:
        from seeker.ui.csv_out import summary_rows, write_rows

        write_rows(sys.stdout, summary_rows(report, by))
        return
    if not report.rows:
        console.print(f"no journal under {root}/ yet")
        return
    from seeker.ui.summary_view import print_report

    print_report(console, report)


def show(
    position_id: Annotated[
        str, typer.Argument(metavar="POSITION_ID", help="Position id, e.g. ic-20260107-001.")
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    log_dir: LogDirOption = None,
    tx: Annotated[
        float | None,
        typer.Option(
            "--tx",
            min=0.0,
            metavar="DAYS",
            help="Days after T+0 for the T+X curve (default: until manage_dte, else half).",
        ),
    ] = None,
) -> None:
    """One position from its journals: legs, greeks, touch odds, payoff, confidence, orders."""
    from seeker.ui.position import close_matches, load_position, position_ids
    from seeker.ui.show import render_position

    cfg = load_checked_config(config)
    root = log_root(cfg, log_dir)
    record = load_position(root, position_id)
    if record is None:
        known = sorted(position_ids(root))
        near = close_matches(position_id, known)
        hint = f"; close matches: {', '.join(near)}" if near else ""
        if not known:
            hint = f"; no position is journaled under {root}/"
        fail([f"unknown position {position_id!r}{hint}"])
    for part in render_position(record, cfg, tx, console.width):
        console.print(part)


def journal(
    strategy: Annotated[
        list[str] | None,
        typer.Option(
            "--strategy",
            "-s",
            metavar="NAME",
            help="Only these strategies.",
            autocompletion=complete_strategy,
        ),
    ] = None,
    since: SinceOption = None,
    outcome: Annotated[
        str | None,
        typer.Option(
            "--outcome",
            metavar="OUTCOME",
            help="DECISION outcome: order or no_trade.",
            autocompletion=lambda incomplete: [
                o for o in ("order", "no_trade") if o.startswith(incomplete)
            ],
        ),
    ] = None,
    blocked_by: Annotated[
        str | None,
        typer.Option(
            "--blocked-by",
            metavar="AGENT",
            help="DECISION refused by this agent or cap (risk_guard, sector, …).",
        ),
    ] = None,
    event: Annotated[
        list[str] | None,
        typer.Option("--event", "-e", metavar="EVENT", help="Only these events (ORDER, FILL, …)."),
    ] = None,
    position: Annotated[
        str | None,
        typer.Option("--position", "-p", metavar="ID", help="Only lines of this position."),
    ] = None,
    tail: Annotated[
        int | None, typer.Option("--tail", "-n", min=1, metavar="N", help="Only the last N lines.")
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    log_dir: LogDirOption = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the lines as JSON, one per line (DECISION lines in full shape)."
        ),
    ] = False,
    as_csv: CsvOption = False,
) -> None:
    """Filter and pretty-print the journals, one compact line per event, oldest first."""
    from seeker.cli.settings import read_settings
    from seeker.ui.journal_view import JournalFilter, stream, tail_entries

    settings = read_settings(config)
    root = settings.log_root(log_dir)
    flt = JournalFilter(
        strategies=list(strategy or []),
        since=parse_since(since),
        outcome=outcome,
        blocked_by=blocked_by,
        events=list(event or []),
        position=position,
    )
    problems = strategy_problems(flt.strategies, root) + flt.problems()
    if as_json and as_csv:
        problems.append("--json and --csv: choose one")
    if problems:
        fail(problems)
    entries = tail_entries(root, flt, tail) if tail else stream(root, flt)
    if as_json:
        from seeker.reports.expand import DecisionExpander

        out = sys.stdout
        expander = DecisionExpander(root)
        for e in entries:
            if e.line.get("event") == "DECISION" and "regime_ref" in e.line:
                out.write(expander.expand_raw(e.source, e.raw.encode(), e.line).decode())
            else:
                out.write(e.raw + "\n")
        out.flush()
        return
    pairs = ((e.source, e.line) for e in entries)
    if as_csv:
        from seeker.ui.csv_out import write_journal

        write_journal(sys.stdout, pairs)
        return
    from seeker.ui.lines import print_journal

    if not print_journal(console, pairs, flt.folders(root)):
        console.print(f"no journal line matches under {root}/", highlight=False)
