"""The replay account: cash per currency, option positions, and their settlements at expiry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypedDict

from seeker.core.fill_model import book
from seeker.core.models import OptionContract, Right
from seeker.core.replay.market import ReplayMarket
from seeker.core.replay.settlement import Settlement, index_value, intrinsic, rule_for


class PositionDict(TypedDict):
    """One position as the state file holds it."""

    listing_id: str
    expiry: str
    strike: float
    right: str
    qty: int
    avg_cost: float
    settlement: str | None


@dataclass
class ReplayAccount:
    """Cash, positions (qty, average cost $ per share) and the settlement style of each."""

    cash: dict[str, float]
    positions: dict[OptionContract, tuple[int, float]] = field(default_factory=dict)
    styles: dict[OptionContract, str] = field(default_factory=dict)
    """The settlement (AM/PM) the data gave each contract traded."""
    settlements: list[Settlement] = field(default_factory=list)

    def trade(self, contract: OptionContract, qty: int, price: float, style: str | None) -> None:
        """Book `qty` contracts (negative = sold) at `price` $ per share."""
        book(self.positions, contract, qty, price)
        if style is not None:
            self.styles[contract] = style

    def settle(self, now: datetime, market: ReplayMarket) -> bool:
        """Settle in cash every held contract whose settlement value is known at `now`.

        A contract whose settlement style or index value is unknown stays held. Return True when
        something settled.
        """
        done = False
        for c in sorted(self.positions):
            rule = rule_for(c.expiry, self.styles.get(c))
            if rule is None or now < rule.known_at:
                continue
            value = index_value(market.histories[c.listing_id], rule)
            if value is None:
                continue
            qty, _cost = self.positions.pop(c)
            lst = market.listing(c.listing_id)
            per_share = intrinsic(c, value)
            amount = round(qty * per_share * lst.multiplier, 2) + 0.0  # no -0.0
            self.cash[lst.currency] = self.cash.get(lst.currency, 0.0) + amount
            self.settlements.append(Settlement(c, qty, rule, value, per_share, amount))
            done = True
        return done

    def positions_as_dicts(self) -> list[PositionDict]:
        """Return the positions as JSON-ready rows, sorted by contract."""
        return [
            {
                "listing_id": c.listing_id,
                "expiry": c.expiry.isoformat(),
                "strike": c.strike,
                "right": c.right,
                "qty": q,
                "avg_cost": cost,
                "settlement": self.styles.get(c),
            }
            for c, (q, cost) in sorted(self.positions.items())
        ]

    def load_positions(self, rows: list[PositionDict]) -> None:
        """Replace the positions by rows written by :meth:`positions_as_dicts`."""
        self.positions, self.styles = {}, {}
        for row in rows:
            if row["right"] not in ("C", "P"):
                raise ValueError(f"state file: position with right {row['right']!r}")
            right: Right = "C" if row["right"] == "C" else "P"
            c = OptionContract(
                row["listing_id"], date.fromisoformat(row["expiry"]), float(row["strike"]), right
            )
            self.positions[c] = (int(row["qty"]), float(row["avg_cost"]))
            if row["settlement"]:
                self.styles[c] = row["settlement"]
