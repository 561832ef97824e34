"""The account Seeker manages: its reference capital and currencies (the ``[account]`` table)."""

from __future__ import annotations

from seeker.core.config_base import PositiveFloat, StrictModel
from seeker.core.models import Currency


class AccountConfig(StrictModel):
    """The account Seeker manages."""

    capital: PositiveFloat
    capital_currency: Currency
    base_currency: Currency
