"""One calibration: measure the replay's chain store and the simulator, compare them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

from seeker.config.root import SeekerConfig
from seeker.core.calendar import MarketCalendars
from seeker.core.replay.history import read_daily_csv
from seeker.core.replay.store import ChainStore
from seeker.core.sim.market import SimMarket, sim_calendar_span
from seeker.research.calibration.compare import Row, compare
from seeker.research.calibration.observations import from_sim, from_store
from seeker.research.calibration.stats import Measures, measure

OBSERVED_AT = time(15, 0)
"""When the simulator's chain is read each session (New York), as the replay decides."""


@dataclass(frozen=True)
class Calibration:
    """Both markets' statistics and the side-by-side rows."""

    real: Measures
    sim: Measures
    rows: list[Row]


def real_measures(replay: SeekerConfig, data: Path, underlying: str | None) -> Measures:
    """Measure the chain store at `data` with the index history the replay config names."""
    rp = replay.replay
    if rp is None:
        raise ValueError("the real side needs a config with a [replay] table (its history files)")
    names = sorted({lst.underlying for lst in rp.listings.values()})
    chosen = underlying or (names[0] if len(names) == 1 else None)
    if chosen is None or chosen not in rp.history:
        raise ValueError(f"name the underlying to measure (--underlying): one of {names}")
    bars = read_daily_csv(rp.history[chosen].bars_file)
    obs = from_store(ChainStore(data), chosen, bars)
    if obs.rows == 0:
        raise ValueError(f"{data}: no row of {chosen} in the chain store")
    m = measure(obs)
    m.name = f"{chosen} (recorded chains)"
    return m


def sim_measures(config: SeekerConfig, listing_id: str, sessions: int) -> Measures:
    """Run the simulated market of `config` for `sessions` sessions and measure `listing_id`."""
    sim = config.sim
    if sim is None:
        raise ValueError("the simulated side needs a config with a [sim] table")
    listings = config.listings()
    if listing_id not in listings:
        raise ValueError(f"{listing_id} is not in the simulator's universe ({', '.join(listings)})")
    lo, hi = sim_calendar_span(sim, sim.start + timedelta(days=2 * sessions + 400))
    calendars = MarketCalendars({x.calendar for x in listings.values()}, lo, hi)
    market = SimMarket(sim, listings, calendars, dict(config.rates))
    code = listings[listing_id].calendar
    days = calendars.sessions(code, market.start_time.date(), hi)[:sessions]
    m = measure(from_sim(market, listing_id, days, OBSERVED_AT))
    m.name = f"simulator {listing_id} ({sessions} sessions)"
    return m


def calibrate(
    replay: SeekerConfig,
    data: Path,
    sim_config: SeekerConfig,
    listing_id: str,
    sessions: int,
    underlying: str | None = None,
) -> Calibration:
    """Measure both markets and compare them."""
    real = real_measures(replay, data, underlying)
    sim = sim_measures(sim_config, listing_id, sessions)
    return Calibration(real, sim, compare(real, sim))
