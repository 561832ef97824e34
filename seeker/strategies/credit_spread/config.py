"""Credit spread parameters (the ``[strategies.credit_spread]`` table); every value is required."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from seeker.core.config_base import StrictModel


class CreditSpreadConfig(StrictModel):
    """Entry and management rules of the bull put / bear call credit spread."""

    mode: Literal["trade", "shadow"]
    underlyings: list[str] = Field(min_length=1)
    quantity: int = Field(ge=1, le=100)
    dte_min: int = Field(ge=1, le=365)
    dte_target: int = Field(ge=1, le=365)
    dte_max: int = Field(ge=1, le=365)
    short_delta_min: float = Field(gt=0.0, lt=0.5)
    short_delta_max: float = Field(gt=0.0, lt=0.5)
    wing_widths: list[float] = Field(min_length=1)
    min_credit: float = Field(gt=0.0)
    take_profit_pct: float = Field(gt=0.0, le=100.0)
    stop_debit_multiple: float = Field(gt=1.0, le=10.0)
    short_delta_stop: float = Field(gt=0.0, lt=1.0)
    manage_dte: int = Field(ge=0, le=365)
    force_exit_dte: int = Field(ge=0, le=365)
    critic_min_credit_to_risk: float = Field(ge=0.0, le=10.0)
    max_entries_per_day: int = Field(ge=1)
    max_open_positions: int = Field(ge=1)
    entry_window_start: time
    entry_window_end: time
    scan_interval_minutes: float = Field(gt=0.0)
    poll_interval_minutes: float = Field(default=30.0, gt=0.0)

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

    @field_validator("short_delta_max")
    @classmethod
    def _delta_range(cls, v: float, info: ValidationInfo) -> float:
        lo = info.data.get("short_delta_min")
        if lo is not None and v < lo:
            raise ValueError(f"must be ≥ short_delta_min ({lo})")
        return v

    @field_validator("wing_widths")
    @classmethod
    def _positive_widths(cls, v: list[float]) -> list[float]:
        if any(w <= 0 for w in v):
            raise ValueError("every wing width must be positive")
        return sorted(set(v))

    @field_validator("short_delta_stop")
    @classmethod
    def _stop_beyond_entry(cls, v: float, info: ValidationInfo) -> float:
        hi = info.data.get("short_delta_max")
        if hi is not None and v <= hi:
            raise ValueError(
                f"must be above short_delta_max ({hi}), or a new spread would stop at once"
            )
        return v

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
