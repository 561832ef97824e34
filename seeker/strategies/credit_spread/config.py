"""Credit spread parameters (the ``[strategies.credit_spread]`` table); every value is required."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from seeker.core.strategy_config import SingleExpiryConfig, at_least, positive_widths


class CreditSpreadConfig(SingleExpiryConfig):
    """Entry and management rules of the bull put / bear call credit spread."""

    short_delta_min: float = Field(gt=0.0, lt=0.5)
    short_delta_max: float = Field(gt=0.0, lt=0.5)
    wing_widths: list[float] = Field(min_length=1)
    min_credit: float = Field(gt=0.0)
    take_profit_pct: float = Field(gt=0.0, le=100.0)
    stop_debit_multiple: float = Field(gt=1.0, le=10.0)
    short_delta_stop: float = Field(gt=0.0, lt=1.0)
    critic_min_credit_to_risk: float = Field(ge=0.0, le=10.0)

    _delta_range = field_validator("short_delta_max")(classmethod(at_least("short_delta_min")))

    _positive_widths = field_validator("wing_widths")(classmethod(positive_widths))

    @field_validator("short_delta_stop")
    @classmethod
    def _stop_beyond_entry(cls, v: float, info: ValidationInfo) -> float:
        hi = info.data.get("short_delta_max")
        if hi is not None and v <= hi:
            raise ValueError(
                f"must be above short_delta_max ({hi}), or a new spread would stop at once"
            )
        return v
