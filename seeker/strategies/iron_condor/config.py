"""Iron condor parameters (the ``[strategies.iron_condor]`` table); every value is required."""

from __future__ import annotations

from pydantic import Field, field_validator

from seeker.core.strategy_config import SingleExpiryConfig, at_least, positive_widths


class IronCondorConfig(SingleExpiryConfig):
    """Entry and management rules of the iron condor."""

    short_delta_min: float = Field(gt=0.0, lt=0.5)
    short_delta_max: float = Field(gt=0.0, lt=0.5)
    wing_widths: list[float] = Field(min_length=1)
    min_credit: float = Field(gt=0.0)
    take_profit_pct: float = Field(gt=0.0, le=100.0)
    stop_debit_multiple: float = Field(gt=1.0, le=10.0)
    exit_on_touch: bool
    delta_red_line: float = Field(gt=0.0, lt=1.0)
    proximity_red_line_pct: float = Field(gt=0.0, lt=100.0)
    red_line_close_fraction: float = Field(gt=0.0, le=1.0)

    _delta_range = field_validator("short_delta_max")(classmethod(at_least("short_delta_min")))

    _positive_widths = field_validator("wing_widths")(classmethod(positive_widths))
