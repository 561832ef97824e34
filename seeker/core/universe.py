"""The universe: each listing Seeker may trade (``[universe.<id>]`` tables) as domain Listings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field, field_validator, model_validator

from seeker.core.calendar import EXCHANGE_CALENDAR, calendar_for_exchange
from seeker.core.config_base import StrictModel
from seeker.core.models import Currency, ExerciseStyle, Listing, SettlementKind

EQUITY_TERMS: tuple[ExerciseStyle, SettlementKind, int] = ("american", "physical", 100)
"""How every US and Canadian listed equity (stock and ETF) option trades: American exercise,
physical delivery, 100 shares per contract. An ``etf`` or ``stock`` table may leave them out."""


class ListingConfig(StrictModel):
    """One underlying of the universe.

    ``style``, ``settlement`` and ``multiplier`` are required for an ``index`` (e.g. SPX:
    European, cash-settled, 100); a stock or ETF may leave them out, its options then trade on
    the equity terms (:data:`EQUITY_TERMS`).
    """

    symbol: str = Field(min_length=1)
    exchange: str
    currency: Currency
    sector: str = Field(min_length=1)
    kind: Literal["etf", "stock", "index"]
    dividend_yield: float = Field(ge=0.0, le=0.5)
    strike_increment: float = Field(gt=0.0, le=10.0)
    style: ExerciseStyle | None = None
    settlement: SettlementKind | None = None
    multiplier: int | None = Field(default=None, ge=1, le=10_000)

    @model_validator(mode="after")
    def _index_terms_written_out(self) -> ListingConfig:
        if self.kind == "index":
            missing = [k for k in ("style", "settlement", "multiplier") if getattr(self, k) is None]
            if missing:
                raise ValueError(
                    f"an index listing needs {', '.join(missing)} written out "
                    '(e.g. SPX: style = "european", settlement = "cash", multiplier = 100)'
                )
        return self

    def terms(self) -> tuple[ExerciseStyle, SettlementKind, int]:
        """Return (style, settlement, multiplier), the equity terms where the table is silent."""
        style, settlement, multiplier = EQUITY_TERMS
        return (
            self.style or style,
            self.settlement or settlement,
            self.multiplier if self.multiplier is not None else multiplier,
        )

    @field_validator("exchange")
    @classmethod
    def _known_exchange(cls, value: str) -> str:
        if value.upper() not in EXCHANGE_CALENDAR:
            known = ", ".join(sorted(EXCHANGE_CALENDAR))
            raise ValueError(f"unknown exchange {value!r} (known: {known})")
        return value.upper()


def listing_from_config(listing_id: str, cfg: ListingConfig) -> Listing:
    """Return the domain Listing of one universe table."""
    style, settlement, multiplier = cfg.terms()
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
        multiplier=multiplier,
        style=style,
        settlement=settlement,
    )


def listings_from_config(universe: Mapping[str, ListingConfig]) -> dict[str, Listing]:
    """Return the universe as domain Listings keyed by listing id."""
    return {lid: listing_from_config(lid, cfg) for lid, cfg in universe.items()}
