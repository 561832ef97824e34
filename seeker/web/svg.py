"""Line charts as SVG geometry (the templates draw it): scaled paths, ticks and markers.

A :class:`Plot` maps data (x, y) into a fixed view box; the page scales the SVG to its width, so
one chart reads on a laptop and on a phone. NaN points break a line, they are never joined.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 720.0
HEIGHT = 300.0
MARGIN_LEFT = 64.0
MARGIN_RIGHT = 16.0
MARGIN_TOP = 14.0
MARGIN_BOTTOM = 34.0


@dataclass(frozen=True)
class Line:
    """One series drawn as an SVG path (``d``), with its legend label and CSS class."""

    label: str
    css: str
    d: str


@dataclass(frozen=True)
class Tick:
    """An axis tick: its position in the view box and its label."""

    at: float
    label: str


@dataclass(frozen=True)
class Marker:
    """A labelled point (breakeven, spot, strike…) in view-box coordinates."""

    x: float
    y: float
    label: str
    css: str


@dataclass
class Plot:
    """A chart's view box, the data ranges it shows, and what is drawn in it."""

    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float
    width: float = WIDTH
    height: float = HEIGHT
    lines: list[Line] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    verticals: list[Marker] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)

    @property
    def left(self) -> float:
        """Return the x of the plotting area's left edge."""
        return MARGIN_LEFT

    @property
    def right(self) -> float:
        """Return the x of the plotting area's right edge."""
        return self.width - MARGIN_RIGHT

    @property
    def top(self) -> float:
        """Return the y of the plotting area's top edge."""
        return MARGIN_TOP

    @property
    def bottom(self) -> float:
        """Return the y of the plotting area's bottom edge."""
        return self.height - MARGIN_BOTTOM

    def sx(self, x: float) -> float:
        """Return the view-box x of a data x."""
        span = (self.x_hi - self.x_lo) or 1.0
        return self.left + (x - self.x_lo) / span * (self.right - self.left)

    def sy(self, y: float) -> float:
        """Return the view-box y of a data y (up is larger)."""
        span = (self.y_hi - self.y_lo) or 1.0
        return self.bottom - (y - self.y_lo) / span * (self.bottom - self.top)

    def zero_y(self) -> float | None:
        """Return the view-box y of y = 0 when it is inside the range shown."""
        return self.sy(0.0) if self.y_lo <= 0.0 <= self.y_hi else None

    def add_line(self, label: str, css: str, xs: Sequence[float], ys: Sequence[float]) -> None:
        """Add a series; NaN values break the path."""
        parts: list[str] = []
        pen_down = False
        for x, y in zip(xs, ys, strict=True):
            if not (math.isfinite(x) and math.isfinite(y)):
                pen_down = False
                continue
            parts.append(f"{'L' if pen_down else 'M'}{self.sx(x):.1f},{self.sy(y):.1f}")
            pen_down = True
        self.lines.append(Line(label, css, " ".join(parts)))

    def add_marker(self, x: float, y: float, label: str, css: str) -> None:
        """Add a point marker at data (x, y)."""
        if math.isfinite(x) and math.isfinite(y):
            self.markers.append(Marker(self.sx(x), self.sy(y), label, css))

    def add_vertical(self, x: float, label: str, css: str) -> None:
        """Add a vertical rule at data x (a strike, the spot)."""
        if math.isfinite(x) and self.x_lo <= x <= self.x_hi:
            self.verticals.append(Marker(self.sx(x), self.top, label, css))


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Return round tick values covering [lo, hi] (about `count` of them)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    out = []
    v = first
    while v <= hi + step * 1e-9 and len(out) < 50:
        out.append(round(v, 10))
        v += step
    return out


def padded(lo: float, hi: float, share: float = 0.08) -> tuple[float, float]:
    """Return [lo, hi] widened by `share` of its span on each side (a flat range gets ±1)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return -1.0, 1.0
    if hi - lo < 1e-9:
        return lo - 1.0, hi + 1.0
    pad = (hi - lo) * share
    return lo - pad, hi + pad


def plot(
    x_range: tuple[float, float],
    ys: Sequence[Sequence[float]],
    x_fmt: str = "{:g}",
    y_fmt: str = "{:+.0f}",
    include_zero: bool = True,
) -> Plot:
    """Return an empty plot sized to the x range and to every finite y of `ys`, with ticks."""
    finite = [y for series in ys for y in series if math.isfinite(y)]
    if include_zero:
        finite.append(0.0)
    y_lo, y_hi = padded(min(finite), max(finite)) if finite else (-1.0, 1.0)
    p = Plot(x_range[0], x_range[1], y_lo, y_hi)
    p.x_ticks = [Tick(p.sx(v), x_fmt.format(v)) for v in nice_ticks(*x_range, 6)]
    p.y_ticks = [Tick(p.sy(v), y_fmt.format(v)) for v in nice_ticks(y_lo, y_hi, 5)]
    return p
