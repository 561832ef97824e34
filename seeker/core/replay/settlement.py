"""Cash settlement of European index options at expiry, from the daily index history.

PM-settled options (SPXW) settle on the index close of the expiry day; AM-settled options (SPX
monthlies) on the special opening quotation of the expiry day, which the data does not carry:
the index's opening value of that day (``open`` of the history file) stands in for it, and the
rule says so. A value is used only once it is known: the open from 09:30, the close from 16:00,
New York time, of the expiry day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal

import numpy as np

from seeker.core.calendar import MARKET_TZ
from seeker.core.models import DailyHistory, OptionContract

SettlementStyle = Literal["AM", "PM"]
KNOWN_AT: dict[SettlementStyle, time] = {"AM": time(9, 30), "PM": time(16, 0)}
"""When, on the expiry day (New York time), the settlement value is known."""


@dataclass(frozen=True, slots=True)
class SettlementRule:
    """How one expiry settles: on which value of the index, and from when it is known."""

    style: SettlementStyle
    day: date

    @property
    def value(self) -> Literal["open", "close"]:
        """Return the history column the settlement reads."""
        return "open" if self.style == "AM" else "close"

    @property
    def known_at(self) -> datetime:
        """Return the time from which the settlement value is known."""
        return datetime.combine(self.day, KNOWN_AT[self.style], MARKET_TZ)

    def describe(self) -> str:
        """Return the rule in words, for the journal."""
        if self.style == "AM":
            return (
                f"AM: index open of {self.day} (daily history; stands in for the special "
                "opening quotation)"
            )
        return f"PM: index close of {self.day} (daily history)"


@dataclass(frozen=True, slots=True)
class Settlement:
    """One contract position settled in cash: the index value, intrinsic value and cash."""

    contract: OptionContract
    qty: int
    rule: SettlementRule
    index_value: float
    intrinsic: float
    """$ per share."""
    cash: float
    """$ credited (negative: debited), qty × intrinsic × multiplier."""

    def as_dict(self) -> dict[str, str | int | float]:
        """Return the record as JSON-ready values."""
        return {
            "contract": self.contract.key,
            "listing_id": self.contract.listing_id,
            "expiry": self.contract.expiry.isoformat(),
            "strike": self.contract.strike,
            "right": self.contract.right,
            "qty": self.qty,
            "style": self.rule.style,
            "day": self.rule.day.isoformat(),
            "rule": self.rule.describe(),
            "index_value": self.index_value,
            "intrinsic": self.intrinsic,
            "cash": self.cash,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, str | int | float]) -> Settlement:
        """Rebuild a record written by :meth:`as_dict`."""
        right = str(raw["right"])
        assert right in ("C", "P")
        contract = OptionContract(
            str(raw["listing_id"]),
            date.fromisoformat(str(raw["expiry"])),
            float(raw["strike"]),
            "C" if right == "C" else "P",
        )
        style = str(raw["style"])
        rule = SettlementRule("AM" if style == "AM" else "PM", date.fromisoformat(str(raw["day"])))
        return cls(
            contract,
            int(raw["qty"]),
            rule,
            float(raw["index_value"]),
            float(raw["intrinsic"]),
            float(raw["cash"]),
        )


def rule_for(expiry: date, style: str | None) -> SettlementRule | None:
    """Return the settlement rule of an expiry with the data's settlement style, None if unknown."""
    if style == "AM":
        return SettlementRule("AM", expiry)
    if style == "PM":
        return SettlementRule("PM", expiry)
    return None


def index_value(history: DailyHistory, rule: SettlementRule) -> float | None:
    """Return the index value the rule settles on, None when the history lacks that day."""
    days = np.array(history.dates, dtype="datetime64[D]")
    i = int(np.searchsorted(days, np.datetime64(rule.day, "D")))
    if i >= len(history.dates) or history.dates[i] != rule.day:
        return None
    value = float(history.open[i] if rule.style == "AM" else history.close[i])
    return value if np.isfinite(value) and value > 0 else None


def intrinsic(contract: OptionContract, value: float) -> float:
    """Return a contract's value at expiry for an index value, $ per share (to 0.0001 $)."""
    if contract.right == "C":
        return round(max(value - contract.strike, 0.0), 4)
    return round(max(contract.strike - value, 0.0), 4)


def can_trade(contract: OptionContract, style: str | None, now: datetime) -> bool:
    """Return False once a contract's settlement value is known (or, style unknown, after its
    expiry day)."""
    rule = rule_for(contract.expiry, style)
    if rule is not None:
        return now < rule.known_at
    return contract.expiry >= now.astimezone(MARKET_TZ).date()
