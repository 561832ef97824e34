"""The live terminal dashboard of `seeker run` (rich, dark theme).

Wiring (``seeker run``)::

    dash = Dashboard(services, chosen, title=where)  # only when dashboard_enabled(...)
    services.emit = dash.emit                        # progress messages go to the footer
    with dash:                                       # start() … stop(), terminal restored
        result = run_strategies(services, chosen, on_tick=dash.update)

``update(manager)`` is the runner's ``on_tick``: it runs in the main thread ~4×/s and redraws at
most ``refresh_per_second`` times a second from a :class:`~seeker.ui.snapshot.Snapshot` (published
strategy views, ``services.recent``, locked Risk Guard reads) — strategy threads are never waited
on. Ctrl+C stays with the runner's signal handler, so it still stops cleanly with exit 0.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.layout import Layout
from rich.live import Live
from rich.panel import Panel
from rich.styled import Styled
from rich.table import Table
from rich.text import Text

from seeker.core.calendar import MARKET_TZ
from seeker.core.journal import SHADOW_SUFFIX, SYSTEM_FOLDER
from seeker.engine.cycle import PublishedPosition
from seeker.ui.journal_view import recent_entries
from seeker.ui.lines import num, render_line
from seeker.ui.snapshot import Snapshot, TailKeeper, build_snapshot, coalesce, copy_recent
from seeker.ui.widgets import badges, bar, dte_bar, gauge, reminder, score_style

BACKGROUND = "#c9d1d9 on #0d1117"
"""Dark theme: light grey text on a near-black background, whatever the terminal's theme."""
BORDER = "#30363d"
CARD_HEIGHT = 11
CARD_MIN_WIDTH = 60
BOTTOM_HEIGHT = 12
HEADER_HEIGHT = 4
STRATEGIES_WIDTH = 58


def dashboard_enabled(no_dashboard: bool, stream: IO[str] | None = None) -> bool:
    """Return True when the live dashboard should run: stdout is a terminal and not disabled."""
    out = stream if stream is not None else sys.stdout
    return not no_dashboard and bool(getattr(out, "isatty", lambda: False)())


# -- cards ------------------------------------------------------------------------------------
def position_dte(pos: PublishedPosition, now: datetime) -> int | None:
    """Return the DTE a strategy published, else the calendar days from the clock to expiry."""
    if pos.dte is not None:
        return pos.dte
    return (pos.expiry - now.astimezone(MARKET_TZ).date()).days


def _line(text: Text | str, style: str = "") -> Text:
    """Return one card line that never wraps (so every card has the same height)."""
    out = text if isinstance(text, Text) else Text(text, style=style)
    out.no_wrap = True
    out.overflow = "ellipsis"
    return out


def card(strategy: str, pos: PublishedPosition, now: datetime) -> Panel:
    """Return one position's card: facts, P&L, confidence gauge, badges, DTE bar, reminder."""
    dte = position_dte(pos, now)
    credit = -pos.entry_price
    price = f"credit {credit:.2f}" if credit >= 0 else f"debit {-credit:.2f}"
    facts = (
        f"DTE {'?' if dte is None else dte} · width {num(pos.width)} · {price} · "
        f"IVR {num(pos.iv_rank, '.0f')} · {pos.currency} · {pos.sector}"
    )
    pnl = Text("P&L ")
    if pos.pnl is None:
        pnl.append("? (not priced yet)", style="grey62")
    else:
        pnl.append(
            f"{pos.pnl:+.2f} {pos.currency}", style="bold green" if pos.pnl >= 0 else "bold red"
        )
        pnl.append(f" ({num(pos.pnl_unit, '+.3f')}/sh)", style="grey62")
    pnl.append(f" · max loss {pos.max_loss:.2f} · cluster {pos.cluster}", style="grey62")
    conf = pos.confidence
    good, bad = (list(conf.reassuring), list(conf.worrying)) if conf else ([], [])
    body = Group(
        _line(f"{pos.label} ×{pos.qty}", "bold cyan"),
        _line(facts),
        _line(f"regime: {pos.regime or '?'}", "grey62"),
        _line(pnl),
        _line(gauge(conf.score if conf is not None else None)),
        _line(badges(good, []) if good else Text("✓ -", style="grey62")),
        _line(badges([], bad) if bad else Text("✗ -", style="grey62")),
        _line(dte_bar(dte, pos.manage_dte)),
        _line(reminder(dte, pos.manage_dte, pos.expiry)),
    )
    border = score_style(conf.score).replace("bold ", "") if conf is not None else BORDER
    return Panel(
        body,
        title=f"[bold]{pos.listing_id}[/] · {strategy}",
        subtitle=pos.position_id,
        border_style=border,
        height=CARD_HEIGHT,
        padding=(0, 1),
    )


class CardsView:
    """The open positions as a grid of cards sized to the space the layout gives."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        positions = self.snapshot.positions
        if not positions:
            yield Panel(
                Text("no open position", style="grey62"),
                title="positions",
                border_style=BORDER,
                height=options.height,
            )
            return
        cols = max(1, options.max_width // CARD_MIN_WIDTH)
        rows_fit = max(1, (options.height or len(positions) * CARD_HEIGHT) // CARD_HEIGHT)
        shown = positions[: cols * rows_fit]
        if len(shown) < len(positions):
            shown = positions[: cols * rows_fit - 1]
        grid = Table.grid(expand=True, padding=0)
        for _ in range(cols):
            grid.add_column(ratio=1)
        cards: list[RenderableType] = [card(s, p, self.snapshot.clock) for s, p in shown]
        hidden = len(positions) - len(shown)
        if hidden:
            cards.append(
                Panel(
                    Text(f"+{hidden} more open position(s) not shown", style="bold yellow"),
                    border_style=BORDER,
                    height=CARD_HEIGHT,
                )
            )
        while len(cards) % cols:
            cards.append(Text(""))
        for i in range(0, len(cards), cols):
            grid.add_row(*cards[i : i + cols])
        yield grid


# -- header, strategies, tail ----------------------------------------------------------------
def header(snap: Snapshot) -> Panel:
    """Return the header: broker and connection, clock and session, capital, risk, currencies."""
    conn_style = "bold green" if snap.connection == "connected" else "bold red"
    line1 = Text()
    line1.append(f"{snap.title}  ", style="bold #58a6ff")
    line1.append(f"broker {snap.broker} ")
    line1.append(snap.connection, style=conn_style)
    line1.append(f" ({snap.market_data} data)  │  ")
    local = snap.clock.astimezone(MARKET_TZ)
    line1.append(f"{local:%a %Y-%m-%d %H:%M} ET", style="bold")
    line1.append(" (simulated clock)" if snap.simulated else " (broker clock)", style="grey62")
    line1.append(f"  │  {snap.session}")
    used = snap.committed / snap.budget if snap.budget > 0 else 0.0
    risk = Table.grid(padding=(0, 1))
    risk.add_column()
    risk.add_column(width=20)
    risk.add_column()
    ccy = snap.capital_currency
    exposure = " · ".join(f"{c} {v:.2f}" for c, v in sorted(snap.by_currency.items())) or "none"
    shadow = f" · shadow {snap.shadow_committed:.2f}" if snap.shadow_committed else ""
    risk.add_row(
        Text(f"capital {snap.capital:,.2f} {ccy}  │  committed risk", style="white"),
        bar(used, 20, "red" if used > 0.9 else "green"),
        Text(
            f"{snap.committed:.2f} / {snap.budget:.2f} {ccy} ({100 * used:.0f} %){shadow}  │  "
            f"exposure by currency ({ccy}): {exposure}"
        ),
    )
    return Panel(Group(line1, risk), border_style=BORDER, padding=(0, 1))


def strategies_panel(snap: Snapshot) -> Panel:
    """Return each strategy's state, open positions, entries today and last poll."""
    table = Table(
        expand=True, box=None, header_style="bold #58a6ff", padding=(0, 1), pad_edge=False
    )
    table.add_column("strategy", no_wrap=True, overflow="ellipsis", max_width=18)
    table.add_column("state", no_wrap=True)
    table.add_column("open", justify="right", min_width=4, no_wrap=True)
    table.add_column("today", justify="right", min_width=5, no_wrap=True)
    table.add_column("last poll", justify="right", no_wrap=True, min_width=11)
    styles = {"running": "green", "error": "bold red", "stopping": "yellow", "starting": "cyan"}
    for row in snap.strategies:
        name = row.name + (" (shadow)" if row.shadow else "")
        mx = f"/{row.max_open_positions}" if row.max_open_positions is not None else ""
        table.add_row(
            name,
            Text(row.state, style=styles.get(row.state, "grey62")),
            f"{row.open_positions}{mx}",
            "?" if row.entries_today is None else str(row.entries_today),
            "-" if row.last_poll is None else f"{row.last_poll.astimezone(MARKET_TZ):%m-%d %H:%M}",
        )
        if row.error:
            table.add_row(Text(f"  {row.error}", style="red", overflow="ellipsis"), "", "", "", "")
    return Panel(table, title="strategies", border_style=BORDER)


class TailView:
    """The latest decision-journal lines that fit, one compact line each, newest last."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        room = max(1, (options.height or BOTTOM_HEIGHT) - 2)
        lines = coalesce(self.snapshot.tail)[-room:]
        pad = max((len(source) for source, _ in lines), default=0)
        body: list[RenderableType] = []
        for source, line in lines:
            text = render_line(source.ljust(pad), line, compact=True)
            text.no_wrap = True
            text.overflow = "ellipsis"
            body.append(text)
        if not body:
            body.append(Text("no decision yet", style="grey62"))
        yield Panel(
            Group(*body),
            title="decision journal (orders, refusals, costs, FX)",
            border_style=BORDER,
            height=options.height,
        )


def footer(snap: Snapshot) -> Text:
    """Return the footer: the latest message and how to stop."""
    last = snap.messages[-1] if snap.messages else ""
    out = Text(" Ctrl+C stops cleanly  ", style="bold black on #58a6ff")
    out.append(f" {last}", style="grey70")
    out.no_wrap = True
    out.overflow = "ellipsis"
    return out


def render(snap: Snapshot, width: int = 160, height: int = 50) -> RenderableType:
    """Return one dashboard frame for a snapshot (a dark full-screen layout of `width`×`height`).

    The cards take the rows they need (at most what leaves BOTTOM_HEIGHT rows below); the
    strategies and the decision journal take the rest.
    """
    cols = max(1, width // CARD_MIN_WIDTH)
    rows = max(1, -(-len(snap.positions) // cols))
    free = max(CARD_HEIGHT, height - HEADER_HEIGHT - 1 - BOTTOM_HEIGHT)
    cards = min(rows * CARD_HEIGHT, free) if snap.positions else 3
    layout = Layout()
    layout.split_column(
        Layout(header(snap), name="header", size=HEADER_HEIGHT),
        Layout(CardsView(snap), name="cards", size=cards),
        Layout(name="bottom", ratio=1, minimum_size=BOTTOM_HEIGHT),
        Layout(footer(snap), name="footer", size=1),
    )
    layout["bottom"].split_row(
        Layout(strategies_panel(snap), name="strategies", size=STRATEGIES_WIDTH),
        Layout(TailView(snap), name="tail", ratio=1),
    )
    return Styled(layout, BACKGROUND)


class Dashboard:
    """The live dashboard: ``start()``, then ``update(manager)`` as on_tick, then ``stop()``."""

    def __init__(
        self,
        services: Any,
        names: Sequence[str] | None = None,
        title: str = "Seeker",
        console: Console | None = None,
        refresh_per_second: float = 2.0,
        screen: bool = True,
    ) -> None:
        self.services = services
        self.names = list(names) if names is not None else None
        self.title = title
        self.console = console or Console()
        self.min_interval = 1.0 / refresh_per_second
        self.tail = TailKeeper()
        self.messages: deque[str] = deque(maxlen=50)
        self._screen = screen
        self._live: Live | None = None
        self._last_draw = 0.0
        self._manager: Any = None
        self._lock = threading.Lock()
        self.frames = 0
        self.render_seconds = 0.0

    def emit(self, message: str) -> None:
        """Take a progress message (thread-safe); the footer shows the latest."""
        stamp = self.services.clock.now().astimezone(MARKET_TZ).strftime("%Y-%m-%d %H:%M")
        self.messages.append(f"{stamp}  {message}")

    def snapshot(self, manager: Any) -> Snapshot:
        """Return a snapshot of the run (published views and thread-safe reads only)."""
        messages = copy_recent(self.messages)
        return build_snapshot(self.services, manager.strategies, self.tail, messages, self.title)

    def folders(self) -> list[str] | None:
        """Return the journal folders of the strategies shown (None: every folder)."""
        if self.names is None:
            return None
        out = [SYSTEM_FOLDER]
        for name in self.names:
            cfg = getattr(self.services.config.strategies, name, None)
            shadow = self.services.shadow or getattr(cfg, "mode", "trade") == "shadow"
            out.append(f"{name}{SHADOW_SUFFIX}" if shadow else name)
        return out

    def start(self) -> None:
        """Show the journals' latest lines, then take over the terminal (alternate screen).

        Call it before the strategies start: earlier runs' lines are read from the files'
        tails (``Services.recent`` holds only this process's lines).
        """
        self.tail.skip(self.services.recent)  # journaled already, so in the files' tails
        self.tail.preload(recent_entries(Path(self.services.log_root), self.folders()))
        self._live = Live(
            Text("starting…"),
            console=self.console,
            screen=self._screen,
            auto_refresh=False,
            redirect_stdout=True,
            redirect_stderr=True,
        )
        self._live.start(refresh=True)

    def update(self, manager: Any, force: bool = False) -> None:
        """Redraw from a fresh snapshot, at most ``refresh_per_second`` times a second."""
        self._manager = manager
        now = time.monotonic()
        if self._live is None or (not force and now - self._last_draw < self.min_interval):
            return
        with self._lock:
            t0 = time.perf_counter()
            width, height = self.console.size
            self._live.update(render(self.snapshot(manager), width, height), refresh=True)
            self.render_seconds += time.perf_counter() - t0
            self.frames += 1
            self._last_draw = now

    def stop(self) -> None:
        """Draw the final state, give the terminal back, then print the run's messages.

        In full-screen mode the frame vanishes with the alternate screen, so the progress
        messages it showed (opened, closed, errors — the lines plain mode prints) follow on
        stdout.
        """
        if self._live is None:
            return
        if self._manager is not None:
            self.update(self._manager, force=True)
        self._live.stop()
        self._live = None
        if self._screen:
            for message in copy_recent(self.messages):
                self.console.print(message, highlight=False, soft_wrap=True)

    def __enter__(self) -> Dashboard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
