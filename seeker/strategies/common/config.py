"""Config fields the strategies share, each declared once.

``SingleExpiryConfig``: a strategy whose legs share one expiry — its entry DTE window, then the
DTE at which it is managed and the DTE at which it is forced out. ``PremiumSellerConfig`` adds the
credit it must collect and the share of it that takes profit; ``WingedSellerConfig`` the wings that
define its risk and the debit that stops it; ``VerticalSellerConfig`` the delta band of its shorts.
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from seeker.config.strategy import StrategyConfig, at_least, below


def positive_widths(cls: type, v: list[float]) -> list[float]:
    """Return the widths sorted and unique; each must be positive ($ per share)."""
    if any(w <= 0 for w in v):
        raise ValueError("every wing width must be positive")
    return sorted(set(v))


class SingleExpiryConfig(StrategyConfig):
    """A strategy whose legs share one expiry: entry DTE window, then manage and force-exit DTEs."""

    dte_min: int = Field(ge=1, le=365)
    dte_target: int = Field(ge=1, le=365)
    dte_max: int = Field(ge=1, le=365)
    manage_dte: int = Field(ge=0, le=365)
    force_exit_dte: int = Field(ge=0, le=365)

    _target_after_min = field_validator("dte_target")(classmethod(at_least("dte_min")))
    _max_after_target = field_validator("dte_max")(classmethod(at_least("dte_target")))
    _manage_before_entry = field_validator("manage_dte")(
        classmethod(below("dte_min", ", or positions would close at once"))
    )

    @field_validator("force_exit_dte")
    @classmethod
    def _force_before_manage(cls, v: int, info: ValidationInfo) -> int:
        manage = info.data.get("manage_dte")
        if manage is not None and v > manage:
            raise ValueError(f"must be ≤ manage_dte ({manage})")
        return v

    def widest_wing(self) -> float:
        """Return the widest wing beyond a short strike, $ per share (0 without wings)."""
        return 0.0


class PremiumSellerConfig(SingleExpiryConfig):
    """A structure sold for a credit: the least credit to open, the share that takes profit."""

    min_credit: float = Field(gt=0.0)
    """Never open for less than this credit, $ per share."""
    take_profit_pct: float = Field(gt=0.0, le=100.0)
    """Close once this % of the credit is captured (a limit at that debit)."""


class WingedSellerConfig(PremiumSellerConfig):
    """A credit structure whose long wings bound its risk, stopped at a multiple of its credit."""

    wing_widths: list[float] = Field(min_length=1)
    """Widths of the long wings beyond the shorts, $ per share."""
    stop_debit_multiple: float = Field(gt=1.0, le=10.0)
    """Stop when the debit to close reaches this multiple of the credit."""

    _positive_widths = field_validator("wing_widths")(classmethod(positive_widths))

    def widest_wing(self) -> float:
        """Return the widest wing, $ per share."""
        return max(self.wing_widths)


class VerticalSellerConfig(WingedSellerConfig):
    """Short out-of-the-money verticals: the shorts are picked in a band of |Δ|."""

    short_delta_min: float = Field(gt=0.0, lt=0.5)
    short_delta_max: float = Field(gt=0.0, lt=0.5)

    _delta_range = field_validator("short_delta_max")(classmethod(at_least("short_delta_min")))
