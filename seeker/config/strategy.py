"""What every strategy's config table has in common, and small validators for field order.

`StrategyConfig` carries what the engine's cycle reads: mode, underlyings, quantity, entry limits
and window, cadence, and the strategy's own regime rule (``[strategies.<name>.regime]``: the
regime labels it accepts). Strategy packages subclass it and add their own entry and exit rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Literal, Protocol

from pydantic import Field, ValidationInfo, field_validator

from seeker.agents.selection import RegimeRule
from seeker.core.config_base import StrictModel


class _Comparable(Protocol):
    def __lt__(self, other: object, /) -> bool: ...

    def __ge__(self, other: object, /) -> bool: ...


Check = Callable[[type, _Comparable, ValidationInfo], _Comparable]


def at_least(other: str) -> Check:
    """Return a validator: the field must be ≥ the earlier field `other`."""

    def check(cls: type, v: _Comparable, info: ValidationInfo) -> _Comparable:
        lo = info.data.get(other)
        if lo is not None and v < lo:
            raise ValueError(f"must be ≥ {other} ({lo})")
        return v

    return check


def below(other: str, why: str = "") -> Check:
    """Return a validator: the field must be < the earlier field `other`."""

    def check(cls: type, v: _Comparable, info: ValidationInfo) -> _Comparable:
        hi = info.data.get(other)
        if hi is not None and v >= hi:
            raise ValueError(f"must be below {other} ({hi}){why}")
        return v

    return check


class StrategyConfig(StrictModel):
    """Fields the engine's strategy cycle reads; every trading value is required."""

    mode: Literal["trade", "shadow"]
    underlyings: list[str] = Field(min_length=1)
    quantity: int = Field(ge=1, le=100)
    max_entries_per_day: int = Field(ge=1, le=100)
    max_open_positions: int = Field(ge=1, le=100)
    entry_window_start: time
    entry_window_end: time
    scan_interval_minutes: float = Field(gt=0.0, le=1440.0)
    poll_interval_minutes: float = Field(default=30.0, gt=0.0, le=1440.0)
    regime: RegimeRule
    """The regime labels this strategy accepts (the ``[strategies.<name>.regime]`` table)."""

    @field_validator("entry_window_end")
    @classmethod
    def _window_order(cls, v: time, info: ValidationInfo) -> time:
        start = info.data.get("entry_window_start")
        if start is not None and v <= start:
            raise ValueError(f"must be after entry_window_start ({start})")
        return v
