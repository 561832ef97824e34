"""Diagonal / calendar parameters (the ``[strategies.diagonal]`` table); every value is required."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from seeker.config.strategy import StrategyConfig, at_least


class DiagonalConfig(StrategyConfig):
    """Entry and management rules of the diagonal (a calendar when both strikes are equal).

    The short is placed by delta: the listed strike on the out-of-the-money side whose |Δ| lies in
    ``short_delta_min``–``short_delta_max`` ("slightly OTM"), nearest the middle of the band.
    """

    right: Literal["C", "P", "trend"]
    """Calls, puts, or the regime's trend (up: calls, down: puts, none: both are proposed)."""
    shape: Literal["calendar", "diagonal"]
    """calendar: long strike = short strike; diagonal: the next listed strike further OTM."""
    short_dte_min: int = Field(ge=1, le=365)
    short_dte_max: int = Field(ge=1, le=365)
    long_dte_min: int = Field(ge=1, le=730)
    long_dte_max: int = Field(ge=1, le=730)
    short_delta_min: float = Field(gt=0.0, lt=0.5)
    short_delta_max: float = Field(gt=0.0, lt=0.5)
    max_debit: float = Field(gt=0.0)
    short_take_profit_pct: float = Field(gt=0.0, lt=100.0)
    short_exit_dte: int = Field(ge=0, le=365)
    roll: bool
    stop_loss_pct_of_risk: float = Field(gt=0.0, le=100.0)
    long_exit_dte: int = Field(ge=0, le=730)

    @field_validator("short_dte_max")
    @classmethod
    def _short_window(cls, v: int, info: ValidationInfo) -> int:
        lo = info.data.get("short_dte_min")
        if lo is not None and v < lo:
            raise ValueError(f"must be ≥ short_dte_min ({lo})")
        return v

    @field_validator("long_dte_min")
    @classmethod
    def _long_after_short(cls, v: int, info: ValidationInfo) -> int:
        hi = info.data.get("short_dte_max")
        if hi is not None and v <= hi:
            raise ValueError(f"must be above short_dte_max ({hi}): the long outlives the short")
        return v

    @field_validator("long_dte_max")
    @classmethod
    def _long_window(cls, v: int, info: ValidationInfo) -> int:
        lo = info.data.get("long_dte_min")
        if lo is not None and v < lo:
            raise ValueError(f"must be ≥ long_dte_min ({lo})")
        return v

    _delta_band = field_validator("short_delta_max")(classmethod(at_least("short_delta_min")))

    @field_validator("short_exit_dte")
    @classmethod
    def _short_exit_before_entry(cls, v: int, info: ValidationInfo) -> int:
        lo = info.data.get("short_dte_min")
        if lo is not None and v >= lo:
            raise ValueError(f"must be below short_dte_min ({lo}), or shorts would close at once")
        return v

    @field_validator("long_exit_dte")
    @classmethod
    def _long_exit_after_first_short(cls, v: int, info: ValidationInfo) -> int:
        data = info.data
        keys = ("long_dte_min", "short_dte_max", "short_exit_dte")
        if any(data.get(k) is None for k in keys):
            return v
        # the long must still be above long_exit_dte when the first short reaches short_exit_dte
        room = data["long_dte_min"] - (data["short_dte_max"] - data["short_exit_dte"])
        if v >= room:
            raise ValueError(
                f"must be below {room} (long_dte_min − (short_dte_max − short_exit_dte)), "
                "or the long would close before the first short is managed"
            )
        return v
