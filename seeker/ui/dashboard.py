"""The live terminal dashboard of `seeker run` (rich, dark theme), laid out for its terminal.

80×24 first: a three-line header (clock and session; equity, cash and committed risk; the
distances to the account's limits), one line per open position, the strategies' states, the
decision tail, and the footer; with room (from :data:`BOXED_MIN`), panels and one card per
position. See :func:`plan_layout`.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from rich.console import Console, Group, RenderableType
from rich.layout import Layout
from rich.live import Live
from rich.panel import Panel
from rich.styled import Styled
from rich.text import Text

from seeker.core.journal import SHADOW_SUFFIX, SYSTEM_FOLDER
from seeker.core.tz import MARKET_TZ
from seeker.ui.cards import (
    CardsView,
    card_count_fits,
    cards_height,
    hidden_line,
    no_position,
    position_rows,
)
from seeker.ui.dash_parts import (
    BORDER,
    TailView,
    footer,
    header,
    header_lines,
    strategies_line,
    strategies_panel,
    strategies_rows,
    strategies_table,
    strategies_width,
)
from seeker.ui.journal_view import recent_entries
from seeker.ui.names import abbreviations, plural
from seeker.ui.snapshot import Snapshot, TailKeeper, build_snapshot, copy_recent

BACKGROUND = "#c9d1d9 on #0d1117"
"""Dark theme: light grey text on a near-black background, whatever the terminal's theme."""
BOXED_MIN = (100, 30)
"""Smallest terminal (columns, rows) drawn with panels; below it, compact sections."""
SIDE_BY_SIDE_MIN = 110
"""Narrowest terminal (columns) with the strategies beside the decision tail."""
FULL_NAMES_MIN = 150
"""Narrowest terminal (columns) whose decision tail names strategies in full."""
TAIL_MIN = 3
"""Fewest rows the compact decision tail is given when positions leave room (title + 2)."""
TAIL_MIN_BESIDE_CARDS = 6
TAIL_MIN_BOXED = 8


def dashboard_enabled(no_dashboard: bool, stream: IO[str] | None = None) -> bool:
    """Return True when the live dashboard should run: stdout is a terminal and not disabled."""
    out = stream if stream is not None else sys.stdout
    return not no_dashboard and bool(getattr(out, "isatty", lambda: False)())


PositionsForm = Literal["cards", "rows", "none"]
StrategiesForm = Literal["table", "line"]


@dataclass(frozen=True)
class Plan:
    """How one frame uses the terminal (rows are terminal lines)."""

    boxed: bool
    header_rows: int
    positions: PositionsForm
    shown: int
    positions_rows: int
    strategies: StrategiesForm
    strategies_rows: int
    side_by_side: bool
    full_names: bool


def folders(snap: Snapshot) -> list[str]:
    """Return every journal folder the frame may name (strategies, shadows, tail sources)."""
    names = {r.name + (SHADOW_SUFFIX if r.shadow else "") for r in snap.strategies}
    names |= {source for source, _ in snap.tail}
    return sorted(names)


def short_names(snap: Snapshot) -> dict[str, str]:
    """Return the short, unique name of each journal folder (``iron_condor`` → ``ic``)."""
    out = abbreviations(folders(snap))
    for r in snap.strategies:  # a strategy row is looked up by its name
        out.setdefault(r.name, out.get(r.name + (SHADOW_SUFFIX if r.shadow else ""), r.name))
    return out


def plan_layout(snap: Snapshot, width: int, height: int) -> Plan:
    """Return the layout of a `width` × `height` frame.

    Panels and cards when the terminal is at least :data:`BOXED_MIN` and everything fits;
    otherwise compact sections, where the header (capital and risk included) and the footer
    always show, then every position as a line when they fit, the strategies' states, and the
    decision tail in what is left. Only when even one line per position does not fit does the
    frame say how many are hidden.
    """
    n = len(snap.positions)
    if width >= BOXED_MIN[0] and height >= BOXED_MIN[1]:
        boxed = _plan_boxed(snap, width, height, n)
        if boxed is not None:
            return boxed
    head = min(len(header_lines(snap, width)), max(0, height - 1))  # capital/risk kept
    avail = height - head - 1
    table = strategies_rows(snap)
    line = len(strategies_line(snap, width, short_names(snap)))

    def plan(
        kind: PositionsForm, shown: int, rows: int, strategies: StrategiesForm, s_rows: int
    ) -> Plan:
        return Plan(False, head, kind, shown, rows, strategies, s_rows, False, False)

    need = 1 + n if n else 1
    if n and card_count_fits(n, width, avail - table - TAIL_MIN_BESIDE_CARDS):
        return plan("cards", n, cards_height(n, width), "table", table)
    kind: PositionsForm = "rows" if n else "none"
    if need + table + TAIL_MIN <= avail:
        return plan(kind, n, need, "table", table)
    if need + line <= avail:
        return plan(kind, n, need, "line", line)
    s_rows = min(line, max(0, avail - 3))  # the positions keep three rows when they can
    room = max(0, avail - s_rows)
    if not n:
        return plan("none", 0, min(1, room), "line", s_rows)
    shown = max(0, room - 2)  # the column headers and the hidden-count line
    return plan("rows", shown, room if shown else min(1, room), "line", s_rows)


def _plan_boxed(snap: Snapshot, width: int, height: int, n: int) -> Plan | None:
    head = len(header_lines(snap, width - 4)) + 2
    beside = width >= SIDE_BY_SIDE_MIN
    panel = strategies_rows(snap) + 2
    bottom = max(panel, TAIL_MIN_BOXED) if beside else panel + TAIL_MIN_BOXED
    avail = height - head - 1 - bottom
    full = width >= FULL_NAMES_MIN

    def plan(kind: PositionsForm, rows: int) -> Plan:
        return Plan(True, head, kind, n, rows, "table", panel, beside, full)

    if n == 0:
        return plan("none", 3) if avail >= 3 else None
    if card_count_fits(n, width, avail):
        return plan("cards", cards_height(n, width))
    if n + 3 <= avail:
        return plan("rows", n + 3)
    return None


def render(snap: Snapshot, width: int = 160, height: int = 50) -> RenderableType:
    """Return one dashboard frame for a snapshot (a dark full-screen layout of `width`×`height`)."""
    plan = plan_layout(snap, width, height)
    short = None if plan.full_names else short_names(snap)
    parts = [
        Layout(_header(snap, plan, width), name="header", size=plan.header_rows),
        Layout(_positions(snap, plan, width), name="positions", size=plan.positions_rows),
    ]
    if plan.boxed:
        parts.append(Layout(name="bottom", ratio=1))
    else:
        strategies = _strategies(snap, plan, width, short)
        parts.append(Layout(strategies, name="strategies", size=plan.strategies_rows))
        fixed = plan.header_rows + plan.positions_rows + plan.strategies_rows + 1
        if height > fixed:  # else no room is left for the tail
            parts.append(Layout(TailView(snap, boxed=False, short=short), name="tail", ratio=1))
    parts.append(Layout(footer(snap), name="footer", size=1))
    layout = Layout()
    layout.split_column(*(p for p in parts if p.size is None or p.size > 0))
    if plan.boxed:
        strategies_box = strategies_panel(snap, short)
        tail = Layout(TailView(snap, boxed=True, short=short), name="tail", ratio=1)
        if plan.side_by_side:
            side = min(strategies_width(snap, short), width // 2)
            layout["bottom"].split_row(Layout(strategies_box, name="strategies", size=side), tail)
        else:
            layout["bottom"].split_column(
                Layout(strategies_box, name="strategies", size=plan.strategies_rows), tail
            )
    return Styled(layout, BACKGROUND)


def _header(snap: Snapshot, plan: Plan, width: int) -> RenderableType:
    if plan.boxed:
        return header(snap, width)
    lines = header_lines(snap, width)
    return Group(*lines[len(lines) - plan.header_rows :])  # the capital and risk come last


def _positions(snap: Snapshot, plan: Plan, width: int) -> RenderableType:
    positions = snap.positions
    if plan.positions == "none":
        return (
            Panel(no_position(), title="positions", border_style=BORDER)
            if plan.boxed
            else no_position()
        )
    if plan.positions == "cards":
        return CardsView(positions, snap.clock)
    inner = width - 4 if plan.boxed else width
    hidden = len(positions) - plan.shown
    if not plan.shown:
        return hidden_line(hidden)
    title = None if plan.boxed else plural(len(positions), "open position")
    table = position_rows(positions[: plan.shown], snap.clock, inner, snap.capital_currency, title)
    if plan.boxed:
        return Panel(table, title=f"open positions ({len(positions)})", border_style=BORDER)
    return Group(table, hidden_line(hidden)) if hidden else table


def _strategies(
    snap: Snapshot, plan: Plan, width: int, short: Mapping[str, str] | None
) -> RenderableType:
    names = short or {}
    if plan.strategies == "line":
        return Group(*strategies_line(snap, width, names))
    return strategies_table(snap, names)


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
        progress: Callable[[], str] | None = None,
    ) -> None:
        self.services = services
        self.progress = progress
        """A ``--days`` run's progress line for the footer (``RunProgress.text``)."""
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
        progress = self.progress() if self.progress is not None else ""
        return build_snapshot(
            self.services, manager.strategies, self.tail, messages, self.title, progress
        )

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
