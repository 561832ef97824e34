"""Open positions on the dashboard: one card each when there is room, else one line each."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from seeker.core.tz import MARKET_TZ
from seeker.engine.published import PublishedPosition
from seeker.ui.lines import num
from seeker.ui.names import plural
from seeker.ui.widgets import EMPTY, badges, bar, dte_bar, gauge, reminder, score_style

BORDER = "#30363d"
CARD_HEIGHT = 11
CARD_MIN_WIDTH = 60


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


def width_text(pos: PublishedPosition) -> str | None:
    """Return ``width 0.50`` (the strike gap), or None when there is none (a calendar)."""
    if pos.width is None or pos.width == 0:
        return None
    return f"width {num(pos.width)}"


def card(strategy: str, pos: PublishedPosition, now: datetime) -> Panel:
    """Return one position's card: facts, P&L, confidence gauge, badges, DTE bar, reminder."""
    dte = position_dte(pos, now)
    credit = -pos.entry_price
    price = f"credit {credit:.2f}" if credit >= 0 else f"debit {-credit:.2f}"
    parts = [f"DTE {'?' if dte is None else dte}", width_text(pos), price]
    parts += [f"IVR {num(pos.iv_rank, '.0f')}", pos.currency, pos.sector]
    facts = " · ".join(p for p in parts if p)
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


def card_columns(width: int) -> int:
    """Return how many cards stand side by side in `width` columns."""
    return max(1, width // CARD_MIN_WIDTH)


def cards_height(count: int, width: int) -> int:
    """Return the rows `count` cards take in `width` columns."""
    return -(-count // card_columns(width)) * CARD_HEIGHT


class CardsView:
    """Every open position as a card, in a grid sized to the width given."""

    def __init__(self, positions: Sequence[tuple[str, PublishedPosition]], now: datetime) -> None:
        self.positions = positions
        self.now = now

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        cols = card_columns(options.max_width)
        grid = Table.grid(expand=True, padding=0)
        for _ in range(cols):
            grid.add_column(ratio=1)
        cards: list[RenderableType] = [card(s, p, self.now) for s, p in self.positions]
        while len(cards) % cols:
            cards.append(Text(""))
        for i in range(0, len(cards), cols):
            grid.add_row(*cards[i : i + cols])
        yield grid


# -- one line per position ----------------------------------------------------------------
ISO_DATE = re.compile(r"\b\d{4}-(\d{2}-\d{2})\b")


def short_label(pos: PublishedPosition) -> str:
    """Return the structure's label with its dates as ``MM-DD`` (the DTE column has the rest),
    and the quantity when more than one unit."""
    label = ISO_DATE.sub(r"\1", pos.label)
    return label if pos.qty == 1 else f"{label} ×{pos.qty}"


def next_step(dte: int | None, manage_dte: int, pos: PublishedPosition) -> Text:
    """Return when to manage the position, in six cells: ``04-10``, ``now``, ``expiry``."""
    if dte is None:
        return Text("?", style="grey62")
    if dte > manage_dte:
        return Text(f"{pos.expiry - timedelta(days=manage_dte):%m-%d}")
    if dte > 0:
        return Text("now", style="bold yellow")
    return Text("expiry", style="bold red")


def mini_gauge(score: float | None) -> Text:
    """Return a 5-cell confidence bar and the score: ``███░░ 62``."""
    if score is None:
        return Text(EMPTY * 5 + "  ?", style="grey30")
    out = bar(score / 100.0, 5, score_style(score))
    out.append(f" {score:>2.0f}", style=score_style(score))
    return out


def _pnl(pos: PublishedPosition, capital_currency: str) -> Text:
    if pos.pnl is None:
        return Text("?", style="grey62")
    ccy = "" if pos.currency == capital_currency else f" {pos.currency}"
    return Text(f"{pos.pnl:+.2f}{ccy}", style="bold green" if pos.pnl >= 0 else "bold red")


ROW_COLUMNS = ("label", "dte", "pnl", "conf", "next", "worrying", "id", "strategy", "max_loss")
"""Columns of a position row: the first five always, the others as the width allows."""
ROW_ORDER = ("id", "label", "strategy", "dte", "pnl", "max_loss", "conf", "next", "worrying")
"""Left-to-right order of the columns shown."""
HEADERS = {
    "id": "position",
    "label": "structure",
    "strategy": "strategy",
    "dte": "DTE",
    "pnl": "P&L",
    "max_loss": "max loss",
    "conf": "conf.",
    "next": "manage",
    "worrying": "worrying",
}
WORRY_MIN = 10


def position_rows(
    positions: Sequence[tuple[str, PublishedPosition]],
    now: datetime,
    width: int,
    capital_currency: str,
    title: str | None = None,
    names: Mapping[str, str] | None = None,
) -> Table:
    """Return one line per position, with as many columns as `width` holds.

    Structure, DTE, P&L, confidence and the next step always; then the worrying badges, the
    position id, the strategy and the max loss as the width allows. `title` heads the first
    column (the section's name when the table stands without a panel).
    """
    cells: dict[str, list[Text]] = {k: [] for k in ROW_COLUMNS}
    for strategy, pos in positions:
        dte = position_dte(pos, now)
        conf = pos.confidence
        cells["label"].append(Text(short_label(pos), style="cyan"))
        cells["dte"].append(Text("?" if dte is None else str(dte)))
        cells["pnl"].append(_pnl(pos, capital_currency))
        cells["conf"].append(mini_gauge(conf.score if conf is not None else None))
        cells["next"].append(next_step(dte, pos.manage_dte, pos))
        worry = badges([], list(conf.worrying)) if conf and conf.worrying else Text("-")
        cells["worrying"].append(worry)
        cells["id"].append(Text(pos.position_id, style="grey62"))
        cells["strategy"].append(Text((names or {}).get(strategy, strategy)))
        cells["max_loss"].append(Text(f"{pos.max_loss:.2f}", style="grey62"))
    headers = dict(HEADERS, label=title or HEADERS["label"])
    natural = {k: max([len(headers[k]), *(c.cell_len for c in cells[k])]) for k in ROW_COLUMNS}
    chosen = _columns(natural, width)
    table = Table(
        box=None, padding=(0, 1), pad_edge=False, header_style="bold #58a6ff", expand=False
    )
    for key in ROW_ORDER:
        if key not in chosen:
            continue
        right = key in ("dte", "pnl", "max_loss")
        table.add_column(
            headers[key],
            justify="right" if right else "left",
            no_wrap=True,
            overflow="ellipsis",
            width=chosen[key],
        )
    for i in range(len(positions)):
        table.add_row(*(cells[k][i] for k in ROW_ORDER if k in chosen))
    return table


def _columns(natural: Mapping[str, int], width: int) -> dict[str, int]:
    """Return the columns shown and their widths.

    Structure, DTE, P&L, confidence and the management date always (the structure as wide as
    it needs when it can be); then the worrying badges; then the position id, the strategy and
    the max loss, each only while the structure and the badges keep their full width.
    """
    chosen = {k: natural[k] for k in ("dte", "pnl", "conf", "next")}

    def total(cols: Mapping[str, int], *extra: int) -> int:
        widths = [*cols.values(), *extra]
        return sum(widths) + 2 * (len(widths) - 1)  # two cells between columns

    for key in ("id", "strategy", "max_loss"):
        trial = dict(chosen, **{key: natural[key]})
        if total(trial, natural["label"], natural["worrying"]) <= width:
            chosen = trial
    chosen["label"] = max(1, min(natural["label"], width - total(chosen, 0)))
    worry_room = width - total(chosen, 0)
    if worry_room >= WORRY_MIN:
        chosen["worrying"] = min(natural["worrying"], worry_room)
    return chosen


def hidden_line(count: int) -> Text:
    """Return the line that says how many positions are not shown."""
    out = Text(f"+{plural(count, 'more open position')} not shown", style="bold yellow")
    out.append(" — a taller terminal shows them", style="grey62")
    out.no_wrap = True
    out.overflow = "ellipsis"
    return out


def no_position() -> Text:
    """Return the line shown when nothing is open."""
    return Text("no open position", style="grey62")


def card_count_fits(count: int, width: int, rows: int) -> bool:
    """Return True when `count` cards fit in `width` × `rows` cells."""
    return count > 0 and width >= CARD_MIN_WIDTH and cards_height(count, width) <= rows
