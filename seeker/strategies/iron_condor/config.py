"""Iron condor parameters (the ``[strategies.iron_condor]`` table); every value is required."""

from __future__ import annotations

from pydantic import Field

from seeker.strategies.common.config import VerticalSellerConfig


class IronCondorConfig(VerticalSellerConfig):
    """Entry and management rules of the iron condor (shorts by delta on both sides, wings)."""

    exit_on_touch: bool
    """Close when the underlying touches a short strike."""
    delta_red_line: float = Field(gt=0.0, lt=1.0)
    """A short leg at |Δ| ≥ this triggers a partial close."""
    proximity_red_line_pct: float = Field(gt=0.0, lt=100.0)
    """So does the price within this % of a short strike."""
    red_line_close_fraction: float = Field(gt=0.0, le=1.0)
    """Share of the units a red line closes (rounded up; one unit closes it all)."""
