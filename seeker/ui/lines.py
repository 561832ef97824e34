"""One compact, coloured line per journal event (shared by the dashboard, `show` and `journal`)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

from seeker.core.tz import MARKET_TZ
from seeker.ui.console import PLAIN_WIDTH
from seeker.ui.names import abbreviations

EVENT_STYLES: dict[str, str] = {
    "DECISION": "yellow",
    "ORDER": "cyan",
    "ORDER_STATUS": "blue",
    "FILL": "bold green",
    "RISK": "red",
    "CONFIDENCE": "grey62",
    "POST_TRADE": "magenta",
    "RUN": "bold white",
    "EQUITY": "white",
    "LIMIT": "bold red",
    "CONTROL": "bold magenta",
}
"""The colour of each event kind."""

TERMINAL_STATUSES = ("filled", "cancelled", "rejected")


def num(value: Any, fmt: str = ".2f", unknown: str = "?") -> str:
    """Return a number formatted with `fmt`, or `unknown` for None, NaN or a non-number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return unknown
    if isinstance(value, float) and not math.isfinite(value):
        return unknown
    return format(value, fmt)


def parse_ts(value: Any) -> datetime | None:
    """Return a journal `ts` as an aware datetime, None when absent or unreadable."""
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def short_ts(value: Any, with_date: bool = True) -> str:
    """Return a journal `ts` as ``2026-01-06 10:02`` (New York time), or the raw text."""
    ts = parse_ts(value)
    if ts is None:
        return str(value or "?")
    if ts.tzinfo is not None:
        ts = ts.astimezone(MARKET_TZ)
    return ts.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def _decision(line: Mapping[str, Any]) -> tuple[str, str]:
    outcome = str(line.get("outcome"))
    text = f"{line.get('underlying', '?')} {outcome}"
    if line.get("blocked_by"):
        text += f" [{line['blocked_by']}]"
    if line.get("reason"):
        text += f" {line['reason']}"
    if outcome == "order" and line.get("position_id"):
        text += f" → {line['position_id']}"
    return text, ("green" if outcome == "order" else "yellow")


def _order(line: Mapping[str, Any]) -> tuple[str, str]:
    meta = line.get("meta") or {}
    opening = line.get("intent") == "open"
    what = meta.get("label") or (line.get("reason") if opening else line.get("symbol")) or ""
    text = (
        f"{line.get('order_id', '?')} {line.get('intent', '?')} {what} ×{line.get('qty', '?')} "
        f"limit {num(line.get('limit_price'), '+.2f')} (mid {num(line.get('mid'), '+.3f')}, "
        f"natural {num(line.get('natural'), '+.2f')}) max loss {num(line.get('max_loss'))} "
        f"{line.get('currency', '')}"
    )
    if line.get("exit_rule"):
        text += f" · exit {line['exit_rule']}: {line.get('reason', '')}"
    return text, "cyan"


def _status(line: Mapping[str, Any]) -> tuple[str, str]:
    status = str(line.get("status"))
    text = f"{line.get('order_id', '?')} {status}"
    if line.get("limit_price") is not None:
        text += f" limit {num(line.get('limit_price'), '+.2f')}"
    if line.get("filled") is not None:
        text += f" ({line['filled']} filled, {line.get('remaining', '?')} left)"
    if line.get("reason"):
        text += f" ({line['reason']})"
    style = {
        "filled": "cyan",
        "cancelled": "dark_orange",
        "rejected": "red",
        "unconfirmed": "bold yellow",
    }.get(status, "blue")
    return text, style


def _fill(line: Mapping[str, Any]) -> tuple[str, str]:
    if line.get("kind") == "leg":
        return (
            f"{line.get('order_id', '?')}   leg {line.get('action', '?')} ×{line.get('qty', '?')} "
            f"{num(line.get('strike'), 'g')}{line.get('right', '?')} {line.get('expiry', '?')} at "
            f"{num(line.get('fill_price'), '.4f')}, commission {num(line.get('commission'))} "
            f"{line.get('currency', '')}",
            "green",
        )
    text = (
        f"{line.get('order_id', '?')} {line.get('intent', '?')} ×{line.get('qty', '?')} at "
        f"{num(line.get('fill_price'), '+.2f')}, commission {num(line.get('commission'))} "
        f"{line.get('currency', '')}"
    )
    if line.get("exit_rule"):
        text += f" · exit {line['exit_rule']}"
    return text, "bold green"


def _risk(line: Mapping[str, Any]) -> tuple[str, str]:
    rule = str(line.get("rule"))
    who = f" {line['position_id']}" if line.get("position_id") else ""
    text = f"{rule}{who}: " + (str(line.get("detail", "")).strip().splitlines() or [""])[-1]
    conv = line.get("conversion")
    if isinstance(conv, Mapping) and conv:
        parts = ", ".join(f"{k} {v}" for k, v in conv.items() if not isinstance(v, (dict, list)))
        text += f" [{parts}]"
    return text, ("magenta" if rule.startswith("fx") else "red")


def _confidence(line: Mapping[str, Any]) -> tuple[str, str]:
    good = ", ".join(line.get("reassuring") or [])
    bad = ", ".join(line.get("worrying") or [])
    text = (
        f"{line.get('position_id', '?')} score {num(line.get('score'), '.0f')} DTE "
        f"{line.get('dte', '?')} spot {num(line.get('spot'), '.2f')} P&L/sh "
        f"{num(line.get('pnl_unit'), '+.2f')} | + {good or '-'} | − {bad or '-'}"
    )
    return text, "grey62"


def _post_trade(line: Mapping[str, Any]) -> tuple[str, str]:
    pnl = line.get("pnl")
    text = (
        f"{line.get('position_id', '?')} P&L {num(pnl, '+.2f')} {line.get('currency', '')} "
        f"(gross {num(line.get('gross_pnl'), '+.2f')}, commissions "
        f"{num(line.get('commissions'))}), slippage {num(line.get('slippage'), '+.2f')}, "
        f"MFE {num(line.get('mfe'), '+.2f')} MAE {num(line.get('mae'), '+.2f')}, exit "
        f"{line.get('exit_rule')} at {line.get('dte_at_exit', '?')} DTE, held "
        f"{num(line.get('hours_in_position'), '.1f')} h"
    )
    good = isinstance(pnl, (int, float)) and pnl > 0
    return text, ("bold green" if good else "bold red")


def _run(line: Mapping[str, Any]) -> tuple[str, str]:
    text = f"{line.get('status', '?')}"
    if line.get("strategies"):
        text += " " + ", ".join(line["strategies"])
    if line.get("broker"):
        text += f" on {line['broker']}"
    if line.get("reason"):
        text += f" ({line['reason']})"
    return text, "bold white"


def _equity(line: Mapping[str, Any]) -> tuple[str, str]:
    if line.get("equity") is None:
        return f"equity unknown: {line.get('problem', '?')}", "bold red"
    text = (
        f"equity {num(line.get('equity'), ',.2f')} {line.get('currency', '')} (natural "
        f"{num(line.get('equity_natural'), ',.2f')}), cash {num(line.get('cash'), ',.2f')}, "
        f"today {num(line.get('day_pnl'), '+,.2f')}, drawdown "
        f"{num(line.get('drawdown_pct'), '.1f')} % from {num(line.get('peak'), ',.2f')}"
    )
    tripped = line.get("tripped") or []
    if tripped:
        text += f"; tripped: {', '.join(map(str, tripped))}"
    return text, "white"


def _limit(line: Mapping[str, Any]) -> tuple[str, str]:
    if line.get("change") == "trip":
        text = f"{line.get('limit')} TRIPPED ({line.get('action')}): {line.get('reason')}"
        return text, "bold red"
    return f"{line.get('limit')} reset by {line.get('by')}: {line.get('reason')}", "yellow"


def _control(line: Mapping[str, Any]) -> tuple[str, str]:
    args = line.get("args") or {}
    shown = ", ".join(f"{k}={v}" for k, v in args.items() if v not in (None, "", []))
    head = f"{line.get('command')}{f' ({shown})' if shown else ''} by {line.get('user', '?')}"
    if line.get("ok"):
        return f"{head}: done", "bold magenta"
    return f"{head}: refused: {line.get('error')}", "red"


def _generic(line: Mapping[str, Any]) -> tuple[str, str]:
    skip = {"event", "ts"}
    parts = [
        f"{k}={v}" for k, v in line.items() if k not in skip and not isinstance(v, (dict, list))
    ]
    return " ".join(parts), EVENT_STYLES.get(str(line.get("event")), "white")


_DESCRIBERS: dict[str, Callable[[Mapping[str, Any]], tuple[str, str]]] = {
    "DECISION": _decision,
    "ORDER": _order,
    "ORDER_STATUS": _status,
    "FILL": _fill,
    "RISK": _risk,
    "CONFIDENCE": _confidence,
    "POST_TRADE": _post_trade,
    "RUN": _run,
    "EQUITY": _equity,
    "LIMIT": _limit,
    "CONTROL": _control,
}


def describe(line: Mapping[str, Any]) -> tuple[str, str]:
    """Return the compact text of one journal line and its colour."""
    fn = _DESCRIBERS.get(str(line.get("event")), _generic)
    try:
        return fn(line)
    except (KeyError, TypeError, ValueError, IndexError):
        return _generic(line)


COMPACT_NAMES = {"ORDER_STATUS": "STATUS", "POST_TRADE": "POST", "CONFIDENCE": "CONF"}
"""Shorter event names for the dashboard's narrow tail."""


def line_parts(
    source: str,
    line: Mapping[str, Any],
    with_date: bool = True,
    compact: bool = False,
    short_events: bool | None = None,
) -> tuple[Text, Text]:
    """Return the two parts of a journal line: ``ts  source  EVENT `` and its coloured text.

    `compact` shows ``01-06 10:02`` and the short event names; `short_events` alone the names.
    """
    short = compact if short_events is None else short_events
    event = str(line.get("event", "?"))
    text, style = describe(line)
    head = Text()
    ts = short_ts(line.get("ts"), with_date)
    head.append(ts[5:] if compact and with_date and len(ts) == 16 else ts, style="grey50")
    head.append("  ")
    if source:
        head.append(source, style="bold")
        head.append("  ")
    name = COMPACT_NAMES.get(event, event) if short else event
    head.append(f"{name:<{8 if short else 12}}", style=EVENT_STYLES.get(event, "white"))
    head.append(" ")
    return head, Text(text, style=style)


def plain_line(source: str, line: Mapping[str, Any]) -> str:
    """Return ``render_line(source, line).plain`` without building rich text (plain output)."""
    event = str(line.get("event", "?"))
    text, _ = describe(line)
    who = f"{source}  " if source else ""
    return f"{short_ts(line.get('ts'))}  {who}{event:<12} {text}"


def render_line(
    source: str, line: Mapping[str, Any], with_date: bool = True, compact: bool = False
) -> Text:
    """Return ``ts  source  EVENT  text`` for one journal line, coloured by its kind.

    `compact` (the dashboard) shows ``01-06 10:02`` and short event names.
    """
    head, body = line_parts(source, line, with_date, compact)
    out = Text(no_wrap=False, overflow="fold")
    out.append_text(head)
    out.append_text(body)
    return out


HANGING_MIN = 24
"""Narrowest text column (cells) worth a hanging indent; below it lines wrap from the margin."""


class Hanging:
    """One journal line that wraps under its own text (time, folder and event keep a column).

    Rendered at the width it is given; in plain output (no limit) it is one line.
    """

    def __init__(self, source: str, line: Mapping[str, Any], compact: bool = False) -> None:
        self.head, self.body = line_parts(source, line, short_events=compact)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        indent = self.head.cell_len
        if indent + self.body.cell_len <= width or width - indent < HANGING_MIN:
            out = Text(overflow="fold")
            out.append_text(self.head)
            out.append_text(self.body)
            yield out
            return
        for i, part in enumerate(self.body.wrap(console, width - indent, overflow="fold")):
            lead = self.head if i == 0 else Text(" " * indent)
            yield Text.assemble(lead, part, no_wrap=True, end="\n")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        full = self.head.cell_len + self.body.cell_len
        return Measurement(min(full, self.head.cell_len + HANGING_MIN), full)


JOURNAL_FULL_MIN = 110
"""Narrowest console (columns) where `seeker journal` spells folders and events in full."""


def print_journal(
    console: Console,
    entries: Iterable[tuple[str, Mapping[str, Any]]],
    sources: Iterable[str] | None = None,
) -> int:
    """Print journal lines for `seeker journal`: (folder, line) pairs, oldest first.

    Plain output: one unwrapped line each. On a console of bounded width each line wraps under
    its own text (time, folder and event kind keep their column); below
    :data:`JOURNAL_FULL_MIN` columns folders get short unique names (a legend line says which)
    and event names their short form. With `sources` (every folder the lines may come from)
    the lines are streamed, never held; without, they are gathered first. Return how many
    lines were printed (nothing, not even the legend, when there is none).
    """
    if sources is None:
        items = list(entries)
        names = sorted({source for source, _ in items})
        stream: Iterator[tuple[str, Mapping[str, Any]]] = iter(items)
    else:
        names = sorted(set(sources))
        stream = iter(entries)
    first = next(stream, None)
    if first is None:
        return 0
    width = None if console.width >= PLAIN_WIDTH else console.width
    compact = width is not None and width < JOURNAL_FULL_MIN
    short = abbreviations(names) if compact else {s: s for s in names}
    changed = [s for s in names if short[s] != s]
    if changed:
        legend = " · ".join(f"{short[s]} {s}" for s in changed)
        console.print(Text(f"folders: {legend}", style="grey62"))
    pad = max((len(short[s]) for s in names), default=0)
    plain = (
        width is None
        and console.color_system is None
        and not (console.is_terminal or console.record)
    )
    out = console.file
    count = 0
    for source, line in itertools.chain((first,), stream):
        count += 1
        name = short.get(source, source).ljust(pad)
        if plain:  # no colour, no width: the text itself, without rich's layout per line
            out.write(plain_line(name, line) + "\n")
        elif width is None:
            console.print(render_line(name, line), soft_wrap=True, highlight=False)
        else:
            console.print(Hanging(name, line, compact), highlight=False)
    if plain:
        out.flush()
    return count
