"""Iron fly parameters (the ``[strategies.iron_fly]`` table); every value is required."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from seeker.core.strategy_config import SingleExpiryConfig, positive_widths


class IronFlyConfig(SingleExpiryConfig):
    """Entry and management rules of the narrow-wing iron fly."""

    wing_widths: list[float] = Field(min_length=1)
    min_credit: float = Field(gt=0.0)
    event_buffer_days: int = Field(ge=0, le=30)
    take_profit_pct: float = Field(gt=0.0, le=100.0)
    stop_debit_multiple: float = Field(gt=1.0, le=10.0)
    gamma_exit_pct: float = Field(gt=0.0, le=1000.0)

    _positive_widths = field_validator("wing_widths")(classmethod(positive_widths))

    @field_validator("min_credit")
    @classmethod
    def _credit_below_width(cls, v: float, info: ValidationInfo) -> float:
        widths = info.data.get("wing_widths")
        if widths and v >= min(widths):
            raise ValueError(
                f"must be below the narrowest wing ({min(widths):g} $): an iron fly's credit "
                "is always less than its width"
            )
        return v
