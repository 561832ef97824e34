"""The toy's table (``[strategies.toy_put_spread]``): the shared seller fields plus one delta."""

from __future__ import annotations

from pydantic import Field

from seeker.strategies.common.config import WingedSellerConfig


class ToyPutSpreadConfig(WingedSellerConfig):
    """A short put vertical at one target delta."""

    short_delta: float = Field(gt=0.0, lt=0.5)
    """Sell the out-of-the-money put whose |Δ| is nearest this."""
