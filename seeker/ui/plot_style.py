"""Figures for ``seeker plot``: matplotlib without pyplot (Agg for PNG), one look, saved safely.

Figures are built with ``matplotlib.figure.Figure`` directly — no pyplot state, no GUI
backend — and written as PNG (Agg) or SVG by the file's suffix. SVG output is reproducible:
no date in its metadata and a fixed id salt.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FORMATS = ("png", "svg")
"""The picture formats ``seeker plot`` writes, chosen by the output file's suffix."""

GREEN = "#1a7f37"
RED = "#cf222e"
BLUE = "#0969da"
CYAN = "#1b7c83"
MAGENTA = "#8250df"
YELLOW = "#bf8700"
GREY = "#6e7781"
LIGHT = "#d0d7de"
DPI = 120


def picture_format(path: Path) -> str | None:
    """Return the format a path's suffix names (``png``/``svg``), None for any other."""
    fmt = path.suffix.lower().lstrip(".")
    return fmt if fmt in FORMATS else None


RC = {"text.parse_math": False, "svg.hashsalt": "seeker", "svg.fonttype": "none"}
"""Settings every picture is built and saved under: ``$`` is a dollar, not TeX; stable SVG."""


def plot_context() -> AbstractContextManager[object]:
    """Return the context to build and save pictures in (see :data:`RC`)."""
    import matplotlib

    return matplotlib.rc_context(RC)


def new_figure(width: float, height: float) -> Figure:
    """Return an empty figure `width` × `height` inches in Seeker's style."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    fig.set_facecolor("white")
    return fig


def style_axes(ax: Axes) -> None:
    """Give an axes a light grid and no top or right spine."""
    ax.grid(True, color=LIGHT, linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def save(fig: Figure, path: Path) -> Path:
    """Write `fig` to `path` (PNG or SVG by its suffix) atomically; return the path.

    Call it inside :func:`plot_context`, as the figure was built.
    """
    fmt = picture_format(path)
    if fmt is None:
        raise ValueError(f"{path}: the picture must end in .png or .svg")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    metadata = {"Date": None} if fmt == "svg" else {"Software": "Seeker (matplotlib)"}
    fig.savefig(tmp, format=fmt, metadata=metadata)
    tmp.replace(path)
    return path
