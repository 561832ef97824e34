"""What a replay adds to the process journal (``_seeker``).

* one ``SNAPSHOT`` line per quote date, at its decision time: which snapshot the market now is,
  how its decision time was chosen (the data's ``quote_time`` or the configured snapshot time,
  moved earlier on an early close), and the positions the broker settled in cash since the last
  one, with the index value each settled on (AM: the index open standing in for the special
  opening quotation; PM: the close);
* one ``REGIME_CHECK`` line per listing and day, when the regime is classified: the term structure
  the chain itself shows (next − front ATM IV) against the one of the volatility indexes (VIX3M −
  VIX at the last close), both labelled with ``regime.term_flat_band``, and whether they agree.
  The check is journaled, never used to decide.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np

from seeker.agents.regime import Regime, RegimeConfig, term_label
from seeker.core.journal import Journal
from seeker.core.replay.broker import ReplayBroker
from seeker.core.replay.history import POINTS_PER_UNIT, DailyBars


@dataclass(frozen=True)
class TermCheck:
    """A 30-day and a 3-month volatility index of one listing's underlying (e.g. VIX, VIX3M)."""

    vix: DailyBars
    vix_3m: DailyBars

    def slope(self, day: date) -> tuple[float, float, float] | None:
        """Return (30-day, 3-month, 3-month − 30-day per 1.00) at `day`'s close, None if unknown."""
        a, b = _close_on(self.vix, day), _close_on(self.vix_3m, day)
        if a is None or b is None:
            return None
        return a, b, (b - a) / POINTS_PER_UNIT


def _close_on(bars: DailyBars, day: date) -> float | None:
    days = np.array(bars.dates, dtype="datetime64[D]")
    i = int(np.searchsorted(days, np.datetime64(day, "D")))
    if i >= len(bars.dates) or bars.dates[i] != day:
        return None
    value = float(bars.close[i])
    return value if math.isfinite(value) and value > 0 else None


class ReplayJournal:
    """Write the replay's SNAPSHOT and REGIME_CHECK lines (see the module's docstring)."""

    def __init__(
        self,
        journal: Callable[[], Journal],
        broker: ReplayBroker,
        snapshot_rules: Mapping[date, str],
        checks: Mapping[str, TermCheck],
        regime: RegimeConfig,
    ) -> None:
        self.journal = journal
        self.broker = broker
        self.rules = dict(snapshot_rules)
        self.checks = dict(checks)
        self.regime_cfg = regime
        self._day: date | None = None
        self._settled = len(broker.ledger.settlements)

    def on_time(self, t: datetime) -> None:
        """Journal the snapshot that became the market at `t` (a clock listener)."""
        day = self.broker.market.snapshot_day()
        if day is None or day == self._day:
            return
        self._day = day
        settlements = self.broker.ledger.settlements
        fresh, self._settled = settlements[self._settled :], len(settlements)
        self.journal().write(
            "SNAPSHOT",
            quote_date=day.isoformat(),
            decision_time=self.broker.market.times[day].isoformat(),
            rule=self.rules.get(day, "quote_time in the data"),
            settled=[s.as_dict() for s in fresh],
        )

    def on_regime(self, regime: Regime) -> None:
        """Journal the chain's term structure against the volatility indexes' (a regime
        observer)."""
        lst = self.broker.market.listings.get(regime.listing_id)
        check = self.checks.get(lst.underlying) if lst is not None else None
        fields: dict[str, object] = {
            "underlying": regime.listing_id,
            "day": regime.day.isoformat(),
            "chain_term": regime.term,
            "chain_slope": round(regime.term_slope, 4),
            "front_expiry": regime.front_expiry.isoformat(),
            "next_expiry": regime.next_expiry.isoformat(),
        }
        measured = check.slope(regime.day) if check is not None else None
        if check is None:
            fields.update(index_term=None, agree=None, detail="no 3-month volatility index")
        elif measured is None:
            fields.update(
                index_term=None, agree=None, detail=f"no VIX or VIX3M close on {regime.day}"
            )
        else:
            vix, vix_3m, slope = measured
            label = term_label(slope, self.regime_cfg)
            fields.update(
                vix=vix,
                vix_3m=vix_3m,
                index_slope=round(slope, 4),
                index_term=label,
                agree=label == regime.term,
            )
        self.journal().write("REGIME_CHECK", **fields)


def snapshot_rule(configured: time, chosen: time, close: time) -> str:
    """Return how a decision time was chosen from the configured snapshot time, in words."""
    if chosen == configured:
        return f"replay.snapshot_time {configured:%H:%M} (the data has no quote_time)"
    return (
        f"replay.snapshot_time {configured:%H:%M} moved to {chosen:%H:%M}: early close at "
        f"{close:%H:%M} (the data has no quote_time)"
    )
