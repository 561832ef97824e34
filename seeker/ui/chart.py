"""A character-cell line chart for the terminal (payoff curves), legible in plain text too."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.cells import cell_len
from rich.text import Text

AXIS_WIDTH = 10
"""Columns taken by the y-axis labels and the axis line."""


@dataclass(frozen=True)
class Series:
    """One curve: its label, the character it is drawn with, its colour and its y values."""

    label: str
    char: str
    style: str
    ys: np.ndarray


@dataclass(frozen=True)
class Point:
    """A marker drawn on the plot at (x, y), e.g. ◆ at a breakeven."""

    x: float
    y: float
    char: str
    style: str


def _row(y: float, top: float, bottom: float, height: int) -> int:
    return round((top - y) / (top - bottom) * (height - 1))


def y_label(value: float, unit: str = "") -> str:
    """Return a y-axis label that fits the axis: ``+11.00``, ``-1234.56``, ``+12345``."""
    text = f"{value:+.2f}" if abs(value) < 10_000 else f"{value:+.0f}"
    if value == 0:
        text = "0"
    return f"{text}{unit}" if cell_len(text + unit) <= AXIS_WIDTH - 2 else text


def place_labels(
    width: int, wanted: Sequence[tuple[int, str]], rows: int = 2
) -> list[list[tuple[int, str]]]:
    """Return labels laid out under an axis of `width` cells, each centred on its column.

    `wanted` is in priority order; a label that collides (one blank cell apart at least) with
    one already placed goes to the next row, and is dropped after `rows` rows.
    """
    lines: list[list[tuple[int, str]]] = [[] for _ in range(rows)]
    for col, text in wanted:
        n = cell_len(text)
        start = min(max(0, col - n // 2), max(0, width - n))
        for line in lines:
            if all(start + n + 1 <= s or s + cell_len(t) + 1 <= start for s, t in line):
                line.append((start, text))
                break
    return [sorted(line) for line in lines if line]


def line_chart(
    xs: np.ndarray,
    series: Sequence[Series],
    width: int,
    height: int,
    marks: Sequence[float] = (),
    spot: float | None = None,
    y_unit: str = "",
    y_marks: Sequence[float] = (),
    points: Sequence[Point] = (),
    x_marks: Sequence[float] = (),
) -> Text:
    """Return a chart of `series` over `xs` (one column per x), later series drawn over earlier.

    The zero line is drawn, ┬ marks `marks` (strikes) on the x axis and a │ stands at `spot`.
    `y_marks` are values labelled on the y axis (with the zero line, and the plot's top and
    bottom when no label is near them); `points` are markers drawn over the curves; `x_marks`
    are values labelled under the x axis at their columns (with the range's two ends when room).
    """
    values = np.concatenate(
        [s.ys[np.isfinite(s.ys)] for s in series] + [np.zeros(1), np.asarray(y_marks, float)]
    )
    top, bottom = float(values.max()), float(values.min())
    pad = (top - bottom) * 0.06 or 1.0
    top, bottom = top + pad, bottom - pad
    grid = [[(" ", "")] * width for _ in range(height)]
    zero = _row(0.0, top, bottom, height)
    for c in range(width):
        grid[zero][c] = ("─", "grey50")
    lo, hi = float(xs[0]), float(xs[-1])

    def col(x: float) -> int:
        return round((x - lo) / (hi - lo) * (width - 1))

    if spot is not None and lo <= spot <= hi:
        for r in range(height):
            grid[r][col(spot)] = ("│", "bold white")
    for s in series:
        prev: int | None = None
        for c in range(width):
            y = float(s.ys[c])
            if not math.isfinite(y):
                prev = None
                continue
            row = _row(y, top, bottom, height)
            if prev is not None and abs(row - prev) > 1:  # a steep step: join it vertically
                step = 1 if row > prev else -1
                for r in range(prev + step, row, step):
                    grid[r][c] = (s.char, s.style)
            grid[row][c] = (s.char, s.style)
            prev = row
    for p in points:
        if lo <= p.x <= hi and bottom <= p.y <= top:
            grid[_row(p.y, top, bottom, height)][col(p.x)] = (p.char, p.style)
    labels: dict[int, str] = {zero: y_label(0.0, y_unit)}
    for v in y_marks:
        labels.setdefault(_row(v, top, bottom, height), y_label(v, y_unit))
    for r, v in ((0, top), (height - 1, bottom)):
        if all(abs(r - k) > 1 for k in labels):
            labels[r] = f"{v:+.0f}"
    out = Text()
    for r in range(height):
        tick = "┤" if r in labels else "│"
        out.append(f"{labels.get(r, ''):>{AXIS_WIDTH - 2}} {tick}", style="grey62")
        for ch, style in grid[r]:
            out.append(ch, style=style or None)
        out.append("\n")
    axis = ["─"] * width
    for k in marks:
        if lo <= k <= hi:
            axis[col(k)] = "┬"
    if spot is not None and lo <= spot <= hi:
        axis[col(spot)] = "S"
    out.append(" " * (AXIS_WIDTH - 1) + "└" + "".join(axis) + "\n", style="grey62")
    wanted = [(col(x), f"{x:.2f}") for x in x_marks if lo <= x <= hi]
    wanted += [(0, f"{lo:.2f}"), (width - 1, f"{hi:.2f}")]
    rows = place_labels(width, wanted)
    for i, line in enumerate(rows):
        cells = [" "] * width
        for start, text in line:
            for j, ch in enumerate(text):
                if start + j < width:
                    cells[start + j] = ch
        out.append(" " * AXIS_WIDTH + "".join(cells).rstrip())
        if i < len(rows) - 1:
            out.append("\n")
    return out
