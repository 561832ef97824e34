"""The vendor formats an import reads and the columns a caller may declare (no heavy import)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

ChainFormat = Literal["cboe-delayed", "optionsdx", "normalized"]
FORMATS: tuple[ChainFormat, ...] = ("cboe-delayed", "optionsdx", "normalized")
CONSTANT_COLUMNS = ("root", "style", "settlement", "multiplier")
"""Optional columns a caller may declare for a whole import when the files lack them."""

Progress = Callable[[int, int, str], None]
"""Called after each file with (files done, files in all, the file's name)."""
