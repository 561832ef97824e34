"""Credit spread parameters (the ``[strategies.credit_spread]`` table); every value is required."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from seeker.agents.selection import RegimeRule
from seeker.strategies.common.config import VerticalSellerConfig

CreditSpreadSide = Literal["bull_put", "bear_call"]
"""A bull put spread (sold in an uptrend) or a bear call spread (sold in a downtrend)."""


class CreditSpreadRule(RegimeRule):
    """The credit spread's regime rule: it is sold on the trend's side, so it needs a trend."""

    @field_validator("trend")
    @classmethod
    def _needs_a_side(cls, value: list[str]) -> list[str]:
        if "none" in value:
            raise ValueError(
                'may list only "up" and "down": a credit spread is sold on the trend\'s side '
                "(bull put when up, bear call when down)"
            )
        return value


class CreditSpreadConfig(VerticalSellerConfig):
    """Entry and management rules of the bull put / bear call credit spread."""

    short_delta_stop: float = Field(gt=0.0, lt=1.0)
    """Stop when the short leg's |Δ| exceeds this (the spec's 0.30)."""
    critic_min_credit_to_risk: float = Field(ge=0.0, le=10.0)
    """The critic's credit / max-loss floor for a single vertical (replaces the shared one)."""
    regime: CreditSpreadRule

    @field_validator("short_delta_stop")
    @classmethod
    def _stop_beyond_entry(cls, v: float, info: ValidationInfo) -> float:
        hi = info.data.get("short_delta_max")
        if hi is not None and v <= hi:
            raise ValueError(
                f"must be above short_delta_max ({hi}), or a new spread would stop at once"
            )
        return v
