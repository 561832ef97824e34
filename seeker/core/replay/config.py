"""The ``[replay]`` table: what a replay of historical chains reads, and how it fills orders.

Every value that shapes trading is required (the decision time, the fill probability, the seed,
the exchange fees, the FX quote); only the default chain store folder is mechanics. Paths are
relative to the config file's folder; history files must exist when the config is loaded, the
chain store only when the replay starts (``seeker data import`` writes it).
"""

from __future__ import annotations

import math
from datetime import time
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from seeker.core.config_base import StrictModel, existing_file
from seeker.core.models import Currency

PAIR_CURRENCIES = ("USD", "CAD")


class ReplayHistoryConfig(StrictModel):
    """Daily history of one underlying of the chain data (``[replay.history.<UNDERLYING>]``).

    ``bars_file``: ``date,open,high,low,close`` of the index (SPX) — the regime's SMA, ADX and
    channel, and the settlement values (open for AM, close for PM). ``iv_file``: the same columns
    of its 30-day implied-volatility index in points (VIX): IV rank and percentile.
    ``iv_3m_file``: a 3-month volatility index (VIX3M), journaled each day as a cross-check of the
    term structure the chain itself shows; leave it out to skip the cross-check.
    """

    bars_file: Path
    iv_file: Path
    iv_3m_file: Path | None = None

    @field_validator("bars_file", "iv_file", "iv_3m_file", mode="before")
    @classmethod
    def _existing_file(cls, value: Any, info: ValidationInfo) -> Path:
        return existing_file(value, info)


class ReplayListingConfig(StrictModel):
    """Which rows of the chain store one universe listing replays (``[replay.listings.<ID>]``).

    ``root`` names the option root (SPX monthlies, AM-settled; SPXW weeklies, PM-settled): the two
    share expiries and strikes on third Fridays, so a listing must pick one.
    """

    underlying: str = Field(min_length=1)
    """The underlying symbol in the chain data (its ``underlying`` column), e.g. SPX."""
    root: str | None = Field(default=None, min_length=1)
    """The option root in the chain data (its ``root`` column), e.g. SPX or SPXW; leave it out
    when the data names none (the listing then replays every row of its underlying)."""


class FxQuoteConfig(StrictModel):
    """A currency quote held fixed for the whole replay (e.g. USD.CAD 1.3350 / 1.3352)."""

    pair: str = Field(pattern=r"^[A-Z]{3}\.[A-Z]{3}$")
    bid: float = Field(gt=0.0, allow_inf_nan=False)
    ask: float = Field(gt=0.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> FxQuoteConfig:
        if self.bid > self.ask:
            raise ValueError(f"bid {self.bid} above ask {self.ask}")
        base, quote = self.pair.split(".")
        if base == quote or {base, quote} - set(PAIR_CURRENCIES):
            raise ValueError(f"pair must convert between {' and '.join(PAIR_CURRENCIES)}")
        return self


class ReplayConfig(StrictModel):
    """The ``[replay]`` table (``seeker replay``)."""

    data_dir: Path | None = None
    """Default chain store (``--data`` overrides it); relative to the config file's folder."""
    snapshot_time: time
    """Decision time of a quote date whose data has no ``quote_time`` (New York). On an early-
    close session the decision comes as long before that day's close as this time is before
    16:00 (15:45 → 12:45 when the market closes at 13:00)."""
    seed: int = Field(ge=0)
    """Seed of the fill draws: the same seed, data and config give the same journals."""
    fill_probability_at_mid: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    """Chance that a limit at the mid fills at one try (rising to 1 at the natural)."""
    exchange_fees: dict[Currency, float]
    """Exchange and regulatory fees, $ per contract, on top of ``[commissions]`` (index options
    carry them), for every replayed listing quoted in that currency."""
    fx: FxQuoteConfig
    history: dict[str, ReplayHistoryConfig] = Field(min_length=1)
    listings: dict[str, ReplayListingConfig] = Field(min_length=1)

    @field_validator("data_dir", mode="before")
    @classmethod
    def _relative_to_config(cls, value: Any, info: ValidationInfo) -> Path:
        if not isinstance(value, str):
            raise ValueError("expected a folder path (string)")
        base = info.context.get("base_dir") if info.context else None
        path = Path(value).expanduser()
        return path if path.is_absolute() or base is None else Path(base) / path

    @field_validator("snapshot_time")
    @classmethod
    def _inside_the_session(cls, value: time) -> time:
        if not time(9, 30) < value < time(16, 0):
            raise ValueError(f"must lie inside regular hours (09:30–16:00), got {value}")
        return value

    @field_validator("exchange_fees")
    @classmethod
    def _finite_fees(cls, value: dict[str, float]) -> dict[str, float]:
        for ccy, fee in value.items():
            if not (math.isfinite(fee) and 0.0 <= fee <= 10.0):
                raise ValueError(f"{ccy}: a fee per contract within 0..10 $, got {fee}")
        return value

    @model_validator(mode="after")
    def _listings_have_history(self) -> ReplayConfig:
        for lid, lst in self.listings.items():
            if lst.underlying not in self.history:
                raise ValueError(
                    f"listings.{lid}.underlying {lst.underlying!r} has no [replay.history."
                    f"{lst.underlying}] table"
                )
        return self
