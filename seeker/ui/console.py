"""The console every view prints to, sized the way a person expects.

* a terminal: its own width, read by rich at each frame (a resized terminal reflows; as for
  every rich program, an exported ``COLUMNS`` overrides it);
* piped or redirected output: the width ``COLUMNS`` names when it is set (``COLUMNS=80 seeker
  summary | less``), otherwise *plain* output: no width is imposed, each table, panel and line
  takes its natural width and nothing is wrapped or cut at an arbitrary column.

Plain output is a console of :data:`PLAIN_WIDTH` columns; views ask :func:`view_width` for the
width to lay themselves out in (``None`` for plain output: use natural sizes).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping
from typing import TextIO

from rich.console import Console, RenderableType

PLAIN_WIDTH = 10_000
"""Width of a plain console (columns): wider than any line a view writes, so nothing wraps."""

NATURAL_WIDTH = 100
"""Width (columns) for what has no natural width in plain output: rules, the payoff chart."""


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):  # a closed stream
        return False


def columns_from(environ: Mapping[str, str]) -> int | None:
    """Return the width ``COLUMNS`` names (a positive integer), else None."""
    raw = environ.get("COLUMNS", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def make_console(
    stream: TextIO | None = None,
    *,
    stderr: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Console:
    """Return a rich Console for `stream` sized for it (see the module docstring).

    With no `stream` the console writes to ``sys.stdout`` (``sys.stderr`` with `stderr`) as it
    is at each print, so a test runner that swaps them still captures the output; the width is
    decided from the stream of the moment of the call.
    """
    env = os.environ if environ is None else environ
    target = stream if stream is not None else (sys.stderr if stderr else sys.stdout)
    width = None if _is_terminal(target) else (columns_from(env) or PLAIN_WIDTH)
    if stream is None:
        return Console(stderr=stderr, width=width)
    return Console(file=stream, width=width)


def is_plain(width: int | None) -> bool:
    """Return True for the width of plain output (None or :data:`PLAIN_WIDTH` and beyond)."""
    return width is None or width >= PLAIN_WIDTH


def view_width(console: Console) -> int | None:
    """Return the width (columns) a view should lay itself out in; None for plain output."""
    width = console.width
    return None if is_plain(width) else width


def natural(width: int | None, fallback: int = NATURAL_WIDTH) -> int:
    """Return `width`, or `fallback` columns for plain output."""
    return fallback if width is None or width >= PLAIN_WIDTH else width


def measure_width(renderable: RenderableType) -> int:
    """Return the natural width (columns) of a renderable: what it takes with no limit."""
    return Console(width=PLAIN_WIDTH, file=io.StringIO()).measure(renderable).maximum
