"""Small text widgets legible in colour and in a plain-text capture: bars, gauge, DTE bar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from rich.text import Text

DTE_START = 45
"""Left end of the DTE bar (the spec's 45 → 21 → 0)."""

FULL = "█"
EMPTY = "░"
MARK = "┃"


def score_style(score: float) -> str:
    """Return the colour of a confidence score: green ≥ 65, yellow ≥ 40, else red."""
    if score >= 65:
        return "bold green"
    if score >= 40:
        return "bold yellow"
    return "bold red"


def bar(fraction: float, width: int, style: str, empty_style: str = "grey30") -> Text:
    """Return a bar `width` cells long, `fraction` (0..1) of it filled."""
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    out = Text()
    out.append(FULL * filled, style=style)
    out.append(EMPTY * (width - filled), style=empty_style)
    return out


def gauge(score: float | None, width: int = 20) -> Text:
    """Return the confidence gauge: a bar and ``71/100`` (``not scored yet`` when unknown)."""
    out = Text("confidence ", style="bold")
    if score is None:
        out.append(EMPTY * width, style="grey30")
        out.append("  not scored yet", style="grey62")
        return out
    style = score_style(score)
    out.append_text(bar(score / 100.0, width, style))
    out.append(f" {score:.0f}/100", style=style)
    return out


def dte_bar(dte: int | None, manage_dte: int, width: int = 24, start: int = DTE_START) -> Text:
    """Return the DTE progress bar ``45 ████░░┃░░ 0``: time runs left to right, ┃ marks manage_dte.

    Filled cells are the days already elapsed since 45 DTE (green before manage_dte, yellow
    after it, red in the last week).
    """
    out = Text("DTE ", style="bold")
    out.append(f"{start} ", style="grey62")
    mark = round((start - manage_dte) / start * width) if 0 <= manage_dte <= start else None
    if dte is None:
        filled = 0
        style = "grey30"
    else:
        elapsed = (start - min(max(dte, 0), start)) / start
        filled = round(elapsed * width)
        style = "green" if dte > manage_dte else ("yellow" if dte > 7 else "red")
    for i in range(width):
        if i == mark:
            out.append(MARK, style="bold yellow")
        elif i < filled:
            out.append(FULL, style=style)
        else:
            out.append(EMPTY, style="grey30")
    out.append(" 0", style="grey62")
    out.append(f"  {'?' if dte is None else dte} DTE", style="bold")
    return out


def reminder(dte: int | None, manage_dte: int, expiry: date) -> Text:
    """Return the next management reminder of a position (the manage_dte date or 'now')."""
    if dte is None:
        return Text("next: not priced yet", style="grey62")
    if dte > manage_dte:
        day = expiry - timedelta(days=manage_dte)
        return Text(f"next: manage at {manage_dte} DTE in {dte - manage_dte} d ({day:%Y-%m-%d})")
    if dte > 0:
        return Text(f"next: ≤ {manage_dte} DTE — manage now (close or roll)", style="bold yellow")
    return Text("next: expiry day — close before the bell", style="bold red")


def badge_items(reassuring: list[str], worrying: list[str]) -> list[Text]:
    """Return one text per badge: ``✓ 45 DTE`` (green), ``✗ Δ 0.28`` (red)."""
    items = [Text(f"✓ {b}", style="green") for b in reassuring]
    items += [Text(f"✗ {b}", style="bold red") for b in worrying]
    return items or [Text("no badge yet", style="grey62")]


def flow(items: Sequence[Text], width: int | None, gap: str = "   ") -> list[Text]:
    """Return `items` laid out in lines no wider than `width`, breaking only between items.

    An item wider than `width` gets a line of its own (and wraps there); None: one line.
    """
    lines: list[Text] = [Text()]
    for item in items:
        line = lines[-1]
        if line.cell_len and width is not None and line.cell_len + len(gap) + item.cell_len > width:
            lines.append(Text())
            line = lines[-1]
        if line.cell_len:
            line.append(gap)
        line.append_text(item)
    return lines


def badges(reassuring: list[str], worrying: list[str]) -> Text:
    """Return the reassuring (✓, green) and worrying (✗, red) badges on one wrapped text."""
    out = Text()
    for b in reassuring:
        out.append(f"✓ {b}", style="green")
        out.append("  ")
    for b in worrying:
        out.append(f"✗ {b}", style="bold red")
        out.append("  ")
    if not reassuring and not worrying:
        out.append("no badge yet", style="grey62")
    out.rstrip()
    return out


def sparkline(values: list[float], width: int, lo: float = 0.0, hi: float = 100.0) -> str:
    """Return values as a one-line sparkline of ``width`` cells (the last value of each bucket)."""
    ticks = "▁▂▃▄▅▆▇█"
    if not values:
        return ""
    n = len(values)
    cells = min(width, n)
    picked = [values[min(n - 1, (i + 1) * n // cells - 1)] for i in range(cells)]
    span = (hi - lo) or 1.0
    return "".join(
        ticks[min(len(ticks) - 1, max(0, int((v - lo) / span * len(ticks))))] for v in picked
    )
