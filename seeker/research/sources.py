"""Where a trial's runs trade: a seeded stretch of the simulated market, or a replay window.

A `MarketSource` is data (it travels to worker processes and Dask workers, and is stored with a
study): it names its market, lists the sessions a study grades, adjusts the config for its run, and
builds the engine's services for it. Each run is a real engine run on those services: nothing here
re-implements the engine.

* `SimSource` — the embedded simulated market with `seed`, from ``sim.start`` for `sessions`
  sessions, then `tail` more sessions in which the positions opened earlier may close (a trade
  opened in the tail belongs to no graded session).
* `ReplaySource` — the chain store at `data` replayed from `first` to `last` (quote dates),
  then `tail` more quote dates. It builds its services with
  ``seeker.engine.wiring.build_replay_services`` (the ``seeker replay`` wiring).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from pydantic import Field

from seeker.core.config_base import StrictModel

if TYPE_CHECKING:
    from seeker.config.root import SeekerConfig
    from seeker.engine.services import Services


def _quiet(_message: str) -> None:
    """Drop the engine's progress lines (a study prints its own)."""


class MarketSource(Protocol):
    """What a trial runner needs from the market a run trades on."""

    @property
    def key(self) -> str:
        """Return a short stable name (it keys stored runs: same key, same market)."""
        ...

    def configure(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Return a copy of the raw config data adjusted for this source (e.g. its seed)."""
        ...

    def graded_sessions(self, config: SeekerConfig) -> tuple[date, ...]:
        """Return the graded sessions (New York dates), oldest first; the tail is not among them."""
        ...

    def build(
        self, config: SeekerConfig, log_root: Path, emit: Callable[[str], None] = _quiet
    ) -> Services:
        """Return the engine's services for one run of this source, journals under `log_root`."""
        ...


class SimSource(StrictModel):
    """The simulated market with one seed: `sessions` graded sessions, then `tail` more."""

    kind: Literal["sim"] = "sim"
    seed: int = Field(ge=0)
    sessions: int = Field(ge=1, le=5000)
    tail: int = Field(default=0, ge=0, le=500)

    @property
    def key(self) -> str:
        """Return e.g. ``sim seed 7, 40+10 sessions``."""
        tail = f"+{self.tail}" if self.tail else ""
        return f"sim seed {self.seed}, {self.sessions}{tail} sessions"

    def configure(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Return the config data with ``sim.seed`` set to this source's seed."""
        out = copy.deepcopy(dict(data))
        sim = out.get("sim")
        if not isinstance(sim, dict):
            raise ValueError("sim: required key is missing (the simulated market needs [sim])")
        sim["seed"] = self.seed
        return out

    def sessions_of(self, config: SeekerConfig) -> tuple[date, ...]:
        """Return every session the run visits (graded ones, then the tail)."""
        from seeker.core.calendar import MarketCalendars
        from seeker.core.sim.market import sim_calendar_span

        sim = config.sim
        if sim is None:
            raise ValueError('sim: required key is missing (broker.kind = "sim")')
        count = self.sessions + self.tail
        last = sim.start + timedelta(days=count * 2 + 30)
        lo, hi = sim_calendar_span(sim, last)
        codes = {lst.calendar for lst in config.listings().values()}
        days = MarketCalendars(codes, lo, hi).union_sessions(sim.start, last)
        if len(days) < count:
            raise ValueError(f"the calendars do not hold {count} sessions after {sim.start}")
        return tuple(days[:count])

    def graded_sessions(self, config: SeekerConfig) -> tuple[date, ...]:
        """Return the graded sessions: the first `sessions` from ``sim.start``."""
        return self.sessions_of(config)[: self.sessions]

    def build(
        self, config: SeekerConfig, log_root: Path, emit: Callable[[str], None] = _quiet
    ) -> Services:
        """Return simulated-market services for `sessions` + `tail` sessions."""
        from seeker.engine.wiring import build_sim_services

        return build_sim_services(config, log_root, days=self.sessions + self.tail, emit=emit)


class ReplaySource(StrictModel):
    """A replay of the chain store at `data`, quote dates `first` to `last`, then `tail` more."""

    kind: Literal["replay"] = "replay"
    data: str
    first: date
    last: date
    tail: int = Field(default=0, ge=0, le=500)

    @property
    def key(self) -> str:
        """Return e.g. ``replay /data/spx 2019-01-02..2019-06-28``."""
        tail = f" +{self.tail}" if self.tail else ""
        return f"replay {self.data} {self.first}..{self.last}{tail}"

    def configure(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Return a copy of the config data (a replay takes its market from the store)."""
        return copy.deepcopy(dict(data))

    def _dates(self) -> list[date]:
        from seeker.core.replay.store import ChainStore

        try:
            return ChainStore(Path(self.data)).quote_dates()
        except FileNotFoundError as exc:
            raise ValueError(f"{exc} (import chains with `seeker data import`)") from None

    def graded_sessions(self, config: SeekerConfig) -> tuple[date, ...]:
        """Return the store's quote dates from `first` to `last`."""
        days = tuple(d for d in self._dates() if self.first <= d <= self.last)
        if not days:
            raise ValueError(f"{self.data}: no quote date from {self.first} to {self.last}")
        return days

    def run_last(self) -> date:
        """Return the last quote date the run visits: `last`, then up to `tail` more."""
        later = [d for d in self._dates() if d > self.last]
        return later[min(self.tail, len(later)) - 1] if self.tail and later else self.last

    def build(
        self, config: SeekerConfig, log_root: Path, emit: Callable[[str], None] = _quiet
    ) -> Services:
        """Return replay services from ``build_replay_services`` (the ``seeker replay`` wiring)."""
        from seeker.engine.wiring import build_replay_services

        return build_replay_services(
            config, log_root, Path(self.data), self.first, self.run_last(), emit=emit
        )


Source = Annotated[SimSource | ReplaySource, Field(discriminator="kind")]
"""A market source as stored in a study's settings."""
