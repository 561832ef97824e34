"""Iron fly parameters (the ``[strategies.iron_fly]`` table); every value is required."""

from __future__ import annotations

from pydantic import Field, model_validator

from seeker.strategies.common.config import WingedSellerConfig


class IronFlyConfig(WingedSellerConfig):
    """Entry and management rules of the narrow-wing iron fly (the ATM straddle, sold)."""

    event_buffer_days: int = Field(ge=0, le=30)
    """No opening when a watched event is this many sessions away or nearer."""
    gamma_exit_pct: float = Field(gt=0.0, le=1000.0)
    """Close when a 1-ATR move costs this % of max loss or more through gamma."""

    @model_validator(mode="after")
    def _credit_below_width(self) -> IronFlyConfig:
        narrowest = min(self.wing_widths)
        if self.min_credit >= narrowest:
            raise ValueError(
                f"min_credit ({self.min_credit:g}) must be below the narrowest wing "
                f"({narrowest:g} $): an iron fly's credit is always less than its width"
            )
        return self
