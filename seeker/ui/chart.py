"""A character-cell line chart for the terminal (payoff curves), legible in plain text too."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
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


def _row(y: float, top: float, bottom: float, height: int) -> int:
    return round((top - y) / (top - bottom) * (height - 1))


def line_chart(
    xs: np.ndarray,
    series: Sequence[Series],
    width: int,
    height: int,
    marks: Sequence[float] = (),
    spot: float | None = None,
    y_unit: str = "",
) -> Text:
    """Return a chart of `series` over `xs` (one column per x), with a zero line, ┬ marks on
    the x axis (strikes) and a │ at `spot`; later series are drawn over earlier ones.
    """
    values = np.concatenate([s.ys[np.isfinite(s.ys)] for s in series] + [np.zeros(1)])
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
    labels = {0: f"{top:+.0f}{y_unit}", zero: f"{0:+.0f}{y_unit}", height - 1: f"{bottom:+.0f}"}
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
    left, right = f"{lo:.2f}", f"{hi:.2f}"
    out.append(" " * AXIS_WIDTH + left + " " * max(1, width - len(left) - len(right)) + right)
    return out
