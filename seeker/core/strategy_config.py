"""What every strategy's config table has in common, and small validators for field order.

`StrategyConfig` carries what the shared cycle reads (mode, underlyings, quantity, entry limits and
window, cadence); `SingleExpiryConfig` adds the entry DTE window and the management DTEs of the
strategies whose legs share one expiry. Strategy packages subclass them and add their own rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from seeker.core.config_base import StrictModel


def at_least(other: str) -> Callable[[Any, Any, ValidationInfo], Any]:
    """Return a validator: the field must be ≥ the earlier field `other`."""

    def check(cls: Any, v: Any, info: ValidationInfo) -> Any:
        lo = info.data.get(other)
        if lo is not None and v < lo:
            raise ValueError(f"must be ≥ {other} ({lo})")
        return v

    return check


def below(other: str, why: str = "") -> Callable[[Any, Any, ValidationInfo], Any]:
    """Return a validator: the field must be < the earlier field `other`."""

    def check(cls: Any, v: Any, info: ValidationInfo) -> Any:
        hi = info.data.get(other)
        if hi is not None and v >= hi:
            raise ValueError(f"must be below {other} ({hi}){why}")
        return v

    return check


def positive_widths(cls: Any, v: list[float]) -> list[float]:
    """Return the widths sorted and unique; each must be positive ($ per share)."""
    if any(w <= 0 for w in v):
        raise ValueError("every wing width must be positive")
    return sorted(set(v))


class StrategyConfig(StrictModel):
    """Fields the shared strategy cycle reads; every trading value is required."""

    mode: Literal["trade", "shadow"]
    underlyings: list[str] = Field(min_length=1)
    quantity: int = Field(ge=1, le=100)
    max_entries_per_day: int = Field(ge=1)
    max_open_positions: int = Field(ge=1)
    entry_window_start: time
    entry_window_end: time
    scan_interval_minutes: float = Field(gt=0.0)
    poll_interval_minutes: float = Field(default=30.0, gt=0.0)

    @field_validator("entry_window_end")
    @classmethod
    def _window_order(cls, v: time, info: ValidationInfo) -> time:
        start = info.data.get("entry_window_start")
        if start is not None and v <= start:
            raise ValueError(f"must be after entry_window_start ({start})")
        return v


class SingleExpiryConfig(StrategyConfig):
    """A strategy whose legs share one expiry: entry DTE window, then manage and force-exit DTEs."""

    dte_min: int = Field(ge=1, le=365)
    dte_target: int = Field(ge=1, le=365)
    dte_max: int = Field(ge=1, le=365)
    manage_dte: int = Field(ge=0, le=365)
    force_exit_dte: int = Field(ge=0, le=365)

    _target_after_min = field_validator("dte_target")(classmethod(at_least("dte_min")))
    _max_after_target = field_validator("dte_max")(classmethod(at_least("dte_target")))
    _manage_before_entry = field_validator("manage_dte")(
        classmethod(below("dte_min", ", or positions would close at once"))
    )

    @field_validator("force_exit_dte")
    @classmethod
    def _force_before_manage(cls, v: int, info: ValidationInfo) -> int:
        manage = info.data.get("manage_dte")
        if manage is not None and v > manage:
            raise ValueError(f"must be ≤ manage_dte ({manage})")
        return v
