"""Broken-wing butterfly parameters (``[strategies.broken_wing_butterfly]``); all required."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from seeker.core.config_base import StrictModel


class BrokenWingButterflyConfig(StrictModel):
    """Entry and management rules of the put broken-wing butterfly (entered for a credit).

    Legs: long put K1 = K2 + narrow wing, two short puts K2 (the body, placed by delta), long put
    K3 = K2 − broken wing, with broken wing > narrow wing.
    """

    mode: Literal["trade", "shadow"]
    underlyings: list[str] = Field(min_length=1)
    quantity: int = Field(ge=1, le=100)
    dte_min: int = Field(ge=1, le=365)
    dte_target: int = Field(ge=1, le=365)
    dte_max: int = Field(ge=1, le=365)
    body_delta_min: float = Field(gt=0.0, lt=0.5)
    body_delta_max: float = Field(gt=0.0, lt=0.5)
    narrow_wing_widths: list[float] = Field(min_length=1)
    broken_wing_widths: list[float] = Field(min_length=1)
    min_credit: float = Field(gt=0.0)
    max_risk: float = Field(gt=0.0)
    """Largest worst loss per unit at the worst accepted price, $ per share (before fees)."""
    take_profit_pct: float = Field(gt=0.0, le=100.0)
    move_atr: float = Field(gt=0.0)
    move_sessions: int = Field(ge=1, le=60)
    manage_dte: int = Field(ge=0, le=365)
    force_exit_dte: int = Field(ge=0, le=365)
    max_entries_per_day: int = Field(ge=1)
    max_open_positions: int = Field(ge=1)
    entry_window_start: time
    entry_window_end: time
    scan_interval_minutes: float = Field(gt=0.0)
    poll_interval_minutes: float = Field(default=30.0, gt=0.0)

    @property
    def wing_widths(self) -> list[float]:
        """Return every wing width (the template pads its chain request by the widest)."""
        return sorted({*self.narrow_wing_widths, *self.broken_wing_widths})

    @field_validator("dte_target")
    @classmethod
    def _target_after_min(cls, v: int, info: ValidationInfo) -> int:
        lo = info.data.get("dte_min")
        if lo is not None and v < lo:
            raise ValueError(f"must be ≥ dte_min ({lo})")
        return v

    @field_validator("dte_max")
    @classmethod
    def _max_after_target(cls, v: int, info: ValidationInfo) -> int:
        target = info.data.get("dte_target")
        if target is not None and v < target:
            raise ValueError(f"must be ≥ dte_target ({target})")
        return v

    @field_validator("body_delta_max")
    @classmethod
    def _delta_band(cls, v: float, info: ValidationInfo) -> float:
        lo = info.data.get("body_delta_min")
        if lo is not None and v < lo:
            raise ValueError(f"must be ≥ body_delta_min ({lo})")
        return v

    @field_validator("narrow_wing_widths")
    @classmethod
    def _positive_narrow(cls, v: list[float]) -> list[float]:
        if any(w <= 0 for w in v):
            raise ValueError("every wing width must be positive")
        return sorted(set(v))

    @field_validator("broken_wing_widths")
    @classmethod
    def _broken_wider(cls, v: list[float], info: ValidationInfo) -> list[float]:
        narrow = info.data.get("narrow_wing_widths")
        if narrow and min(v) <= min(narrow):
            raise ValueError(
                f"the broken wing must be wider than the narrowest narrow wing ({min(narrow):g})"
            )
        return sorted(set(v))

    @field_validator("manage_dte")
    @classmethod
    def _manage_before_entry(cls, v: int, info: ValidationInfo) -> int:
        lo = info.data.get("dte_min")
        if lo is not None and v >= lo:
            raise ValueError(f"must be below dte_min ({lo}), or positions would close at once")
        return v

    @field_validator("force_exit_dte")
    @classmethod
    def _force_before_manage(cls, v: int, info: ValidationInfo) -> int:
        manage = info.data.get("manage_dte")
        if manage is not None and v > manage:
            raise ValueError(f"must be ≤ manage_dte ({manage})")
        return v

    @field_validator("entry_window_end")
    @classmethod
    def _window_order(cls, v: time, info: ValidationInfo) -> time:
        start = info.data.get("entry_window_start")
        if start is not None and v <= start:
            raise ValueError(f"must be after entry_window_start ({start})")
        return v
