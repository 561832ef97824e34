"""Broken-wing butterfly parameters (``[strategies.broken_wing_butterfly]``); all required."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from seeker.config.strategy import at_least
from seeker.strategies.common.config import PremiumSellerConfig, positive_widths


class BrokenWingButterflyConfig(PremiumSellerConfig):
    """Entry and management rules of the put broken-wing butterfly (entered for a credit).

    Legs: long put K1 = K2 + narrow wing, two short puts K2 (the body, placed by delta), long put
    K3 = K2 − broken wing, with broken wing > narrow wing.
    """

    body_delta_min: float = Field(gt=0.0, lt=0.5)
    body_delta_max: float = Field(gt=0.0, lt=0.5)
    narrow_wing_widths: list[float] = Field(min_length=1)
    broken_wing_widths: list[float] = Field(min_length=1)
    max_risk: float = Field(gt=0.0)
    """Largest worst loss per unit at the worst accepted price, $ per share (before fees)."""
    move_atr: float = Field(gt=0.0)
    move_sessions: int = Field(ge=1, le=60)

    def widest_wing(self) -> float:
        """Return the widest wing (narrow or broken), $ per share."""
        return max([*self.narrow_wing_widths, *self.broken_wing_widths])

    _delta_band = field_validator("body_delta_max")(classmethod(at_least("body_delta_min")))

    _positive_narrow = field_validator("narrow_wing_widths")(classmethod(positive_widths))

    @field_validator("broken_wing_widths")
    @classmethod
    def _broken_wider(cls, v: list[float], info: ValidationInfo) -> list[float]:
        narrow = info.data.get("narrow_wing_widths")
        if narrow and min(v) <= min(narrow):
            raise ValueError(
                f"the broken wing must be wider than the narrowest narrow wing ({min(narrow):g})"
            )
        return sorted(set(v))
