"""The regime's labels, its config table, and the Regime a classification returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Literal, get_args

from pydantic import Field, ValidationInfo, field_validator

from seeker.core.config_base import StrictModel

Trend = Literal["up", "down", "none"]
IvrLevel = Literal["high", "mid", "low"]
Structure = Literal["range", "breakout_up", "breakout_down", "neutral"]
Term = Literal["contango", "backwardation", "flat"]
Skew = Literal["marked", "normal"]

LABELS: dict[str, tuple[str, ...]] = {
    "trend": get_args(Trend),
    "structure": get_args(Structure),
    "ivr": get_args(IvrLevel),
    "term": get_args(Term),
    "skew": get_args(Skew),
}
"""Every label dimension and its possible values, in display order."""


class RegimeConfig(StrictModel):
    """The ``[regime]`` table: indicator lengths (sessions) and label thresholds.

    ADX and IV rank thresholds are on their 0..100 scales; IV differences are per 1.00 of vol
    (0.04 = 4 vol points); DTEs are calendar days.
    """

    sma_fast: int = Field(ge=2, le=400)
    sma_slow: int = Field(ge=3, le=400)
    adx_period: int = Field(ge=2, le=100)
    adx_trend: float = Field(gt=0.0, lt=100.0)
    adx_range: float = Field(gt=0.0, lt=100.0)
    iv_rank_window: int = Field(ge=20, le=1260)
    high_ivr: float = Field(gt=0.0, lt=100.0)
    low_ivr: float = Field(gt=0.0, lt=100.0)
    breakout_lookback: int = Field(ge=2, le=400)
    atr_period: int = Field(ge=1, le=100)
    skew_marked: float = Field(gt=0.0, le=1.0)
    term_flat_band: float = Field(gt=0.0, le=0.5)
    front_min_dte: int = Field(ge=1, le=365)
    next_min_dte: int = Field(ge=2, le=730)

    @field_validator("sma_slow")
    @classmethod
    def _slow_after_fast(cls, value: int, info: ValidationInfo) -> int:
        fast = info.data.get("sma_fast")
        if fast is not None and value <= fast:
            raise ValueError(f"must be greater than sma_fast ({fast}), got {value}")
        return value

    @field_validator("adx_range")
    @classmethod
    def _range_below_trend(cls, value: float, info: ValidationInfo) -> float:
        trend = info.data.get("adx_trend")
        if trend is not None and value > trend:
            raise ValueError(f"must be at most adx_trend ({trend}), got {value}")
        return value

    @field_validator("low_ivr")
    @classmethod
    def _low_below_high(cls, value: float, info: ValidationInfo) -> float:
        high = info.data.get("high_ivr")
        if high is not None and value >= high:
            raise ValueError(f"must be less than high_ivr ({high}), got {value}")
        return value

    @field_validator("next_min_dte")
    @classmethod
    def _next_after_front(cls, value: int, info: ValidationInfo) -> int:
        front = info.data.get("front_min_dte")
        if front is not None and value <= front:
            raise ValueError(f"must be greater than front_min_dte ({front}), got {value}")
        return value

    def requirements(self) -> dict[str, int]:
        """Return the sessions of history each measure needs, keyed by the measure's name."""
        return {
            f"SMA {self.sma_slow}": self.sma_slow,
            f"ADX {self.adx_period}": 2 * self.adx_period,
            f"ATR {self.atr_period}": self.atr_period + 1,
            f"{self.breakout_lookback}-session channel": self.breakout_lookback + 1,
            f"IV rank over {self.iv_rank_window} sessions": self.iv_rank_window,
        }

    @property
    def sessions_needed(self) -> int:
        """Return the fewest daily bars ``classify`` accepts (ask the broker for at least this)."""
        return max(self.requirements().values())


@dataclass(frozen=True, slots=True)
class Regime:
    """The measures and labels of one underlying's regime.

    ``day`` is the last completed session of the history (price and IV measures are as of its
    close); the surface measures are as of the chain the points were read from. ``skew`` is the
    measure (put25_iv − call25_iv, per 1.00) and ``skew_label`` its label; ``labels()`` names
    every label by its dimension.
    """

    listing_id: str
    day: date
    close: float
    sma_fast: float
    sma_slow: float
    adx: float
    atr: float
    """Wilder's average true range, $ per share."""
    atr_pct: float
    """ATR as a percentage of the close (1.5 means 1.5 %)."""
    iv: float
    """Last 30-day ATM IV of the history, per 1.00."""
    iv_rank: float
    iv_percentile: float
    channel_high: float
    """Highest high of the ``breakout_lookback`` sessions before ``day``."""
    channel_low: float
    """Lowest low of the ``breakout_lookback`` sessions before ``day``."""
    front_expiry: date
    next_expiry: date
    front_iv: float
    next_iv: float
    term_slope: float
    """next_iv − front_iv, per 1.00 (positive = contango)."""
    put25_iv: float
    call25_iv: float
    skew: float
    """put25_iv − call25_iv, per 1.00."""
    trend: Trend
    ivr: IvrLevel
    structure: Structure
    term: Term
    skew_label: Skew

    def labels(self) -> dict[str, str]:
        """Return the five labels keyed by dimension (the keys of ``LABELS``)."""
        return {
            "trend": self.trend,
            "structure": self.structure,
            "ivr": self.ivr,
            "term": self.term,
            "skew": self.skew_label,
        }

    def phrase(self, dimension: str) -> str:
        """Return one label in words with its measure, e.g. ``IVR 62 high`` or ``trend up``."""
        if dimension == "trend":
            return "no trend" if self.trend == "none" else f"trend {self.trend}"
        if dimension == "structure":
            return (
                "neutral structure"
                if self.structure == "neutral"
                else self.structure.replace("_", " ")
            )
        if dimension == "ivr":
            return f"IVR {self.iv_rank:.0f} {self.ivr}"
        if dimension == "term":
            return "flat term" if self.term == "flat" else self.term
        if dimension == "skew":
            return f"skew {self.skew_label}"
        raise ValueError(f"unknown label dimension {dimension!r} (known: {', '.join(LABELS)})")

    def summary(self) -> str:
        """Return the labels in words: ``no trend, range, IVR 62 high, contango, skew normal``."""
        return _summary(self)

    def as_dict(self) -> dict[str, Any]:
        """Return the measures (rounded) and labels as a journal-ready mapping (a fresh dict)."""
        fields = _journal_fields(self)
        return {**fields, "labels": dict(fields["labels"])}


@lru_cache(maxsize=256)
def _summary(r: Regime) -> str:
    """Return a regime's labels in words (made once per regime: a regime is immutable)."""
    return ", ".join(r.phrase(d) for d in LABELS)


@lru_cache(maxsize=256)
def _journal_fields(r: Regime) -> dict[str, Any]:
    """Return a regime's rounded measures and labels (made once per regime; never mutate it)."""
    return {
        "listing_id": r.listing_id,
        "day": r.day.isoformat(),
        "close": round(r.close, 4),
        "sma_fast": round(r.sma_fast, 4),
        "sma_slow": round(r.sma_slow, 4),
        "adx": round(r.adx, 2),
        "atr": round(r.atr, 4),
        "atr_pct": round(r.atr_pct, 3),
        "iv": round(r.iv, 4),
        "iv_rank": round(r.iv_rank, 1),
        "iv_percentile": round(r.iv_percentile, 1),
        "channel_high": round(r.channel_high, 4),
        "channel_low": round(r.channel_low, 4),
        "front_expiry": r.front_expiry.isoformat(),
        "next_expiry": r.next_expiry.isoformat(),
        "front_iv": round(r.front_iv, 4),
        "next_iv": round(r.next_iv, 4),
        "term_slope": round(r.term_slope, 4),
        "put25_iv": round(r.put25_iv, 4),
        "call25_iv": round(r.call25_iv, 4),
        "skew": round(r.skew, 4),
        "labels": r.labels(),
    }


# -- labels (pure functions of measures) ---------------------------------------------------------
def trend_label(
    close: float, sma_fast: float, sma_slow: float, adx_value: float, cfg: RegimeConfig
) -> Trend:
    """Return up when close > SMA fast > SMA slow and ADX ≥ adx_trend, down mirrored, else none."""
    if adx_value >= cfg.adx_trend:
        if close > sma_fast > sma_slow:
            return "up"
        if close < sma_fast < sma_slow:
            return "down"
    return "none"


def structure_label(
    close: float, channel_high: float, channel_low: float, adx_value: float, cfg: RegimeConfig
) -> Structure:
    """Return a breakout when the close is beyond the channel, range when ADX < adx_range inside.

    The channel is the prior sessions' highest high and lowest low; a close equal to a channel
    bound is inside it.
    """
    if close > channel_high:
        return "breakout_up"
    if close < channel_low:
        return "breakout_down"
    if adx_value < cfg.adx_range:
        return "range"
    return "neutral"


def ivr_label(rank: float, cfg: RegimeConfig) -> IvrLevel:
    """Return high when IV rank ≥ high_ivr, low when IV rank < low_ivr, else mid (0..100 scale)."""
    if rank >= cfg.high_ivr:
        return "high"
    if rank < cfg.low_ivr:
        return "low"
    return "mid"


def term_label(slope: float, cfg: RegimeConfig) -> Term:
    """Return contango if next − front IV ≥ term_flat_band, backwardation if ≤ −band, else flat."""
    if slope >= cfg.term_flat_band:
        return "contango"
    if slope <= -cfg.term_flat_band:
        return "backwardation"
    return "flat"


def skew_label(skew: float, cfg: RegimeConfig) -> Skew:
    """Return marked when the 25-delta put − call IV is at least skew_marked (per 1.00)."""
    return "marked" if skew >= cfg.skew_marked else "normal"


# -- surface points -----------------------------------------------------------------------------
