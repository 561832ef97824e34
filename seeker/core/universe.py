"""The universe: each listing Seeker may trade (``[universe.<id>]`` tables) as domain Listings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field, field_validator

from seeker.core.calendar import EXCHANGE_CALENDAR, calendar_for_exchange
from seeker.core.config_base import StrictModel
from seeker.core.models import Currency, Listing


class ListingConfig(StrictModel):
    """One underlying of the universe."""

    symbol: str = Field(min_length=1)
    exchange: str
    currency: Currency
    sector: str = Field(min_length=1)
    kind: Literal["etf", "stock"]
    dividend_yield: float = Field(ge=0.0, le=0.5)
    strike_increment: float = Field(gt=0.0, le=10.0)

    @field_validator("exchange")
    @classmethod
    def _known_exchange(cls, value: str) -> str:
        if value.upper() not in EXCHANGE_CALENDAR:
            known = ", ".join(sorted(EXCHANGE_CALENDAR))
            raise ValueError(f"unknown exchange {value!r} (known: {known})")
        return value.upper()


def listing_from_config(listing_id: str, cfg: ListingConfig) -> Listing:
    """Return the domain Listing of one universe table."""
    return Listing(
        listing_id=listing_id,
        symbol=cfg.symbol,
        exchange=cfg.exchange,
        currency=cfg.currency,
        sector=cfg.sector,
        kind=cfg.kind,
        dividend_yield=cfg.dividend_yield,
        strike_increment=cfg.strike_increment,
        calendar=calendar_for_exchange(cfg.exchange),
    )


def listings_from_config(universe: Mapping[str, ListingConfig]) -> dict[str, Listing]:
    """Return the universe as domain Listings keyed by listing id."""
    return {lid: listing_from_config(lid, cfg) for lid, cfg in universe.items()}
