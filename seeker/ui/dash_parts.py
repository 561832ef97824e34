"""The dashboard's header, strategy states, decision tail and footer, at any width."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.text import Text

from seeker.core.tz import MARKET_TZ
from seeker.engine.account_view import AccountView
from seeker.ui.lines import render_line
from seeker.ui.snapshot import Snapshot, StrategyRow, coalesce
from seeker.ui.widgets import bar, flow

BORDER = "#30363d"
ACCENT = "#58a6ff"
STATE_STYLES = {"running": "green", "error": "bold red", "stopping": "yellow", "starting": "cyan"}
WIDE_GAP = "  │  "
NARROW_GAP = "  "


# -- header -----------------------------------------------------------------------------------
def _identity(snap: Snapshot, short: bool) -> list[Text]:
    conn_style = "bold green" if snap.connection == "connected" else "bold red"
    local = snap.clock.astimezone(MARKET_TZ)
    broker = Text("" if short else "broker ")
    broker.append(f"{snap.broker} ")
    broker.append(snap.connection, style=conn_style)
    if not short or snap.market_data != "simulated":
        broker.append(f" ({snap.market_data} data)")
    clock = Text(f"{local:%a %Y-%m-%d %H:%M} ET", style="bold")
    if short:
        clock.append(" (sim)" if snap.simulated else "", style="grey62")
    else:
        clock.append(" (simulated clock)" if snap.simulated else " (broker clock)", style="grey62")
    return [Text(snap.title, style=f"bold {ACCENT}"), broker, clock, Text(snap.session)]


def _money(snap: Snapshot, short: bool) -> list[Text]:
    ccy = snap.capital_currency
    used = snap.committed / snap.budget if snap.budget > 0 else 0.0
    risk = Text("risk " if short else "committed risk ", style="white")
    risk.append_text(bar(used, 10 if short else 20, "red" if used > 0.9 else "green"))
    risk.append(f" {snap.committed:.2f} / {snap.budget:.2f} {ccy} ({100 * used:.0f} %)")
    if snap.shadow_committed:
        risk.append(f" · shadow {snap.shadow_committed:.2f}", style="grey62")
    exposure = " · ".join(f"{c} {v:.2f}" for c, v in sorted(snap.by_currency.items())) or "none"
    if snap.account is None:
        out = [Text(f"capital {snap.capital:,.2f} {ccy}", style="white"), risk]
    else:
        out = [_equity(snap.account, short), risk]
    if not short:
        out.append(Text(f"exposure by currency ({ccy}): {exposure}"))
    elif set(snap.by_currency) - {ccy}:  # one currency, the capital's: the risk says it all
        out.append(Text(f"by currency: {exposure}", style="grey70"))
    return out


def _equity(a: AccountView, short: bool) -> Text:
    """Return the account's equity (and at the natural) with today's P&L."""
    if a.equity is None:
        return Text(f"equity unknown ({a.problem})", style="bold red")
    equity = Text(f"equity {a.equity:,.2f} {a.currency}", style="white")
    if a.equity_natural is not None and not short:
        equity.append(f" (natural {a.equity_natural:,.2f})", style="grey62")
    if a.day_pnl is not None:
        equity.append(" today " if short else " · today ")
        equity.append(f"{a.day_pnl:+,.2f}", style="green" if a.day_pnl > 0 else "red")
    return equity


def _limits(snap: Snapshot, short: bool) -> list[Text]:
    """Return the distance to each account limit ($ of further loss), trips and holds."""
    a = snap.account
    if a is None:
        return []
    parts: list[tuple[str, str]] = []
    for name, room, limit in (
        ("day" if short else "daily loss", a.daily_room, a.daily_limit),
        ("DD" if short else "drawdown", a.drawdown_room, a.drawdown_limit),
    ):
        if room is None or limit is None:
            continue
        text = f"{name} TRIPPED" if room <= 0 else f"{name} {room:,.2f}"
        style = "bold red" if room <= 0 else ("yellow" if room < 0.25 * limit else "")
        parts.append((text, style))
    if a.drawdown_pct is not None and not short:
        parts.append((f"DD {a.drawdown_pct:.1f} % of {a.max_drawdown_pct:g} %", "grey62"))
    if "errors" in a.tripped:
        parts.append(("errors TRIPPED", "bold red"))
    for what, names in (("flatten", a.flatten), ("paused", a.paused)):
        if names:
            parts.append((f"{what} {','.join(names)}", "bold yellow"))
    if not parts:
        return []
    out = Text("limits: " if short else "to the limits: ", style="white")
    for i, (text, style) in enumerate(parts):
        out.append(" · " if i else "")
        out.append(text, style=style)
    return [out]


def header_lines(snap: Snapshot, width: int) -> list[Text]:
    """Return the header's lines for `width` columns: identity and clock, then equity (or the
    capital) and risk, then the distance to the account's limits.

    The long wording when each group fits on one line, else the short one; items never break.
    """
    out: list[Text] = []
    for build in (_identity, _money, _limits):
        items = build(snap, False)
        if not items:
            continue
        long = flow(items, None, WIDE_GAP)[0]
        if long.cell_len <= width:
            out.append(long)
            continue
        out += flow(build(snap, True), width, NARROW_GAP)
    for line in out:
        line.no_wrap = True
        line.overflow = "ellipsis"
    return out


def header(snap: Snapshot, width: int) -> Panel:
    """Return the boxed header (the lines of :func:`header_lines` in a panel)."""
    return Panel(Group(*header_lines(snap, width - 4)), border_style=BORDER, padding=(0, 1))


# -- strategies ------------------------------------------------------------------------------
def _poll(row: StrategyRow) -> str:
    return "-" if row.last_poll is None else f"{row.last_poll.astimezone(MARKET_TZ):%m-%d %H:%M}"


def _name(row: StrategyRow) -> str:
    return row.name + (" (shadow)" if row.shadow else "")


def strategies_table(snap: Snapshot, short: Mapping[str, str] | None = None) -> Group:
    """Return each strategy's state, open positions, entries today and last poll, one line
    each (an error on its own line below, in red).

    With `short`, a first column gives the short name the decision tail uses.
    """
    rows = snap.strategies
    head = ["", "strategy", "state", "open", "today", "last poll"]
    cells = []
    for row in rows:
        mx = f"/{row.max_open_positions}" if row.max_open_positions is not None else ""
        cells.append(
            [
                short.get(row.name, row.name) if short is not None else "",
                _name(row),
                row.state,
                f"{row.open_positions}{mx}",
                "?" if row.entries_today is None else str(row.entries_today),
                _poll(row),
            ]
        )
    widths = [max([len(head[i]), *(len(c[i]) for c in cells)]) for i in range(len(head))]
    right = (False, False, False, True, True, True)
    skip = 0 if short is not None else 1

    def line(values: list[str], styles: list[str]) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        for i in range(skip, len(values)):
            if i > skip:
                out.append(" ")
            text = values[i].rjust(widths[i]) if right[i] else values[i].ljust(widths[i])
            out.append(text, style=styles[i])
        return out

    lines = [line(head, [f"bold {ACCENT}"] * len(head))]
    for row, values in zip(rows, cells, strict=True):
        state = STATE_STYLES.get(row.state, "grey62")
        lines.append(line(values, ["bold", "", state, "", "", ""]))
        if row.error:
            lines.append(Text(f"  ↳ {row.error}", style="red", no_wrap=True, overflow="ellipsis"))
    return Group(*lines)


def strategies_rows(snap: Snapshot) -> int:
    """Return the lines the strategies table takes (header, one per strategy, errors)."""
    return 1 + len(snap.strategies) + sum(1 for r in snap.strategies if r.error)


def strategies_panel(snap: Snapshot, short: Mapping[str, str] | None = None) -> Panel:
    """Return the strategies table in a panel."""
    return Panel(strategies_table(snap, short), title="strategies", border_style=BORDER)


def strategies_width(snap: Snapshot, short: Mapping[str, str] | None = None) -> int:
    """Return the columns the strategies panel needs (its lines without the errors, borders)."""
    lines = strategies_table(snap, short).renderables
    widths = [t.cell_len for t in lines if isinstance(t, Text) and not t.plain.startswith("  ↳")]
    return max(widths, default=20) + 4


def strategies_line(snap: Snapshot, width: int, short: Mapping[str, str]) -> list[Text]:
    """Return the strategies' states in as few lines as `width` allows (errors in red)."""
    items = [Text("strategies:", style=f"bold {ACCENT}")]
    for row in snap.strategies:
        mx = f"/{row.max_open_positions}" if row.max_open_positions is not None else ""
        item = Text(f"{short.get(row.name, row.name)} ", style="bold")
        item.append(row.state, style=STATE_STYLES.get(row.state, "grey62"))
        item.append(f" {row.open_positions}{mx}")
        items.append(item)
    lines = flow(items, width, NARROW_GAP)
    for line in lines:
        line.no_wrap = True
        line.overflow = "ellipsis"
    return lines


# -- decision tail ---------------------------------------------------------------------------
TAIL_TITLE = "decision journal (orders, refusals, costs, FX)"


class TailView:
    """The latest decision-journal lines that fit, one line each, newest last.

    `boxed` draws it in a panel; otherwise a title line heads it. `short` maps journal folders
    to the short names shown in place of the folder.
    """

    def __init__(
        self, snapshot: Snapshot, boxed: bool = True, short: Mapping[str, str] | None = None
    ) -> None:
        self.snapshot = snapshot
        self.boxed = boxed
        self.short = short

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        height = options.height or 12
        room = max(0, height - (2 if self.boxed else 1))
        lines = coalesce(self.snapshot.tail)[-room:] if room else []
        names = [self._source(source) for source, _ in lines]
        pad = max((len(n) for n in names), default=0)
        body: list[RenderableType] = []
        for name, (_, line) in zip(names, lines, strict=True):
            text = render_line(name.ljust(pad), line, compact=True)
            text.no_wrap = True
            text.overflow = "ellipsis"
            body.append(text)
        if not body and room:
            body.append(Text("no decision yet", style="grey62"))
        if self.boxed:
            yield Panel(Group(*body), title=TAIL_TITLE, border_style=BORDER, height=height)
            return
        title = Text(TAIL_TITLE, style=f"bold {ACCENT}", no_wrap=True, overflow="ellipsis")
        yield Group(title, *body)

    def _source(self, source: str) -> str:
        return source if self.short is None else self.short.get(source, source)


# -- footer ----------------------------------------------------------------------------------
def footer(snap: Snapshot) -> Text:
    """Return the footer: how to stop, a ``--days`` run's progress, and the latest message."""
    last = snap.messages[-1] if snap.messages else ""
    out = Text(" Ctrl+C stops cleanly  ", style=f"bold black on {ACCENT}")
    if snap.progress:
        out.append(f" {snap.progress} ", style=f"bold {ACCENT}")
    out.append(f" {last}", style="grey70")
    out.no_wrap = True
    out.overflow = "ellipsis"
    return out
